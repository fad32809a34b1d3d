/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <ftw.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-helpers.h"
#include "stas/ctrl.h"
#include "stas/metrics.h"
#include "stas/dlp.h"
#include "stas/log.h"
#include "stas/message-ids.h"
#include "fake-ctrl-ops.h"

typedef struct Owner {
        unsigned connected, removed, change, failed, disposed, logs;
        bool stop_after; /* connect_failed() returns false from this attempt on */
        unsigned stop_at;
        uint64_t periods[32];
        unsigned n_periods;
        StasCtrl *ctrl;
} Owner;

static LogCapture logs;

/* errors and worse, and infos, since setup() */
#define N_ERRORS() log_capture_count_upto(&logs, LOG_ERR)
#define N_INFOS() log_capture_count(&logs, LOG_INFO)

static void on_connected(StasCtrl *c, void *ud) {
        ((Owner *) ud)->connected++;
}
static void on_removed(StasCtrl *c, void *ud) {
        ((Owner *) ud)->removed++;
}
static void on_change(StasCtrl *c, const StasUevent *ev, void *ud) {
        ((Owner *) ud)->change++;
}
static bool on_failed(StasCtrl *c, int r, unsigned attempt, void *ud) {
        Owner *o = ud;

        o->failed++;
        if (o->stop_at && attempt >= o->stop_at)
                return false;
        return true;
}
static void on_disposed(StasCtrl *c, void *ud) {
        ((Owner *) ud)->disposed++;
}

static const StasCtrlEvents events = {
        .connected = on_connected,
        .removed = on_removed,
        .change = on_change,
        .connect_failed = on_failed,
};

typedef struct Env {
        sd_event *e;
        Fake f;
        Owner o;
        StasTid *tid;
} Env;

static int setup(void **state) {
        Env *env = calloc(1, sizeof(Env));

        assert_non_null(env);
        assert_int_equal(sd_event_new(&env->e), 0);
        fake_init(&env->f, env->e);
        env->tid = tid_new("tcp", "192.168.1.1", "8009", NVME_DISC_WKNQN, "", "", "nqn.host");
        assert_non_null(env->tid);
        log_capture_start(&logs);
        backoff_set_seed(42);
        *state = env;
        return 0;
}

static int teardown(void **state) {
        Env *env = *state;

        stas_ctrl_free(env->o.ctrl);
        fake_done(&env->f);
        tid_free(env->tid);
        sd_event_unref(env->e);
        log_capture_stop(&logs);
        free(env);
        return 0;
}

static StasCtrl *mk(Env *env) {
        StasCtrl *c = NULL;

        assert_int_equal(
                stas_ctrl_new(env->e, &fake_ops, &env->f, env->tid, NULL, true, &events, &env->o, &c), 0);
        env->o.ctrl = c;
        env->f.ctrl = c;
        return c;
}

static const StasBackoff fast = {
        .initial_usec = 1000,
        .max_usec = 8000,
        .factor = 2.0,
        .jitter = 0.5,
};

static void test_ctrl_retry_backoff_sequence(void **state) {
        Env *env = *state;
        StasBackoff ref = fast;
        uint64_t expect[8];
        StasCtrl *c;

        /* the expected delays from the same seed */
        backoff_set_seed(7);
        for (unsigned i = 0; i < 8; i++)
                expect[i] = backoff_next(&ref);
        backoff_set_seed(7);

        env->f.auto_complete = true;
        env->f.connect_result = -EHOSTUNREACH;
        c = mk(env);
        stas_ctrl_set_backoff(c, &fast);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->f.n_connect >= 9);
        assert_int_equal(env->f.n_periods, 9);
        for (unsigned i = 0; i < 8; i++) {
                /* connect #i+2 was triggered by the retry armed after failure #i+1 */
                assert_int_equal(env->f.periods[i + 1], expect[i]);
                assert_true(expect[i] <= fast.max_usec);
        }
        /* bounded: the later delays sit in [max*(1-jitter), max] */
        assert_true(expect[7] >= fast.max_usec / 2);
        /* the first retry is quick, the first delays grow */
        assert_true(expect[0] <= fast.initial_usec);
        assert_int_equal(stas_ctrl_last_error(c), -EHOSTUNREACH);
        assert_false(stas_ctrl_connected(c));
        assert_int_equal(env->o.connected, 0);
}

static void test_ctrl_default_policy(void **state) {
        Env *env = *state;
        StasCtrl *c;

        env->f.auto_complete = true;
        env->f.connect_result = -ECONNREFUSED;
        c = mk(env);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.failed >= 1);
        /* first retry about 3 s (jitter 25 %), never more */
        assert_true(stas_ctrl_retry_pending(c));
        assert_true(stas_ctrl_retry_usec(c) <= 3 * USEC_PER_SEC);
        assert_true(stas_ctrl_retry_usec(c) >= 3 * USEC_PER_SEC * 3 / 4);
        /* the default policy is capped at 60 s */
        StasBackoff b = { STAS_CTRL_RETRY_INITIAL_USEC,
                          STAS_CTRL_RETRY_MAX_USEC,
                          STAS_CTRL_RETRY_FACTOR,
                          STAS_CTRL_RETRY_JITTER,
                          0 };
        uint64_t d = 0;
        for (unsigned i = 0; i < 20; i++)
                d = backoff_next(&b);
        assert_true(d <= 60 * USEC_PER_SEC && d >= 45 * USEC_PER_SEC);
}

