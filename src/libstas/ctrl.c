/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctrl.c - the shared controller object: connect/adopt, retries with backoff, device
 * tracking, verb bookkeeping and the orderly dispose (see ctrl.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "stas/ctrl.h"
#include "stas/dlp.h"
#include "stas/ifaddr.h"
#include "stas/log.h"
#include "stas/message-ids.h"
#include "stas/match.h"
#include "stas/metrics.h"
#include "stas/timespan.h"

typedef enum Verb {
        VERB_NONE,
        VERB_CONNECT,
        VERB_DIM,
        VERB_SUPPORTED,
        VERB_LOG,
        VERB_DEREGISTER,
        VERB_DISCONNECT,
} Verb;

struct StasCtrl {
        sd_event *event;
        const StasCtrlOps *ops;
        void *ops_ctx;
        StasTid *tid;
        char *tid_str;
        StasConnectOptions opts;
        bool discovery;
        StasCtrlEvents ev;
        void *userdata;

        void *h;      /* backend controller of the current attempt/connection */
        char *device; /* "nvmeN" while connected */
        bool connected;
        StasNvmeDevice *details; /* sysfs attributes of the device (ops->details), or NULL */
        uint64_t generation;     /* see stas_ctrl_generation() */

        Verb verb; /* in flight */
        union {
                StasCtrlRegisterDone dim;
                StasCtrlSupportedDone supported;
                StasCtrlLogPagesDone log;
        } verb_cb;
        void *verb_ud;

        StasTimer *retry;
        StasBackoff backoff;
        unsigned attempts;
        int last_error;
        bool failing;            /* a failure streak has been logged */
        bool stopped;            /* connect_failed() asked us to stop retrying */
        unsigned attempts_total; /* over the controller's life, never reset */
        unsigned failures_total;
        int last_failure;         /* the error of the last failure ever (0: none) */
        time_t last_failure_time; /* wall clock */
        time_t connected_since;   /* wall clock of the current connection (0: none) */
        bool lost_device;         /* the device went away: the next connection is a reconnect */

        bool disposing;
        bool keep_connection;
        bool deregister;
        bool dereg_done;
        StasCtrlDisposed done;
        void *done_ud;
        StasTimer *defer; /* runs dispose_step() outside the caller's stack */
};

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

static void retry_cb(StasTimer *t, void *userdata);
static void defer_cb(StasTimer *t, void *userdata);
static void dispose_step(StasCtrl *c);

/* Something stas_ctrl_device(), _connected(), _info() or _sysfs_details() report may have changed. */
static void touch(StasCtrl *c) {
        c->generation++;
}

/* (Re)arm the retry timer: its period and state are shown by stas_ctrl_info(). */
static int retry_start(StasCtrl *c, uint64_t usec) {
        int r = timer_start(c->retry, usec);

        touch(c);
        return r;
}

static void backoff_default(StasBackoff *b) {
        *b = (StasBackoff){
                .initial_usec = STAS_CTRL_RETRY_INITIAL_USEC,
                .max_usec = STAS_CTRL_RETRY_MAX_USEC,
                .factor = STAS_CTRL_RETRY_FACTOR,
                .jitter = STAS_CTRL_RETRY_JITTER,
        };
}

static const char *ctrl_strerror(const StasCtrl *c, int r) {
        if (c->ops->strerror)
                return c->ops->strerror(r);
        return strerror(r < 0 ? -r : r);
}

static int options_copy(StasConnectOptions *dst, const StasConnectOptions *src) {
        StasConnectOptions n;

        if (!src) {
                connect_options_init(&n);
                *dst = n;
                return 0;
        }
        n = *src;
        n.dhchap_secret = n.dhchap_ctrl_secret = NULL;
        if (src->dhchap_secret && !(n.dhchap_secret = strdup(src->dhchap_secret)))
                return -ENOMEM;
        if (src->dhchap_ctrl_secret && !(n.dhchap_ctrl_secret = strdup(src->dhchap_ctrl_secret))) {
                free(n.dhchap_secret);
                return -ENOMEM;
        }
        *dst = n;
        return 0;
}

/**
 * stas_ctrl_new() - see ctrl.h.
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
        StasCtrl **ret) {
        _cleanup_(stas_ctrl_freep) StasCtrl *c = NULL;
        int r;

        if (!event || !ops || !tid || !ret)
                return -EINVAL;
        c = new0(StasCtrl, 1);
        if (!c)
                return -ENOMEM;
        connect_options_init(&c->opts);
        c->event = sd_event_ref(event);
        c->ops = ops;
        c->ops_ctx = ops_ctx;
        c->discovery = discovery;
        c->userdata = userdata;
        if (events)
                c->ev = *events;
        backoff_default(&c->backoff);
        c->tid = tid_copy(tid);
        if (!c->tid)
                return -ENOMEM;
        c->tid_str = tid_to_string(tid);
        if (!c->tid_str)
                return -ENOMEM;
        r = options_copy(&c->opts, opts);
        if (r < 0)
                return r;
        r = timer_new(event, retry_cb, c, &c->retry);
        if (r < 0)
                return r;
        r = timer_new(event, defer_cb, c, &c->defer);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

static void backend_release(StasCtrl *c) {
        if (c->h) {
                if (c->verb != VERB_NONE && c->ops->cancel)
                        c->ops->cancel(c->h);
                c->ops->ctrl_free(c->h);
                c->h = NULL;
        }
        c->verb = VERB_NONE;
        c->connected = false;
        c->connected_since = 0;
        c->device = mfree(c->device);
        c->details = nvmedev_free(c->details);
        touch(c);
}

/* (Re)read the device's sysfs attributes into memory: the only place that reads them. */
static void details_refresh(StasCtrl *c) {
        StasNvmeDevice *d = NULL;
        int r;

        if (!c->ops->details || !c->h || !c->connected)
                return;
        r = c->ops->details(c->h, &d);
        if (r < 0) {
                log_debug(
                        "Controller %s: cannot read the sysfs attributes of %s: %s",
                        c->tid_str,
                        strna(c->device),
                        strerror(-r));
                return; /* keep what we had (if anything) */
        }
        nvmedev_free(c->details);
        c->details = d;
        touch(c);
}

/**
 * stas_ctrl_free() - see ctrl.h.
 */
StasCtrl *stas_ctrl_free(StasCtrl *c) {
        if (!c)
                return NULL;
        backend_release(c);
        timer_free(c->retry);
        timer_free(c->defer);
        connect_options_done(&c->opts);
        tid_free(c->tid);
        free(c->tid_str);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

static void on_connected(StasCtrl *c) {
        const char *name = c->ops->name ? c->ops->name(c->h) : NULL;

        if (c->lost_device)
                stas_metrics_add("stas_reconnects_total", NULL, NULL, NULL, NULL, 1);
        c->lost_device = false;
        c->connected = true;
        c->connected_since = time(NULL);
        free(c->device);
        c->device = name ? strdup(name) : NULL;
        details_refresh(c);
        if (c->failing)
                log_ctrl(
                        LOG_INFO,
                        STAS_MESSAGE_CONNECT_FAILURES_ENDED,
                        c->tid,
                        c->device,
                        "Connected to controller %s (%s) after %u attempts.",
                        c->tid_str,
                        strna(c->device),
                        c->attempts);
        else if (!c->disposing) /* once per connection, for the journal (one being removed: debug) */
                log_ctrl(
                        LOG_INFO,
                        STAS_MESSAGE_CONNECTED,
                        c->tid,
                        c->device,
                        "Connected to controller %s (%s).",
                        c->tid_str,
                        strna(c->device));
        else
                log_debug("Connected to controller %s (%s).", c->tid_str, strna(c->device));
        c->failing = false;
        c->attempts = 0;
        c->last_error = 0;
        backoff_reset(&c->backoff);
        touch(c);
        if (c->disposing)
                dispose_step(c);
        else if (c->ev.connected)
                c->ev.connected(c, c->userdata);
}

static void on_failed(StasCtrl *c, int r) {
        if (c->h) {
                c->ops->ctrl_free(c->h);
                c->h = NULL;
        }
        c->connected = false;
        c->details = nvmedev_free(c->details);
        c->last_error = r;
        c->last_failure = r;
        c->last_failure_time = time(NULL);
        c->failures_total++;
        {
                char nbuf[64];
                stas_metrics_add(
                        "stas_connect_failures_total",
                        "reason",
                        stas_ctrl_error_name(r, nbuf, sizeof nbuf),
                        NULL,
                        NULL,
                        1);
        }
        touch(c);
        if (c->disposing) {
                dispose_step(c);
                return;
        }
        if (!c->failing) {
                log_ctrl(
                        LOG_ERR,
                        STAS_MESSAGE_CONNECT_FAILED,
                        c->tid,
                        NULL,
                        "Failed to connect to controller %s: %s",
                        c->tid_str,
                        ctrl_strerror(c, r));
                c->failing = true;
        } else
                log_debug(
                        "Connect attempt %u to controller %s failed: %s",
                        c->attempts,
                        c->tid_str,
                        ctrl_strerror(c, r));
        if (c->ev.connect_failed && !c->ev.connect_failed(c, r, c->attempts, c->userdata)) {
                c->stopped = true;
                touch(c);
                log_debug("Controller %s: no more connect attempts.", c->tid_str);
                return;
        }
        (void) retry_start(c, backoff_next(&c->backoff));
}

static void connect_done(int r, void *userdata) {
        StasCtrl *c = userdata;

        c->verb = VERB_NONE;
        touch(c);
        if (r < 0)
                on_failed(c, r);
        else
                on_connected(c);
}

static void attempt(StasCtrl *c, const void *snap) {
        int instance = -1, r;

        if (c->connected || c->verb != VERB_NONE || c->disposing)
                return;
        c->attempts++;
        c->attempts_total++;
        stas_metrics_add("stas_connect_attempts_total", "transport", c->tid->transport, NULL, NULL, 1);
        c->stopped = false;
        touch(c);
        if (!c->h) {
                r = c->ops->ctrl_new(c->ops_ctx, c->tid, &c->opts, c->discovery, &c->h);
                if (r < 0) {
                        c->h = NULL;
                        on_failed(c, r);
                        return;
                }
        }
        r = c->ops->find ? c->ops->find(c->ops_ctx, snap, c->tid, c->discovery, &instance) : 0;
        if (r < 0)
                log_debug(
                        "Controller %s: looking for an existing connection failed: %s",
                        c->tid_str,
                        strerror(-r));
        if (r > 0) {
                r = c->ops->adopt(c->h, instance);
                if (r >= 0) {
                        log_debug("Controller %s: adopted existing nvme%d.", c->tid_str, instance);
                        on_connected(c);
                        return;
                }
                log_debug(
                        "Controller %s: adopting nvme%d failed (%s), connecting.",
                        c->tid_str,
                        instance,
                        ctrl_strerror(c, r));
        }
        c->verb = VERB_CONNECT;
        touch(c);
        r = c->ops->connect(c->h, connect_done, c);
        if (r < 0) {
                c->verb = VERB_NONE;
                on_failed(c, r);
        }
}

static void retry_cb(StasTimer *t, void *userdata) {
        touch(userdata);         /* the timer is no longer armed */
        attempt(userdata, NULL); /* a batch of one: the backend reads the kernel for it */
}

/**
 * stas_ctrl_start() - see ctrl.h.
 */
int stas_ctrl_start(StasCtrl *c) {
        if (!c)
                return -EINVAL;
        if (c->disposing)
                return -ESHUTDOWN;
        if (c->connected || c->verb == VERB_CONNECT)
                return 0;
        return retry_start(c, 0);
}

/**
 * stas_ctrl_start_with() - see ctrl.h.
 */
int stas_ctrl_start_with(StasCtrl *c, const void *snap) {
        if (!c)
                return -EINVAL;
        if (c->disposing)
                return -ESHUTDOWN;
        if (c->connected || c->verb != VERB_NONE)
                return 0;
        timer_stop(c->retry);
        attempt(c, snap);
        return 0;
}

/**
 * stas_ctrl_adopt_existing() - see ctrl.h.
 */
int stas_ctrl_adopt_existing(StasCtrl *c, const void *snap) {
        int instance = -1, r;

        if (!c)
                return -EINVAL;
        if (c->disposing)
                return -ESHUTDOWN;
        if (c->connected)
                return 1;
        if (c->verb != VERB_NONE || !c->ops->find)
                return 0;
        r = c->ops->find(c->ops_ctx, snap, c->tid, c->discovery, &instance);
        if (r <= 0)
                return r;
        if (!c->h) {
                r = c->ops->ctrl_new(c->ops_ctx, c->tid, &c->opts, c->discovery, &c->h);
                if (r < 0) {
                        c->h = NULL;
                        return r;
                }
        }
        r = c->ops->adopt(c->h, instance);
        if (r < 0) {
                c->ops->ctrl_free(c->h);
                c->h = NULL;
                return r;
        }
        const char *name = c->ops->name ? c->ops->name(c->h) : NULL;
        c->connected = true;
        free(c->device);
        c->device = name ? strdup(name) : NULL;
        touch(c);
        details_refresh(c);
        log_debug("Controller %s: adopted existing nvme%d (no callbacks).", c->tid_str, instance);
        return 1;
}

/**
 * stas_ctrl_connect_now() - see ctrl.h.
 */
int stas_ctrl_connect_now(StasCtrl *c) {
        if (!c)
                return -EINVAL;
        if (c->disposing)
                return -ESHUTDOWN;
        if (c->connected || c->verb == VERB_CONNECT)
                return 0;
        c->attempts = 0;
        backoff_reset(&c->backoff);
        return retry_start(c, 0);
}

/**
 * stas_ctrl_set_options() - see ctrl.h.
 */
int stas_ctrl_set_options(StasCtrl *c, const StasConnectOptions *opts) {
        StasConnectOptions n;
        int r;

        r = options_copy(&n, opts);
        if (r < 0)
                return r;
        connect_options_done(&c->opts);
        c->opts = n;
        return 0;
}

/**
 * stas_ctrl_set_backoff() - see ctrl.h.
 */
void stas_ctrl_set_backoff(StasCtrl *c, const StasBackoff *b) {
        c->backoff = *b;
        backoff_reset(&c->backoff);
}

/* The device is gone (a remove uevent, or found so later): forget it and reconnect. */
static void device_removed(StasCtrl *c) {
        if (c->connected)
                log_ctrl(
                        c->disposing ? LOG_DEBUG : LOG_INFO,
                        STAS_MESSAGE_DISCONNECTED,
                        c->tid,
                        c->device,
                        "Controller %s (%s) was removed by the kernel.",
                        c->tid_str,
                        strna(c->device));
        backend_release(c);
        c->lost_device = true;
        c->connected_since = 0;
        c->attempts = 0;
        c->failing = false;
        backoff_reset(&c->backoff);
        if (c->disposing) {
                /* from the loop: done() may free @c and change the owner's lists */
                (void) timer_start(c->defer, 0);
                return;
        }
        if (c->ev.removed)
                c->ev.removed(c, c->userdata);
        (void) retry_start(c, backoff_next(&c->backoff));
}

/*
 * Is the device under our name still the one we connected to? Read its sysfs attributes again
 * and compare them with those read at connect (@new_cntlid: the kernel reconnected it, a new
 * cntlid is expected). Return: 1 gone or another controller, 0 the same (attributes refreshed),
 * -errno cannot tell (what was known is kept).
 */
static int device_check(StasCtrl *c, bool new_cntlid) {
        StasNvmeDevice *d = NULL;
        int r;

        if (!c->ops->details || !c->h || !c->connected)
                return -EOPNOTSUPP;
        r = c->ops->details(c->h, &d);
        if (r == -ENOENT) {
                log_info("Controller %s: device %s is gone from sysfs.", c->tid_str, strna(c->device));
                return 1;
        }
        if (r < 0) {
                log_debug(
                        "Controller %s: cannot read the sysfs attributes of %s: %s",
                        c->tid_str,
                        strna(c->device),
                        strerror(-r));
                return r;
        }
        if (c->details &&
            !(new_cntlid ? nvmedev_same_connection(c->details, d) : nvmedev_same_identity(c->details, d))) {
                log_info(
                        "Controller %s: the kernel gave the name %s to another controller (cntlid %s, was %s).",
                        c->tid_str,
                        strna(c->device),
                        strna(d->cntlid),
                        strna(c->details->cntlid));
                nvmedev_free(d);
                return 1;
        }
        nvmedev_free(c->details);
        c->details = d;
        touch(c);
        return 0;
}

/**
 * stas_ctrl_handle_uevent() - see ctrl.h.
 */
bool stas_ctrl_handle_uevent(StasCtrl *c, const StasUevent *ev) {
        if (!c || !ev || !c->device || !ev->sysname || !streq(c->device, ev->sysname))
                return false;
        switch (ev->action) {
        case STAS_UEVENT_REMOVE:
                log_debug("Controller %s: device %s removed.", c->tid_str, c->device);
                device_removed(c);
                break;
        case STAS_UEVENT_ADD:
                if (device_check(c, false) > 0) {
                        device_removed(c);
                        return false; /* the event is the new device's */
                }
                break;
        case STAS_UEVENT_CHANGE:
                if (device_check(c, ev->nvme_event == STAS_NVME_EVENT_CONNECTED) > 0) {
                        device_removed(c);
                        return false;
                }
                if (!c->disposing && c->ev.change)
                        c->ev.change(c, ev, c->userdata);
                break;
        default:
                break;
        }
        return true;
}

/**
 * stas_ctrl_resync() - see ctrl.h.
 */
int stas_ctrl_resync(StasCtrl *c) {
        if (!c || !c->connected || device_check(c, false) <= 0)
                return 0;
        device_removed(c);
        return 1;
}

static int verb_check(StasCtrl *c) {
        if (!c)
                return -EINVAL;
        if (c->disposing)
                return -ESHUTDOWN;
        if (!c->connected || !c->h)
                return -ENOTCONN;
        if (c->verb != VERB_NONE)
                return -EBUSY;
        return 0;
}

static void dim_done(int r, uint32_t result, void *userdata) {
        StasCtrl *c = userdata;
        Verb v = c->verb;

        c->verb = VERB_NONE;
        if (v == VERB_DEREGISTER) {
                /* the register results are counted by stafd, which knows the task */
                stas_metrics_add(
                        "stas_dim_results_total",
                        "operation",
                        "deregister",
                        "result",
                        r == -EOPNOTSUPP ? "not supported"
                                : r < 0  ? "failed"
                                         : "success",
                        1);
                if (r < 0)
                        log_debug(
                                "Controller %s: DIM deregister failed: %s", c->tid_str, ctrl_strerror(c, r));
                else
                        log_ctrl(
                                LOG_INFO,
                                STAS_MESSAGE_DEREGISTERED,
                                c->tid,
                                c->device,
                                "Controller %s: deregistered (TP8010).",
                                c->tid_str);
                c->dereg_done = true;
                dispose_step(c);
                return;
        }
        if (c->disposing) {
                dispose_step(c);
                return;
        }
        if (c->verb_cb.dim)
                c->verb_cb.dim(r, result, c->verb_ud);
}

/**
 * stas_ctrl_dim() - see ctrl.h.
 */
int stas_ctrl_dim(StasCtrl *c, StasDimTask tas, StasCtrlRegisterDone cb, void *userdata) {
        int r = verb_check(c);

        if (r < 0)
                return r;
        c->verb = VERB_DIM;
        c->verb_cb.dim = cb;
        c->verb_ud = userdata;
        r = c->ops->dim(c->h, tas, dim_done, c);
        if (r < 0)
                c->verb = VERB_NONE;
        return r;
}

static void supported_done(int r, uint32_t lid_support, void *userdata) {
        StasCtrl *c = userdata;

        c->verb = VERB_NONE;
        if (c->disposing) {
                dispose_step(c);
                return;
        }
        if (c->verb_cb.supported)
                c->verb_cb.supported(r, lid_support, c->verb_ud);
}

/**
 * stas_ctrl_supported_log_pages() - see ctrl.h.
 */
int stas_ctrl_supported_log_pages(StasCtrl *c, StasCtrlSupportedDone cb, void *userdata) {
        int r = verb_check(c);

        if (r < 0)
                return r;
        c->verb = VERB_SUPPORTED;
        c->verb_cb.supported = cb;
        c->verb_ud = userdata;
        r = c->ops->supported_log_pages(c->h, supported_done, c);
        if (r < 0)
                c->verb = VERB_NONE;
        return r;
}

static void log_done(int r, StasKV **entries, const StasDlpReport *report, void *userdata) {
        StasCtrl *c = userdata;

        c->verb = VERB_NONE;
        if (c->disposing || !c->verb_cb.log) {
                dlp_list_free(entries);
                if (c->disposing)
                        dispose_step(c);
                return;
        }
        c->verb_cb.log(r, entries, report, c->verb_ud);
}

/**
 * stas_ctrl_get_log_pages() - see ctrl.h.
 */
int stas_ctrl_get_log_pages(StasCtrl *c, uint8_t lsp, StasCtrlLogPagesDone cb, void *userdata) {
        int r = verb_check(c);

        if (r < 0)
                return r;
        c->verb = VERB_LOG;
        c->verb_cb.log = cb;
        c->verb_ud = userdata;
        r = c->ops->get_log_pages(c->h, lsp, log_done, c);
        if (r < 0)
                c->verb = VERB_NONE;
        return r;
}

/**
 * stas_ctrl_dctype() - see ctrl.h.
 */
int stas_ctrl_dctype(StasCtrl *c, char **ret) {
        if (!c || !c->connected || !c->h)
                return -ENOTCONN;
        if (!c->ops->dctype)
                return (*ret = strdup("")) ? 0 : -ENOMEM;
        return c->ops->dctype(c->h, ret);
}

/**
 * stas_ctrl_registration_supported() - see ctrl.h.
 */
int stas_ctrl_registration_supported(StasCtrl *c) {
        if (!c || !c->connected || !c->h)
                return -ENOTCONN;
        if (!c->ops->registration_supported)
                return -ENODATA;
        return c->ops->registration_supported(c->h);
}

static void disconnect_done(int r, void *userdata) {
        StasCtrl *c = userdata;

        c->verb = VERB_NONE;
        if (r < 0)
                log_debug("Controller %s: disconnect failed: %s", c->tid_str, ctrl_strerror(c, r));
        else
                log_ctrl(
                        LOG_INFO,
                        STAS_MESSAGE_DISCONNECTED,
                        c->tid,
                        c->device,
                        "Disconnected from controller %s (%s).",
                        c->tid_str,
                        strna(c->device));
        backend_release(c);
        dispose_step(c);
}

static void dispose_step(StasCtrl *c) {
        int r;

        if (!c->disposing || c->verb != VERB_NONE)
                return; /* parked until the verb in flight completes */

        if (c->connected && !c->keep_connection) {
                if (c->deregister && !c->dereg_done && c->ops->dim) {
                        r = c->ops->registration_supported ? c->ops->registration_supported(c->h) : -ENODATA;
                        if (r != 0) {
                                c->verb = VERB_DEREGISTER;
                                r = c->ops->dim(c->h, STAS_DIM_DEREGISTER, dim_done, c);
                                if (r >= 0)
                                        return;
                                c->verb = VERB_NONE;
                                log_debug(
                                        "Controller %s: DIM deregister not sent: %s",
                                        c->tid_str,
                                        ctrl_strerror(c, r));
                        }
                        c->dereg_done = true;
                }
                c->verb = VERB_DISCONNECT;
                r = c->ops->disconnect(c->h, disconnect_done, c);
                if (r >= 0)
                        return;
                c->verb = VERB_NONE;
                log_debug("Controller %s: disconnect not started: %s", c->tid_str, ctrl_strerror(c, r));
                backend_release(c);
        }

        /* finished: done() may free us, so it is the last thing */
        StasCtrlDisposed done = TAKE_PTR(c->done);
        if (done)
                done(c, c->done_ud);
}

static void defer_cb(StasTimer *t, void *userdata) {
        dispose_step(userdata);
}

/**
 * stas_ctrl_dispose() - see ctrl.h.
 */
int stas_ctrl_dispose(
        StasCtrl *c, bool keep_connection, bool deregister, StasCtrlDisposed done, void *userdata) {
        if (!c)
                return -EINVAL;
        if (c->disposing)
                return -EALREADY;
        c->disposing = true;
        c->keep_connection = keep_connection;
        c->deregister = deregister;
        c->done = done;
        c->done_ud = userdata;
        timer_stop(c->retry);
        touch(c);
        log_debug(
                "Controller %s: disposing (%s connection)%s.",
                c->tid_str,
                keep_connection ? "keep" : "drop",
                c->verb != VERB_NONE ? ", waiting for the operation in flight" : "");
        return timer_start(c->defer, 0);
}

void *stas_ctrl_userdata(const StasCtrl *c) {
        return c ? c->userdata : NULL;
}

const StasTid *stas_ctrl_tid(const StasCtrl *c) {
        return c->tid;
}

const char *stas_ctrl_tid_str(const StasCtrl *c) {
        return c->tid_str;
}

const StasConnectOptions *stas_ctrl_options(const StasCtrl *c) {
        return &c->opts;
}

bool stas_ctrl_is_discovery(const StasCtrl *c) {
        return c->discovery;
}

const char *stas_ctrl_device(const StasCtrl *c) {
        return c && c->connected ? c->device : NULL;
}

bool stas_ctrl_connected(const StasCtrl *c) {
        return c && c->connected;
}

bool stas_ctrl_busy(const StasCtrl *c) {
        return c && c->verb != VERB_NONE;
}

bool stas_ctrl_disposing(const StasCtrl *c) {
        return c && c->disposing;
}

unsigned stas_ctrl_attempts(const StasCtrl *c) {
        return c->attempts;
}

bool stas_ctrl_retry_pending(const StasCtrl *c) {
        return timer_is_armed(c->retry);
}

uint64_t stas_ctrl_retry_usec(const StasCtrl *c) {
        return timer_period(c->retry);
}

int stas_ctrl_last_error(const StasCtrl *c) {
        return c->last_error;
}

uint64_t stas_ctrl_generation(const StasCtrl *c) {
        return c->generation;
}

/**
 * stas_ctrl_info() - see ctrl.h.
 */
/**
 * stas_ctrl_error_name() - see ctrl.h.
 */
const char *stas_ctrl_error_name(int r, char *buf, size_t size) {
        int e = r < 0 ? -r : r;
        const char *n = e < STAS_NVME_ERRNO_BASE ? strerrorname_np(e) : stas_nvme_error_name(e);

        if (e == 0)
                return "";
        if (n)
                return n;
        snprintf(buf, size, e >= STAS_NVME_ERRNO_BASE ? "ENVME_%d" : "E%d", e);
        return buf;
}

/**
 * stas_ctrl_state() - see ctrl.h.
 */
const char *stas_ctrl_state(const StasCtrl *c, const char **ret_reason, char *buf, size_t size) {
        const char *reason = "";
        const char *state;

        if (c->device)
                state = c->details && c->details->state && *c->details->state ? c->details->state : "live";
        else if (c->verb == VERB_CONNECT)
                state = "connecting";
        else if (timer_is_armed(c->retry)) {
                state = "retrying";
                reason = stas_ctrl_error_name(c->last_error, buf, size);
        } else {
                state = "not connected";
                if (c->stopped)
                        reason = "disabled";
        }
        if (ret_reason)
                *ret_reason = reason;
        return state;
}

static int info_state(const StasCtrl *c, StasKV *kv) {
        char nbuf[64], num[32], tbuf[STAS_RFC3339_MAX];
        const char *reason, *state = stas_ctrl_state(c, &reason, nbuf, sizeof nbuf);
        bool retrying = streq(state, "retrying");

        if (kv_set(kv, "state", state) < 0 || kv_set(kv, "state reason", reason) < 0)
                return -ENOMEM;
        snprintf(num, sizeof num, "%" PRIu64, (timer_remaining(c->retry) + USEC_PER_SEC - 1) / USEC_PER_SEC);
        if (kv_set(kv, "retry in", retrying ? num : "") < 0)
                return -ENOMEM;
        if (kv_set(kv,
                   "connected since",
                   c->device ? rfc3339_utc(c->connected_since, tbuf, sizeof tbuf) : "") < 0)
                return -ENOMEM;
        snprintf(num, sizeof num, "%u", c->attempts_total);
        if (kv_set(kv, "connect attempts total", num) < 0)
                return -ENOMEM;
        snprintf(num, sizeof num, "%u", c->failures_total);
        if (kv_set(kv, "connect failures total", num) < 0)
                return -ENOMEM;
        if (kv_set(kv, "last error", c->last_failure ? ctrl_strerror(c, c->last_failure) : "") < 0 ||
            kv_set(kv, "last error name", stas_ctrl_error_name(c->last_failure, nbuf, sizeof nbuf)) < 0 ||
            kv_set(kv,
                   "last error time",
                   c->last_failure ? rfc3339_utc(c->last_failure_time, tbuf, sizeof tbuf) : "") < 0)
                return -ENOMEM;
        return 0;
}

int stas_ctrl_info(const StasCtrl *c, StasKV *kv) {
        char buf[64], num[32];
        _cleanup_free_ char *op = NULL;
        int r;

        snprintf(num, sizeof num, "%u", c->attempts);
        r = kv_set(kv, "connect attempts", num);
        if (r < 0)
                return r;
        r = kv_set(kv, "retry connect timer", timer_to_string(c->retry, buf, sizeof buf));
        if (r < 0)
                return r;
        if (c->verb == VERB_CONNECT || (!c->connected && c->attempts > 0)) {
                bool in_flight = c->verb == VERB_CONNECT;
                unsigned fails = in_flight ? c->attempts - 1 : c->attempts;

                if (c->last_error != 0 && !in_flight)
                        r = asprintf(
                                &op,
                                "{'fail count': %u, 'completed': False, 'alive': %s, 'error': '%s'}",
                                fails,
                                c->stopped ? "False" : "True",
                                ctrl_strerror(c, c->last_error));
                else
                        r = asprintf(&op, "{'fail count': %u, 'completed': False, 'alive': True}", fails);
                if (r < 0)
                        return -ENOMEM;
                r = kv_set(kv, "connect operation", op);
                if (r < 0)
                        return r;
        }
        return info_state(c, kv);
}

/* ---- the real backend: nvme.h adapter on the worker pools (connects apart, see ctrl.h) ---- */

typedef struct NvmeH {
        StasNvmeCtrl *c;
        StasCtrlNvmeCtx *ctx;
        union {
                StasCtrlOpDone op;
                StasCtrlRegisterDone dim;
                StasCtrlSupportedDone supported;
                StasCtrlLogPagesDone log;
        } cb;
        void *ud;
} NvmeH;

static int nvme_h_new(
        void *ctx, const StasTid *tid, const StasConnectOptions *opts, bool discovery, void **ret) {
        StasCtrlNvmeCtx *x = ctx;
        NvmeH *h;
        int r;

        /* connects on the short pool would queue the verbs of healthy controllers behind them */
        if (!x->connect_pool || !x->short_pool || x->connect_pool == x->short_pool)
                return -EINVAL;
        h = new0(NvmeH, 1);
        if (!h)
                return -ENOMEM;
        h->ctx = x;
        r = stas_nvme_ctrl_new(x->nvme, tid, opts, discovery, &h->c);
        if (r < 0) {
                free(h);
                return r;
        }
        *ret = h;
        return 0;
}

static void nvme_h_free(void *p) {
        NvmeH *h = p;

        if (!h)
                return;
        stas_nvme_ctrl_free(h->c);
        free(h);
}

/* What nvme_h_find() looks at, read once for a batch of lookups. */
typedef struct NvmeSnapshot {
        StasNvmeDevice **devs;
        StasIfMap *ifaces;
} NvmeSnapshot;

static void nvme_snapshot_free(void *p) {
        NvmeSnapshot *s = p;

        if (!s)
                return;
        nvmedev_list_free(s->devs);
        ifaddr_map_free(s->ifaces);
        free(s);
}

static int nvme_snapshot(void *ctx, void **ret) {
        StasCtrlNvmeCtx *x = ctx;
        NvmeSnapshot *s;
        int r;

        s = new0(NvmeSnapshot, 1);
        if (!s)
                return -ENOMEM;
        r = nvmedev_enumerate(x->sysfs_root, &s->devs);
        if (r < 0) {
                nvme_snapshot_free(s);
                return r;
        }
        /* without the addresses, a TID with a host-iface or host-traddr matches nothing */
        if (ifaddr_map_from_system(&s->ifaces) < 0 && !(s->ifaces = ifaddr_map_new())) {
                nvme_snapshot_free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

static int nvme_h_find(void *ctx, const void *snap, const StasTid *tid, bool discovery, int *ret_instance) {
        const NvmeSnapshot *s = snap;
        void *own = NULL;
        int r;

        if (!s) {
                r = nvme_snapshot(ctx, &own);
                if (r < 0)
                        return r;
                s = own;
        }
        r = 0;
        for (size_t i = 0; s->devs && s->devs[i]; i++) {
                StasConnId cid;

                if (discovery ? !nvmedev_is_dc(s->devs[i]) : !nvmedev_is_ioc(s->devs[i]))
                        continue;
                if (streq(s->devs[i]->state, "deleting"))
                        continue;
                nvmedev_conn_id(s->devs[i], &cid);
                if (match_cid_tid(&cid, tid, s->ifaces)) {
                        *ret_instance = s->devs[i]->instance;
                        r = 1;
                        break;
                }
        }
        nvme_snapshot_free(own);
        return r;
}

static int nvme_h_adopt(void *p, int instance) {
        NvmeH *h = p;
        return stas_nvme_ctrl_adopt(h->c, instance);
}

static void nvme_op_tramp(StasNvmeCtrl *nc, int r, void *userdata) {
        NvmeH *h = userdata;
        h->cb.op(r, h->ud);
}

static int nvme_h_connect(void *p, StasCtrlOpDone cb, void *userdata) {
        NvmeH *h = p;

        h->cb.op = cb;
        h->ud = userdata;
        return stas_nvme_ctrl_connect_async(h->c, h->ctx->connect_pool, nvme_op_tramp, h);
}

static int nvme_h_disconnect(void *p, StasCtrlOpDone cb, void *userdata) {
        NvmeH *h = p;

        h->cb.op = cb;
        h->ud = userdata;
        return stas_nvme_ctrl_disconnect_async(h->c, h->ctx->short_pool, nvme_op_tramp, h);
}

static void nvme_dim_tramp(StasNvmeCtrl *nc, int r, uint32_t result, void *userdata) {
        NvmeH *h = userdata;
        h->cb.dim(r, result, h->ud);
}

static int nvme_h_dim(void *p, StasDimTask tas, StasCtrlRegisterDone cb, void *userdata) {
        NvmeH *h = p;

        h->cb.dim = cb;
        h->ud = userdata;
        return stas_nvme_ctrl_register_async(h->c, h->ctx->short_pool, tas, nvme_dim_tramp, h);
}

static void nvme_supported_tramp(StasNvmeCtrl *nc, int r, uint32_t lid_support, void *userdata) {
        NvmeH *h = userdata;
        h->cb.supported(r, lid_support, h->ud);
}

static int nvme_h_supported(void *p, StasCtrlSupportedDone cb, void *userdata) {
        NvmeH *h = p;

        h->cb.supported = cb;
        h->ud = userdata;
        return stas_nvme_ctrl_supported_log_pages_async(h->c, h->ctx->short_pool, nvme_supported_tramp, h);
}

static void nvme_log_tramp(
        StasNvmeCtrl *nc, int r, StasKV **entries, const StasDlpReport *report, void *userdata) {
        NvmeH *h = userdata;
        h->cb.log(r, entries, report, h->ud);
}

static int nvme_h_get_log_pages(void *p, uint8_t lsp, StasCtrlLogPagesDone cb, void *userdata) {
        NvmeH *h = p;

        h->cb.log = cb;
        h->ud = userdata;
        return stas_nvme_ctrl_get_log_pages_async(
                h->c, h->ctx->short_pool, lsp, STAS_DLP_MAX_RETRIES, nvme_log_tramp, h);
}

static int nvme_h_dctype(void *p, char **ret) {
        NvmeH *h = p;
        return stas_nvme_ctrl_dctype(h->c, ret);
}

static int nvme_h_registration_supported(void *p) {
        NvmeH *h = p;
        return stas_nvme_ctrl_is_registration_supported(h->c);
}

static int nvme_h_details(void *p, StasNvmeDevice **ret) {
        NvmeH *h = p;
        const char *name = stas_nvme_ctrl_name(h->c);

        if (!name)
                return -ENODEV;
        return nvmedev_read(h->ctx->sysfs_root, name, ret);
}

static const char *nvme_h_name(void *p) {
        NvmeH *h = p;
        return stas_nvme_ctrl_name(h->c);
}

static void nvme_h_cancel(void *p) {
        NvmeH *h = p;
        stas_nvme_ctrl_cancel(h->c);
}

const StasCtrlOps stas_ctrl_nvme_ops = {
        .ctrl_new = nvme_h_new,
        .ctrl_free = nvme_h_free,
        .snapshot = nvme_snapshot,
        .snapshot_free = nvme_snapshot_free,
        .find = nvme_h_find,
        .adopt = nvme_h_adopt,
        .connect = nvme_h_connect,
        .disconnect = nvme_h_disconnect,
        .dim = nvme_h_dim,
        .supported_log_pages = nvme_h_supported,
        .get_log_pages = nvme_h_get_log_pages,
        .dctype = nvme_h_dctype,
        .details = nvme_h_details,
        .registration_supported = nvme_h_registration_supported,
        .name = nvme_h_name,
        .cancel = nvme_h_cancel,
        .strerror = stas_nvme_strerror,
};

/**
 * stas_ctrl_sysfs_details() - see ctrl.h.
 * @c: the controller
 * @kv: the dict to add to
 */
int stas_ctrl_sysfs_details(const StasCtrl *c, StasKV *kv) {
        const StasNvmeDevice *d = c->connected ? c->details : NULL;

        if (kv_set(kv, "hostid", d ? d->hostid : "") < 0 || kv_set(kv, "hostnqn", d ? d->hostnqn : "") < 0 ||
            kv_set(kv, "model", d ? d->model : "") < 0 || kv_set(kv, "serial", d ? d->serial : "") < 0 ||
            kv_set(kv, "dctype", d ? d->dctype : "") < 0 ||
            kv_set(kv, "cntrltype", d ? d->cntrltype : "") < 0 ||
            kv_set(kv, "connected", stas_ctrl_connected(c) ? "True" : "False") < 0)
                return -ENOMEM;
        return 0;
}

/**
 * stas_secret_key() - see ctrl.h.
 * @key: a controller= key
 */
bool stas_secret_key(const char *key) {
        return key &&
                (strncmp(key, "dhchap-secret", 13) == 0 || strncmp(key, "dhchap-ctrl-secret", 18) == 0);
}
