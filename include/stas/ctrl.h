/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctrl.h - the controller machinery stafd and stacd share: one StasCtrl per TID that keeps a
 * kernel connection to that controller alive.
 *
 *  - Connect or adopt. Each attempt first asks the backend for an existing kernel controller
 *    matching the TID (sysfs enumeration + §5.10 matching); if there is one it is adopted, else
 *    a new connection is made (asynchronously: the loop never blocks on the network).
 *  - Retries. A failed attempt is retried after a jittered exponential backoff (StasBackoff,
 *    DESIGN 8): first retry after STAS_CTRL_RETRY_INITIAL_USEC, doubling, capped at
 *    STAS_CTRL_RETRY_MAX_USEC. Exactly ONE error is logged per failure streak (the first
 *    failure); later failures of the streak log at debug; success after a streak logs info.
 *  - Device tracking. Once connected the kernel device name ("nvmeN") is known, and the
 *    device's sysfs attributes are read (StasCtrlOps.details()): they identify it
 *    (nvmedev_same_identity(), udev.h), since the kernel gives a free name to the next
 *    controller. The owner routes its udev events here by name (stas_ctrl_handle_uevent()):
 *    "remove" forgets the device, cancels any verb in flight and schedules a reconnect after a
 *    short backoff (§5.6); the owner's cached state (e.g. log pages) is its own business and is
 *    kept. "change" events are passed to the owner's change() callback. An "add" or "change"
 *    for our name whose device is gone from sysfs or is another controller (its remove event was
 *    lost) is handled as that lost "remove". After lost events the owner calls
 *    stas_ctrl_resync(), which does the same check without an event. (Both daemons route
 *    through their controller set, ctrl-set.h.)
 *  - Verbs. The discovery verbs (DIM register, supported log pages, get log pages) are run
 *    through the StasCtrl so it knows when the backend is busy. At most one verb is in flight
 *    at a time (the backend returns -EBUSY otherwise).
 *  - Dispose (the §5.12 terminator): stas_ctrl_dispose() never overtakes a connect or another
 *    verb in flight: the controller is parked until the backend is idle, then (unless
 *    @keep_connection) optionally DIM-deregistered and disconnected; then done() is called.
 *    While disposing, the owner's callbacks are never called again.
 *
 * The kernel is reached only through a StasCtrlOps table (function pointers), so the state
 * machines above it are unit-tested with a fake backend. stas_ctrl_nvme_ops is the real one,
 * over the nvme adapter (nvme.h) and two worker pools (task.h): connects run on a pool of their
 * own, every other verb (DIM, supported log pages, get log pages, disconnect) on a pool for short
 * operations. A connect to a dead target can block its worker in the kernel for the transport's
 * connect timeout; with the split, connects only ever wait behind other connects, and the verbs
 * of healthy controllers are never queued behind them.
 *
 * All calls and callbacks happen on the sd-event loop thread. Logging: connect failures and
 * recoveries (once per streak, as above) at error/info, each connect or adopt that succeeds at
 * info (one line per connection, "Connected to controller ..."), everything else at debug.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "stas/event.h"
#include "stas/kv.h"
#include "stas/macro.h"
#include "stas/nvme.h"
#include "stas/task.h"
#include "stas/tid.h"
#include "stas/types.h"
#include "stas/udev.h"

#define STAS_CTRL_RETRY_INITIAL_USEC (3 * USEC_PER_SEC)
#define STAS_CTRL_RETRY_MAX_USEC (60 * USEC_PER_SEC)
#define STAS_CTRL_RETRY_FACTOR 2.0
#define STAS_CTRL_RETRY_JITTER 0.25

/* Backend completion callbacks (called on the loop, once per accepted async call). */
typedef void (*StasCtrlOpDone)(int r, void *userdata);
typedef void (*StasCtrlRegisterDone)(int r, uint32_t result, void *userdata);
typedef void (*StasCtrlSupportedDone)(int r, uint32_t lid_support, void *userdata);
/*
 * @entries (NULL when r < 0) is owned by the callee: free with dlp_list_free(). @report (never
 * NULL, valid during the call) says what was read and dropped, also when r < 0 (dlp.h).
 */
typedef void (*StasCtrlLogPagesDone)(int r, StasKV **entries, const StasDlpReport *report, void *userdata);

/*
 * StasCtrlOps - the kernel backend. @ctx is the ops context given to stas_ctrl_new(); a handle
 * (void *h) is one backend controller, created per connection attempt and freed (without
 * disconnecting) when the attempt fails, the device goes away or the StasCtrl is freed.
 * Async calls return 0 when accepted (the callback will run, unless cancel() is called
 * first) or -errno (the callback will not run). Return conventions as nvme.h.
 */