static void test_ctrl_single_error_per_streak(void **state) {
        Env *env = *state;
        StasCtrl *c;
        _cleanup_(uevent_freep) StasUevent *ev = NULL;

        env->f.auto_complete = true;
        env->f.connect_result = -ETIMEDOUT;
        c = mk(env);
        stas_ctrl_set_backoff(c, &fast);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->f.n_connect >= 5);
        assert_int_equal(N_ERRORS(), 1);
        env->f.connect_result = 0;
        RUN_UNTIL(env->e, env->o.connected == 1);
        assert_int_equal(N_ERRORS(), 1);
        assert_int_equal(N_INFOS(), 1); /* "connected after N attempts" */
        assert_int_equal(stas_ctrl_attempts(c), 0);

        /* a new streak after the device goes away logs one new error */
        env->f.connect_result = -ETIMEDOUT;
        ev = fake_uevent(STAS_UEVENT_REMOVE, stas_ctrl_device(c));
        assert_true(stas_ctrl_handle_uevent(c, ev));
        unsigned n = env->f.n_connect;
        RUN_UNTIL(env->e, env->f.n_connect >= n + 4);
        assert_int_equal(N_ERRORS(), 2);
}

static void test_ctrl_adopt_existing(void **state) {
        Env *env = *state;
        StasCtrl *c;

        env->f.find_instance = 7;
        c = mk(env);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
        assert_int_equal(env->f.n_adopt, 1);
        assert_int_equal(env->f.n_connect, 0);
        assert_string_equal(stas_ctrl_device(c), "nvme7");
        /* one info line per connection, adopted or made: what the journal shows */
        assert_int_equal(N_INFOS(), 1);
        assert_int_equal(log_capture_count_has(&logs, LOG_INFO, "Connected to controller"), 1);
        assert_int_equal(log_capture_count_has(&logs, LOG_INFO, "(nvme7)"), 1);
}

/* A connect that works at once logs one info line, and nothing at error level. */
static void test_ctrl_connect_logged_once(void **state) {
        Env *env = *state;
        StasCtrl *c;

        env->f.auto_complete = true;
        c = mk(env);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
        assert_int_equal(N_ERRORS(), 0);
        assert_int_equal(N_INFOS(), 1);
        assert_int_equal(log_capture_count_has(&logs, LOG_INFO, "Connected to controller"), 1);
        /* the journal fields of the event; empty ones (host-iface) left out */
        assert_string_equal(log_capture_field(&logs, "Connected to", "MESSAGE_ID"), STAS_MESSAGE_CONNECTED);
        assert_string_equal(log_capture_field(&logs, "Connected to", "NVME_TRTYPE"), "tcp");
        assert_string_equal(log_capture_field(&logs, "Connected to", "NVME_TRADDR"), "192.168.1.1");
        assert_string_equal(log_capture_field(&logs, "Connected to", "NVME_TRSVCID"), "8009");
        assert_string_equal(log_capture_field(&logs, "Connected to", "NVME_SUBSYSNQN"), NVME_DISC_WKNQN);
        assert_string_equal(log_capture_field(&logs, "Connected to", "NVME_DEVICE"), stas_ctrl_device(c));
        assert_null(log_capture_field(&logs, "Connected to", "NVME_HOST_IFACE"));

        /* a disconnect by stas: one info line with its id */
        log_capture_clear(&logs);
        assert_int_equal(stas_ctrl_dispose(c, false, false, NULL, NULL), 0);
        RUN_UNTIL(env->e, log_capture_count_has(&logs, -1, "Disconnected from controller") == 1);
        assert_int_equal(log_capture_count_has(&logs, LOG_INFO, "Disconnected from controller"), 1);
        assert_string_equal(
                log_capture_field(&logs, "Disconnected", "MESSAGE_ID"), STAS_MESSAGE_DISCONNECTED);
}

/* the TID and its text are the controller's own copies, the same before and after a connect */
static void test_ctrl_tid_str(void **state) {
        Env *env = *state;
        _cleanup_free_ char *expect = tid_to_string(env->tid);
        StasCtrl *c;
        const char *s;

        assert_non_null(expect);
        c = mk(env);
        assert_ptr_not_equal(stas_ctrl_tid(c), env->tid);
        assert_true(tid_equal(stas_ctrl_tid(c), env->tid));
        s = stas_ctrl_tid_str(c);
        assert_string_equal(s, expect);
        assert_string_equal(s, "(tcp, 192.168.1.1, 8009, " NVME_DISC_WKNQN ")");
        env->f.auto_complete = true;
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
        assert_ptr_equal(stas_ctrl_tid_str(c), s);
}

static void test_ctrl_remove_reconnects_after_backoff(void **state) {
        Env *env = *state;
        _cleanup_(uevent_freep) StasUevent *other = NULL, *chg = NULL, *rm = NULL;
        StasCtrl *c;

        env->f.auto_complete = true;
        c = mk(env);
        stas_ctrl_set_backoff(c, &fast);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
        assert_string_equal(stas_ctrl_device(c), "nvme0");

        other = fake_uevent(STAS_UEVENT_REMOVE, "nvme9");
        assert_false(stas_ctrl_handle_uevent(c, other));
        assert_true(stas_ctrl_connected(c));

        chg = fake_uevent(STAS_UEVENT_CHANGE, "nvme0");
        assert_true(stas_ctrl_handle_uevent(c, chg));
        assert_int_equal(env->o.change, 1);

        /* a verb in flight is cancelled by the remove; its callback never runs */
        env->f.auto_complete = false;
        assert_int_equal(stas_ctrl_get_log_pages(c, 0, fake_log_cb, &env->o.logs), 0);
        assert_int_equal(stas_ctrl_get_log_pages(c, 0, fake_log_cb, &env->o.logs), -EBUSY);
        env->f.auto_complete = true;

        stas_metrics_reset();
        rm = fake_uevent(STAS_UEVENT_REMOVE, "nvme0");
        assert_true(stas_ctrl_handle_uevent(c, rm));
        assert_int_equal(env->o.removed, 1);
        assert_null(stas_ctrl_device(c));
        assert_false(stas_ctrl_connected(c));
        assert_int_equal(env->f.n_cancel, 1);
        assert_true(stas_ctrl_retry_pending(c));
        assert_true(stas_ctrl_retry_usec(c) <= fast.initial_usec);
        assert_int_equal(stas_ctrl_get_log_pages(c, 0, fake_log_cb, &env->o.logs), -ENOTCONN);

        RUN_UNTIL(env->e, env->o.connected == 2);
        assert_string_equal(stas_ctrl_device(c), "nvme1");
        assert_int_equal(env->o.logs, 0);
        /* the connection after the lost device is a reconnect (metrics) */
        assert_int_equal(stas_metrics_value("stas_reconnects_total", NULL, NULL, NULL, NULL), 1);
        /* removed by the kernel, reconnected by stas: both at info level, once each */
        assert_int_equal(log_capture_count_has(&logs, LOG_INFO, "(nvme0) was removed by the kernel."), 1);
        assert_int_equal(log_capture_count_has(&logs, LOG_INFO, "Connected to controller"), 2);
        assert_string_equal(
                log_capture_field(&logs, "was removed by the kernel", "MESSAGE_ID"),
                STAS_MESSAGE_DISCONNECTED);
        assert_string_equal(log_capture_field(&logs, "was removed by the kernel", "NVME_DEVICE"), "nvme0");
}

