/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-helpers.h"
#include "stas/event.h"

typedef struct Log {
        char order[16];
        size_t n;
        unsigned count;
        unsigned rearm_until;
        StasTimer **self; /* for free-from-callback */
} Log;

static void on_fire(StasTimer *t, void *userdata) {
        Log *l = userdata;

        l->count++;
        if (l->n + 1 < sizeof(l->order))
                l->order[l->n++] = 'x';
}

static void on_fire_a(StasTimer *t, void *userdata) {
        Log *l = userdata;
        l->order[l->n++] = 'a';
}

static void on_fire_b(StasTimer *t, void *userdata) {
        Log *l = userdata;
        l->order[l->n++] = 'b';
}

static void on_fire_rearm(StasTimer *t, void *userdata) {
        Log *l = userdata;

        l->count++;
        if (l->count < l->rearm_until)
                assert_int_equal(timer_start(t, USEC_PER_MSEC), 0);
}

static void on_fire_free(StasTimer *t, void *userdata) {
        Log *l = userdata;

        l->count++;
        assert_ptr_equal(*l->self, t);
        *l->self = timer_free(t);
}

static int setup(void **state) {
        sd_event *e = NULL;

        if (sd_event_new(&e) < 0)
                return -1;
        *state = e;
        return 0;
}

static int teardown(void **state) {
        sd_event_unref(*state);
        return 0;
}

/* Seconds as double to timer microseconds saturates: no cast of an out-of-range double. */
static void test_event_usec_from_sec_saturates(void **state) {
        assert_int_equal(usec_from_sec(1.5), 1500000);
        assert_int_equal(usec_from_sec(259200), 259200 * USEC_PER_SEC);
        assert_int_equal(usec_from_sec(0), 0);
        assert_int_equal(usec_from_sec(-1), 0);
        assert_int_equal(usec_from_sec(-INFINITY), 0);
        assert_int_equal(usec_from_sec(NAN), 0);
        assert_int_equal(usec_from_sec(1e300), STAS_TIMER_MAX_USEC);
        assert_int_equal(usec_from_sec(INFINITY), STAS_TIMER_MAX_USEC);
        assert_int_equal(usec_from_sec(18446744073709.552), STAS_TIMER_MAX_USEC); /* 2^64 usec */
        assert_int_equal(usec_from_sec(315360000), 315360000 * USEC_PER_SEC);     /* 10 years: exact */
        assert_true(usec_from_sec(1e300) > usec_from_sec(315360000));
}

/* A delay too long for sd-event (now + usec beyond 2^64) is capped instead of failing. */
static void test_event_timer_start_caps_delay(void **state) {
        sd_event *e = *state;
        _cleanup_(timer_freep) StasTimer *t = NULL;
        Log l = {};

        assert_int_equal(timer_new(e, on_fire, &l, &t), 0);
        assert_int_equal(timer_start(t, UINT64_MAX), 0);
        assert_true(timer_is_armed(t));
        assert_int_equal(timer_period(t), STAS_TIMER_MAX_USEC);
        assert_true(timer_remaining(t) > STAS_TIMER_MAX_USEC - 3600 * USEC_PER_SEC);
        assert_int_equal(timer_start(t, UINT64_MAX - 1), 0);
        assert_int_equal(l.count, 0);
}

static void test_event_timer_new_is_disarmed(void **state) {
        sd_event *e = *state;
        _cleanup_(timer_freep) StasTimer *t = NULL;
        Log l = {};
        char buf[64];

        assert_int_equal(timer_new(e, on_fire, &l, &t), 0);
        assert_false(timer_is_armed(t));
        assert_int_equal(timer_remaining(t), 0);
        assert_int_equal(timer_period(t), 0);
        assert_string_equal(timer_to_string(t, buf, sizeof(buf)), "0.0s [off]");
        assert_int_equal(timer_new(NULL, on_fire, &l, &t), -EINVAL);
}

static void test_event_timer_fires_once(void **state) {
        sd_event *e = *state;
        _cleanup_(timer_freep) StasTimer *t = NULL, *sentinel = NULL;
        Log l = {}, s = {};

        assert_int_equal(timer_new(e, on_fire, &l, &t), 0);
        assert_int_equal(timer_new(e, on_fire, &s, &sentinel), 0);
        assert_int_equal(timer_start(t, USEC_PER_MSEC), 0);
        assert_true(timer_is_armed(t));
        RUN_UNTIL(e, l.count == 1);
        assert_false(timer_is_armed(t));
        assert_int_equal(timer_remaining(t), 0);

        /* A later timer firing proves the loop ran on without a second expiry of @t. */
        assert_int_equal(timer_start(sentinel, 2 * USEC_PER_MSEC), 0);
        RUN_UNTIL(e, s.count == 1);
        assert_int_equal(l.count, 1);
        assert_int_equal(timer_period(t), USEC_PER_MSEC);
}

