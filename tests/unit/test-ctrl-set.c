/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-ctrl-set - the controllers of one daemon (ctrl-set.h): batched first attempts on one
 * snapshot of the kernel, uevent routing to live and departing controllers, the resync after
 * lost events, removal and stop.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake-ctrl-ops.h"
#include "test-helpers.h"
#include "stas/ctrl-set.h"
#include "stas/daemon.h"

typedef struct Env {
        sd_event *e;
        Fake f;
        StasCtrlSet *s;
        unsigned connected;
        StasCtrl *resynced[8];
        bool resynced_removed[8];
        unsigned n_resynced;
        size_t left;
        unsigned stopped;
} Env;

static void on_connected(StasCtrl *c, void *userdata) {
        Env *env = userdata;
        env->connected++;
}

static const StasCtrlEvents events = { .connected = on_connected };

static void on_resynced(StasCtrl *c, bool removed, void *userdata) {
        Env *env = userdata;

        assert_true(env->n_resynced < 8);
        env->resynced[env->n_resynced] = c;
        env->resynced_removed[env->n_resynced++] = removed;
}

static int setup(void **state) {
        Env *env = calloc(1, sizeof(Env));

        assert_non_null(env);
        assert_int_equal(sd_event_new(&env->e), 0);
        fake_init(&env->f, env->e);
        env->f.auto_complete = true;
        assert_int_equal(ctrl_set_new(env->e, &fake_ops, &env->f, &env->s), 0);
        ctrl_set_on_resync(env->s, on_resynced, env);
        *state = env;
        return 0;
}

static int teardown(void **state) {
        Env *env = *state;

        ctrl_set_free(env->s);
        fake_done(&env->f);
        sd_event_unref(env->e);
        free(env);
        return 0;
}

/* a live controller for 10.0.0.@n, not started */
static StasCtrl *mk(Env *env, int n) {
        char traddr[32];
        StasTid *tid;
        StasCtrl *c = NULL;

        snprintf(traddr, sizeof traddr, "10.0.0.%d", n);
        tid = tid_new("tcp", traddr, "4420", "nqn.2024-01.io.stas.test:t", "", "", "");
        assert_non_null(tid);
        assert_int_equal(ctrl_set_new_ctrl(env->s, tid, NULL, false, &events, env, &c), 0);
        tid_free(tid);
        return c;
}

/* Five controllers started in one go: one snapshot, five lookups in it, none of their own. */
static void test_ctrl_set_batch_one_snapshot(void **state) {
        Env *env = *state;
        StasCtrl *c[5];

        for (int i = 0; i < 5; i++) {
                c[i] = mk(env, i + 1);
                assert_int_equal(ctrl_set_start(env->s, c[i]), 0);
                assert_true(ctrl_set_starting(env->s, c[i]));
        }
        assert_int_equal(ctrl_set_start(env->s, c[0]), 0); /* twice: still one attempt */
        assert_int_equal(ctrl_set_n(env->s), 5);
        assert_int_equal(env->f.n_new, 0); /* nothing before the loop comes back */
        RUN_UNTIL(env->e, env->connected == 5);
        assert_int_equal(env->f.n_snapshot, 1);
        assert_int_equal(env->f.n_snapshot_free, 1);
        assert_int_equal(env->f.n_find_snap, 5);
        assert_int_equal(env->f.n_find_own, 0);
        assert_int_equal(env->f.n_connect, 5);
        for (int i = 0; i < 5; i++) {
                assert_false(ctrl_set_starting(env->s, c[i]));
                assert_ptr_equal(ctrl_set_ctrl(env->s, i), c[i]);
        }
        assert_null(ctrl_set_ctrl(env->s, 5));

        /* connected: a start is nothing, and takes no snapshot */
        assert_int_equal(ctrl_set_start(env->s, c[2]), 0);
        assert_false(ctrl_set_starting(env->s, c[2]));
        assert_true(sd_event_run(env->e, 0) >= 0);
        assert_int_equal(env->f.n_snapshot, 1);
}