static void test_ctrl_dispose_waits_for_connect(void **state) {
        Env *env = *state;
        StasCtrl *c;

        env->f.registration = 1;
        c = mk(env);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->f.n_connect == 1);
        assert_true(stas_ctrl_busy(c));

        assert_int_equal(stas_ctrl_dispose(c, false, true, on_disposed, &env->o), 0);
        assert_int_equal(stas_ctrl_dispose(c, false, true, on_disposed, &env->o), -EALREADY);
        /* parked: several loop iterations, no disconnect may overtake the connect */
        for (unsigned i = 0; i < 5; i++)
                assert_true(sd_event_run(env->e, 1000) >= 0);
        assert_int_equal(env->f.n_disconnect, 0);
        assert_int_equal(env->o.disposed, 0);

        env->f.auto_complete = true;
        fake_complete(&env->f, 0); /* the connect succeeds now */
        stas_metrics_reset();
        RUN_UNTIL(env->e, env->o.disposed == 1);
        assert_string_equal(env->f.calls, "ncDd");
        assert_int_equal(env->o.connected, 0); /* the owner never hears about it */
        /* the deregistration is counted with the DIM results */
        assert_int_equal(
                stas_metrics_value("stas_dim_results_total", "operation", "deregister", "result", "success"),
                1);
}

static void test_ctrl_dispose_keep_connection(void **state) {
        Env *env = *state;
        StasCtrl *c;

        env->f.auto_complete = true;
        env->f.registration = 1;
        c = mk(env);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
        assert_int_equal(stas_ctrl_dispose(c, true, true, on_disposed, &env->o), 0);
        assert_int_equal(env->o.disposed, 0); /* never synchronous */
        RUN_UNTIL(env->e, env->o.disposed == 1);
        assert_int_equal(env->f.n_disconnect, 0);
        assert_int_equal(env->f.n_dereg, 0);
}

static void test_ctrl_dispose_no_registration_support(void **state) {
        Env *env = *state;
        StasCtrl *c;

        env->f.auto_complete = true;
        env->f.registration = 0;
        c = mk(env);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
        assert_int_equal(stas_ctrl_dispose(c, false, true, on_disposed, &env->o), 0);
        RUN_UNTIL(env->e, env->o.disposed == 1);
        assert_int_equal(env->f.n_disconnect, 1);
        assert_int_equal(env->f.n_dereg, 0);
}

static void test_ctrl_dispose_during_get_log(void **state) {
        Env *env = *state;
        StasCtrl *c;

        env->f.auto_complete = true;
        c = mk(env);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
        assert_int_equal(stas_ctrl_get_log_pages(c, 0, fake_log_cb, &env->o.logs), 0);
        RUN_UNTIL(env->e, env->o.logs == 1); /* delivered while not disposing */
        env->f.auto_complete = false;
        assert_int_equal(stas_ctrl_get_log_pages(c, 0, fake_log_cb, &env->o.logs), 0);
        assert_int_equal(stas_ctrl_dispose(c, false, false, on_disposed, &env->o), 0);
        for (unsigned i = 0; i < 3; i++)
                assert_true(sd_event_run(env->e, 1000) >= 0);
        assert_int_equal(env->f.n_disconnect, 0);
        env->f.auto_complete = true;
        fake_complete(&env->f, 0); /* log pages arrive: dropped (and freed), then disconnect */
        RUN_UNTIL(env->e, env->o.disposed == 1);
        assert_int_equal(env->o.logs, 1);
        assert_int_equal(env->f.n_disconnect, 1);
}

static void test_ctrl_stop_retrying_and_connect_now(void **state) {
        Env *env = *state;
        StasCtrl *c;

        env->f.auto_complete = true;
        env->f.connect_result = -EIO;
        env->o.stop_at = 3;
        c = mk(env);
        stas_ctrl_set_backoff(c, &fast);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.failed == 3);
        for (unsigned i = 0; i < 5; i++)
                assert_true(sd_event_run(env->e, 2000) >= 0);
        assert_int_equal(env->f.n_connect, 3);
        assert_false(stas_ctrl_retry_pending(c));

        env->o.stop_at = 0;
        env->f.connect_result = 0;
        assert_int_equal(stas_ctrl_connect_now(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
}

static void test_ctrl_info(void **state) {
        Env *env = *state;
        _cleanup_(kv_freep) StasKV *kv = kv_new();
        StasCtrl *c;

        env->f.auto_complete = true;
        env->f.connect_result = -ECONNREFUSED;
        c = mk(env);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.failed == 1);
        assert_int_equal(stas_ctrl_info(c, kv), 0);
        assert_string_equal(kv_get(kv, "connect attempts"), "1");
        assert_non_null(strstr(kv_get(kv, "retry connect timer"), "s ["));
        assert_null(strstr(kv_get(kv, "retry connect timer"), "[off]"));
        assert_non_null(strstr(kv_get(kv, "connect operation"), "'fail count': 1"));
        assert_non_null(strstr(kv_get(kv, "connect operation"), "'error'"));
}