static void test_event_timer_ordering(void **state) {
        sd_event *e = *state;
        _cleanup_(timer_freep) StasTimer *a = NULL, *b = NULL;
        Log l = {};

        assert_int_equal(timer_new(e, on_fire_a, &l, &a), 0);
        assert_int_equal(timer_new(e, on_fire_b, &l, &b), 0);
        assert_int_equal(timer_start(a, 200 * USEC_PER_MSEC), 0);
        assert_int_equal(timer_start(b, 1 * USEC_PER_MSEC), 0);
        RUN_UNTIL(e, l.n == 2);
        assert_memory_equal(l.order, "ba", 2);
}

static void test_event_timer_rearm_reschedules_from_now(void **state) {
        sd_event *e = *state;
        _cleanup_(timer_freep) StasTimer *a = NULL, *b = NULL;
        Log l = {};

        assert_int_equal(timer_new(e, on_fire_a, &l, &a), 0);
        assert_int_equal(timer_new(e, on_fire_b, &l, &b), 0);
        /* a is first due in an hour; re-arming moves its deadline before b's. */
        assert_int_equal(timer_start(a, 3600 * USEC_PER_SEC), 0);
        assert_true(timer_remaining(a) > 60 * USEC_PER_SEC);
        assert_int_equal(timer_start(b, 200 * USEC_PER_MSEC), 0);
        assert_int_equal(timer_start(a, USEC_PER_MSEC), 0);
        assert_true(timer_remaining(a) <= USEC_PER_MSEC);
        assert_int_equal(timer_period(a), USEC_PER_MSEC);
        RUN_UNTIL(e, l.n == 2);
        assert_memory_equal(l.order, "ab", 2);

        /* and the other way: re-arming an armed timer later pushes it behind. */
        l.n = 0;
        assert_int_equal(timer_start(a, USEC_PER_MSEC), 0);
        assert_int_equal(timer_start(b, 100 * USEC_PER_MSEC), 0);
        assert_int_equal(timer_start(a, 300 * USEC_PER_MSEC), 0);
        RUN_UNTIL(e, l.n == 2);
        assert_memory_equal(l.order, "ba", 2);
}

static void test_event_timer_stop(void **state) {
        sd_event *e = *state;
        _cleanup_(timer_freep) StasTimer *t = NULL, *sentinel = NULL;
        Log l = {}, s = {};
        char buf[64];

        assert_int_equal(timer_new(e, on_fire, &l, &t), 0);
        assert_int_equal(timer_new(e, on_fire, &s, &sentinel), 0);
        assert_int_equal(timer_start(t, USEC_PER_MSEC), 0);
        timer_stop(t);
        assert_false(timer_is_armed(t));
        assert_int_equal(timer_remaining(t), 0);
        assert_string_equal(timer_to_string(t, buf, sizeof(buf)), "0.001s [off]");
        assert_int_equal(timer_start(sentinel, 5 * USEC_PER_MSEC), 0);
        RUN_UNTIL(e, s.count == 1);
        assert_int_equal(l.count, 0);
        timer_stop(NULL);
}

static void test_event_timer_rearm_from_callback(void **state) {
        sd_event *e = *state;
        _cleanup_(timer_freep) StasTimer *t = NULL;
        Log l = { .rearm_until = 3 };

        assert_int_equal(timer_new(e, on_fire_rearm, &l, &t), 0);
        assert_int_equal(timer_start(t, USEC_PER_MSEC), 0);
        RUN_UNTIL(e, l.count == 3);
        assert_false(timer_is_armed(t));
}

static void test_event_timer_free_from_callback(void **state) {
        sd_event *e = *state;
        _cleanup_(timer_freep) StasTimer *sentinel = NULL;
        StasTimer *t = NULL;
        Log l = { .self = &t }, s = {};

        assert_int_equal(timer_new(e, on_fire_free, &l, &t), 0);
        assert_int_equal(timer_new(e, on_fire, &s, &sentinel), 0);
        assert_int_equal(timer_start(t, USEC_PER_MSEC), 0);
        RUN_UNTIL(e, l.count == 1);
        assert_null(t);
        assert_int_equal(timer_start(sentinel, USEC_PER_MSEC), 0);
        RUN_UNTIL(e, s.count == 1);
        assert_int_equal(l.count, 1);
}