typedef struct StasCtrlOps {
        int (*ctrl_new)(
                void *ctx, const StasTid *tid, const StasConnectOptions *opts, bool discovery, void **ret);
        void (*ctrl_free)(void *h);
        /*
         * optional: read what find() looks at (the kernel's controllers, the interface addresses)
         * once, for a batch of find() calls made in one go; *@ret is the backend's own, freed with
         * snapshot_free(). Return: 0 or -errno.
         */
        int (*snapshot)(void *ctx, void **ret);
        void (*snapshot_free)(void *snap);
        /*
         * find an existing kernel controller for @tid in @snap (NULL: read the kernel now, for this
         * call alone): 1 and *@ret_instance, 0 if none, -errno
         */
        int (*find)(void *ctx, const void *snap, const StasTid *tid, bool discovery, int *ret_instance);
        int (*adopt)(void *h, int instance); /* synchronous, non-blocking (sysfs) */
        int (*connect)(void *h, StasCtrlOpDone cb, void *userdata);
        int (*disconnect)(void *h, StasCtrlOpDone cb, void *userdata);
        int (*dim)(void *h, StasDimTask tas, StasCtrlRegisterDone cb, void *userdata);
        int (*supported_log_pages)(void *h, StasCtrlSupportedDone cb, void *userdata);
        int (*get_log_pages)(void *h, uint8_t lsp, StasCtrlLogPagesDone cb, void *userdata);
        /* sysfs dctype: *@ret malloc'ed ("" when unknown). */
        int (*dctype)(void *h, char **ret);
        /*
         * optional: the sysfs attributes of the connected device (udev.h), read when a connect or
         * adopt succeeds and on each "change" uevent, never per D-Bus call. Return: 0 or -errno.
         */
        int (*details)(void *h, StasNvmeDevice **ret);
        /* 1 (ddc/cdc), 0 (not a TP8010 DC), -ENODATA (kernel does not say; try and see) */
        int (*registration_supported)(void *h);
        const char *(*name)(void *h); /* "nvmeN" or NULL */
        void (*cancel)(void *h);      /* cancel the verb in flight; its callback never runs */
        const char *(*strerror)(int r);
} StasCtrlOps;

/*
 * The real backend: ctx is a StasCtrlNvmeCtx (borrowed; must outlive the controllers). Both
 * pools are required and must be distinct (a shared pool brings back the head-of-line blocking
 * the split exists to prevent): ctrl_new() refuses a context without them with -EINVAL.
 */
typedef struct StasCtrlNvmeCtx {
        StasNvme *nvme;
        StasTaskPool *connect_pool; /* connects only: may block for a transport's connect timeout */
        StasTaskPool *short_pool;   /* DIM, supported log pages, get log pages, disconnect */
        const char *sysfs_root;     /* NULL = "/" */
} StasCtrlNvmeCtx;
/*
 * Its snapshot() reads the kernel's controllers from sysfs and the interface addresses: a batch
 * of N first attempts (ctrl-set.h) costs one enumeration, not N. Nothing is kept between calls.
 */
extern const StasCtrlOps stas_ctrl_nvme_ops;

typedef struct StasCtrl StasCtrl;

/* Owner callbacks; all optional. Never called after stas_ctrl_dispose() or from free(). */
typedef struct StasCtrlEvents {
        /* a connect or adopt succeeded; stas_ctrl_device() is set */
        void (*connected)(StasCtrl *c, void *userdata);
        /* the kernel device was removed; pending verbs were cancelled, a reconnect is scheduled */
        void (*removed)(StasCtrl *c, void *userdata);
        /* a "change" uevent for our device */
        void (*change)(StasCtrl *c, const StasUevent *ev, void *userdata);
        /* attempt @attempt failed with @r: return false to stop retrying (stacd NCC rule) */
        bool (*connect_failed)(StasCtrl *c, int r, unsigned attempt, void *userdata);
} StasCtrlEvents;

/*
 * stas_ctrl_new() - a controller for @tid (copied) with @opts (deep-copied; NULL = defaults),
 * not started. @discovery marks a DC. Return: 0, -ENOMEM.
 */
int stas_ctrl_new(
        sd_event *event,
        const StasCtrlOps *ops,
        void *ops_ctx,
        const StasTid *tid,
        const StasConnectOptions *opts,
        bool discovery,
        const StasCtrlEvents *events,
        void *userdata,
        StasCtrl **ret);
/*
 * stas_ctrl_free() - cancel everything and free; the kernel connection is left alone (use
 * stas_ctrl_dispose() for an orderly removal). Safe from the controller's own callbacks only
 * via done() of dispose. NULL-tolerant; returns NULL.
 */
StasCtrl *stas_ctrl_free(StasCtrl *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasCtrl *, stas_ctrl_free);