static StasKV *info_kv(StasCtrl *c) {
        StasKV *kv = kv_new();

        assert_non_null(kv);
        assert_int_equal(stas_ctrl_info(c, kv), 0);
        return kv;
}

/* Issue 11: what an operator sees of a controller's state, its counters and its last error. */
static void test_ctrl_info_state_keys(void **state) {
        Env *env = *state;
        StasKV *kv;
        StasCtrl *c;

        env->f.auto_complete = true;
        env->f.connect_result = -ECONNREFUSED;
        c = mk(env);
        kv = info_kv(c);
        assert_string_equal(kv_get(kv, "state"), "not connected");
        assert_string_equal(kv_get(kv, "state reason"), "");
        assert_string_equal(kv_get(kv, "last error"), "");
        assert_string_equal(kv_get(kv, "last error name"), "");
        assert_string_equal(kv_get(kv, "last error time"), "");
        assert_string_equal(kv_get(kv, "connect attempts total"), "0");
        kv_free(kv);

        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.failed == 1);
        kv = info_kv(c);
        assert_string_equal(kv_get(kv, "state"), "retrying");
        assert_string_equal(kv_get(kv, "state reason"), "ECONNREFUSED");
        assert_true(atoi(kv_get(kv, "retry in")) >= 1);
        assert_string_equal(kv_get(kv, "connected since"), "");
        assert_string_equal(kv_get(kv, "connect attempts total"), "1");
        assert_string_equal(kv_get(kv, "connect failures total"), "1");
        assert_string_equal(kv_get(kv, "last error"), strerror(ECONNREFUSED));
        assert_string_equal(kv_get(kv, "last error name"), "ECONNREFUSED");
        assert_int_equal(strlen(kv_get(kv, "last error time")), 20);
        assert_int_equal(kv_get(kv, "last error time")[19], 'Z');
        kv_free(kv);

        env->f.connect_result = 0;
        assert_int_equal(stas_ctrl_connect_now(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
        kv = info_kv(c);
        assert_string_equal(kv_get(kv, "state"), "live");
        assert_string_equal(kv_get(kv, "state reason"), "");
        assert_string_equal(kv_get(kv, "retry in"), "");
        assert_int_equal(strlen(kv_get(kv, "connected since")), 20);
        assert_string_equal(kv_get(kv, "connect attempts total"), "2");
        assert_string_equal(kv_get(kv, "connect failures total"), "1");
        assert_string_equal(kv_get(kv, "last error name"), "ECONNREFUSED"); /* kept */
        kv_free(kv);
}

/* The process-wide counters (metrics.h) and their JSON families. */
static void test_ctrl_metrics(void **state) {
        Env *env = *state;
        StasCtrl *c;
        json_object *a, *f, *ss;
        bool seen_ctrls = false;

        stas_metrics_reset();
        env->f.auto_complete = true;
        env->f.connect_result = -ECONNREFUSED;
        c = mk(env);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.failed == 1);
        assert_int_equal(
                stas_metrics_value("stas_connect_failures_total", "reason", "ECONNREFUSED", NULL, NULL), 1);
        assert_int_equal(
                stas_metrics_value(
                        "stas_connect_attempts_total", "transport", stas_ctrl_tid(c)->transport, NULL, NULL),
                1);
        a = stas_metrics_json(&c, 1, false);
        assert_non_null(a);
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                f = json_object_array_get_idx(a, i);
                if (!streq(json_object_get_string(json_object_object_get(f, "name")), "stas_controllers"))
                        continue;
                assert_string_equal(json_object_get_string(json_object_object_get(f, "type")), "gauge");
                ss = json_object_object_get(f, "samples");
                assert_int_equal(json_object_array_length(ss), 1);
                f = json_object_array_get_idx(ss, 0);
                assert_string_equal(
                        json_object_get_string(
                                json_object_object_get(json_object_object_get(f, "labels"), "state")),
                        "retrying");
                assert_int_equal(json_object_get_int(json_object_object_get(f, "value")), 1);
                seen_ctrls = true;
        }
        assert_true(seen_ctrls);
        json_object_put(a);
        stas_metrics_reset();
}

/* The owner stopped the retries: "not connected", reason "disabled". */
static void test_ctrl_info_state_disabled(void **state) {
        Env *env = *state;
        _cleanup_(kv_freep) StasKV *kv = kv_new();
        char buf[64];
        const char *reason = NULL;
        StasCtrl *c;

        env->f.auto_complete = true;
        env->f.connect_result = -EIO;
        env->o.stop_at = 1;
        c = mk(env);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.failed == 1);
        assert_string_equal(stas_ctrl_state(c, &reason, buf, sizeof buf), "not connected");
        assert_string_equal(reason, "disabled");
        assert_int_equal(stas_ctrl_info(c, kv), 0);
        assert_string_equal(kv_get(kv, "state reason"), "disabled");
        assert_string_equal(kv_get(kv, "retry in"), "");
        assert_string_equal(kv_get(kv, "last error name"), "EIO");
}

static void test_ctrl_error_name(void **state) {
        char buf[64];

        (void) state;
        assert_string_equal(stas_ctrl_error_name(0, buf, sizeof buf), "");
        assert_string_equal(stas_ctrl_error_name(-ECONNREFUSED, buf, sizeof buf), "ECONNREFUSED");
        assert_string_equal(
                stas_ctrl_error_name(-(STAS_NVME_ERRNO_BASE + 17), buf, sizeof buf), "ECONNREFUSED");
        assert_string_equal(
                stas_ctrl_error_name(-(STAS_NVME_ERRNO_BASE + 2), buf, sizeof buf), "ENVME_1002");
}

static void put(const char *dir, const char *name, const char *value) {
        _cleanup_free_ char *p = NULL;
        FILE *f;

        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        f = fopen(p, "w");
        assert_non_null(f);
        fprintf(f, "%s\n", value);
        fclose(f);
}

static void rm_rf(const char *dir) {
        _cleanup_free_ char *cmd = NULL;

        assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
        assert_int_equal(system(cmd), 0);
}