/* A controller dropped or removed before its batch runs is not attempted; a stranger is refused. */
static void test_ctrl_set_left_before_the_batch(void **state) {
        Env *env = *state;
        StasCtrl *a = mk(env, 1), *b = mk(env, 2), *c = mk(env, 3);
        StasCtrl *stranger = NULL;
        StasTid *tid = tid_new("tcp", "10.0.0.9", "4420", "nqn.2024-01.io.stas.test:t", "", "", "");

        assert_int_equal(ctrl_set_start(env->s, a), 0);
        assert_int_equal(ctrl_set_start(env->s, b), 0);
        assert_int_equal(ctrl_set_start(env->s, c), 0);
        ctrl_set_drop(env->s, a);
        assert_int_equal(ctrl_set_remove(env->s, b, false, false), 0);
        assert_int_equal(ctrl_set_n(env->s), 1);
        assert_int_equal(ctrl_set_n_removing(env->s), 1);
        RUN_UNTIL(env->e, env->connected == 1 && ctrl_set_n_removing(env->s) == 0);
        assert_int_equal(env->f.n_new, 1);
        assert_int_equal(env->f.n_find_snap, 1);
        assert_true(stas_ctrl_connected(c));

        assert_non_null(tid);
        assert_int_equal(
                stas_ctrl_new(env->e, &fake_ops, &env->f, tid, NULL, false, NULL, NULL, &stranger), 0);
        assert_int_equal(ctrl_set_start(env->s, stranger), -EINVAL);
        assert_int_equal(ctrl_set_remove(env->s, stranger, false, false), -EINVAL);
        ctrl_set_drop(env->s, stranger); /* not ours: just freed */
        ctrl_set_drop(env->s, NULL);
        tid_free(tid);
}

/* A failed first attempt is retried as a batch of one: the backend reads the kernel for it. */
static void test_ctrl_set_retry_reads_alone(void **state) {
        Env *env = *state;
        static const StasBackoff fast = { .initial_usec = 1000, .max_usec = 1000, .factor = 1.0 };
        StasCtrl *c = mk(env, 1);

        stas_ctrl_set_backoff(c, &fast);
        env->f.connect_result = -ECONNREFUSED;
        assert_int_equal(ctrl_set_start(env->s, c), 0);
        RUN_UNTIL(env->e, env->f.n_connect == 2);
        assert_int_equal(env->f.n_snapshot, 1);
        assert_int_equal(env->f.n_find_snap, 1);
        assert_int_equal(env->f.n_find_own, 1);
}

/* Events go to the live controller they name, else to one being removed, else nowhere. */
static void test_ctrl_set_uevent_routing(void **state) {
        Env *env = *state;
        _cleanup_(uevent_freep) StasUevent *chg0 = NULL, *chg1 = NULL, *other = NULL, *rm1 = NULL;
        StasCtrl *a = mk(env, 1), *b = mk(env, 2);

        assert_int_equal(ctrl_set_start(env->s, a), 0);
        assert_int_equal(ctrl_set_start(env->s, b), 0);
        RUN_UNTIL(env->e, env->connected == 2);
        assert_string_equal(stas_ctrl_device(a), "nvme0");
        assert_string_equal(stas_ctrl_device(b), "nvme1");

        chg1 = fake_uevent(STAS_UEVENT_CHANGE, "nvme1");
        other = fake_uevent(STAS_UEVENT_CHANGE, "nvme9");
        assert_true(ctrl_set_uevent(env->s, chg1));
        assert_false(ctrl_set_uevent(env->s, other));

        /* being removed (its disconnect held): its events still reach it */
        env->f.auto_complete = false;
        assert_int_equal(ctrl_set_remove(env->s, b, false, false), 0);
        RUN_UNTIL(env->e, env->f.n_disconnect == 1);
        assert_true(ctrl_set_removing_tid(env->s, stas_ctrl_tid(b)));
        assert_ptr_equal(ctrl_set_removing(env->s, 0), b);
        assert_true(ctrl_set_uevent(env->s, chg1));
        rm1 = fake_uevent(STAS_UEVENT_REMOVE, "nvme1");
        assert_true(ctrl_set_uevent(env->s, rm1));

        chg0 = fake_uevent(STAS_UEVENT_CHANGE, "nvme0");
        assert_true(ctrl_set_uevent(env->s, chg0));
        assert_int_equal(ctrl_set_n(env->s), 1);
}

