/* SPDX-License-Identifier: Apache-2.0 */
/*
 * terminator.c - controllers being removed, and the bounded wait for them at stop. See
 * terminator.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stas/event.h"
#include "stas/log.h"
#include "stas/terminator.h"

struct StasTerminator {
        sd_event *event;
        StasCtrl **ctrls;
        size_t n;
        StasTimer *deadline;
        StasTerminatorStopped done; /* set by terminator_stop() until it is called */
        void *userdata;
};

static void finish_stop(StasTerminator *t) {
        StasTerminatorStopped done = TAKE_PTR(t->done);

        timer_stop(t->deadline);
        if (done)
                done(t->n, t->userdata);
}

static void deadline_cb(StasTimer *timer, void *userdata) {
        finish_stop(userdata);
}

static void remove_at(StasTerminator *t, size_t i) {
        memmove(t->ctrls + i, t->ctrls + i + 1, (t->n - i - 1) * sizeof(StasCtrl *));
        t->n--;
}

static void disposed(StasCtrl *c, void *userdata) {
        StasTerminator *t = userdata;

        for (size_t i = 0; i < t->n; i++)
                if (t->ctrls[i] == c) {
                        remove_at(t, i);
                        break;
                }
        stas_ctrl_free(c);
        if (t->done && t->n == 0)
                finish_stop(t);
}

/**
 * terminator_new() - see terminator.h.
 *
 * Return: 0 or -errno.
 */
int terminator_new(sd_event *event, StasTerminator **ret) {
        _cleanup_(terminator_freep) StasTerminator *t = NULL;
        int r;

        if (!event || !ret)
                return -EINVAL;
        t = new0(StasTerminator, 1);
        if (!t)
                return -ENOMEM;
        t->event = sd_event_ref(event);
        r = timer_new(event, deadline_cb, t, &t->deadline);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

/**
 * terminator_free() - see terminator.h.
 *
 * Return: NULL.
 */
StasTerminator *terminator_free(StasTerminator *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n; i++)
                stas_ctrl_free(t->ctrls[i]);
        free(t->ctrls);
        timer_free(t->deadline);
        sd_event_unref(t->event);
        free(t);
        return NULL;
}

/**
 * terminator_dispose() - see terminator.h.
 *
 * Return: 0 or -errno.
 */
int terminator_dispose(StasTerminator *t, StasCtrl *c, bool keep_connection, bool deregister) {
        StasCtrl **n;
        int r;

        if (!c)
                return -EINVAL;
        n = realloc(t->ctrls, (t->n + 1) * sizeof(StasCtrl *));
        if (!n) {
                stas_ctrl_free(c);
                return -ENOMEM;
        }
        t->ctrls = n;
        r = stas_ctrl_dispose(c, keep_connection, deregister, disposed, t);
        if (r < 0) {
                log_debug_errno(r, "Cannot start the removal of a controller, leaving it: %m");
                stas_ctrl_free(c);
                return r;
        }
        t->ctrls[t->n++] = c;
        return 0;
}

size_t terminator_n(const StasTerminator *t) {
        return t ? t->n : 0;
}

StasCtrl *terminator_ctrl(const StasTerminator *t, size_t i) {
        return t && i < t->n ? t->ctrls[i] : NULL;
}

bool terminator_has_tid(const StasTerminator *t, const StasTid *tid) {
        for (size_t i = 0; t && i < t->n; i++)
                if (tid_equal(stas_ctrl_tid(t->ctrls[i]), tid))
                        return true;
        return false;
}

/**
 * terminator_uevent() - see terminator.h.
 *
 * Return: whether one of the controllers took @ev.
 */
bool terminator_uevent(StasTerminator *t, const StasUevent *ev) {
        if (ev->action == STAS_UEVENT_OVERFLOW) {
                for (size_t i = 0; i < t->n; i++)
                        (void) stas_ctrl_resync(t->ctrls[i]);
                return false;
        }
        for (size_t i = 0; i < t->n; i++)
                if (stas_ctrl_handle_uevent(t->ctrls[i], ev))
                        return true;
        return false;
}

/**
 * terminator_stop() - see terminator.h.
 *
 * Return: the number of removals pending.
 */
size_t terminator_stop(
        StasTerminator *t, uint64_t timeout_usec, StasTerminatorStopped done, void *userdata) {
        size_t n = t->n;

        t->done = done;
        t->userdata = userdata;
        if (n == 0 || timer_start(t->deadline, timeout_usec) < 0)
                finish_stop(t);
        return n;
}