static void expect_details(StasCtrl *c, const char *model, const char *dctype, const char *connected) {
        _cleanup_(kv_freep) StasKV *kv = kv_new();

        assert_int_equal(stas_ctrl_sysfs_details(c, kv), 0);
        assert_string_equal(kv_get(kv, "model"), model);
        assert_string_equal(kv_get(kv, "dctype"), dctype);
        assert_string_equal(kv_get(kv, "connected"), connected);
        assert_non_null(kv_get(kv, "hostid"));
        assert_non_null(kv_get(kv, "hostnqn"));
        assert_non_null(kv_get(kv, "serial"));
        assert_non_null(kv_get(kv, "cntrltype"));
}

/*
 * The detailed keys come from memory: sysfs is read by the backend's details() once when the
 * controller is adopted and again on a "change" uevent, never when they are asked for; a removed
 * device empties them.
 */
static void test_ctrl_sysfs_details(void **state) {
        Env *env = *state;
        _cleanup_(kv_freep) StasKV *before = kv_new(), *kv = kv_new();
        char root[] = "/tmp/stas-ctrl-sysfs-XXXXXX";
        _cleanup_free_ char *dir = NULL, *cmd = NULL;
        StasUevent *ev;
        StasCtrl *c;

        assert_non_null(mkdtemp(root));
        assert_true(asprintf(&dir, "%s/sys/class/nvme/nvme7", root) > 0);
        assert_true(asprintf(&cmd, "mkdir -p %s", dir) > 0);
        assert_int_equal(system(cmd), 0);
        put(dir, "hostid", "0f6a8f5e-0000-4000-8000-000000000001");
        put(dir, "hostnqn", "nqn.host");
        put(dir, "model", "Linux");
        put(dir, "serial", "abc123");
        put(dir, "cntrltype", "discovery");
        put(dir, "dctype", "cdc");
        put(dir, "address", "traddr=192.168.1.1,trsvcid=8009");
        put(dir, "transport", "tcp");
        put(dir, "state", "live");
        put(dir, "subsysnqn", NVME_DISC_WKNQN);
        put(dir, "uevent", "MAJOR=239\nMINOR=7\nDEVNAME=nvme7");
        env->f.sysfs_root = root;

        /* no device yet: every key present and empty, not connected, nothing read */
        c = mk(env);
        assert_int_equal(stas_ctrl_sysfs_details(c, before), 0);
        assert_string_equal(kv_get(before, "hostid"), "");
        assert_string_equal(kv_get(before, "dctype"), "");
        assert_string_equal(kv_get(before, "connected"), "False");
        assert_int_equal(env->f.n_details, 0);

        env->f.find_instance = 7;
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
        assert_int_equal(env->f.n_details, 1); /* read once, at adopt */
        assert_int_equal(stas_ctrl_sysfs_details(c, kv), 0);
        assert_string_equal(kv_get(kv, "hostid"), "0f6a8f5e-0000-4000-8000-000000000001");
        assert_string_equal(kv_get(kv, "hostnqn"), "nqn.host");
        assert_string_equal(kv_get(kv, "model"), "Linux");
        assert_string_equal(kv_get(kv, "serial"), "abc123");
        assert_string_equal(kv_get(kv, "dctype"), "cdc");
        assert_string_equal(kv_get(kv, "cntrltype"), "discovery");
        assert_string_equal(kv_get(kv, "connected"), "True");

        /* asking again (as every list_controllers(true) does) reads nothing */
        put(dir, "model", "Changed");
        for (int i = 0; i < 100; i++)
                expect_details(c, "Linux", "cdc", "True");
        assert_int_equal(env->f.n_details, 1);

        /* a change uevent refreshes them */
        ev = fake_uevent(STAS_UEVENT_CHANGE, "nvme7");
        assert_true(stas_ctrl_handle_uevent(c, ev));
        uevent_free(ev);
        assert_int_equal(env->f.n_details, 2);
        expect_details(c, "Changed", "cdc", "True");

        /* sysfs unreadable (a file where the directory was), the values are served from memory */
        rm_rf(dir);
        free(cmd);
        assert_true(asprintf(&cmd, "%s/sys/class/nvme", root) > 0);
        put(cmd, "nvme7", "not a directory");
        expect_details(c, "Changed", "cdc", "True");
        assert_int_equal(env->f.n_details, 2);

        /* a refresh that fails without saying the device is gone keeps what was known */
        ev = fake_uevent(STAS_UEVENT_CHANGE, "nvme7");
        assert_true(stas_ctrl_handle_uevent(c, ev));
        uevent_free(ev);
        assert_int_equal(env->f.n_details, 3);
        expect_details(c, "Changed", "cdc", "True");
        assert_int_equal(env->o.change, 2);

        /*
         * the device gone from sysfs: a change event under its name cannot be ours (its remove
         * event was lost, or is still to come): removed, empty, not connected, no change()
         */
        rm_rf(root);
        ev = fake_uevent(STAS_UEVENT_CHANGE, "nvme7");
        assert_false(stas_ctrl_handle_uevent(c, ev));
        uevent_free(ev);
        assert_int_equal(env->f.n_details, 4);
        assert_int_equal(env->o.change, 2);
        assert_int_equal(env->o.removed, 1);
        expect_details(c, "", "", "False");
        assert_true(stas_ctrl_retry_pending(c));
        env->f.sysfs_root = NULL;
}

/* ---- device identity: lost remove events, reused names (stas_ctrl_resync(), add/change) ---- */

/* nvme<instance> under @root, with the attributes that identify it. Returns its directory. */
static char *mk_dev(
        const char *root, int instance, const char *traddr, const char *nqn, const char *cntlid) {
        _cleanup_free_ char *cmd = NULL, *address = NULL;
        char *dir = NULL;

        assert_true(asprintf(&dir, "%s/sys/class/nvme/nvme%d", root, instance) > 0);
        assert_true(asprintf(&cmd, "mkdir -p %s", dir) > 0);
        assert_int_equal(system(cmd), 0);
        assert_true(asprintf(&address, "traddr=%s,trsvcid=8009,src_addr=192.168.1.10", traddr) > 0);
        put(dir, "transport", "tcp");
        put(dir, "address", address);
        put(dir, "subsysnqn", nqn);
        put(dir, "cntlid", cntlid);
        put(dir, "state", "live");
        return dir;
}