static char *mk_dev(const char *root, int instance, const char *traddr) {
        _cleanup_free_ char *cmd = NULL, *address = NULL;
        const char *attrs[][2] = {
                { "transport", "tcp" },
                { "subsysnqn", "nqn.2024-01.io.stas.test:t" },
                { "cntlid", "1" },
                { "state", "live" },
        };
        char *dir = NULL;

        assert_true(asprintf(&dir, "%s/sys/class/nvme/nvme%d", root, instance) > 0);
        assert_true(asprintf(&cmd, "mkdir -p %s", dir) > 0);
        assert_int_equal(system(cmd), 0);
        assert_true(asprintf(&address, "traddr=%s,trsvcid=4420", traddr) > 0);
        for (size_t i = 0; i <= ELEMENTSOF(attrs); i++) {
                _cleanup_free_ char *p = NULL;
                const char *name = i < ELEMENTSOF(attrs) ? attrs[i][0] : "address";
                FILE *f;

                assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
                f = fopen(p, "w");
                assert_non_null(f);
                fprintf(f, "%s\n", i < ELEMENTSOF(attrs) ? attrs[i][1] : address);
                fclose(f);
        }
        return dir;
}

/* Lost events: every controller checks its device, and the owner hears how each one came out. */
static void test_ctrl_set_overflow_resyncs_all(void **state) {
        Env *env = *state;
        char root[] = "/tmp/stas-ctrl-set-XXXXXX";
        _cleanup_free_ char *d7 = NULL, *d8 = NULL, *cmd = NULL;
        StasUevent overflow = { .action = STAS_UEVENT_OVERFLOW, .instance = -1 };
        StasCtrl *a, *b;

        assert_non_null(mkdtemp(root));
        d7 = mk_dev(root, 7, "10.0.0.1");
        d8 = mk_dev(root, 8, "10.0.0.2");
        env->f.sysfs_root = root;
        a = mk(env, 1);
        b = mk(env, 2);
        env->f.find_instance = 7;
        assert_int_equal(ctrl_set_start(env->s, a), 0);
        RUN_UNTIL(env->e, env->connected == 1);
        env->f.find_instance = 8;
        assert_int_equal(ctrl_set_start(env->s, b), 0);
        RUN_UNTIL(env->e, env->connected == 2);
        assert_string_equal(stas_ctrl_device(a), "nvme7");
        assert_string_equal(stas_ctrl_device(b), "nvme8");

        /* nvme7's remove was lost */
        assert_true(asprintf(&cmd, "rm -rf '%s'", d7) > 0);
        assert_int_equal(system(cmd), 0);
        assert_false(ctrl_set_uevent(env->s, &overflow));
        assert_int_equal(env->n_resynced, 2);
        assert_ptr_equal(env->resynced[0], a);
        assert_true(env->resynced_removed[0]);
        assert_false(stas_ctrl_connected(a));
        assert_ptr_equal(env->resynced[1], b);
        assert_false(env->resynced_removed[1]);
        assert_true(stas_ctrl_connected(b));

        free(cmd);
        assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
        assert_int_equal(system(cmd), 0);
        env->f.sysfs_root = NULL;
}

static void on_stopped(size_t left, void *userdata) {
        Env *env = userdata;

        env->left = left;
        env->stopped++;
}

/* At stop: no more batches; the removals are waited for, with the terminator's deadline. */
static void test_ctrl_set_stop(void **state) {
        Env *env = *state;
        StasCtrl *a = mk(env, 1), *b = mk(env, 2);

        assert_int_equal(ctrl_set_start(env->s, a), 0);
        RUN_UNTIL(env->e, env->connected == 1);
        assert_int_equal(ctrl_set_start(env->s, b), 0);
        assert_int_equal(ctrl_set_remove(env->s, a, false, false), 0);
        assert_int_equal(ctrl_set_stop(env->s, 10 * USEC_PER_SEC, on_stopped, env), 1);
        assert_false(ctrl_set_starting(env->s, b));
        assert_int_equal(ctrl_set_start(env->s, b), 0);
        assert_false(ctrl_set_starting(env->s, b));
        RUN_UNTIL(env->e, env->stopped == 1);
        assert_int_equal(env->left, 0);
        assert_int_equal(env->f.n_disconnect, 1);
        assert_int_equal(env->f.n_new, 1); /* b never tried */
        assert_false(stas_ctrl_connected(b));
}

