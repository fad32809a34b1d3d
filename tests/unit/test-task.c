/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-helpers.h"
#include "stas/event.h"
#include "stas/task.h"

/* A gate the test opens; workers report that they have entered work(). */
typedef struct Gate {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool open;
        unsigned entered;
        atomic_uint running, max_running, work_calls;
} Gate;

typedef struct Job {
        Gate *gate;
        int value;
        pthread_t work_thread, done_thread;
        unsigned done_calls, cleanup_calls;
        int result;
        /* for test_task_cancel_from_done */
        StasTask *victim;
        StasTask **victim_handle;
} Job;

static pthread_t loop_thread;

static void gate_init(Gate *g) {
        pthread_mutex_init(&g->lock, NULL);
        pthread_cond_init(&g->cond, NULL);
        g->open = false;
        g->entered = 0;
        atomic_init(&g->running, 0);
        atomic_init(&g->max_running, 0);
        atomic_init(&g->work_calls, 0);
}

static void gate_destroy(Gate *g) {
        pthread_cond_destroy(&g->cond);
        pthread_mutex_destroy(&g->lock);
}

static void gate_open(Gate *g) {
        pthread_mutex_lock(&g->lock);
        g->open = true;
        pthread_cond_broadcast(&g->cond);
        pthread_mutex_unlock(&g->lock);
}

/* Wait (bounded by the test timeout) until @n works are inside the gate. */
static void gate_wait_entered(Gate *g, unsigned n) {
        pthread_mutex_lock(&g->lock);
        while (g->entered < n)
                pthread_cond_wait(&g->cond, &g->lock);
        pthread_mutex_unlock(&g->lock);
}

static int work_gated(void *userdata) {
        Job *j = userdata;
        Gate *g = j->gate;
        unsigned now;

        atomic_fetch_add(&g->work_calls, 1);
        now = atomic_fetch_add(&g->running, 1) + 1;
        for (unsigned m = atomic_load(&g->max_running); now > m;)
                if (atomic_compare_exchange_weak(&g->max_running, &m, now))
                        break;

        j->work_thread = pthread_self();
        pthread_mutex_lock(&g->lock);
        g->entered++;
        pthread_cond_broadcast(&g->cond);
        while (!g->open)
                pthread_cond_wait(&g->cond, &g->lock);
        pthread_mutex_unlock(&g->lock);

        atomic_fetch_sub(&g->running, 1);
        return j->value * 2;
}

static int work_plain(void *userdata) {
        Job *j = userdata;

        j->work_thread = pthread_self();
        return j->value == 7 ? -ENOENT : j->value + 1;
}

static void on_done(int result, void *userdata) {
        Job *j = userdata;

        j->done_calls++;
        j->result = result;
        j->done_thread = pthread_self();
}

static void on_cleanup(void *userdata) {
        Job *j = userdata;

        assert_true(pthread_equal(pthread_self(), loop_thread));
        j->cleanup_calls++;
}

static int setup(void **state) {
        sd_event *e = NULL;

        loop_thread = pthread_self();
        if (sd_event_new(&e) < 0)
                return -1;
        *state = e;
        return 0;
}

static int teardown(void **state) {
        sd_event_unref(*state);
        return 0;
}

static void test_task_result_on_loop_thread(void **state) {
        sd_event *e = *state;
        _cleanup_(task_pool_freep) StasTaskPool *p = NULL;
        Job a = { .value = 41 }, b = { .value = 7 };

        assert_int_equal(task_pool_new(e, 2, &p), 0);
        assert_int_equal(task_submit(p, work_plain, on_done, on_cleanup, &a, NULL), 0);
        assert_int_equal(task_submit(p, work_plain, on_done, NULL, &b, NULL), 0);
        assert_int_equal(task_pool_pending(p), 2);
        RUN_UNTIL(e, task_pool_pending(p) == 0);

        assert_int_equal(a.done_calls, 1);
        assert_int_equal(a.result, 42);
        assert_int_equal(a.cleanup_calls, 1);
        assert_int_equal(b.done_calls, 1);
        assert_int_equal(b.result, -ENOENT);
        assert_int_equal(b.cleanup_calls, 0);
        assert_true(pthread_equal(a.done_thread, loop_thread));
        assert_false(pthread_equal(a.work_thread, loop_thread));
        assert_false(pthread_equal(b.work_thread, loop_thread));
}