static void test_event_timer_to_string(void **state) {
        sd_event *e = *state;
        _cleanup_(timer_freep) StasTimer *t = NULL;
        char buf[64], *end = NULL;
        double remaining;

        assert_int_equal(timer_new(e, on_fire, NULL, &t), 0);
        assert_int_equal(timer_start(t, 60 * USEC_PER_SEC), 0);
        timer_to_string(t, buf, sizeof(buf));
        assert_int_equal(strncmp(buf, "60.0s [", 7), 0);
        remaining = strtod(buf + 7, &end);
        assert_string_equal(end, "s]");
        assert_true(remaining > 0.0 && remaining <= 60.0);
        /* exactly one decimal for the remaining time */
        assert_true(end - (buf + 7) >= 3 && end[-2] == '.');

        timer_stop(t);
        assert_string_equal(timer_to_string(t, buf, sizeof(buf)), "60.0s [off]");
        assert_int_equal(timer_start(t, 1500 * USEC_PER_MSEC), 0);
        timer_stop(t);
        assert_string_equal(timer_to_string(t, buf, sizeof(buf)), "1.5s [off]");
        assert_int_equal(timer_start(t, 250 * USEC_PER_MSEC), 0);
        timer_stop(t);
        assert_string_equal(timer_to_string(t, buf, sizeof(buf)), "0.25s [off]");
        assert_string_equal(timer_to_string(NULL, buf, sizeof(buf)), "0.0s [off]");
        /* truncation is safe */
        assert_string_equal(timer_to_string(t, buf, 5), "0.25");
}

/* Must run before any other backoff test seeds the generator (cmocka keeps the order). */
static void test_event_backoff_env_seed(void **state) {
        StasBackoff b = {
                .initial_usec = USEC_PER_SEC, .max_usec = 600 * USEC_PER_SEC, .factor = 2.0, .jitter = 0.5
        };
        uint64_t a[8], c[8];

        setenv("STAS_TEST_SEED", "12345", 1);
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                a[i] = backoff_next(&b);
        unsetenv("STAS_TEST_SEED");

        backoff_set_seed(12345);
        backoff_reset(&b);
        for (size_t i = 0; i < ELEMENTSOF(c); i++)
                c[i] = backoff_next(&b);
        assert_memory_equal(a, c, sizeof(a));
}

static void test_event_backoff_exponential_bounded(void **state) {
        StasBackoff b = { .initial_usec = USEC_PER_SEC, .max_usec = 10 * USEC_PER_SEC, .factor = 2.0 };
        const uint64_t want[] = { 1, 2, 4, 8, 10, 10, 10 };

        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_int_equal(backoff_next(&b), want[i] * USEC_PER_SEC);
                assert_int_equal(b.attempt, i + 1);
        }
        backoff_reset(&b);
        assert_int_equal(b.attempt, 0);
        assert_int_equal(backoff_next(&b), USEC_PER_SEC);

        /* a huge attempt number saturates at the cap instead of overflowing */
        b.attempt = 100000;
        assert_int_equal(backoff_next(&b), 10 * USEC_PER_SEC);
        b.attempt = UINT32_MAX;
        assert_int_equal(backoff_next(&b), 10 * USEC_PER_SEC);
        assert_int_equal(b.attempt, UINT32_MAX);
}

static void test_event_backoff_degenerate_parameters(void **state) {
        StasBackoff constant = { .initial_usec = 3 * USEC_PER_SEC, .factor = 1.0 };
        StasBackoff shrink = { .initial_usec = 5, .max_usec = 100, .factor = 0.5 };
        StasBackoff nojit = { .initial_usec = 7, .max_usec = 100, .factor = 1.0, .jitter = -3.0 };
        StasBackoff uncapped = { .initial_usec = 1, .factor = 10.0 };

        for (int i = 0; i < 5; i++)
                assert_int_equal(backoff_next(&constant), 3 * USEC_PER_SEC);
        for (int i = 0; i < 5; i++)
                assert_int_equal(backoff_next(&shrink), 5);
        for (int i = 0; i < 5; i++)
                assert_int_equal(backoff_next(&nojit), 7);
        assert_int_equal(backoff_next(&uncapped), 1);
        assert_int_equal(backoff_next(&uncapped), 10);
        assert_int_equal(backoff_next(&uncapped), 100);
        uncapped.attempt = 1000;
        assert_true(backoff_next(&uncapped) > UINT64_MAX / 2);
        assert_int_equal(backoff_next(NULL), 0);
}

