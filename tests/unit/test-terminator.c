/* SPDX-License-Identifier: Apache-2.0 */
/* test-terminator - controllers being removed, and the bounded wait at stop (terminator.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake-ctrl-ops.h"
#include "test-helpers.h"
#include "stas/terminator.h"

typedef struct Env {
        sd_event *e;
        Fake f;
        StasTerminator *t;
        size_t left;
        unsigned stopped;
} Env;

static int setup(void **state) {
        Env *env = calloc(1, sizeof(Env));

        assert_non_null(env);
        assert_int_equal(sd_event_new(&env->e), 0);
        fake_init(&env->f, env->e);
        env->f.auto_complete = true;
        env->f.find_instance = -1;
        assert_int_equal(terminator_new(env->e, &env->t), 0);
        *state = env;
        return 0;
}

static int teardown(void **state) {
        Env *env = *state;

        terminator_free(env->t);
        fake_done(&env->f);
        sd_event_unref(env->e);
        free(env);
        return 0;
}

/* a connected controller for 10.0.0.@n */
static StasCtrl *connected(Env *env, int n) {
        char traddr[32];
        StasTid *tid;
        StasCtrl *c = NULL;

        snprintf(traddr, sizeof traddr, "10.0.0.%d", n);
        tid = tid_new("tcp", traddr, "4420", "nqn.2024-01.io.stas.test:t", "", "", "");
        assert_non_null(tid);
        assert_int_equal(stas_ctrl_new(env->e, &fake_ops, &env->f, tid, NULL, false, NULL, NULL, &c), 0);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, stas_ctrl_connected(c));
        tid_free(tid);
        return c;
}

static void on_stopped(size_t left, void *userdata) {
        Env *env = userdata;

        env->left = left;
        env->stopped++;
}

/* a disposed controller is disconnected, then freed; its TID is known meanwhile */
static void test_terminator_dispose(void **state) {
        Env *env = *state;
        StasCtrl *c = connected(env, 1);
        StasTid *tid = tid_copy(stas_ctrl_tid(c));

        assert_int_equal(terminator_dispose(env->t, c, false, false), 0);
        assert_int_equal(terminator_n(env->t), 1);
        assert_ptr_equal(terminator_ctrl(env->t, 0), c);
        assert_null(terminator_ctrl(env->t, 1));
        assert_true(terminator_has_tid(env->t, tid));
        RUN_UNTIL(env->e, terminator_n(env->t) == 0);
        assert_int_equal(env->f.n_disconnect, 1);
        assert_int_equal(env->f.n_free, 1);
        assert_false(terminator_has_tid(env->t, tid));
        tid_free(tid);

        /* keep_connection: freed without a disconnect */
        assert_int_equal(terminator_dispose(env->t, connected(env, 2), true, false), 0);
        RUN_UNTIL(env->e, terminator_n(env->t) == 0);
        assert_int_equal(env->f.n_disconnect, 1);
        assert_int_equal(terminator_dispose(env->t, NULL, false, false), -EINVAL);
}

/* stop: at once with nothing pending; else when the last one is done */
static void test_terminator_stop_when_done(void **state) {
        Env *env = *state;
        StasCtrl *c;

        assert_int_equal(terminator_stop(env->t, USEC_PER_SEC, on_stopped, env), 0);
        assert_int_equal(env->stopped, 1);
        assert_int_equal(env->left, 0);

        c = connected(env, 3);
        env->f.auto_complete = false; /* the disconnect waits for fake_complete() */
        assert_int_equal(terminator_dispose(env->t, c, false, false), 0);
        assert_int_equal(terminator_stop(env->t, 60 * USEC_PER_SEC, on_stopped, env), 1);
        assert_int_equal(env->stopped, 1);
        RUN_UNTIL(env->e, env->f.n_disconnect == 1);
        fake_complete(&env->f, 0);
        RUN_UNTIL(env->e, env->stopped == 2);
        assert_int_equal(env->left, 0);
        assert_int_equal(terminator_n(env->t), 0);
}

/* stop: the deadline ends the wait with what is left, which terminator_free() then frees */
static void test_terminator_stop_deadline(void **state) {
        Env *env = *state;
        StasCtrl *c;

        c = connected(env, 4);
        env->f.auto_complete = false;
        assert_int_equal(terminator_dispose(env->t, c, false, false), 0);
        assert_int_equal(terminator_stop(env->t, 50 * USEC_PER_MSEC, on_stopped, env), 1);
        RUN_UNTIL(env->e, env->stopped == 1);
        assert_int_equal(env->left, 1);
        assert_int_equal(terminator_n(env->t), 1);
}

/* uevents reach the controller being removed; an overflow resyncs it */
static void test_terminator_uevent(void **state) {
        Env *env = *state;
        StasCtrl *c = connected(env, 5);
        StasUevent *other = fake_uevent(STAS_UEVENT_REMOVE, "nvme99");
        StasUevent *ours = NULL;
        const StasUevent overflow = { .action = STAS_UEVENT_OVERFLOW };

        env->f.auto_complete = false;
        ours = fake_uevent(STAS_UEVENT_REMOVE, stas_ctrl_device(c));
        assert_int_equal(terminator_dispose(env->t, c, false, false), 0);
        assert_false(terminator_uevent(env->t, other));
        assert_false(terminator_uevent(env->t, &overflow));
        assert_true(terminator_uevent(env->t, ours));
        uevent_free(other);
        uevent_free(ours);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_terminator_dispose, setup, teardown),
                cmocka_unit_test_setup_teardown(test_terminator_stop_when_done, setup, teardown),
                cmocka_unit_test_setup_teardown(test_terminator_stop_deadline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_terminator_uevent, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