static StasCtrl *mk_adopted(Env *env, const char *root, int instance) {
        StasCtrl *c;

        env->f.sysfs_root = root;
        env->f.find_instance = instance;
        env->f.auto_complete = true;
        c = mk(env);
        stas_ctrl_set_backoff(c, &fast);
        assert_int_equal(stas_ctrl_start(c), 0);
        RUN_UNTIL(env->e, env->o.connected == 1);
        env->f.find_instance = -1; /* from now on a reconnect connects anew (nvme0, nvme1...) */
        return c;
}

/* After lost events: a device gone from sysfs is handled as removed, and reconnected. */
static void test_ctrl_resync_device_gone(void **state) {
        Env *env = *state;
        char root[] = "/tmp/stas-ctrl-resync-XXXXXX";
        _cleanup_free_ char *dir = NULL, *dir0 = NULL;
        StasCtrl *c;

        assert_non_null(mkdtemp(root));
        dir = mk_dev(root, 7, "192.168.1.1", NVME_DISC_WKNQN, "1");
        dir0 = mk_dev(root, 0, "192.168.1.1", NVME_DISC_WKNQN, "2");
        c = mk_adopted(env, root, 7);
        assert_string_equal(stas_ctrl_device(c), "nvme7");

        /* the same device: nothing happens, whatever else changed on it */
        put(dir, "address", "traddr=192.168.1.1,trsvcid=8009");
        put(dir, "state", "connecting");
        assert_int_equal(stas_ctrl_resync(c), 0);
        assert_string_equal(stas_ctrl_device(c), "nvme7");
        /* sysfs unreadable for the backend: no means to tell, nothing happens */
        env->f.sysfs_root = NULL;
        assert_int_equal(stas_ctrl_resync(c), 0);
        assert_true(stas_ctrl_connected(c));
        env->f.sysfs_root = root;
        assert_int_equal(env->o.removed, 0);

        /* its remove event was lost */
        rm_rf(dir);
        assert_int_equal(stas_ctrl_resync(c), 1);
        assert_int_equal(env->o.removed, 1); /* the owner hears it at once, as for a remove event */
        assert_false(stas_ctrl_connected(c));
        assert_null(stas_ctrl_device(c));
        assert_true(stas_ctrl_retry_pending(c));
        assert_int_equal(stas_ctrl_resync(c), 0); /* no device: nothing to check */
        RUN_UNTIL(env->e, env->o.connected == 2);
        assert_string_equal(stas_ctrl_device(c), "nvme0");
        assert_int_equal(env->f.n_connect, 1);
        assert_int_equal(env->o.removed, 1);
        env->f.sysfs_root = NULL;
        rm_rf(root);
}

/*
 * The kernel gave the name to another controller: that device is not taken for ours (ours is
 * removed and connected anew); the same target connected anew (a new cntlid) is a new device too.
 */
static void test_ctrl_resync_reused_name(void **state) {
        Env *env = *state;
        char root[] = "/tmp/stas-ctrl-reuse-XXXXXX";
        _cleanup_free_ char *dir = NULL, *other = NULL, *dir0 = NULL;
        StasCtrl *c;

        assert_non_null(mkdtemp(root));
        dir = mk_dev(root, 7, "192.168.1.1", NVME_DISC_WKNQN, "1");
        c = mk_adopted(env, root, 7);

        rm_rf(dir);
        other = mk_dev(root, 7, "192.168.1.99", "nqn.2024-01.io.stas.test:other", "1");
        dir0 = mk_dev(root, 0, "192.168.1.1", NVME_DISC_WKNQN, "3");
        assert_int_equal(stas_ctrl_resync(c), 1);
        assert_int_equal(env->o.removed, 1);
        assert_null(stas_ctrl_device(c));
        RUN_UNTIL(env->e, env->o.connected == 2);
        assert_string_equal(stas_ctrl_device(c), "nvme0");
        assert_int_equal(env->f.n_adopt, 1); /* nvme7 was never adopted again */

        /* nvme0 now holds a new association of the same target */
        put(dir0, "cntlid", "4");
        assert_int_equal(stas_ctrl_resync(c), 1);
        assert_int_equal(env->o.removed, 2);
        env->f.sysfs_root = NULL;
        rm_rf(root);
}

static StasUevent *uevent_for(const char *action, const char *sysname, const char *extra) {
        char a[32], n[32];
        char *props[] = { a, (char *) "SUBSYSTEM=nvme", n, (char *) extra, NULL };
        StasUevent *ev = NULL;

        snprintf(a, sizeof a, "ACTION=%s", action);
        snprintf(n, sizeof n, "SYSNAME=%s", sysname);
        assert_int_equal(uevent_parse(props, &ev), 0);
        return ev;
}

/*
 * add and change events under our name are checked against the device we connected to: our own
 * connect's add and the kernel's reconnect (NVME_EVENT=connected, a new cntlid) are ours; an
 * event of another controller under the reused name is not, and ours is handled as removed.
 */
