/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stas/bus-util.h"

static int peer_fd = -1;

/* A bus object on one end of a socketpair: enough to build messages and read them back. */
static sd_bus *bus_new_local(void) {
        sd_bus *bus = NULL;
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(sd_bus_new(&bus), 0);
        assert_true(sd_bus_set_fd(bus, sv[0], sv[0]) >= 0);
        assert_true(sd_bus_start(bus) >= 0);
        if (peer_fd >= 0)
                close(peer_fd);
        peer_fd = sv[1];
        return bus;
}

static void bus_free_local(sd_bus *bus) {
        sd_bus_close_unref(bus);
        close(peer_fd);
        peer_fd = -1;
}

static sd_bus_message *sealed(sd_bus *bus, sd_bus_message *m) {
        assert_true(sd_bus_message_seal(m, 1, 0) >= 0);
        assert_true(sd_bus_message_rewind(m, true) >= 0);
        return m;
}

static void test_bus_util_kv_round_trip(void **state) {
        sd_bus *bus = bus_new_local();
        sd_bus_message *m = NULL;
        _cleanup_(kv_freep) StasKV *kv = kv_new(), *back = NULL;

        assert_int_equal(kv_set(kv, "transport", "tcp"), 0);
        assert_int_equal(kv_set(kv, "dhchap-secret", "(set)"), 0);
        assert_true(sd_bus_message_new_signal(bus, &m, "/x", "x.y", "z") >= 0);
        assert_int_equal(bus_append_kv(m, kv), 0);
        assert_string_equal(sd_bus_message_get_signature(m, true), "a{ss}");
        sealed(bus, m);
        assert_int_equal(bus_read_kv(m, &back), 0);
        assert_true(kv_equal(kv, back));
        assert_string_equal(back->keys[0], "transport");
        sd_bus_message_unref(m);
        bus_free_local(bus);
}

static void test_bus_util_kvv_round_trip(void **state) {
        sd_bus *bus = bus_new_local();
        sd_bus_message *m = NULL;
        StasKV *list[3] = { kv_new(), kv_new(), NULL };
        _cleanup_(kvv_freep) StasKV **back = NULL, **empty = NULL;

        assert_int_equal(kv_set(list[0], "a", "1"), 0);
        assert_int_equal(kv_set(list[1], "b", "2"), 0);
        assert_true(sd_bus_message_new_signal(bus, &m, "/x", "x.y", "z") >= 0);
        assert_int_equal(bus_append_kvv(m, list), 0);
        assert_int_equal(bus_append_kvv(m, NULL), 0);
        assert_string_equal(sd_bus_message_get_signature(m, true), "aa{ss}aa{ss}");
        sealed(bus, m);
        assert_int_equal(bus_read_kvv(m, &back), 0);
        assert_int_equal(kvv_length(back), 2);
        assert_true(kv_equal(back[0], list[0]));
        assert_true(kv_equal(back[1], list[1]));
        assert_int_equal(bus_read_kvv(m, &empty), 0);
        assert_non_null(empty);
        assert_int_equal(kvv_length(empty), 0);
        kv_free(list[0]);
        kv_free(list[1]);
        sd_bus_message_unref(m);
        bus_free_local(bus);
}

static int read_tid(const char *const v[7], StasTid **tid, sd_bus_error *e) {
        sd_bus *bus = bus_new_local();
        sd_bus_message *m = NULL;
        int r;

        assert_true(sd_bus_message_new_signal(bus, &m, "/x", "x.y", "z") >= 0);
        assert_true(sd_bus_message_append(m, "sssssss", v[0], v[1], v[2], v[3], v[4], v[5], v[6]) >= 0);
        sealed(bus, m);
        r = bus_read_tid(m, tid, e);
        sd_bus_message_unref(m);
        bus_free_local(bus);
        return r;
}

static void test_bus_util_read_tid(void **state) {
        const char *good[7] = { "fc", "nn-0x1:pn-0x2", "", "nqn.x", "nn-0x3:pn-0x4", "", "nqn.h" };
        _cleanup_(tid_freep) StasTid *tid = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;

        assert_int_equal(read_tid(good, &tid, &e), 0);
        assert_string_equal(tid->transport, "fc");
        assert_string_equal(tid->host_traddr, "nn-0x3:pn-0x4");
        assert_string_equal(tid->host_nqn, "nqn.h");
        assert_false(sd_bus_error_is_set(&e));
}

static void test_bus_util_tid_round_trip(void **state) {
        sd_bus *bus = bus_new_local();
        sd_bus_message *m = NULL;
        _cleanup_(tid_freep) StasTid *tid = tid_new("tcp", "::1", "8009", "nqn.x", "", "eth0", "nqn.h"),
                                     *back = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;

        assert_non_null(tid);
        assert_true(sd_bus_message_new_signal(bus, &m, "/x", "x.y", "z") >= 0);
        assert_int_equal(bus_append_tid(m, tid), 0);
        assert_string_equal(sd_bus_message_get_signature(m, true), "sssssss");
        sealed(bus, m);
        assert_int_equal(bus_read_tid(m, &back, &e), 0);
        assert_true(tid_equal(tid, back));
        sd_bus_message_unref(m);
        bus_free_local(bus);
}

