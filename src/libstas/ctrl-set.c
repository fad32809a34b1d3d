/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctrl-set.c - the controllers of one daemon: live, starting in batches, being removed. See
 * ctrl-set.h.
 */
#include <errno.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stas/ctrl-set.h"
#include "stas/daemon.h"
#include "stas/event.h"
#include "stas/log.h"

typedef struct CtrlList {
        StasCtrl **v;
        size_t n;
} CtrlList;

struct StasCtrlSet {
        sd_event *event;
        const StasCtrlOps *ops;
        void *ops_ctx;
        CtrlList live;
        CtrlList starting; /* live ones waiting for the next batch, in the order started */
        StasTimer *batch;
        StasTerminator *terminator;
        bool stopping;
        StasCtrlSetResynced resynced;
        void *resynced_ud;

        /* sd_notify STATUS= (ctrl_set_notify_status()) */
        const char *noun;
        sd_event_source *status_post;
        StasTimer *status_timer;
        uint64_t status_sent_usec;
};

static ssize_t list_index(const CtrlList *l, const StasCtrl *c) {
        for (size_t i = 0; c && i < l->n; i++)
                if (l->v[i] == c)
                        return (ssize_t) i;
        return -1;
}

static int list_append(CtrlList *l, StasCtrl *c) {
        StasCtrl **n = realloc(l->v, (l->n + 1) * sizeof(StasCtrl *));

        if (!n)
                return -ENOMEM;
        l->v = n;
        l->v[l->n++] = c;
        return 0;
}

static bool list_take(CtrlList *l, const StasCtrl *c) {
        ssize_t i = list_index(l, c);

        if (i < 0)
                return false;
        memmove(l->v + i, l->v + i + 1, (l->n - (size_t) i - 1) * sizeof(StasCtrl *));
        l->n--;
        return true;
}

static void list_done(CtrlList *l) {
        free(l->v);
        *l = (CtrlList){};
}

/* Every controller started since the last batch: one snapshot, one attempt each. */
static void batch_cb(StasTimer *t, void *userdata) {
        StasCtrlSet *s = userdata;
        CtrlList todo = s->starting;
        void *snap = NULL;
        int r;

        s->starting = (CtrlList){};
        if (s->stopping || todo.n == 0)
                goto done;
        r = ctrl_set_snapshot(s, &snap);
        if (r < 0)
                log_debug_errno(
                        r, "Cannot read the kernel's controllers for %zu first attempt(s): %m", todo.n);
        for (size_t i = 0; i < todo.n; i++)
                /* an owner's callback may have dropped or removed one of them meanwhile */
                if (list_index(&s->live, todo.v[i]) >= 0)
                        (void) stas_ctrl_start_with(todo.v[i], snap);
        ctrl_set_snapshot_free(s, snap);
done:
        list_done(&todo);
}

/**
 * ctrl_set_new() - see ctrl-set.h.
 *
 * Return: 0 or -errno.
 */