static void test_ctrl_uevent_under_reused_name(void **state) {
        Env *env = *state;
        char root[] = "/tmp/stas-ctrl-uevent-XXXXXX";
        _cleanup_free_ char *dir = NULL, *other = NULL, *dir0 = NULL, *other0 = NULL;
        StasUevent *ev;
        StasCtrl *c;

        assert_non_null(mkdtemp(root));
        dir = mk_dev(root, 7, "192.168.1.1", NVME_DISC_WKNQN, "1");
        c = mk_adopted(env, root, 7);

        ev = uevent_for("add", "nvme7", NULL);
        assert_true(stas_ctrl_handle_uevent(c, ev));
        uevent_free(ev);
        assert_true(stas_ctrl_connected(c));

        put(dir, "cntlid", "2");
        ev = uevent_for("change", "nvme7", "NVME_EVENT=connected");
        assert_true(stas_ctrl_handle_uevent(c, ev));
        uevent_free(ev);
        assert_int_equal(env->o.change, 1);
        assert_int_equal(stas_ctrl_resync(c), 0); /* cntlid 2 is the device's now */

        rm_rf(dir);
        other = mk_dev(root, 7, "192.168.1.99", "nqn.2024-01.io.stas.test:other", "1");
        ev = uevent_for("change", "nvme7", "NVME_AEN=0x70f002");
        assert_false(stas_ctrl_handle_uevent(c, ev));
        uevent_free(ev);
        assert_int_equal(env->o.change, 1); /* the other controller's AEN is not ours */
        assert_int_equal(env->o.removed, 1);
        assert_false(stas_ctrl_connected(c));

        dir0 = mk_dev(root, 0, "192.168.1.1", NVME_DISC_WKNQN, "5");
        RUN_UNTIL(env->e, env->o.connected == 2);
        assert_string_equal(stas_ctrl_device(c), "nvme0");
        rm_rf(dir0);
        other0 = mk_dev(root, 0, "192.168.1.98", "nqn.2024-01.io.stas.test:other2", "5");
        ev = uevent_for("add", "nvme0", NULL);
        assert_false(stas_ctrl_handle_uevent(c, ev));
        uevent_free(ev);
        assert_int_equal(env->o.removed, 2);
        assert_false(stas_ctrl_connected(c));
        env->f.sysfs_root = NULL;
        rm_rf(root);
}

/* A disposing controller whose device is gone goes on with its dispose, from the loop. */
static void test_ctrl_resync_while_disposing(void **state) {
        Env *env = *state;
        char root[] = "/tmp/stas-ctrl-dispose-XXXXXX";
        _cleanup_free_ char *dir = NULL;
        StasCtrl *c;

        assert_non_null(mkdtemp(root));
        dir = mk_dev(root, 7, "192.168.1.1", NVME_DISC_WKNQN, "1");
        env->f.registration = 1;
        c = mk_adopted(env, root, 7);
        env->f.auto_complete = false;
        assert_int_equal(stas_ctrl_get_log_pages(c, 0, fake_log_cb, &env->o.logs), 0);
        assert_int_equal(stas_ctrl_dispose(c, false, true, on_disposed, &env->o), 0);
        for (unsigned i = 0; i < 3; i++)
                assert_true(sd_event_run(env->e, 1000) >= 0);
        assert_int_equal(env->o.disposed, 0); /* parked behind the log read */

        rm_rf(dir);
        assert_int_equal(stas_ctrl_resync(c), 1);
        assert_int_equal(env->o.disposed, 0); /* never from inside the call */
        assert_int_equal(env->f.n_cancel, 1);
        env->f.auto_complete = true;
        RUN_UNTIL(env->e, env->o.disposed == 1);
        assert_int_equal(env->f.n_disconnect, 0); /* nothing left to disconnect or deregister */
        assert_int_equal(env->f.n_dereg, 0);
        assert_int_equal(env->o.removed, 0); /* no owner callback while disposing */
        assert_int_equal(env->o.logs, 0);
        env->f.sysfs_root = NULL;
        rm_rf(root);
}

/* What an owner would keep: every key of info() and sysfs_details(), device and state. */
static char *snapshot(StasCtrl *c) {
        _cleanup_(kv_freep) StasKV *kv = kv_new();
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);

        assert_non_null(f);
        assert_int_equal(stas_ctrl_info(c, kv), 0);
        assert_int_equal(stas_ctrl_sysfs_details(c, kv), 0);
        fprintf(f, "device=%s connected=%d;", strempty(stas_ctrl_device(c)), stas_ctrl_connected(c));
        KV_FOREACH(i, kv) {
                fprintf(f, "%s=%s;", kv->keys[i], kv->values[i]);
        }
        assert_int_equal(fclose(f), 0);
        return s;
}

/*
 * stas_ctrl_generation(): whenever it is unchanged and no retry is pending, what the controller
 * reports is unchanged too (so an owner may keep what it built), and reading never changes it.
 * Checked after every loop iteration of failing connects, success, change, remove, reconnect.
 */
static void test_ctrl_generation(void **state) {
        Env *env = *state;
        _cleanup_free_ char *kept = NULL, *dir = NULL, *cmd = NULL;
        char root[] = "/tmp/stas-ctrl-gen-XXXXXX";
        uint64_t kept_gen = 0, changes = 0, last = 0;
        StasUevent *ev;
        StasCtrl *c;

        /* the device the first successful connect gets (nvme0), with sysfs attributes */
        assert_non_null(mkdtemp(root));
        assert_true(asprintf(&dir, "%s/sys/class/nvme/nvme0", root) > 0);
        assert_true(asprintf(&cmd, "mkdir -p %s", dir) > 0);
        assert_int_equal(system(cmd), 0);
        put(dir, "model", "Before");
        put(dir, "transport", "tcp");
        put(dir, "address", "traddr=192.168.1.1,trsvcid=8009");
        env->f.sysfs_root = root;

        env->f.auto_complete = true;
        env->f.connect_result = -ECONNREFUSED;
        c = mk(env);
        stas_ctrl_set_backoff(c, &fast);
        assert_int_equal(stas_ctrl_start(c), 0);
        for (unsigned i = 0; i < 400 && env->o.connected < 2; i++) {
                uint64_t g = stas_ctrl_generation(c);

                changes += g != last;
                last = g;
                if (!stas_ctrl_retry_pending(c)) {
                        _cleanup_free_ char *now = snapshot(c);

                        for (int k = 0; k < 3; k++) /* reading does not count as a change */
                                free(snapshot(c));
                        assert_true(stas_ctrl_generation(c) == g);
                        if (kept && kept_gen == g)
                                assert_string_equal(now, kept);
                        free(kept);
                        kept = TAKE_PTR(now);
                        kept_gen = g;
                }
                if (env->f.n_connect == 4)
                        env->f.connect_result = 0;
                if (env->o.connected == 1 && env->o.change == 0) {
                        /* a change of the attributes, seen through a change uevent */
                        put(dir, "model", "After");
                        ev = fake_uevent(STAS_UEVENT_CHANGE, stas_ctrl_device(c));
                        assert_true(stas_ctrl_handle_uevent(c, ev));
                        uevent_free(ev);
                        assert_true(stas_ctrl_generation(c) != kept_gen);
                } else if (
                        env->o.connected == 1 && env->o.change == 1 && kept && strstr(kept, "model=After")) {
                        ev = fake_uevent(STAS_UEVENT_REMOVE, stas_ctrl_device(c));
                        assert_true(stas_ctrl_handle_uevent(c, ev));
                        uevent_free(ev);
                        env->o.change++;
                }
                assert_true(sd_event_run(env->e, 5 * USEC_PER_SEC) >= 0);
        }
        assert_int_equal(env->o.connected, 2);
        assert_true(changes >= 8);
        env->f.sysfs_root = NULL;
        rm_rf(root);
}

