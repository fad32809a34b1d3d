/* SPDX-License-Identifier: Apache-2.0 */
/*
 * terminator.h - the controllers a daemon no longer wants, until their orderly removal is done
 * (§5.12): both daemons hand a controller here (terminator_dispose()) and forget it. The
 * terminator keeps it while stas_ctrl_dispose() waits for its connect or verb in flight, sends
 * the DIM deregistration and disconnects (as asked), routes its uevents to it meanwhile, frees
 * it when done, and bounds the wait at stop (terminator_stop()). Nothing here logs above debug
 * level: each daemon says in its own words what it waits for and what it leaves.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "stas/ctrl.h"
#include "stas/macro.h"
#include "stas/udev.h"

typedef struct StasTerminator StasTerminator;

/* At stop: every removal ended (@left 0), or the deadline passed with @left still pending. */
typedef void (*StasTerminatorStopped)(size_t left, void *userdata);

/* terminator_new() - Return: 0 or -errno. */
int terminator_new(sd_event *event, StasTerminator **ret);
/* terminator_free() - free every controller still held (their connections are left); NULL-tolerant. */
StasTerminator *terminator_free(StasTerminator *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasTerminator *, terminator_free);

/*
 * terminator_dispose() - take @c (always): stas_ctrl_dispose(@c, @keep_connection, @deregister),
 * freed once done. If the removal cannot start, @c is freed at once, its connection left.
 * Return: 0 or that -errno.
 */
int terminator_dispose(StasTerminator *t, StasCtrl *c, bool keep_connection, bool deregister);

/* terminator_n(), terminator_ctrl() - the controllers still being removed, oldest first. */
size_t terminator_n(const StasTerminator *t);
StasCtrl *terminator_ctrl(const StasTerminator *t, size_t i);
/* terminator_has_tid() - one of them has @tid. */
bool terminator_has_tid(const StasTerminator *t, const StasTid *tid);

/*
 * terminator_uevent() - @ev for one of them (STAS_UEVENT_OVERFLOW: every one resyncs against
 * sysfs). Return: true when one of them took it.
 */
bool terminator_uevent(StasTerminator *t, const StasUevent *ev);

/*
 * terminator_stop() - call @done once nothing is pending, at most @timeout_usec from now (then
 * with what is left). With nothing pending, @done runs before this returns. Return: the number
 * pending now.
 */
size_t terminator_stop(StasTerminator *t, uint64_t timeout_usec, StasTerminatorStopped done, void *userdata);
