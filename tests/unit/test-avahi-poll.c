/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <sys/time.h>
#include <unistd.h>

#include "avahi-poll.h"

typedef struct Fixture {
        sd_event *event;
        StasAvahiPoll *poll;
        const AvahiPoll *api;
        int pipe[2];
} Fixture;

typedef struct Record {
        const AvahiPoll *api;
        unsigned calls;
        AvahiWatchEvent events;     /* as passed to the callback */
        AvahiWatchEvent get_events; /* watch_get_events() inside the callback */
        int fd;
        bool free_self;
        bool rearm; /* timeouts: re-arm to "now" from inside the callback, once */
} Record;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));

        assert_non_null(f);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(stas_avahi_poll_new(f->event, &f->poll), 0);
        f->api = stas_avahi_poll_get(f->poll);
        assert_int_equal(pipe2(f->pipe, O_CLOEXEC | O_NONBLOCK), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        stas_avahi_poll_free(f->poll);
        sd_event_unref(f->event);
        if (f->pipe[0] >= 0)
                close(f->pipe[0]);
        if (f->pipe[1] >= 0)
                close(f->pipe[1]);
        free(f);
        return 0;
}

static void watch_cb(AvahiWatch *w, int fd, AvahiWatchEvent events, void *userdata) {
        Record *r = userdata;

        r->calls++;
        r->events = events;
        r->fd = fd;
        r->get_events = r->api->watch_get_events(w);
        if (r->free_self)
                r->api->watch_free(w);
}

/* Run one iteration without waiting; true if something was dispatched. */
static bool run_now(Fixture *f) {
        int r = sd_event_run(f->event, 0);

        assert_true(r >= 0);
        return r > 0;
}

static void test_avahi_poll_watch_in_and_get_events(void **state) {
        Fixture *f = *state;
        Record rec = { .api = f->api };
        AvahiWatch *w = f->api->watch_new(f->api, f->pipe[0], AVAHI_WATCH_IN, watch_cb, &rec);

        assert_non_null(w);
        assert_false(run_now(f));
        assert_int_equal(rec.calls, 0);

        assert_int_equal(write(f->pipe[1], "x", 1), 1);
        assert_true(run_now(f));
        assert_int_equal(rec.calls, 1);
        assert_int_equal(rec.fd, f->pipe[0]);
        assert_int_equal(rec.events, AVAHI_WATCH_IN);
        assert_int_equal(rec.get_events, AVAHI_WATCH_IN);
        /* outside a dispatch there are no events to report */
        assert_int_equal(f->api->watch_get_events(w), 0);
        f->api->watch_free(w);
}

static void test_avahi_poll_watch_update(void **state) {
        Fixture *f = *state;
        Record rec = { .api = f->api };
        AvahiWatch *w = f->api->watch_new(f->api, f->pipe[1], 0, watch_cb, &rec);

        assert_non_null(w);
        assert_false(run_now(f)); /* no events requested, writable pipe stays silent */
        f->api->watch_update(w, AVAHI_WATCH_OUT);
        assert_true(run_now(f));
        assert_int_equal(rec.calls, 1);
        assert_int_equal(rec.events, AVAHI_WATCH_OUT);
        f->api->watch_update(w, AVAHI_WATCH_IN); /* never readable: the write end */
        assert_false(run_now(f));
        assert_int_equal(rec.calls, 1);
        f->api->watch_free(w);
}

static void test_avahi_poll_watch_hup(void **state) {
        Fixture *f = *state;
        Record rec = { .api = f->api };
        AvahiWatch *w = f->api->watch_new(f->api, f->pipe[0], AVAHI_WATCH_IN, watch_cb, &rec);

        close(f->pipe[1]);
        f->pipe[1] = -1;
        assert_true(run_now(f));
        assert_true(rec.events & AVAHI_WATCH_HUP);
        assert_true(rec.get_events & AVAHI_WATCH_HUP);
        f->api->watch_free(w);
}

static void test_avahi_poll_watch_free_in_callback(void **state) {
        Fixture *f = *state;
        Record rec = { .api = f->api, .free_self = true };

        assert_non_null(f->api->watch_new(f->api, f->pipe[0], AVAHI_WATCH_IN, watch_cb, &rec));
        assert_int_equal(write(f->pipe[1], "x", 1), 1);
        assert_true(run_now(f));
        assert_int_equal(rec.calls, 1);
        /* still readable, but the watch is gone: nothing is dispatched any more */
        assert_false(run_now(f));
        assert_int_equal(rec.calls, 1);
}

static void timeout_cb(AvahiTimeout *t, void *userdata) {
        Record *r = userdata;

        r->calls++;
        if (r->rearm) {
                struct timeval now;

                r->rearm = false;
                gettimeofday(&now, NULL);
                r->api->timeout_update(t, &now);
        }
        if (r->free_self)
                r->api->timeout_free(t);
}

static void test_avahi_poll_timeout_fires_once(void **state) {
        Fixture *f = *state;
        Record rec = { .api = f->api };
        struct timeval now;
        AvahiTimeout *t;

        gettimeofday(&now, NULL);
        t = f->api->timeout_new(f->api, &now, timeout_cb, &rec);
        assert_non_null(t);
        assert_true(run_now(f));
        assert_int_equal(rec.calls, 1);
        /* one-shot: disabled after firing until updated */
        assert_false(run_now(f));
        assert_int_equal(rec.calls, 1);
        gettimeofday(&now, NULL);
        f->api->timeout_update(t, &now);
        assert_true(run_now(f));
        assert_int_equal(rec.calls, 2);
        f->api->timeout_free(t);
}