static void test_bus_util_read_tid_rejects(void **state) {
        char big[300];
        const char *cases[][7] = {
                { "udp", "1.1.1.1", "", "", "", "", "" },
                { "TCP", "1.1.1.1", "", "", "", "", "" },
                { "", "1.1.1.1", "", "", "", "", "" },
                { "tcp", "1.1.1.1\x1b[31m", "", "", "", "", "" },
                { "tcp", "1.1.1.1", "", "", "", "", "nqn\x7f" },
                { "tcp", "1.1.1.1", "", big, "", "", "" },
        };

        memset(big, 'n', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                StasTid *tid = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;

                assert_true(read_tid(cases[i], &tid, &e) < 0);
                assert_null(tid);
                assert_true(sd_bus_error_has_name(&e, SD_BUS_ERROR_INVALID_ARGS));
                sd_bus_error_free(&e);
        }
}

/* the lenient reader: hostile strings name no controller, wrong types are still an error */
static void test_bus_util_read_tid_lenient(void **state) {
        char big[300];
        const char *cases[][7] = {
                { "udp", "1.1.1.1", "", "", "", "", "" },
                { "tcp", "1.1.1.1\x1b[31m", "", "", "", "", "" },
                { "tcp", "1.1.1.1", "", big, "", "", "" },
        };
        const char *good[7] = { "tcp", "1.1.1.1", "8009", "nqn.x", "", "eth0", "" };

        memset(big, 'n', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        for (size_t i = 0; i <= ELEMENTSOF(cases); i++) {
                const char *const *v = i < ELEMENTSOF(cases) ? cases[i] : good;
                sd_bus *bus = bus_new_local();
                sd_bus_message *m = NULL;
                StasTid *tid = (StasTid *) 1;

                assert_true(sd_bus_message_new_signal(bus, &m, "/x", "x.y", "z") >= 0);
                assert_true(
                        sd_bus_message_append(m, "sssssss", v[0], v[1], v[2], v[3], v[4], v[5], v[6]) >= 0);
                sealed(bus, m);
                assert_int_equal(bus_read_tid_lenient(m, &tid), 0);
                if (i < ELEMENTSOF(cases))
                        assert_null(tid);
                else {
                        assert_non_null(tid);
                        assert_string_equal(tid->host_iface, "eth0");
                        tid_free(tid);
                }
                sd_bus_message_unref(m);
                bus_free_local(bus);
        }

        /* arity/type errors stay errors */
        sd_bus *bus = bus_new_local();
        sd_bus_message *m = NULL;
        StasTid *tid = NULL;

        assert_true(sd_bus_message_new_signal(bus, &m, "/x", "x.y", "z") >= 0);
        assert_true(sd_bus_message_append(m, "ssi", "tcp", "1.1.1.1", 3) >= 0);
        sealed(bus, m);
        assert_true(bus_read_tid_lenient(m, &tid) < 0);
        assert_null(tid);
        sd_bus_message_unref(m);
        bus_free_local(bus);
}

static void test_bus_util_string_validation(void **state) {
        char max[STAS_WIRE_FIELD_MAX + 2];

        assert_true(bus_string_is_valid("", 10));
        assert_true(bus_string_is_valid("caf\xc3\xa9", 10));
        assert_false(bus_string_is_valid("\xc3", 10));         /* truncated sequence */
        assert_false(bus_string_is_valid("\xc0\xaf", 10));     /* overlong '/' */
        assert_false(bus_string_is_valid("\xed\xa0\x80", 10)); /* surrogate */
        assert_false(bus_string_is_valid("a\tb", 10));
        assert_false(bus_string_is_valid(NULL, 10));
        memset(max, 'x', sizeof(max));
        max[STAS_WIRE_FIELD_MAX] = 0;
        assert_true(bus_string_is_valid(max, STAS_WIRE_FIELD_MAX));
        max[STAS_WIRE_FIELD_MAX] = 'x';
        max[STAS_WIRE_FIELD_MAX + 1] = 0;
        assert_false(bus_string_is_valid(max, STAS_WIRE_FIELD_MAX));
        assert_true(bus_transport_is_valid("loop"));
        assert_false(bus_transport_is_valid(NULL));
        assert_false(bus_transport_is_valid("tcp "));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bus_util_kv_round_trip),
                cmocka_unit_test(test_bus_util_kvv_round_trip),
                cmocka_unit_test(test_bus_util_tid_round_trip),
                cmocka_unit_test(test_bus_util_read_tid),
                cmocka_unit_test(test_bus_util_read_tid_rejects),
                cmocka_unit_test(test_bus_util_read_tid_lenient),
                cmocka_unit_test(test_bus_util_string_validation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