int ctrl_set_new(sd_event *event, const StasCtrlOps *ops, void *ops_ctx, StasCtrlSet **ret) {
        _cleanup_(ctrl_set_freep) StasCtrlSet *s = NULL;
        int r;

        if (!event || !ops || !ret)
                return -EINVAL;
        s = new0(StasCtrlSet, 1);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->ops = ops;
        s->ops_ctx = ops_ctx;
        r = timer_new(event, batch_cb, s, &s->batch);
        if (r < 0)
                return r;
        r = terminator_new(event, &s->terminator);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/**
 * ctrl_set_free() - see ctrl-set.h.
 *
 * Return: NULL.
 */
StasCtrlSet *ctrl_set_free(StasCtrlSet *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->live.n; i++)
                stas_ctrl_free(s->live.v[i]);
        list_done(&s->live);
        list_done(&s->starting);
        s->terminator = terminator_free(s->terminator);
        timer_free(s->batch);
        timer_free(s->status_timer);
        sd_event_source_disable_unref(s->status_post);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

void ctrl_set_on_resync(StasCtrlSet *s, StasCtrlSetResynced cb, void *userdata) {
        s->resynced = cb;
        s->resynced_ud = userdata;
}

/**
 * ctrl_set_new_ctrl() - see ctrl-set.h.
 *
 * Return: 0 or -errno.
 */
int ctrl_set_new_ctrl(
        StasCtrlSet *s,
        const StasTid *tid,
        const StasConnectOptions *opts,
        bool discovery,
        const StasCtrlEvents *events,
        void *userdata,
        StasCtrl **ret) {
        _cleanup_(stas_ctrl_freep) StasCtrl *c = NULL;
        int r;

        if (!s || !ret)
                return -EINVAL;
        r = stas_ctrl_new(s->event, s->ops, s->ops_ctx, tid, opts, discovery, events, userdata, &c);
        if (r < 0)
                return r;
        r = list_append(&s->live, c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

void ctrl_set_drop(StasCtrlSet *s, StasCtrl *c) {
        if (!c)
                return;
        if (s) {
                (void) list_take(&s->starting, c);
                (void) list_take(&s->live, c);
        }
        stas_ctrl_free(c);
}

/**
 * ctrl_set_remove() - see ctrl-set.h.
 *
 * Return: 0 or -errno.
 */
int ctrl_set_remove(StasCtrlSet *s, StasCtrl *c, bool keep_connection, bool deregister) {
        if (!s || !c)
                return -EINVAL;
        (void) list_take(&s->starting, c);
        if (!list_take(&s->live, c))
                return -EINVAL; /* not ours: not freed either */
        return terminator_dispose(s->terminator, c, keep_connection, deregister);
}

/**
 * ctrl_set_start() - see ctrl-set.h.
 *
 * Return: 0 or -errno.
 */
int ctrl_set_start(StasCtrlSet *s, StasCtrl *c) {
        int r;

        if (!s || list_index(&s->live, c) < 0)
                return -EINVAL;
        if (s->stopping || stas_ctrl_connected(c) || stas_ctrl_busy(c) || list_index(&s->starting, c) >= 0)
                return 0;
        r = list_append(&s->starting, c);
        if (r < 0)
                return r;
        if (!timer_is_armed(s->batch))
                (void) timer_start(s->batch, 0);
        return 0;
}

bool ctrl_set_starting(const StasCtrlSet *s, const StasCtrl *c) {
        return s && list_index(&s->starting, c) >= 0;
}

/**
 * ctrl_set_snapshot() - see ctrl-set.h.
 *
 * Return: 0 or -errno.
 */
int ctrl_set_snapshot(StasCtrlSet *s, void **ret) {
        *ret = NULL;
        if (!s->ops->snapshot)
                return 0;
        return s->ops->snapshot(s->ops_ctx, ret);
}

/**
 * ctrl_set_find() - see ctrl-set.h.
 *
 * Return: 1 found, 0 none, -errno.
 */
int ctrl_set_find(StasCtrlSet *s, const void *snap, const StasTid *tid, bool discovery, int *ret_instance) {
        if (!s->ops->find)
                return 0;
        return s->ops->find(s->ops_ctx, snap, tid, discovery, ret_instance);
}

void ctrl_set_snapshot_free(StasCtrlSet *s, void *snap) {
        if (snap && s->ops->snapshot_free)
                s->ops->snapshot_free(snap);
}

/* Lost events: every controller checks its device against sysfs (see ctrl_set_uevent()). */
static void resync_all(StasCtrlSet *s, const StasUevent *ev) {
        CtrlList copy = {};

        /* a removed() callback may change the set: walk a copy, skip what left meanwhile */
        if (s->live.n > 0) {
                copy.v = new0(StasCtrl *, s->live.n);
                if (!copy.v) {
                        log_oom();
                        return;
                }
                memcpy(copy.v, s->live.v, s->live.n * sizeof(StasCtrl *));
                copy.n = s->live.n;
        }
        for (size_t i = 0; i < copy.n; i++) {
                int r;

                if (list_index(&s->live, copy.v[i]) < 0)
                        continue;
                r = stas_ctrl_resync(copy.v[i]);
                if (s->resynced && list_index(&s->live, copy.v[i]) >= 0)
                        s->resynced(copy.v[i], r > 0, s->resynced_ud);
        }
        list_done(&copy);
        (void) terminator_uevent(s->terminator, ev);
}

/**
 * ctrl_set_uevent() - see ctrl-set.h.
 *
 * Return: whether a controller took @ev.
 */
bool ctrl_set_uevent(StasCtrlSet *s, const StasUevent *ev) {
        if (ev->action == STAS_UEVENT_OVERFLOW) {
                resync_all(s, ev);
                return false;
        }
        for (size_t i = 0; i < s->live.n; i++)
                if (stas_ctrl_handle_uevent(s->live.v[i], ev))
                        return true;
        return terminator_uevent(s->terminator, ev);
}

size_t ctrl_set_n(const StasCtrlSet *s) {
        return s ? s->live.n : 0;
}

StasCtrl *ctrl_set_ctrl(const StasCtrlSet *s, size_t i) {
        return s && i < s->live.n ? s->live.v[i] : NULL;
}

size_t ctrl_set_n_removing(const StasCtrlSet *s) {
        return s ? terminator_n(s->terminator) : 0;
}

StasCtrl *ctrl_set_removing(const StasCtrlSet *s, size_t i) {
        return s ? terminator_ctrl(s->terminator, i) : NULL;
}

bool ctrl_set_removing_tid(const StasCtrlSet *s, const StasTid *tid) {
        return s && terminator_has_tid(s->terminator, tid);
}

/**
 * ctrl_set_stop() - see ctrl-set.h.
 *
 * Return: the number of removals pending.
 */
size_t ctrl_set_stop(StasCtrlSet *s, uint64_t timeout_usec, StasTerminatorStopped done, void *userdata) {
        s->stopping = true;
        /* STATUS= is "Stopping" from now on (daemon_notify_stopping()) */
        s->status_post = sd_event_source_disable_unref(s->status_post);
        timer_stop(s->status_timer);
        timer_stop(s->batch);
        list_done(&s->starting);
        return terminator_stop(s->terminator, timeout_usec, done, userdata);
}

/**
 * ctrl_set_status() - see ctrl-set.h.
 */
void ctrl_set_status(const StasCtrlSet *s, const char *noun, char *buf, size_t size) {
        size_t connected = 0, connecting = 0, retrying = 0, other = 0, removing = ctrl_set_n_removing(s);
        int k;

        for (size_t i = 0; i < ctrl_set_n(s); i++) {
                const StasCtrl *c = s->live.v[i];
                if (stas_ctrl_connected(c))
                        connected++;
                else if (stas_ctrl_retry_pending(c))
                        retrying++;
                else if (stas_ctrl_busy(c) || ctrl_set_starting(s, c))
                        connecting++;
                else
                        other++;
        }
        k = snprintf(buf, size, "%zu %s connected", connected, noun);
        if (connecting > 0 && k >= 0 && (size_t) k < size)
                k += snprintf(buf + k, size - (size_t) k, ", %zu connecting", connecting);
        if (retrying > 0 && k >= 0 && (size_t) k < size)
                k += snprintf(buf + k, size - (size_t) k, ", %zu retrying", retrying);
        if (other > 0 && k >= 0 && (size_t) k < size)
                k += snprintf(buf + k, size - (size_t) k, ", %zu not connected", other);
        if (removing > 0 && k >= 0 && (size_t) k < size)
                (void) snprintf(buf + k, size - (size_t) k, ", %zu disconnecting", removing);
}

/* Send STATUS= if it changed, at most once a second (the timer sends what is left over). */
static void status_update(StasCtrlSet *s) {
        char text[DAEMON_STATUS_MAX];
        uint64_t now = 0;

        ctrl_set_status(s, s->noun, text, sizeof(text));
        if (!daemon_status_differs(text))
                return;
        (void) sd_event_now(s->event, CLOCK_MONOTONIC, &now);
        if (s->status_sent_usec != 0 && now < s->status_sent_usec + STAS_CTRL_SET_STATUS_MIN_USEC) {
                if (!timer_is_armed(s->status_timer))
                        (void) timer_start(
                                s->status_timer, s->status_sent_usec + STAS_CTRL_SET_STATUS_MIN_USEC - now);
                return;
        }
        daemon_notify_status(text);
        s->status_sent_usec = now ?: 1;
}

static int status_post_cb(sd_event_source *es, void *userdata) {
        status_update(userdata);
        return 0;
}

static void status_timer_cb(StasTimer *t, void *userdata) {
        status_update(userdata);
}

/**
 * ctrl_set_notify_status() - see ctrl-set.h.
 */
int ctrl_set_notify_status(StasCtrlSet *s, const char *noun) {
        int r;

        if (!s || !noun)
                return -EINVAL;
        if (s->status_post)
                return 0;
        s->noun = noun;
        r = timer_new(s->event, status_timer_cb, s, &s->status_timer);
        if (r < 0)
                return r;
        return sd_event_add_post(s->event, &s->status_post, status_post_cb, s);
}