static void test_event_backoff_jitter_range_and_determinism(void **state) {
        StasBackoff b = {
                .initial_usec = USEC_PER_SEC, .max_usec = 60 * USEC_PER_SEC, .factor = 3.0, .jitter = 0.25
        };
        uint64_t first[20], second[20];
        bool any_below = false;

        backoff_set_seed(42);
        for (size_t i = 0; i < ELEMENTSOF(first); i++) {
                uint64_t d = USEC_PER_SEC;

                for (size_t k = 0; k < i; k++)
                        d = d * 3 > 60 * USEC_PER_SEC ? 60 * USEC_PER_SEC : d * 3;
                first[i] = backoff_next(&b);
                assert_true(first[i] <= d);
                assert_true(first[i] >= d - d / 4);
                if (first[i] < d)
                        any_below = true;
        }
        assert_true(any_below);

        backoff_set_seed(42);
        backoff_reset(&b);
        for (size_t i = 0; i < ELEMENTSOF(second); i++)
                second[i] = backoff_next(&b);
        assert_memory_equal(first, second, sizeof(first));

        /* another seed gives another sequence */
        backoff_set_seed(43);
        backoff_reset(&b);
        for (size_t i = 0; i < ELEMENTSOF(second); i++)
                second[i] = backoff_next(&b);
        assert_memory_not_equal(first, second, sizeof(first));

        /* full jitter stays within [0, delay] */
        b = (StasBackoff){ .initial_usec = 1000, .max_usec = 1000, .factor = 2.0, .jitter = 7.0 };
        for (int i = 0; i < 100; i++)
                assert_true(backoff_next(&b) <= 1000);
}

typedef struct SigCounts {
        unsigned stop, reload;
} SigCounts;

static void on_stop(void *userdata) {
        ((SigCounts *) userdata)->stop++;
}

static void on_reload(void *userdata) {
        ((SigCounts *) userdata)->reload++;
}

static void test_event_signals_dispatch(void **state) {
        sd_event *e = *state;
        SigCounts c = {};
        sigset_t cur;

        assert_int_equal(event_setup_signals(e, on_stop, on_reload, &c), 0);
        assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
        assert_true(sigismember(&cur, SIGTERM));
        assert_true(sigismember(&cur, SIGINT));
        assert_true(sigismember(&cur, SIGHUP));

        assert_int_equal(raise(SIGHUP), 0);
        RUN_UNTIL(e, c.reload == 1);
        assert_int_equal(c.stop, 0);

        assert_int_equal(raise(SIGTERM), 0);
        RUN_UNTIL(e, c.stop == 1);
        assert_int_equal(raise(SIGINT), 0);
        RUN_UNTIL(e, c.stop == 2);
        assert_int_equal(c.reload, 1);
        assert_int_equal(sd_event_get_state(e), SD_EVENT_INITIAL);
}

static void test_event_signals_default_stop_exits_loop(void **state) {
        sd_event *e = *state;

        assert_int_equal(event_setup_signals(e, NULL, NULL, NULL), 0);
        assert_int_equal(raise(SIGHUP), 0); /* ignored: no reload handler */
        assert_int_equal(raise(SIGTERM), 0);
        assert_int_equal(sd_event_loop(e), 0);
        assert_int_equal(sd_event_get_state(e), SD_EVENT_FINISHED);
        assert_int_equal(event_setup_signals(NULL, NULL, NULL, NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_event_backoff_env_seed),
                cmocka_unit_test_setup_teardown(test_event_timer_new_is_disarmed, setup, teardown),
                cmocka_unit_test(test_event_usec_from_sec_saturates),
                cmocka_unit_test_setup_teardown(test_event_timer_start_caps_delay, setup, teardown),
                cmocka_unit_test_setup_teardown(test_event_timer_fires_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_event_timer_ordering, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_event_timer_rearm_reschedules_from_now, setup, teardown),
                cmocka_unit_test_setup_teardown(test_event_timer_stop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_event_timer_rearm_from_callback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_event_timer_free_from_callback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_event_timer_to_string, setup, teardown),
                cmocka_unit_test(test_event_backoff_exponential_bounded),
                cmocka_unit_test(test_event_backoff_degenerate_parameters),
                cmocka_unit_test(test_event_backoff_jitter_range_and_determinism),
                cmocka_unit_test_setup_teardown(test_event_signals_dispatch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_event_signals_default_stop_exits_loop, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