static void test_task_invalid_arguments(void **state) {
        sd_event *e = *state;
        _cleanup_(task_pool_freep) StasTaskPool *p = NULL;
        Job a = {};

        assert_int_equal(task_pool_new(e, 0, &p), -EINVAL);
        assert_int_equal(task_pool_new(NULL, 1, &p), -EINVAL);
        assert_null(p);
        assert_int_equal(task_pool_new(e, 1, &p), 0);
        assert_int_equal(task_submit(p, NULL, on_done, NULL, &a, NULL), -EINVAL);
        assert_int_equal(task_submit(NULL, work_plain, on_done, NULL, &a, NULL), -EINVAL);
        assert_int_equal(task_pool_pending(p), 0);
        assert_int_equal(task_pool_pending(NULL), 0);
        task_cancel(NULL);
        assert_null(task_pool_free(NULL));
}

static void test_task_many_tasks_bounded_concurrency(void **state) {
        enum { N = 40, MAX = 3 };
        sd_event *e = *state;
        _cleanup_(task_pool_freep) StasTaskPool *p = NULL;
        Job *jobs = calloc(N, sizeof(Job));
        Gate g;
        pthread_t seen[N];
        unsigned n_seen = 0;

        assert_non_null(jobs);
        gate_init(&g);
        assert_int_equal(task_pool_new(e, MAX, &p), 0);
        for (int i = 0; i < N; i++) {
                jobs[i] = (Job){ .gate = &g, .value = i };
                assert_int_equal(task_submit(p, work_gated, on_done, on_cleanup, &jobs[i], NULL), 0);
        }

        /* All workers are now blocked inside work(): exactly MAX of them, no more. */
        gate_wait_entered(&g, MAX);
        assert_int_equal(atomic_load(&g.running), MAX);
        assert_int_equal(atomic_load(&g.work_calls), MAX);
        assert_int_equal(task_pool_pending(p), N);

        gate_open(&g);
        RUN_UNTIL(e, task_pool_pending(p) == 0);

        assert_int_equal(atomic_load(&g.work_calls), N);
        assert_int_equal(atomic_load(&g.max_running), MAX);
        for (int i = 0; i < N; i++) {
                bool known = false;

                assert_int_equal(jobs[i].done_calls, 1);
                assert_int_equal(jobs[i].cleanup_calls, 1);
                assert_int_equal(jobs[i].result, 2 * i);
                assert_true(pthread_equal(jobs[i].done_thread, loop_thread));
                for (unsigned k = 0; k < n_seen; k++)
                        known = known || pthread_equal(seen[k], jobs[i].work_thread);
                if (!known)
                        seen[n_seen++] = jobs[i].work_thread;
        }
        /* never more distinct worker threads than max_threads */
        assert_true(n_seen >= 1 && n_seen <= MAX);

        p = task_pool_free(p);
        gate_destroy(&g);
        free(jobs);
}

