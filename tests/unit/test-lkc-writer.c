/* SPDX-License-Identifier: Apache-2.0 */
/* test-lkc-writer - coalesced state-file writes on a writer thread (issue 9, failure 5). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-helpers.h"
#include "stas/lkc-writer.h"

typedef struct Fixture {
        char dir[64], path[96];
        sd_event *event;
        LkcStatus st;
        int counter; /* the state: the document is {"counter": counter} */
        unsigned builds;
} Fixture;

static json_object *build(void *userdata) {
        Fixture *f = userdata;
        json_object *o = json_object_new_object();

        f->builds++;
        if (o)
                json_object_object_add(o, "counter", json_object_new_int(f->counter));
        return o;
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        strcpy(f->dir, "/tmp/test-lkc-writer.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof f->path, "%s/state.json", f->dir);
        assert_int_equal(sd_event_new(&f->event), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        (void) unlink(f->path);
        (void) rmdir(f->path); /* test_lkc_writer_failure_is_recorded makes it a directory */
        assert_int_equal(rmdir(f->dir), 0);
        sd_event_unref(f->event);
        free(f);
        return 0;
}

/* The counter in the file, -1 if it cannot be loaded. */
static int saved_counter(Fixture *f) {
        json_object *data = NULL;
        int v = -1;

        if (lkc_load(f->path, "stafd", &data) < 0)
                return -1;
        v = json_object_get_int(json_object_object_get(data, "counter"));
        json_object_put(data);
        return v;
}

/* A 1 ms timer changes the state and asks for a save each time, for @n times. */
typedef struct Burst {
        Fixture *f;
        LkcWriter *w;
        unsigned left;
        sd_event_source *timer;
} Burst;

static int burst_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Burst *b = userdata;

        b->f->counter++;
        lkc_writer_schedule(b->w);
        if (--b->left == 0)
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (sd_event_source_set_time(s, usec + 1000) < 0)
                return -EIO;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* 200 changes over ≥ 200 ms: a few writes (≤ 1 per 100 ms), the last one has the final state */
static void test_lkc_writer_coalesces(void **state) {
        Fixture *f = *state;
        _cleanup_(lkc_writer_freep) LkcWriter *w = NULL;
        Burst b = { .f = f, .left = 200 };
        uint64_t t0, t1, max;

        assert_int_equal(lkc_writer_new(f->event, f->path, "stafd", &f->st, build, f, &w), 0);
        b.w = w;
        assert_true(sd_event_now(f->event, CLOCK_MONOTONIC, &t0) >= 0);
        assert_int_equal(sd_event_add_time(f->event, &b.timer, CLOCK_MONOTONIC, t0, 1, burst_tick, &b), 0);
        RUN_UNTIL(f->event, b.left == 0 && saved_counter(f) == 200);
        assert_true(sd_event_now(f->event, CLOCK_MONOTONIC, &t1) >= 0);
        /* the rule, with one for the start and one for the end of the burst */
        max = 2 + (t1 - t0) / LKC_WRITER_INTERVAL_USEC;
        print_message(
                "200 changes in %.0f ms: %llu writes (bound %llu)\n",
                (double) (t1 - t0) / 1000,
                (unsigned long long) lkc_writer_writes(w),
                (unsigned long long) max);
        assert_true(lkc_writer_writes(w) >= 1);
        assert_true(lkc_writer_writes(w) <= max);
        assert_true(lkc_writer_writes(w) < 50);
        assert_int_equal(f->builds, lkc_writer_writes(w));
        assert_int_equal(f->st.error, 0);
        sd_event_source_unref(b.timer);
}

/* the first save of an idle writer starts at once; a second one right after waits its turn */
static void test_lkc_writer_first_write_is_immediate(void **state) {
        Fixture *f = *state;
        _cleanup_(lkc_writer_freep) LkcWriter *w = NULL;

        assert_int_equal(lkc_writer_new(f->event, f->path, "stafd", &f->st, build, f, &w), 0);
        f->counter = 7;
        lkc_writer_schedule(w);
        RUN_UNTIL(f->event, saved_counter(f) == 7);
        assert_int_equal(lkc_writer_writes(w), 1);
        f->counter = 8;
        lkc_writer_schedule(w);
        lkc_writer_schedule(w);
        RUN_UNTIL(f->event, saved_counter(f) == 8);
        assert_int_equal(lkc_writer_writes(w), 2);
}

/* flush: a pending save is written at once, on the calling thread; nothing pending, no write */
static void test_lkc_writer_flush(void **state) {
        Fixture *f = *state;
        _cleanup_(lkc_writer_freep) LkcWriter *w = NULL;

        assert_int_equal(lkc_writer_new(f->event, f->path, "stafd", &f->st, build, f, &w), 0);
        assert_int_equal(lkc_writer_flush(w), 0);
        assert_int_equal(lkc_writer_writes(w), 0);
        assert_int_equal(access(f->path, F_OK), -1);

        f->counter = 1;
        lkc_writer_schedule(w); /* armed, not yet run */
        f->counter = 2;
        assert_int_equal(lkc_writer_flush(w), 0);
        assert_int_equal(saved_counter(f), 2);
        assert_int_equal(lkc_writer_writes(w), 1);

        /* a write in flight, then a change: flush waits for it and writes the change */
        f->counter = 3;
        lkc_writer_schedule(w);
        RUN_UNTIL(f->event, lkc_writer_writes(w) == 2); /* the write of 3 is handed to the thread */
        f->counter = 4;
        lkc_writer_schedule(w);
        assert_int_equal(lkc_writer_flush(w), 0);
        assert_int_equal(saved_counter(f), 4);
        assert_int_equal(lkc_writer_writes(w), 3);
        assert_int_equal(lkc_writer_flush(w), 0); /* nothing left */
}

/* a file that cannot be written: warned once, in the status; the next good write clears it */
static void test_lkc_writer_failure_is_recorded(void **state) {
        Fixture *f = *state;
        _cleanup_(lkc_writer_freep) LkcWriter *w = NULL;
        LogCapture logs;

        assert_int_equal(mkdir(f->path, 0700), 0); /* a directory at the path: rename fails */
        log_capture_start_at(&logs, LOG_INFO);
        assert_int_equal(lkc_writer_new(f->event, f->path, "stafd", &f->st, build, f, &w), 0);
        for (int i = 0; i < 3; i++) {
                uint64_t before = lkc_writer_writes(w);

                lkc_writer_schedule(w);
                RUN_UNTIL(f->event, lkc_writer_writes(w) > before);
                (void) lkc_writer_flush(w); /* waits for the result */
        }
        assert_int_equal(f->st.error, -EISDIR);
        assert_true(f->st.save_failed);
        assert_int_equal(logs.n_lines, 1);
        assert_non_null(strstr(logs.text, "Cannot write the last known configuration"));

        assert_int_equal(rmdir(f->path), 0);
        lkc_writer_schedule(w);
        assert_int_equal(lkc_writer_flush(w), 0);
        assert_int_equal(f->st.error, 0);
        assert_non_null(strstr(logs.text, "again"));
        log_capture_stop(&logs);
}

/* bad arguments; free without flush still makes the write already handed to the thread */
static void test_lkc_writer_args_and_free(void **state) {
        Fixture *f = *state;
        LkcWriter *w = NULL;

        assert_int_equal(lkc_writer_new(NULL, f->path, "stafd", &f->st, build, f, &w), -EINVAL);
        assert_int_equal(lkc_writer_new(f->event, "", "stafd", &f->st, build, f, &w), -EINVAL);
        assert_int_equal(lkc_writer_new(f->event, f->path, NULL, &f->st, build, f, &w), -EINVAL);
        assert_int_equal(lkc_writer_new(f->event, f->path, "stafd", NULL, build, f, &w), -EINVAL);
        assert_int_equal(lkc_writer_new(f->event, f->path, "stafd", &f->st, NULL, f, &w), -EINVAL);
        assert_null(w);
        lkc_writer_schedule(NULL);
        assert_int_equal(lkc_writer_flush(NULL), 0);
        assert_int_equal(lkc_writer_writes(NULL), 0);
        assert_null(lkc_writer_free(NULL));

        assert_int_equal(lkc_writer_new(f->event, f->path, "stafd", &f->st, build, f, &w), 0);
        f->counter = 5;
        lkc_writer_schedule(w);
        RUN_UNTIL(f->event, lkc_writer_writes(w) == 1); /* handed over */
        w = lkc_writer_free(w);
        assert_int_equal(saved_counter(f), 5);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_lkc_writer_coalesces, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lkc_writer_first_write_is_immediate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lkc_writer_flush, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lkc_writer_failure_is_recorded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lkc_writer_args_and_free, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
