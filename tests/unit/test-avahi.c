/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <avahi-client/client.h>
#include <systemd/sd-bus.h>

#include "test-helpers.h"
#include "private-bus.h"
#include "avahi-thread.h"
#include "avahi.h"
#include "stas/json-util.h"
#include "stas/log.h"
#include "stas/strv.h"
#include "stas/tid.h"

static AvahiStringList *txt_of(const char *const *entries, const size_t *sizes, size_t n) {
        AvahiStringList *l = NULL;

        for (size_t i = 0; i < n; i++)
                l = avahi_string_list_add_arbitrary(
                        l, (const uint8_t *) entries[i], sizes ? sizes[i] : strlen(entries[i]));
        return l;
}

static StasKV *parse(const char *const *entries, const size_t *sizes, size_t n) {
        AvahiStringList *l = txt_of(entries, sizes, n);
        StasKV *kv = NULL;

        assert_int_equal(zc_txt_parse(l, &kv), 0);
        avahi_string_list_free(l);
        return kv;
}

static void test_avahi_txt_case_folding_and_order(void **state) {
        const char *e[] = { "P=tcp", "NQN=nqn.2014-08.com.Example:Disc", "Vendor=Acme" };
        _cleanup_(kv_freep) StasKV *kv = parse(e, NULL, ELEMENTSOF(e));

        assert_int_equal(kv->n, 3);
        /* keys folded, values untouched, record order kept */
        assert_string_equal(kv->keys[0], "p");
        assert_string_equal(kv->keys[1], "nqn");
        assert_string_equal(kv->keys[2], "vendor");
        assert_string_equal(kv_get(kv, "nqn"), "nqn.2014-08.com.Example:Disc");
        assert_string_equal(kv_get(kv, "vendor"), "Acme");
}

static void test_avahi_txt_rejects_bad_entries(void **state) {
        const char *e[] = {
                "noequals",    /* no '=' */
                "a=b=c",       /* more than one '=' */
                "=value",      /* empty key */
                "tab=\tx",     /* control character */
                "nul=a\0b",    /* embedded NUL */
                "hi=\xc3\xa9", /* not ASCII */
                "del=\x7f",    /* DEL */
                "ok=",         /* empty value is fine */
                "p=rdma",
        };
        size_t sizes[ELEMENTSOF(e)];
        _cleanup_(kv_freep) StasKV *kv = NULL;

        for (size_t i = 0; i < ELEMENTSOF(e); i++)
                sizes[i] = strlen(e[i]);
        sizes[4] = 7; /* "nul=a\0b" */
        kv = parse(e, sizes, ELEMENTSOF(e));
        assert_int_equal(kv->n, 2);
        assert_string_equal(kv_get(kv, "ok"), "");
        assert_string_equal(kv_get(kv, "p"), "rdma");
        assert_null(kv_get(kv, "a"));
        assert_null(kv_get(kv, "nul"));
        assert_null(kv_get(kv, "tab"));
}

static void test_avahi_txt_empty_and_duplicates(void **state) {
        const char *e[] = { "p=tcp", "P=roce" };
        _cleanup_(kv_freep) StasKV *none = NULL, *dup = NULL;

        assert_int_equal(zc_txt_parse(NULL, &none), 0);
        assert_int_equal(none->n, 0);
        dup = parse(e, NULL, ELEMENTSOF(e));
        assert_int_equal(dup->n, 1);
        assert_string_equal(kv_get(dup, "p"), "roce"); /* last one wins */
}

static void test_avahi_proto_mapping(void **state) {
        assert_string_equal(zc_proto_to_transport("tcp"), "tcp");
        assert_string_equal(zc_proto_to_transport(" TCP "), "tcp");
        assert_string_equal(zc_proto_to_transport("roce"), "rdma");
        assert_string_equal(zc_proto_to_transport("iWARP"), "rdma");
        assert_string_equal(zc_proto_to_transport("rdma"), "rdma");
        assert_null(zc_proto_to_transport("udp"));
        assert_null(zc_proto_to_transport("fc"));
        assert_null(zc_proto_to_transport(""));
        assert_null(zc_proto_to_transport(NULL));
}