/* stas_ctrl_start() - schedule the first attempt right away (on the next loop iteration). */
int stas_ctrl_start(StasCtrl *c);
/*
 * stas_ctrl_start_with() - the first attempt now, looking for an existing kernel controller in
 * @snap (StasCtrlOps.snapshot(); NULL: the backend reads the kernel itself). Not connected and
 * nothing in flight: a pending retry is replaced by this attempt. The owner's callbacks may run
 * before this returns (an adopt, a refused connect): call it from the loop, not from inside
 * them (ctrl_set_start() does). Return: 0, -EINVAL, -ESHUTDOWN (disposing).
 */
int stas_ctrl_start_with(StasCtrl *c, const void *snap);
/*
 * stas_ctrl_connect_now() - if not connected and no attempt is in flight: reset the attempt
 * count and the backoff and attempt on the next loop iteration (stacd: SIGHUP, NCC cleared).
 */
int stas_ctrl_connect_now(StasCtrl *c);
/*
 * stas_ctrl_adopt_existing() - without connecting and without calling the owner's callbacks:
 * if the kernel already has a controller for the TID (in @snap, as for stas_ctrl_start_with()),
 * adopt it (so that stas_ctrl_dispose() can deregister and disconnect it). Return: 1 adopted (or
 * already connected), 0 none, -errno.
 */
int stas_ctrl_adopt_existing(StasCtrl *c, const void *snap);
/* stas_ctrl_set_options() - replace the connect options (used from the next attempt on). */
int stas_ctrl_set_options(StasCtrl *c, const StasConnectOptions *opts);
/* stas_ctrl_set_backoff() - replace the retry policy (tests; attempt counter reset). */
void stas_ctrl_set_backoff(StasCtrl *c, const StasBackoff *b);

/*
 * stas_ctrl_handle_uevent() - an event for stas_ctrl_device(c) (the caller routes by name;
 * events for another device are ignored). "remove": as in the header comment. "change" and
 * "add": the sysfs attributes are read again; if the device is gone, or its identity differs
 * from what was read at connect (nvmedev_same_identity(); for a change with
 * NVME_EVENT=connected, the kernel's own reconnect, only nvmedev_same_connection(): it brings
 * a new cntlid), the event is about another device: ours is handled as removed and the event is
 * not ours. Otherwise a change goes to the owner's change() callback; an add (our own connect's)
 * is ignored. Return: true if the event was for this controller.
 */
bool stas_ctrl_handle_uevent(StasCtrl *c, const StasUevent *ev);
/*
 * stas_ctrl_resync() - uevents were lost (STAS_UEVENT_OVERFLOW): check the device against sysfs
 * now. Gone, or another controller under its name (nvmedev_same_identity() false): handled as a
 * "remove" uevent, the owner's removed() callback included (synchronously). A disposing
 * controller goes on with its dispose on a later loop iteration: done() is never called from
 * inside this call, so an owner may resync every controller of a list in one loop. Without a
 * device, or when the backend cannot read sysfs, nothing happens. Return: 1 handled as removed,
 * 0 not (same device, not connected, or no means to tell).
 */
int stas_ctrl_resync(StasCtrl *c);

/*
 * Verbs on the connected controller (see the header comment). Return: 0 when accepted (@cb
 * will run unless the device is removed, the controller disposed or freed first), -ENOTCONN,
 * -EBUSY (another verb or the connect in flight), or the backend's -errno.
 */
int stas_ctrl_dim(StasCtrl *c, StasDimTask tas, StasCtrlRegisterDone cb, void *userdata);
int stas_ctrl_supported_log_pages(StasCtrl *c, StasCtrlSupportedDone cb, void *userdata);
int stas_ctrl_get_log_pages(StasCtrl *c, uint8_t lsp, StasCtrlLogPagesDone cb, void *userdata);
/* stas_ctrl_dctype() - sysfs dctype ("" unknown). Return: 0, -ENOTCONN, -ENOMEM. */
int stas_ctrl_dctype(StasCtrl *c, char **ret);
/* stas_ctrl_registration_supported() - as StasCtrlOps.registration_supported, -ENOTCONN. */
int stas_ctrl_registration_supported(StasCtrl *c);

typedef void (*StasCtrlDisposed)(StasCtrl *c, void *userdata);
/*
 * stas_ctrl_dispose() - orderly removal: stop retrying; wait until no connect or verb is in
 * flight; then, unless @keep_connection: send DIM deregister if @deregister and the
 * controller supports registration (failure logged at debug, ignored), and disconnect.
 * Then call @done (which may free @c). Calling it twice is -EALREADY. Return: 0 or -errno.
 */