static void test_ctrl_secret_key(void **state) {
        assert_true(stas_secret_key("dhchap-secret"));
        assert_true(stas_secret_key("dhchap-ctrl-secret"));
        assert_true(stas_secret_key("dhchap-secret-file"));
        assert_true(stas_secret_key("dhchap-ctrl-secret-file"));
        assert_false(stas_secret_key("dhchap"));
        assert_false(stas_secret_key("host-nqn"));
        assert_false(stas_secret_key(""));
        assert_false(stas_secret_key(NULL));
}

/* ---- the nvme backend's find(): one sysfs snapshot per loop iteration ---- */

static void add_ioc(const char *root) {
        char p[512];
        FILE *f;

        snprintf(p, sizeof(p), "%s/sys/class/nvme/nvme7", root);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/sys/class/nvme/nvme7/uevent", root);
        f = fopen(p, "w");
        assert_non_null(f);
        fputs("DEVNAME=nvme7\nNVME_TRTYPE=tcp\nNVME_TRADDR=192.0.2.5\nNVME_TRSVCID=4420\n"
              "NVME_HOST_TRADDR=none\nNVME_HOST_IFACE=none\n",
              f);
        fclose(f);
        snprintf(p, sizeof(p), "%s/sys/class/nvme/nvme7/subsysnqn", root);
        f = fopen(p, "w");
        fputs("nqn.io\n", f);
        fclose(f);
        snprintf(p, sizeof(p), "%s/sys/class/nvme/nvme7/hostnqn", root);
        f = fopen(p, "w");
        fputs("nqn.host\n", f);
        fclose(f);
        snprintf(p, sizeof(p), "%s/sys/class/nvme/nvme7/cntrltype", root);
        f = fopen(p, "w");
        fputs("io\n", f);
        fclose(f);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
        return remove(path);
}

/* find() looks in the snapshot it is given, never in one it kept; without one, it reads sysfs. */
static void test_ctrl_find_in_explicit_snapshot(void **state) {
        char root[] = "/tmp/stas-test-ctrl-XXXXXX", p[512];
        _cleanup_(tid_freep) StasTid *tid =
                tid_new("tcp", "192.0.2.5", "4420", "nqn.io", "", "", "nqn.host");
        StasCtrlNvmeCtx x = {};
        void *before = NULL, *after = NULL;
        int instance = -1;

        assert_non_null(mkdtemp(root));
        snprintf(p, sizeof(p), "%s/sys", root);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/sys/class", root);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/sys/class/nvme", root);
        assert_int_equal(mkdir(p, 0755), 0);
        x = (StasCtrlNvmeCtx){ .sysfs_root = root };

        assert_int_equal(stas_ctrl_nvme_ops.snapshot(&x, &before), 0);
        assert_non_null(before);
        assert_int_equal(stas_ctrl_nvme_ops.find(&x, before, tid, false, &instance), 0);
        add_ioc(root);
        /* the snapshot is what the kernel had when it was taken */
        assert_int_equal(stas_ctrl_nvme_ops.find(&x, before, tid, false, &instance), 0);
        /* no snapshot: this call reads sysfs itself */
        assert_int_equal(stas_ctrl_nvme_ops.find(&x, NULL, tid, false, &instance), 1);
        assert_int_equal(instance, 7);
        /* a new snapshot sees it; a DC lookup does not take an I/O controller */
        instance = -1;
        assert_int_equal(stas_ctrl_nvme_ops.snapshot(&x, &after), 0);
        assert_int_equal(stas_ctrl_nvme_ops.find(&x, after, tid, false, &instance), 1);
        assert_int_equal(instance, 7);
        assert_int_equal(stas_ctrl_nvme_ops.find(&x, after, tid, true, &instance), 0);
        stas_ctrl_nvme_ops.snapshot_free(before);
        stas_ctrl_nvme_ops.snapshot_free(after);
        assert_int_equal(nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_ctrl_retry_backoff_sequence, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_default_policy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_single_error_per_streak, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_adopt_existing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_connect_logged_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_tid_str, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_remove_reconnects_after_backoff, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_dispose_waits_for_connect, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_dispose_keep_connection, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_dispose_no_registration_support, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_dispose_during_get_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_stop_retrying_and_connect_now, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_info_state_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_info_state_disabled, setup, teardown),
                cmocka_unit_test(test_ctrl_error_name),
                cmocka_unit_test_setup_teardown(test_ctrl_metrics, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_info, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_sysfs_details, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_generation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_resync_device_gone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_resync_reused_name, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_uevent_under_reused_name, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ctrl_resync_while_disposing, setup, teardown),
                cmocka_unit_test(test_ctrl_secret_key),
                cmocka_unit_test(test_ctrl_find_in_explicit_snapshot),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
