/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "stas/wire.h"

static void test_validate_traddr(void **state) {
        static const struct {
                const char *transport, *traddr;
                unsigned flags;
                int want;
        } v[] = {
                { "tcp", "192.168.1.1", 0, 0 },
                { "tcp", "fe80::1%eth0", 0, 0 },
                { "tcp", "fe80::1%3", 0, 0 },
                { "rdma", "2001:db8::1", 0, 0 },
                { "tcp", "192.168.1.1,host_iface=evil0", 0, -EINVAL },
                { "tcp", "192.168.1.1 ", 0, -EINVAL },
                { "tcp", "fe80::1%eth0,x", 0, -EINVAL },
                { "tcp", "fe80::1%", 0, -EINVAL },
                { "tcp", "fe80::1%a/b", 0, -EINVAL },
                { "tcp", "", 0, -EINVAL },
                { "tcp", "nvme.example.com", 0, -EINVAL },
                { "tcp", "nvme.example.com", STAS_VALID_HOSTNAME, 0 },
                { "tcp", "nvme-1.example.com", STAS_VALID_HOSTNAME, 0 },
                { "tcp", "-bad.example.com", STAS_VALID_HOSTNAME, -EINVAL },
                { "tcp", "a..b", STAS_VALID_HOSTNAME, -EINVAL },
                { "tcp", "a=b", STAS_VALID_HOSTNAME, -EINVAL },
                { "tcp", "192.168.1.1", STAS_VALID_IPV6, -EINVAL },
                { "tcp", "::1", STAS_VALID_IPV4, -EINVAL },
                { "tcp", "::1", STAS_VALID_IPV6, 0 },
                { "fc", "nn-0x20000090fa942779:pn-0x10000090fa942779", 0, 0 },
                { "fc", "NN-0x20000090FA942779:PN-0x10000090FA942779", 0, 0 },
                { "fc", "nn-0x20000090fa942779:pn-0x10000090fa94277", 0, -EINVAL },
                { "fc", "nn-0x20000090fa942779:pn-0x10000090fa94277g", 0, -EINVAL },
                { "fc", "192.168.1.1", 0, -EINVAL },
                { "loop", "", 0, 0 },
                { "loop", "x,y", 0, -EINVAL },
                { "unspecified", "anything", 0, 0 },
                { "9", "a b", 0, -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                int r = stas_check_traddr(v[i].transport, v[i].traddr, v[i].flags);
                if (r != v[i].want)
                        fail_msg(
                                "%s '%s' flags %u: %d, want %d",
                                v[i].transport,
                                v[i].traddr,
                                v[i].flags,
                                r,
                                v[i].want);
        }
        assert_int_equal(stas_check_traddr("tcp", NULL, STAS_VALID_HOSTNAME), -EINVAL);
        assert_int_equal(stas_check_host_traddr("tcp", NULL), 0);
        assert_int_equal(stas_check_host_traddr("tcp", "10.0.0.1"), 0);
        assert_int_equal(stas_check_host_traddr("tcp", "host.example.com"), -EINVAL);
        assert_int_equal(stas_check_host_traddr("tcp", "203.0.113.9,nr_io_queues=1"), -EINVAL);
        assert_int_equal(stas_check_host_traddr("fc", "nn-0x20000090fa942779:pn-0x10000090fa942779"), 0);
}

static void test_validate_trsvcid(void **state) {
        assert_int_equal(stas_check_trsvcid("tcp", "4420"), 0);
        assert_int_equal(stas_check_trsvcid("tcp", "1"), 0);
        assert_int_equal(stas_check_trsvcid("tcp", "65535"), 0);
        assert_int_equal(stas_check_trsvcid("tcp", ""), 0);
        assert_int_equal(stas_check_trsvcid("tcp", NULL), 0);
        assert_int_equal(stas_check_trsvcid("tcp", "0"), -EINVAL);
        assert_int_equal(stas_check_trsvcid("tcp", "65536"), -EINVAL);
        assert_int_equal(stas_check_trsvcid("tcp", "04420"), -EINVAL);
        assert_int_equal(stas_check_trsvcid("tcp", "+4420"), -EINVAL);
        assert_int_equal(stas_check_trsvcid("tcp", "4420,host_iface=evil0"), -EINVAL);
        assert_int_equal(stas_check_trsvcid("rdma", "44 20"), -EINVAL);
        assert_int_equal(stas_check_trsvcid("fc", ""), 0);
        assert_int_equal(stas_check_trsvcid("fc", "none"), 0);
        assert_int_equal(stas_check_trsvcid("fc", "4420"), -EINVAL);
        assert_int_equal(stas_check_trsvcid("loop", "1"), -EINVAL);
        assert_int_equal(stas_check_trsvcid("7", "x"), 0);
        assert_int_equal(stas_check_trsvcid("7", "x,y"), -EINVAL);
}

static void test_validate_nqn(void **state) {
        char nqn[STAS_NQN_MAX + 2];

        assert_int_equal(stas_check_nqn("nqn.2014-08.org.nvmexpress.discovery"), 0);
        assert_int_equal(stas_check_nqn("nqn.2024-01.io.stas:sub1"), 0);
        assert_int_equal(
                stas_check_nqn("nqn.2014-08.org.nvmexpress:uuid:0f8fad5b-d9cb-469f-a165-70867728950e"), 0);
        assert_int_equal(
                stas_check_nqn("nqn.2014-08.org.nvmexpress:uuid:0f8fad5b-d9cb-469f-a165-7086772895"),
                -EINVAL);
        assert_int_equal(
                stas_check_nqn("nqn.2014-08.org.nvmexpress:uuid:0f8fad5b-d9cb-469f-a165-70867728950e0"),
                -EINVAL);
        assert_int_equal(
                stas_check_nqn("nqn.2014-08.org.nvmexpress:uuid:0f8fad5bxd9cb-469f-a165-70867728950e"),
                -EINVAL);
        assert_int_equal(
                stas_check_nqn("nqn.2024-01.io.evil:x,host_traddr=203.0.113.9,nr_io_queues=1"), -EINVAL);
        assert_int_equal(stas_check_nqn("nqn.a=b"), -EINVAL);
        assert_int_equal(stas_check_nqn("nqn.a b"), -EINVAL);
        assert_int_equal(stas_check_nqn("nqn.a\tb"), -EINVAL);
        assert_int_equal(stas_check_nqn("nqn.\xc3\xa9"), -EINVAL);
        assert_int_equal(stas_check_nqn("iqn.2024-01.io.x"), -EINVAL);
        assert_int_equal(stas_check_nqn("nqn."), -EINVAL);
        assert_int_equal(stas_check_nqn(""), -EINVAL);
        assert_int_equal(stas_check_nqn(NULL), -EINVAL);
        memset(nqn, 'q', sizeof(nqn));
        memcpy(nqn, "nqn.", 4);
        nqn[STAS_NQN_MAX] = 0;
        assert_int_equal(stas_check_nqn(nqn), 0);
        nqn[STAS_NQN_MAX] = 'q';
        nqn[STAS_NQN_MAX + 1] = 0;
        assert_int_equal(stas_check_nqn(nqn), -EINVAL);
}

static void test_validate_ifname(void **state) {
        assert_int_equal(stas_check_ifname("eth0"), 0);
        assert_int_equal(stas_check_ifname("enp0s31f6.100"), 0);
        assert_int_equal(stas_check_ifname("abcdefghijklmno"), 0);
        assert_int_equal(stas_check_ifname("abcdefghijklmnop"), -EINVAL);
        assert_int_equal(stas_check_ifname(""), -EINVAL);
        assert_int_equal(stas_check_ifname(NULL), -EINVAL);
        assert_int_equal(stas_check_ifname("."), -EINVAL);
        assert_int_equal(stas_check_ifname(".."), -EINVAL);
        assert_int_equal(stas_check_ifname("a/b"), -EINVAL);
        assert_int_equal(stas_check_ifname("a:b"), -EINVAL);
        assert_int_equal(stas_check_ifname("a b"), -EINVAL);
        assert_int_equal(stas_check_ifname("evil0,x"), -EINVAL);
        assert_int_equal(stas_check_ifname("a=b"), -EINVAL);
}

static void test_validate_option_value_and_tid(void **state) {
        _cleanup_(tid_freep) StasTid *t =
                tid_new("tcp", "10.0.0.1", "4420", "nqn.a", "", "eth0", "nqn.host");
        const char *field = "x";

        assert_true(stas_option_value_is_safe(NULL, false));
        assert_true(stas_option_value_is_safe("", false));
        assert_true(stas_option_value_is_safe("DHHC-1:00:abc=:", true));
        assert_false(stas_option_value_is_safe("DHHC-1:00:abc=:", false));
        assert_false(stas_option_value_is_safe("a,b", true));
        assert_false(stas_option_value_is_safe("a b", true));
        assert_false(stas_option_value_is_safe("a\nb", true));
        assert_false(stas_option_value_is_safe("a\x7f", true));

        assert_int_equal(stas_check_tid(t, 0, &field), 0);
        assert_null(field);
        free(t->host_iface);
        t->host_iface = strdup("evil0,duplicate_connect");
        assert_int_equal(stas_check_tid(t, 0, &field), -EINVAL);
        assert_string_equal(field, "host-iface");
        free(t->host_iface);
        t->host_iface = strdup("");
        free(t->trsvcid);
        t->trsvcid = strdup("4420,x");
        assert_int_equal(stas_check_tid(t, 0, &field), -EINVAL);
        assert_string_equal(field, "trsvcid");
        assert_int_equal(stas_check_tid(NULL, 0, NULL), -EINVAL);
}

static void test_validate_wire_field(void **state) {
        char s[STAS_WIRE_FIELD_MAX + 2];

        assert_int_equal(stas_check_wire_field(NULL), 0);
        assert_int_equal(stas_check_wire_field(""), 0);
        assert_int_equal(stas_check_wire_field("host-iface"), 0);
        assert_int_equal(stas_check_wire_field("caf\xc3\xa9, = ok"), 0); /* content rules apply elsewhere */
        assert_int_equal(stas_check_wire_field("a\tb"), -EINVAL);
        assert_int_equal(stas_check_wire_field("a\x7f"), -EINVAL);
        assert_int_equal(stas_check_wire_field("\x1f"), -EINVAL);
        memset(s, 'x', STAS_WIRE_FIELD_MAX);
        s[STAS_WIRE_FIELD_MAX] = 0;
        assert_int_equal(stas_check_wire_field(s), 0);
        s[STAS_WIRE_FIELD_MAX] = 'x';
        s[STAS_WIRE_FIELD_MAX + 1] = 0;
        assert_int_equal(stas_check_wire_field(s), -EINVAL);
}

static void test_validate_excerpt(void **state) {
        char buf[12];

        assert_string_equal(stas_excerpt("short", buf, sizeof(buf)), "short");
        assert_string_equal(stas_excerpt("a\nb\x01", buf, sizeof(buf)), "a?b?");
        assert_string_equal(stas_excerpt("0123456789abcdef", buf, sizeof(buf)), "01234567...");
        assert_string_equal(stas_excerpt(NULL, buf, sizeof(buf)), "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_validate_traddr),
                cmocka_unit_test(test_validate_trsvcid),
                cmocka_unit_test(test_validate_nqn),
                cmocka_unit_test(test_validate_ifname),
                cmocka_unit_test(test_validate_option_value_and_tid),
                cmocka_unit_test(test_validate_wire_field),
                cmocka_unit_test(test_validate_excerpt),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