static void test_task_cancel_before_start(void **state) {
        sd_event *e = *state;
        _cleanup_(task_pool_freep) StasTaskPool *p = NULL;
        Gate g;
        Job blocker, victim;
        StasTask *t = NULL;

        gate_init(&g);
        blocker = (Job){ .gate = &g, .value = 1 };
        victim = (Job){ .gate = &g, .value = 2 };
        assert_int_equal(task_pool_new(e, 1, &p), 0);
        assert_int_equal(task_submit(p, work_gated, on_done, on_cleanup, &blocker, NULL), 0);
        gate_wait_entered(&g, 1);
        assert_int_equal(task_submit(p, work_gated, on_done, on_cleanup, &victim, &t), 0);
        assert_non_null(t);

        task_cancel(t);
        task_cancel(t); /* idempotent */
        /* cleanup() is deferred to the loop, never run inside task_cancel() */
        assert_int_equal(victim.cleanup_calls, 0);
        RUN_UNTIL(e, victim.cleanup_calls == 1);
        assert_int_equal(task_pool_pending(p), 1);

        gate_open(&g);
        RUN_UNTIL(e, task_pool_pending(p) == 0);
        assert_int_equal(blocker.done_calls, 1);
        assert_int_equal(victim.done_calls, 0);
        assert_int_equal(victim.cleanup_calls, 1);
        assert_int_equal(atomic_load(&g.work_calls), 1); /* victim's work() never ran */
        p = task_pool_free(p);
        gate_destroy(&g);
}

static void test_task_cancel_while_running(void **state) {
        sd_event *e = *state;
        _cleanup_(task_pool_freep) StasTaskPool *p = NULL;
        Gate g;
        Job j;
        StasTask *t = NULL;

        gate_init(&g);
        j = (Job){ .gate = &g, .value = 5 };
        assert_int_equal(task_pool_new(e, 2, &p), 0);
        assert_int_equal(task_submit(p, work_gated, on_done, on_cleanup, &j, &t), 0);
        gate_wait_entered(&g, 1);
        task_cancel(t);
        assert_int_equal(j.cleanup_calls, 0);
        assert_int_equal(task_pool_pending(p), 1);

        gate_open(&g);
        RUN_UNTIL(e, task_pool_pending(p) == 0);
        assert_int_equal(j.done_calls, 0);
        assert_int_equal(j.cleanup_calls, 1);
        assert_int_equal(atomic_load(&g.work_calls), 1);
        p = task_pool_free(p);
        gate_destroy(&g);
}

static void on_done_cancel_other(int result, void *userdata) {
        Job *j = userdata;

        on_done(result, userdata);
        task_cancel(j->victim);
}

static void test_task_cancel_from_done(void **state) {
        sd_event *e = *state;
        _cleanup_(task_pool_freep) StasTaskPool *p = NULL;
        Job first = { .value = 1 }, second = { .value = 2 };
        StasTask *t2 = NULL;

        /*
         * Depending on timing the two are delivered in one batch or in two; either way
         * the first done() cancels the second, queued, running or already completed.
         */
        assert_int_equal(task_pool_new(e, 1, &p), 0);
        assert_int_equal(task_submit(p, work_plain, on_done_cancel_other, on_cleanup, &first, NULL), 0);
        assert_int_equal(task_submit(p, work_plain, on_done, on_cleanup, &second, &t2), 0);
        first.victim = t2;
        RUN_UNTIL(e, task_pool_pending(p) == 0);
        assert_int_equal(first.done_calls, 1);
        assert_int_equal(first.cleanup_calls, 1);
        /* whether second had finished or not when cancelled: no done(), one cleanup() */
        assert_int_equal(second.done_calls, 0);
        assert_int_equal(second.cleanup_calls, 1);
}

static void test_task_free_with_pending(void **state) {
        enum { N = 6 };
        sd_event *e = *state;
        StasTaskPool *p = NULL;
        Gate g;
        Job jobs[N];

        gate_init(&g);
        assert_int_equal(task_pool_new(e, 2, &p), 0);
        for (int i = 0; i < N; i++) {
                jobs[i] = (Job){ .gate = &g, .value = i };
                assert_int_equal(task_submit(p, work_gated, on_done, on_cleanup, &jobs[i], NULL), 0);
        }
        gate_wait_entered(&g, 2);

        /* free must wait for the two running works; release them from another thread */
        gate_open(&g);
        p = task_pool_free(p);
        assert_null(p);

        for (int i = 0; i < N; i++) {
                assert_int_equal(jobs[i].done_calls, 0);
                assert_int_equal(jobs[i].cleanup_calls, 1);
        }
        /* the queued ones never ran (at most the two running ones plus any that raced in) */
        assert_true(atomic_load(&g.work_calls) >= 2);
        assert_int_equal(atomic_load(&g.running), 0);
        /* the loop has nothing left from the pool */
        assert_int_equal(sd_event_run(e, 0), 0);
        gate_destroy(&g);
}