static void test_avahi_poll_timeout_absolute_and_disabled(void **state) {
        Fixture *f = *state;
        Record rec = { .api = f->api };
        struct timeval past = { .tv_sec = 1000, .tv_usec = 5 }, future, now;
        AvahiTimeout *t_null, *t_future, *t_past;

        gettimeofday(&now, NULL);
        future = (struct timeval){ .tv_sec = now.tv_sec + 3600 };

        t_null = f->api->timeout_new(f->api, NULL, timeout_cb, &rec);
        t_future = f->api->timeout_new(f->api, &future, timeout_cb, &rec);
        assert_non_null(t_null);
        assert_non_null(t_future);
        assert_false(run_now(f)); /* NULL = disabled; an hour ahead = not yet */

        /* an absolute time in the past (a wall-clock time, not a delay) fires at once */
        t_past = f->api->timeout_new(f->api, &past, timeout_cb, &rec);
        assert_true(run_now(f));
        assert_int_equal(rec.calls, 1);

        /* updating to NULL disables an armed timeout */
        f->api->timeout_update(t_past, &past);
        f->api->timeout_update(t_past, NULL);
        assert_false(run_now(f));

        /* enabling the NULL one */
        f->api->timeout_update(t_null, &past);
        assert_true(run_now(f));
        assert_int_equal(rec.calls, 2);

        f->api->timeout_free(t_null);
        f->api->timeout_free(t_future);
        f->api->timeout_free(t_past);
}

/* A time beyond 2^64 usec is "never", not a wrapped-around time in the past that fires now. */
static void test_avahi_poll_timeout_far_future_saturates(void **state) {
        Fixture *f = *state;
        Record rec = { .api = f->api };
        /* 18446744073710 s * 10^6 wraps to 0.448384 s after the epoch */
        struct timeval wraps = { .tv_sec = 18446744073710 },
                       huge = { .tv_sec = LONG_MAX, .tv_usec = LONG_MAX };
        struct timeval now, negative_usec;
        AvahiTimeout *a, *b, *c;

        a = f->api->timeout_new(f->api, &wraps, timeout_cb, &rec);
        b = f->api->timeout_new(f->api, &huge, timeout_cb, &rec);
        assert_non_null(a);
        assert_non_null(b);
        assert_false(run_now(f));
        assert_int_equal(rec.calls, 0);
        /* a non-normalised tv_usec is still the time it means: 1 s ago */
        gettimeofday(&now, NULL);
        negative_usec = (struct timeval){ .tv_sec = now.tv_sec, .tv_usec = -1000000 };
        c = f->api->timeout_new(f->api, &negative_usec, timeout_cb, &rec);
        assert_true(run_now(f));
        assert_int_equal(rec.calls, 1);
        f->api->timeout_free(a);
        f->api->timeout_free(b);
        f->api->timeout_free(c);
}

static void test_avahi_poll_timeout_update_and_free_in_callback(void **state) {
        Fixture *f = *state;
        Record rec = { .api = f->api, .rearm = true };
        Record rec2 = { .api = f->api, .free_self = true };
        struct timeval now;

        gettimeofday(&now, NULL);
        assert_non_null(f->api->timeout_new(f->api, &now, timeout_cb, &rec2));
        assert_true(run_now(f));
        assert_int_equal(rec2.calls, 1);
        assert_false(run_now(f));

        /* re-armed from inside its callback: fires again */
        assert_non_null(f->api->timeout_new(f->api, &now, timeout_cb, &rec));
        assert_true(run_now(f));
        assert_true(run_now(f));
        assert_int_equal(rec.calls, 2);
        assert_false(run_now(f));
        /* left registered on purpose: freed by the teardown of the poll object */
}

static void test_avahi_poll_teardown_frees_leftovers(void **state) {
        Fixture *f = *state;
        Record rec = { .api = f->api };
        struct timeval now;

        gettimeofday(&now, NULL);
        assert_non_null(f->api->watch_new(f->api, f->pipe[0], AVAHI_WATCH_IN, watch_cb, &rec));
        assert_non_null(f->api->watch_new(f->api, f->pipe[1], AVAHI_WATCH_OUT, watch_cb, &rec));
        assert_non_null(f->api->timeout_new(f->api, &now, timeout_cb, &rec));
        assert_non_null(f->api->timeout_new(f->api, NULL, timeout_cb, &rec));
        /* nothing freed here: the leak checkers (ASan, valgrind) verify the poll teardown */
        f->poll = stas_avahi_poll_free(f->poll);
        assert_null(f->poll);
        /* and the sources are gone from the loop */
        assert_false(run_now(f));
        assert_int_equal(rec.calls, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_avahi_poll_watch_in_and_get_events, setup, teardown),
                cmocka_unit_test_setup_teardown(test_avahi_poll_watch_update, setup, teardown),
                cmocka_unit_test_setup_teardown(test_avahi_poll_watch_hup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_avahi_poll_watch_free_in_callback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_avahi_poll_timeout_fires_once, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_avahi_poll_timeout_absolute_and_disabled, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_avahi_poll_timeout_update_and_free_in_callback, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_avahi_poll_timeout_far_future_saturates, setup, teardown),
                cmocka_unit_test_setup_teardown(test_avahi_poll_teardown_frees_leftovers, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