int stas_ctrl_dispose(
        StasCtrl *c, bool keep_connection, bool deregister, StasCtrlDisposed done, void *userdata);

const StasTid *stas_ctrl_tid(const StasCtrl *c);
/* stas_ctrl_userdata() - the owner's @userdata given to stas_ctrl_new(). */
void *stas_ctrl_userdata(const StasCtrl *c);
/*
 * stas_ctrl_tid_str() - the TID as text (tid_to_string(), e.g. "(tcp, 192.168.1.1, 8009, nqn...)"),
 * built once by stas_ctrl_new(): the name the controller's log lines use. Valid until the
 * controller is freed.
 */
const char *stas_ctrl_tid_str(const StasCtrl *c);
const StasConnectOptions *stas_ctrl_options(const StasCtrl *c);
bool stas_ctrl_is_discovery(const StasCtrl *c);
/* stas_ctrl_device() - "nvmeN" while connected, else NULL. */
const char *stas_ctrl_device(const StasCtrl *c);
bool stas_ctrl_connected(const StasCtrl *c);
/* stas_ctrl_busy() - a connect or verb is in flight. */
bool stas_ctrl_busy(const StasCtrl *c);
bool stas_ctrl_disposing(const StasCtrl *c);
/* stas_ctrl_attempts() - connect attempts of the current streak (reset on success/remove). */
unsigned stas_ctrl_attempts(const StasCtrl *c);
/* stas_ctrl_retry_pending() - a retry timer is armed. */
bool stas_ctrl_retry_pending(const StasCtrl *c);
/* stas_ctrl_retry_usec() - the period of the last armed retry (0 if none yet). */
uint64_t stas_ctrl_retry_usec(const StasCtrl *c);
/* stas_ctrl_last_error() - the error of the last failed attempt (0 if the last one succeeded). */
int stas_ctrl_last_error(const StasCtrl *c);
/*
 * stas_ctrl_generation() - a counter that changes whenever something stas_ctrl_device(),
 * stas_ctrl_connected(), stas_ctrl_info() or stas_ctrl_sysfs_details() report may have changed,
 * except the time left on an armed retry timer (stas_ctrl_retry_pending()). An owner may keep
 * what it built from them while the generation is the same and no retry is pending.
 */
uint64_t stas_ctrl_generation(const StasCtrl *c);

/*
 * stas_ctrl_info() - add the upstream info() keys to @kv: "connect attempts", "retry connect
 * timer" ("3.0s [off]" / "3.0s [1.2s]"), and while an attempt is in flight or failing,
 * "connect operation" ("{'fail count': N, 'completed': False, 'alive': True[, 'error': '...']}").
 * Return: 0 or -ENOMEM.
 */
int stas_ctrl_info(const StasCtrl *c, StasKV *kv);
/*
 * stas_ctrl_info() also adds the issue 11 keys: "state" (stas_ctrl_state()), "state reason",
 * "retry in" (whole seconds, rounded up, while retrying, else ""), "connected since" (RFC 3339
 * UTC, "" without a device), "connect attempts total", "connect failures total" (never reset),
 * "last error", "last error name", "last error time" ("" if no failure ever).
 */

/*
 * stas_ctrl_state() - with a device: the kernel's sysfs state ("live" when unknown); without:
 * "connecting", "retrying" or "not connected". *@ret_reason (optional): "" or, when retrying,
 * the last error's name (in @buf when it has to be formatted), "disabled" when the owner stopped
 * the retries.
 */
const char *stas_ctrl_state(const StasCtrl *c, const char **ret_reason, char *buf, size_t size);
/*
 * stas_ctrl_error_name() - "ECONNREFUSED" for -ECONNREFUSED (strerrorname_np()), NVMe status
 * errors (libnvme codes from STAS_NVME_ERRNO_BASE on) as "ENVME_<n>" in @buf, "" for 0.
 */
const char *stas_ctrl_error_name(int r, char *buf, size_t size);

/*
 * stas_ctrl_sysfs_details() - add the detailed list_controllers keys both daemons show:
 * "hostid", "hostnqn", "model", "serial", "dctype", "cntrltype" ("" when there is no device or
 * it could not be read), then "connected" ("True"/"False"). The attributes come from memory:
 * StasCtrlOps.details() reads them from sysfs once per connect/adopt and per "change" uevent,
 * so a D-Bus caller can never make the daemon read sysfs. Return: 0 or -ENOMEM.
 */
int stas_ctrl_sysfs_details(const StasCtrl *c, StasKV *kv);

/*
 * stas_secret_key() - a controller= key whose value is a secret and must be shown as
 * LOG_SECRET(): dhchap-secret, dhchap-ctrl-secret and their -file forms (any key starting with
 * either). NULL: false.
 */
bool stas_secret_key(const char *key);
