/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctrl-set.h - the controllers one daemon holds, for stafd and stacd alike. The set owns every
 * StasCtrl of the daemon: the live ones, in the order they were added, and those being removed
 * (terminator.h). It
 *  - creates the controllers on the daemon's backend (ctrl_set_new_ctrl());
 *  - starts their first attempts in batches: every controller started (ctrl_set_start()) before
 *    the loop comes back gets its attempt in one go, all looked up in one snapshot of the kernel
 *    (StasCtrlOps.snapshot()), so a reconcile of N controllers reads sysfs once, not N times. The
 *    snapshot is taken for that batch and freed after it: nothing is cached behind anyone's back;
 *  - routes uevents: to the live controller whose device the event names, else to one being
 *    removed; after lost events (STAS_UEVENT_OVERFLOW) every controller resyncs against sysfs;
 *  - hands the controllers the daemon no longer wants to the terminator, and bounds the wait for
 *    them at stop.
 * The daemon keeps its own objects (a DC, an IOC) with what differs, each pointing at its
 * StasCtrl; the pointer is the set's, valid until ctrl_set_drop() or ctrl_set_remove().
 * State-file writes are scheduled by lkc-writer.h, which both daemons use.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "stas/ctrl.h"
#include "stas/macro.h"
#include "stas/terminator.h"
#include "stas/udev.h"

typedef struct StasCtrlSet StasCtrlSet;

/*
 * After an overflow, for each live controller: @removed when the resync found its device gone or
 * replaced (its removed() callback has run), false when it is the same or not connected.
 */
typedef void (*StasCtrlSetResynced)(StasCtrl *c, bool removed, void *userdata);

/* ctrl_set_new() - an empty set on @ops/@ops_ctx (borrowed: must outlive the set). Return: 0 or -errno. */
int ctrl_set_new(sd_event *event, const StasCtrlOps *ops, void *ops_ctx, StasCtrlSet **ret);
/* ctrl_set_free() - free every controller, live or being removed (their connections are left);
 * NULL-tolerant. */
StasCtrlSet *ctrl_set_free(StasCtrlSet *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasCtrlSet *, ctrl_set_free);

/* ctrl_set_on_resync() - who hears about each live controller after an overflow (NULL: nobody). */
void ctrl_set_on_resync(StasCtrlSet *s, StasCtrlSetResynced cb, void *userdata);

/*
 * ctrl_set_new_ctrl() - a live controller (stas_ctrl_new() on the set's backend), not started.
 * Return: 0, -EINVAL, -ENOMEM.
 */
int ctrl_set_new_ctrl(
        StasCtrlSet *s,
        const StasTid *tid,
        const StasConnectOptions *opts,
        bool discovery,
        const StasCtrlEvents *events,
        void *userdata,
        StasCtrl **ret);
/* ctrl_set_drop() - @c leaves the set and is freed, its connection left alone; NULL-tolerant. */
void ctrl_set_drop(StasCtrlSet *s, StasCtrl *c);
/*
 * ctrl_set_remove() - the orderly removal of live @c (terminator_dispose()): it leaves the live
 * controllers at once, and the caller forgets it. Return: 0 or -errno (@c was freed, its
 * connection left).
 */
int ctrl_set_remove(StasCtrlSet *s, StasCtrl *c, bool keep_connection, bool deregister);

/*
 * ctrl_set_start() - the first attempt of live @c, in the next batch (see the header comment).
 * A controller already connected or with an attempt in flight is left as it is. Return: 0,
 * -EINVAL (not live), -ENOMEM.
 */
int ctrl_set_start(StasCtrlSet *s, StasCtrl *c);
/* ctrl_set_starting() - @c waits for the next batch. */
bool ctrl_set_starting(const StasCtrlSet *s, const StasCtrl *c);

/*
 * ctrl_set_snapshot(), ctrl_set_find(), ctrl_set_snapshot_free() - for a daemon's own batch of
 * lookups (a restore, a removal of controllers never started): one snapshot, any number of
 * finds, then free it. A backend without snapshots gives *@ret NULL (find() reads for itself).
 * find: 1 and *@ret_instance, 0 none, -errno.
 */
int ctrl_set_snapshot(StasCtrlSet *s, void **ret);
int ctrl_set_find(StasCtrlSet *s, const void *snap, const StasTid *tid, bool discovery, int *ret_instance);
void ctrl_set_snapshot_free(StasCtrlSet *s, void *snap);

/*
 * ctrl_set_uevent() - route @ev (see the header comment). Return: true when a controller of the
 * set took it (an overflow: always false, every controller has looked).
 */
bool ctrl_set_uevent(StasCtrlSet *s, const StasUevent *ev);

/* ctrl_set_n(), ctrl_set_ctrl() - the live controllers, oldest first. */
size_t ctrl_set_n(const StasCtrlSet *s);
StasCtrl *ctrl_set_ctrl(const StasCtrlSet *s, size_t i);
/* ctrl_set_n_removing(), ctrl_set_removing() - those being removed, oldest first. */
size_t ctrl_set_n_removing(const StasCtrlSet *s);
StasCtrl *ctrl_set_removing(const StasCtrlSet *s, size_t i);
/* ctrl_set_removing_tid() - one being removed has @tid. */
bool ctrl_set_removing_tid(const StasCtrlSet *s, const StasTid *tid);

/*
 * ctrl_set_stop() - no more batches; @done once every removal has ended, at most @timeout_usec
 * from now (terminator_stop()). Return: the number of removals pending now.
 */
size_t ctrl_set_stop(StasCtrlSet *s, uint64_t timeout_usec, StasTerminatorStopped done, void *userdata);

/* The shortest interval between two STATUS= updates (ctrl_set_notify_status()). */
#define STAS_CTRL_SET_STATUS_MIN_USEC (1000 * 1000ULL)

/*
 * ctrl_set_status() - what the set does, for sd_notify STATUS=: "3 DCs connected, 1 retrying"
 * (@noun: "DCs", "I/O controllers"), then as they apply ", N connecting", ", N not connected"
 * (retries stopped) and ", N disconnecting".
 */
void ctrl_set_status(const StasCtrlSet *s, const char *noun, char *buf, size_t size);
/*
 * ctrl_set_notify_status() - after every loop iteration in which something happened, send
 * ctrl_set_status() as STATUS= to the service manager when it changed, at most once per
 * STAS_CTRL_SET_STATUS_MIN_USEC (a later change is sent when that has passed). No source
 * wakes the loop for it. Ends at ctrl_set_stop(). Return: 0, -errno.
 */
int ctrl_set_notify_status(StasCtrlSet *s, const char *noun);