static StasKV *txt2(const char *k1, const char *v1, const char *k2, const char *v2) {
        StasKV *kv = kv_new();

        assert_non_null(kv);
        if (k1)
                assert_int_equal(kv_set(kv, k1, v1), 0);
        if (k2)
                assert_int_equal(kv_set(kv, k2, v2), 0);
        return kv;
}

static void test_avahi_record_tcp_and_nqn_rule(void **state) {
        _cleanup_(kv_freep) StasKV *txt = txt2("p", "tcp", "nqn", " nqn.2014-08.com.example:dc "),
                                   *with = NULL, *without = NULL;

        assert_int_equal(zc_record_new(txt, "192.168.1.20", 8009, "eth0", true, &with), 0);
        assert_int_equal(with->n, 5);
        assert_string_equal(with->keys[0], "transport");
        assert_string_equal(kv_get(with, "transport"), "tcp");
        assert_string_equal(kv_get(with, "traddr"), "192.168.1.20");
        assert_string_equal(kv_get(with, "trsvcid"), "8009");
        assert_string_equal(kv_get(with, "host-iface"), "eth0");
        assert_string_equal(kv_get(with, "subsysnqn"), "nqn.2014-08.com.example:dc");

        /* without kernel "discovery" support the nqn= value is ignored */
        assert_int_equal(zc_record_new(txt, "192.168.1.20", 8009, "eth0", false, &without), 0);
        assert_string_equal(kv_get(without, "subsysnqn"), NVME_DISC_WKNQN);
}

static void test_avahi_record_rdma_and_default_nqn(void **state) {
        _cleanup_(kv_freep) StasKV *txt = txt2("p", "roce", NULL, NULL), *rec = NULL;

        assert_int_equal(zc_record_new(txt, "fe80::1", 4420, "ib0", true, &rec), 0);
        assert_string_equal(kv_get(rec, "transport"), "rdma");
        assert_string_equal(kv_get(rec, "host-iface"), ""); /* host-iface is for tcp only */
        assert_string_equal(kv_get(rec, "subsysnqn"), NVME_DISC_WKNQN);
}

static void test_avahi_record_bad_protocol(void **state) {
        _cleanup_(kv_freep) StasKV *missing = txt2("nqn", "nqn.x", NULL, NULL),
                                   *bad = txt2("p", "udp", NULL, NULL);
        StasKV *rec = NULL;

        assert_int_equal(zc_record_new(missing, "1.1.1.1", 8009, "eth0", true, &rec), -EPROTO);
        assert_int_equal(zc_record_new(bad, "1.1.1.1", 8009, "eth0", true, &rec), -EPROTO);
        assert_null(rec);
}

/* anyone on the link can announce: every record field that reaches a connect string is checked */
static void test_avahi_record_refuses_injection(void **state) {
        _cleanup_(kv_freep)
                StasKV *evil_nqn = txt2("p", "tcp", "nqn", "nqn.2024-01.io.evil:x,host_traddr=203.0.113.9"),
                       *ok = txt2("p", "tcp", NULL, NULL);
        const char *field = NULL;
        StasKV *rec = NULL;

        assert_int_equal(zc_record_new_ex(evil_nqn, "1.1.1.1", 8009, "eth0", true, &rec, &field), -EINVAL);
        assert_string_equal(field, "subsysnqn");
        assert_int_equal(
                zc_record_new_ex(ok, "1.1.1.1,host_iface=x", 8009, "eth0", true, &rec, &field), -EINVAL);
        assert_string_equal(field, "traddr");
        assert_int_equal(zc_record_new_ex(ok, "myhost.local", 8009, "eth0", true, &rec, &field), -EINVAL);
        assert_string_equal(field, "traddr");
        assert_int_equal(zc_record_new_ex(ok, "1.1.1.1", 0, "eth0", true, &rec, &field), -EINVAL);
        assert_string_equal(field, "trsvcid");
        assert_int_equal(
                zc_record_new_ex(ok, "1.1.1.1", 8009, "evil0,duplicate_connect", true, &rec, &field),
                -EINVAL);
        assert_string_equal(field, "host-iface");
        assert_int_equal(zc_record_new_ex(ok, "1.1.1.1", 8009, "7", true, &rec, &field), 0);
        kv_free(rec);
        rec = NULL;
        assert_int_equal(zc_record_new_ex(ok, "fe80::1%eth0", 8009, "eth0", true, &rec, &field), 0);
        assert_null(field);
        kv_free(rec);
}