/* a daemon's exit: work blocked past the bound is left behind, the rest is cleaned up */
static void test_task_free_within_leaves_blocked_work(void **state) {
        enum { N = 4 };
        sd_event *e = *state;
        StasTaskPool *p = NULL;
        LogCapture logs;
        Gate g;
        Job jobs[N];
        unsigned cleaned = 0;

        gate_init(&g);
        assert_int_equal(task_pool_new(e, 2, &p), 0);
        for (int i = 0; i < N; i++) {
                jobs[i] = (Job){ .gate = &g, .value = i };
                assert_int_equal(task_submit(p, work_gated, on_done, on_cleanup, &jobs[i], NULL), 0);
        }
        gate_wait_entered(&g, 2);

        log_capture_start_at(&logs, LOG_INFO);
        assert_false(task_pool_free_within(p, 200 * USEC_PER_MSEC));
        assert_int_equal(logs.n_lines, 1);
        assert_non_null(strstr(logs.text, "<4>2 operation(s) still blocked in the kernel after 0.2 s"));
        log_capture_stop(&logs);
        for (int i = 0; i < N; i++) {
                assert_int_equal(jobs[i].done_calls, 0);
                cleaned += jobs[i].cleanup_calls;
        }
        assert_int_equal(cleaned, N - 2); /* the queued ones; the two running ones are left as they are */
        assert_int_equal(sd_event_run(e, 0), 0); /* nothing of the pool is left on the loop */

        /* the blocked work ends later, on its own: its task is never delivered */
        gate_open(&g);
        while (atomic_load(&g.running) > 0)
                usleep(1000);
        for (int i = 0; i < N; i++)
                assert_int_equal(jobs[i].done_calls, 0);

        /* a pool whose work ends in time is freed as task_pool_free() frees it */
        assert_int_equal(task_pool_new(e, 2, &p), 0);
        assert_true(task_pool_free_within(p, 200 * USEC_PER_MSEC));
        assert_true(task_pool_free_within(NULL, 0));
        usleep(10000); /* the detached workers leave worker_main() before the gate goes */
        gate_destroy(&g);
}

static void test_task_free_idle_pool_and_reuse_threads(void **state) {
        sd_event *e = *state;
        _cleanup_(task_pool_freep) StasTaskPool *p = NULL;
        Job a = { .value = 1 }, b = { .value = 2 };

        assert_int_equal(task_pool_new(e, 4, &p), 0);
        assert_int_equal(task_submit(p, work_plain, on_done, NULL, &a, NULL), 0);
        RUN_UNTIL(e, a.done_calls == 1);
        /* the idle worker takes the next task: same thread */
        assert_int_equal(task_submit(p, work_plain, on_done, NULL, &b, NULL), 0);
        RUN_UNTIL(e, b.done_calls == 1);
        assert_true(pthread_equal(a.work_thread, b.work_thread));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_task_result_on_loop_thread, setup, teardown),
                cmocka_unit_test_setup_teardown(test_task_invalid_arguments, setup, teardown),
                cmocka_unit_test_setup_teardown(test_task_many_tasks_bounded_concurrency, setup, teardown),
                cmocka_unit_test_setup_teardown(test_task_cancel_before_start, setup, teardown),
                cmocka_unit_test_setup_teardown(test_task_cancel_while_running, setup, teardown),
                cmocka_unit_test_setup_teardown(test_task_cancel_from_done, setup, teardown),
                cmocka_unit_test_setup_teardown(test_task_free_with_pending, setup, teardown),
                cmocka_unit_test_setup_teardown(test_task_free_within_leaves_blocked_work, setup, teardown),
                cmocka_unit_test_setup_teardown(test_task_free_idle_pool_and_reuse_threads, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