/* The STATUS= text counts what the controllers do. */
static void test_ctrl_set_status_text(void **state) {
        Env *env = *state;
        StasCtrl *a = mk(env, 1), *b = mk(env, 2), *c = mk(env, 3);
        char buf[128];

        ctrl_set_status(env->s, "DCs", buf, sizeof buf);
        assert_string_equal(buf, "0 DCs connected, 3 not connected");
        assert_int_equal(ctrl_set_start(env->s, a), 0);
        RUN_UNTIL(env->e, env->connected == 1);
        env->f.connect_result = -ECONNREFUSED;
        assert_int_equal(ctrl_set_start(env->s, b), 0);
        ctrl_set_status(env->s, "DCs", buf, sizeof buf);
        assert_string_equal(buf, "1 DCs connected, 1 connecting, 1 not connected");
        RUN_UNTIL(env->e, stas_ctrl_retry_pending(b));
        assert_int_equal(ctrl_set_remove(env->s, c, false, false), 0);
        ctrl_set_status(env->s, "I/O controllers", buf, sizeof buf);
        assert_string_equal(buf, "1 I/O controllers connected, 1 retrying, 1 disconnecting");
}

/* A datagram socket as the service manager's: $NOTIFY_SOCKET names it. */
static int notify_socket(char *path, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        assert_true(fd >= 0);
        snprintf(path, size, "/tmp/stas-test-notify-%d", (int) getpid());
        (void) unlink(path);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
        return fd;
}

/* The last STATUS= received, into @buf (unchanged if none came). */
static void last_status(int fd, char *buf, size_t size) {
        char m[512];
        ssize_t n;

        while ((n = recv(fd, m, sizeof m - 1, 0)) > 0) {
                char *st;
                m[n] = 0;
                st = strncmp(m, "STATUS=", 7) == 0 ? m : strstr(m, "\nSTATUS=");
                if (st) {
                        st += *st == '\n' ? 8 : 7;
                        snprintf(buf, size, "%.*s", (int) strcspn(st, "\n"), st);
                }
        }
}

/* STATUS= follows the set after loop iterations, without a message for what did not change. */
static void test_ctrl_set_notify_status(void **state) {
        Env *env = *state;
        StasCtrl *a = mk(env, 1), *b = mk(env, 2);
        char path[108], got[512] = "";
        int fd = notify_socket(path, sizeof path);

        assert_int_equal(ctrl_set_notify_status(env->s, "DCs"), 0);
        assert_int_equal(ctrl_set_start(env->s, a), 0);
        RUN_UNTIL(env->e, env->connected == 1);
        env->f.connect_result = -ECONNREFUSED;
        assert_int_equal(ctrl_set_start(env->s, b), 0);
        /* the second change comes within the minimum interval: the set's timer sends it */
        RUN_UNTIL(env->e, (last_status(fd, got, sizeof got), streq(got, "1 DCs connected, 1 retrying")));
        daemon_notify_ready(); /* "Running" again (a reload): the next iteration corrects it */
        got[0] = 0;
        last_status(fd, got, sizeof got);
        assert_string_equal(got, "Running");
        RUN_UNTIL(env->e, (last_status(fd, got, sizeof got), streq(got, "1 DCs connected, 1 retrying")));
        ctrl_set_stop(env->s, USEC_PER_SEC, NULL, NULL);
        daemon_notify_stopping();
        got[0] = 0;
        for (int i = 0; i < 3; i++)
                (void) sd_event_run(env->e, 0);
        last_status(fd, got, sizeof got);
        assert_string_equal(got, "Stopping");
        assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
        close(fd);
        (void) unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_ctrl_set_batch_one_snapshot, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_set_left_before_the_batch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_set_retry_reads_alone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_set_uevent_routing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_set_overflow_resyncs_all, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_set_stop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_set_status_text, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_set_notify_status, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