static void test_avahi_retry_backoff_sequence(void **state) {
        const uint64_t expect[] = { 5, 10, 30, 60, 300, 600, 600, 600 };

        for (unsigned i = 0; i < ELEMENTSOF(expect); i++)
                assert_int_equal(zc_retry_delay_usec(i + 1), expect[i] * UINT64_C(1000000));
        assert_int_equal(zc_retry_delay_usec(1000), 600 * UINT64_C(1000000));
        assert_int_equal(zc_retry_delay_usec(0), 5 * UINT64_C(1000000));
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* How many times @text is in @logs. */
static unsigned count_of(const LogCapture *logs, const char *text) {
        unsigned n = 0;

        for (const char *p = strstr(logs->text, text); p; p = strstr(p + 1, text))
                n++;
        return n;
}

/* Run @event until @logs holds @n lines with @text (at most 10 s); the avahi thread answers there. */
static bool run_until_logged(sd_event *event, LogCapture *logs, const char *text, unsigned n) {
        uint64_t deadline = now_usec() + 10 * UINT64_C(1000000);

        while (now_usec() < deadline) {
                if (count_of(logs, text) >= n)
                        return true;
                (void) sd_event_run(event, 100 * 1000);
        }
        return false;
}

/*
 * One private bus for the whole file: libdbus (inside avahi-client) reads
 * DBUS_SYSTEM_BUS_ADDRESS once per process.
 */
static PrivateBus pb;

static int bus_setup(void **state) {
        if (private_bus_start(&pb) < 0)
                return -1;
        setenv("DBUS_SYSTEM_BUS_ADDRESS", pb.address, 1);
        return 0;
}

static int bus_teardown(void **state) {
        unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
        private_bus_stop(&pb);
        return 0;
}

static unsigned changes;
static void on_change(StasZeroconf *z, void *userdata) {
        changes++;
}

/* On a bus without avahi-daemon the browser waits (NO_FAIL), warns once, and reports nothing. */
static void test_avahi_no_daemon_on_bus(void **state) {
        sd_event *event = NULL;
        StasZeroconf *z = NULL;
        _cleanup_(kvv_freep) StasKV **ctrls = NULL;
        _cleanup_json_ json_object *info = NULL;
        _cleanup_free_ char *text = NULL;
        char *types[] = { (char *) ZC_STYPE_TCP, (char *) ZC_STYPE_UDP, (char *) ZC_STYPE_TCP, NULL };
        char *warning = NULL;
        LogCapture logs;
        bool ok;

        log_capture_start_at(&logs, log_get_max_level());
        changes = 0;

        ok = sd_event_new(&event) >= 0 && zc_new(event, true, on_change, NULL, &z) >= 0 &&
                zc_set_service_types(z, types) >= 0;
        if (ok) {
                /* the avahi thread's client reports CONNECTING through the event queue */
                ok = run_until_logged(event, &logs, "not available", 1);
                for (int i = 0; i < 5; i++)
                        (void) sd_event_run(event, 10 * 1000);
                ok = ok && zc_get_controllers(z, &ctrls) >= 0 && !zc_is_available(z);
                info = zc_info(z);
        }
        if (info)
                (void) json_to_string_dup(info, JSON_FORMAT_COMPACT, &text);
        warning = strdup(logs.text);

        /* disabling while waiting must be clean too */
        if (z)
                (void) zc_set_service_types(z, NULL);
        zc_free(z);
        sd_event_unref(event);
        log_capture_stop(&logs);

        assert_true(ok);
        assert_non_null(warning);
        assert_non_null(strstr(warning, "<4>avahi-daemon not available, zeroconf not supported."));
        /* logged once, not once per state callback */
        assert_null(strstr(strstr(warning, "not available") + 1, "not available"));
        free(warning);
        assert_int_equal(kvv_length(ctrls), 0);
        assert_int_equal(changes, 0);
        assert_non_null(text);
        assert_string_equal(
                text,
                "{\"avahi wake up timer\":\"60.0s [off]\",\"service types\":[\"_nvme-disc._tcp\","
                "\"_nvme-disc._udp\"],\"services\":{}}");
}

/* The thread hand-off itself: commands wake the avahi thread, its events wake the loop's fd. */
static void test_avahi_thread_hand_off(void **state) {
        ZcThread *t = NULL;
        char *tcp[] = { (char *) ZC_STYPE_TCP, NULL }, *none[] = { NULL };
        uint64_t ids[] = { 7 };
        struct pollfd pfd = { .events = POLLIN };
        ZcEvent *ev[2] = {};
        bool idle, drained, freed;

        assert_int_equal(zc_thread_new(&t), 0);
        pfd.fd = zc_thread_event_fd(t);
        idle = poll(&pfd, 1, 0) == 0 && !zc_thread_take_events(t);

        /* a type to browse: the thread makes a client, which waits for avahi-daemon (NO_FAIL) */
        assert_int_equal(zc_thread_set_types(t, tcp, ids, 3), 0);
        if (poll(&pfd, 1, 10000) == 1)
                ev[0] = zc_thread_take_events(t);
        drained = poll(&pfd, 1, 0) == 0;
        /* none: the client goes; a type again: a new client, its events under the new epoch */
        assert_int_equal(zc_thread_set_types(t, none, ids, 4), 0);
        assert_int_equal(zc_thread_set_types(t, tcp, ids, 4), 0);
        if (poll(&pfd, 1, 10000) == 1)
                ev[1] = zc_thread_take_events(t);
        freed = zc_thread_free(t, ZC_THREAD_STOP_USEC);

        assert_true(idle);
        assert_true(drained);
        assert_true(freed); /* avahi answered (here: the bus did): everything freed, thread joined */
        for (int i = 0; i < 2; i++) {
                assert_non_null(ev[i]);
                assert_int_equal(ev[i]->type, ZC_EV_CLIENT_STATE);
                assert_int_equal(ev[i]->state, AVAHI_CLIENT_CONNECTING);
                assert_int_equal(ev[i]->epoch, i == 0 ? 3 : 4);
                assert_null(ev[i]->next);
                zc_events_free(ev[i]);
        }
}

/* Disabled and enabled again while avahi-daemon is away: the warning comes once per enable. */
static void test_avahi_disable_enable_no_daemon(void **state) {
        sd_event *event = NULL;
        StasZeroconf *z = NULL;
        char *types[] = { (char *) ZC_STYPE_TCP, NULL };
        LogCapture logs;
        bool first, again, once;

        log_capture_start_at(&logs, LOG_INFO);
        assert_true(sd_event_new(&event) >= 0);
        assert_int_equal(zc_new(event, true, NULL, NULL, &z), 0);
        assert_int_equal(zc_set_service_types(z, types), 0);
        first = run_until_logged(event, &logs, "not available", 1);
        assert_int_equal(zc_set_service_types(z, NULL), 0);
        assert_int_equal(zc_set_service_types(z, types), 0);
        zc_kick(z); /* a SIGHUP while the client waits: no second client */
        again = run_until_logged(event, &logs, "not available", 2);
        for (int i = 0; i < 5; i++)
                (void) sd_event_run(event, 20 * 1000);
        once = count_of(&logs, "not available") == 2;
        zc_free(z);
        sd_event_unref(event);
        log_capture_stop(&logs);

        assert_true(first);
        assert_true(again);
        assert_true(once);
}

/* An avahi-daemon stand-in that owns the name and answers nothing: method calls are swallowed. */
static int swallow(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        unsigned *calls = userdata;

        if (!sd_bus_message_is_method_call(m, NULL, NULL))
                return 0;
        (*calls)++;
        return 1; /* handled: no reply, ever */
}

/* avahi-daemon hangs while the avahi thread is in a call: the loop goes on, zc_free() is bounded. */
static void test_avahi_free_bounded_when_avahi_hangs(void **state) {
        sd_bus *hung = NULL;
        sd_event *event = NULL;
        StasZeroconf *z = NULL;
        _cleanup_(kvv_freep) StasKV **ctrls = NULL;
        _cleanup_json_ json_object *info = NULL;
        char *types[] = { (char *) ZC_STYPE_TCP, NULL };
        uint64_t start, loop_usec, free_usec, deadline;
        unsigned calls = 0;
        LogCapture logs;
        bool left;

        assert_true(sd_bus_new(&hung) >= 0);
        assert_true(sd_bus_set_address(hung, pb.address) >= 0);
        assert_true(sd_bus_set_bus_client(hung, 1) >= 0);
        assert_true(sd_bus_start(hung) >= 0);
        assert_true(sd_bus_add_filter(hung, NULL, swallow, &calls) >= 0);
        assert_true(sd_bus_request_name(hung, "org.freedesktop.Avahi", 0) >= 0);

        log_capture_start(&logs);
        assert_true(sd_event_new(&event) >= 0);
        assert_int_equal(zc_new(event, true, NULL, NULL, &z), 0);
        assert_int_equal(zc_set_service_types(z, types), 0);
        /* the avahi thread's avahi_client_new() asks for the API version: no answer for 25 s */
        deadline = now_usec() + 10 * UINT64_C(1000000);
        while (calls == 0 && now_usec() < deadline)
                if (sd_bus_process(hung, NULL) == 0)
                        (void) sd_bus_wait(hung, 100 * 1000);
        start = now_usec();
        for (int i = 0; i < 3; i++)
                (void) sd_event_run(event, 0);
        info = zc_info(z);
        assert_int_equal(zc_get_controllers(z, &ctrls), 0);
        loop_usec = now_usec() - start;

        start = now_usec();
        zc_free(z);
        free_usec = now_usec() - start;
        left = strstr(logs.text, "did not stop within 1000 ms, leaving it behind") != NULL;
        sd_event_unref(event);
        log_capture_stop(&logs);
        sd_bus_flush_close_unref(hung); /* the stuck call now gets an error; the thread ends */

        assert_int_equal(calls, 1);
        assert_non_null(info);
        assert_int_equal(kvv_length(ctrls), 0);
        assert_true(loop_usec < ZC_THREAD_STOP_USEC); /* generous: the loop makes no avahi call */
        assert_true(left);
        assert_true(free_usec >= ZC_THREAD_STOP_USEC);
        assert_true(free_usec < ZC_THREAD_STOP_USEC + 2 * UINT64_C(1000000));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_avahi_txt_case_folding_and_order),
                cmocka_unit_test(test_avahi_txt_rejects_bad_entries),
                cmocka_unit_test(test_avahi_txt_empty_and_duplicates),
                cmocka_unit_test(test_avahi_proto_mapping),
                cmocka_unit_test(test_avahi_record_tcp_and_nqn_rule),
                cmocka_unit_test(test_avahi_record_rdma_and_default_nqn),
                cmocka_unit_test(test_avahi_record_bad_protocol),
                cmocka_unit_test(test_avahi_record_refuses_injection),
                cmocka_unit_test(test_avahi_retry_backoff_sequence),
                cmocka_unit_test(test_avahi_no_daemon_on_bus),
                cmocka_unit_test(test_avahi_thread_hand_off),
                cmocka_unit_test(test_avahi_disable_enable_no_daemon),
                cmocka_unit_test(test_avahi_free_bounded_when_avahi_hangs),
        };

        return cmocka_run_group_tests(tests, bus_setup, bus_teardown);
}
