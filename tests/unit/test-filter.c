/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include "stas/filter.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:01234567-0123-0123-0123-0123456789ab"
#define SUBSYSNQN "nqn.1988-11.com.dell:SFSS:2:20220208134025e8"

/* Build a dict from "k=v" strings, NULL-terminated. */
static StasKV *kv_of(const char *first, ...) {
        StasKV *kv = kv_new();
        va_list ap;

        assert_non_null(kv);
        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *)) {
                const char *eq = strchr(s, '=');
                char key[64];

                assert_non_null(eq);
                assert_true((size_t) (eq - s) < sizeof(key));
                memcpy(key, s, (size_t) (eq - s));
                key[eq - s] = '\0';
                assert_int_equal(kv_set(kv, key, eq + 1), 0);
        }
        va_end(ap);
        return kv;
}

static void free_list(StasKV **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                kv_free(l[i]);
}

/* Upstream test-stas.py TestExcluded, as vectors. */
static void test_filter_excluded_partial_matches(void **state) {
        StasKV *one[1], *two[2];
        _cleanup_(kv_freep) StasKV *c_tcp_1234 = kv_of("transport=tcp", "traddr=1.2.3.4", NULL);
        _cleanup_(kv_freep) StasKV *c_tcp_9999 = kv_of("transport=tcp", "traddr=99.99.99.99", NULL);
        _cleanup_(kv_freep) StasKV *c_tcp_5555 = kv_of("transport=tcp", "traddr=5.5.5.5", NULL);
        _cleanup_(kv_freep) StasKV *c_tcp = kv_of("transport=tcp", NULL);
        _cleanup_(kv_freep) StasKV *c_rdma_5555 = kv_of("transport=rdma", "traddr=5.5.5.5", NULL);
        _cleanup_(kv_freep) StasKV *c_fc_5555 = kv_of("transport=fc", "traddr=5.5.5.5", NULL);

        /* empty exclusion list */
        assert_false(filter_excluded(NULL, 0, c_tcp_1234));
        assert_false(filter_excluded(one, 0, c_tcp_1234));

        /* exact match */
        one[0] = kv_of("transport=tcp", "traddr=1.2.3.4", NULL);
        assert_true(filter_excluded(one, 1, c_tcp_1234));
        /* one field mismatch */
        assert_false(filter_excluded(one, 1, c_tcp_5555));
        /* key required by the exclusion missing from the controller */
        assert_false(filter_excluded(one, 1, c_tcp));
        free_list(one, 1);

        /* partial exclusion: only transport */
        one[0] = kv_of("transport=tcp", NULL);
        assert_true(filter_excluded(one, 1, c_tcp_9999));
        assert_false(filter_excluded(one, 1, c_rdma_5555));
        free_list(one, 1);

        /* multiple entries: first matches, second matches, none matches */
        two[0] = kv_of("transport=tcp", "traddr=1.2.3.4", NULL);
        two[1] = kv_of("transport=rdma", "traddr=5.5.5.5", NULL);
        assert_true(filter_excluded(two, 2, c_tcp_1234));
        assert_true(filter_excluded(two, 2, c_rdma_5555));
        assert_false(filter_excluded(two, 2, c_fc_5555));
        free_list(two, 2);
        two[0] = kv_of("transport=tcp", "traddr=99.99.99.99", NULL);
        two[1] = kv_of("transport=rdma", "traddr=5.5.5.5", NULL);
        assert_true(filter_excluded(two, 2, c_rdma_5555));
        free_list(two, 2);
}

static void test_filter_excluded_exact_string_and_nqn_alias(void **state) {
        StasKV *ex[1];
        _cleanup_(kv_freep) StasKV *empty = kv_new();
        _cleanup_(tid_freep) StasTid *t = tid_new("tcp", "fe80::1", "8009", SUBSYSNQN, "", "eth0", HOSTNQN);
        _cleanup_(kv_freep) StasKV *c = filter_candidate(t, NULL);

        assert_non_null(c);
        /* IPv6 spelled differently is not normalised (nvme-stas compat) */
        ex[0] = kv_of("traddr=FE80::1", NULL);
        assert_false(filter_excluded(ex, 1, c));
        free_list(ex, 1);
        ex[0] = kv_of("traddr=fe80:0::1", NULL);
        assert_false(filter_excluded(ex, 1, c));
        free_list(ex, 1);
        /* case matters for strings too */
        ex[0] = kv_of("transport=TCP", NULL);
        assert_false(filter_excluded(ex, 1, c));
        free_list(ex, 1);

        /* "nqn" in an exclude entry means subsysnqn */
        ex[0] = kv_of("nqn=" SUBSYSNQN, NULL);
        assert_true(filter_excluded(ex, 1, c));
        free_list(ex, 1);
        ex[0] = kv_of("subsysnqn=" SUBSYSNQN, "host-iface=eth0", NULL);
        assert_true(filter_excluded(ex, 1, c));
        free_list(ex, 1);
        ex[0] = kv_of("host-iface=eth1", NULL);
        assert_false(filter_excluded(ex, 1, c));
        free_list(ex, 1);
        /* host-nqn is part of the candidate */
        ex[0] = kv_of("host-nqn=" HOSTNQN, NULL);
        assert_true(filter_excluded(ex, 1, c));
        free_list(ex, 1);
        /* an empty value matches an empty field */
        ex[0] = kv_of("host-traddr=", NULL);
        assert_true(filter_excluded(ex, 1, c));
        free_list(ex, 1);

        /* an empty exclude entry matches nothing (deliberate difference) */
        ex[0] = empty;
        assert_false(filter_excluded(ex, 1, c));
        /* NULL entries are skipped */
        ex[0] = NULL;
        assert_false(filter_excluded(ex, 1, c));
}

static void test_filter_candidate_extra_keys(void **state) {
        StasKV *ex[1];
        _cleanup_(tid_freep) StasTid *t = tid_new("tcp", "10.0.0.1", "4420", SUBSYSNQN, "", "", HOSTNQN);
        _cleanup_(kv_freep) StasKV *cfg = kv_of("transport=rdma", "hdr-digest=true", "nqn=other", NULL);
        _cleanup_(kv_freep) StasKV *c = filter_candidate(t, cfg);

        assert_non_null(c);
        assert_int_equal(c->n, 8);
        /* the TID wins over config keys; config-only keys are added */
        assert_string_equal(kv_get(c, "transport"), "tcp");
        assert_string_equal(kv_get(c, "subsysnqn"), SUBSYSNQN);
        assert_string_equal(kv_get(c, "hdr-digest"), "true");
        assert_null(kv_get(c, "nqn"));

        ex[0] = kv_of("hdr-digest=true", NULL);
        assert_int_equal(filter_tid_excluded(ex, 1, t, cfg), 1);
        assert_int_equal(filter_tid_excluded(ex, 1, t, NULL), 0);
        free_list(ex, 1);
        assert_int_equal(filter_tid_excluded(NULL, 0, t, cfg), 0);
        assert_null(filter_candidate(NULL, cfg));
}

/* Upstream TestRemoveExcluded: two rules, mixed lists. */
static void test_filter_remove_excluded_two_rules(void **state) {
        StasKV *rules[2] = {
                kv_of("transport=tcp", "traddr=10.10.10.10", NULL),
                kv_of("transport=rdma", "traddr=192.168.1.1", NULL),
        };
        static const struct {
                const char *transport, *traddr;
                int excluded;
        } v[] = {
                { "tcp", "10.10.10.10", 1 }, { "rdma", "192.168.1.1", 1 }, { "tcp", "1.1.1.1", 0 },
                { "tcp", "2.2.2.2", 0 },     { "rdma", "10.10.10.10", 0 }, { "tcp", "192.168.1.1", 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                _cleanup_(tid_freep) StasTid *t =
                        tid_new(v[i].transport, v[i].traddr, "", SUBSYSNQN, "", "", HOSTNQN);

                assert_int_equal(filter_tid_excluded(rules, 2, t, NULL), v[i].excluded);
        }
        free_list(rules, 2);
}

/* Upstream TestRemoveInvalidAddresses: transport x ip-family x address. */
static void test_filter_address_validity(void **state) {
        static const struct {
                const char *transport, *traddr;
                StasIpFamily fam;
                bool valid;
                const char *reason;
        } v[] = {
                { "tcp", "10.10.10.10", STAS_IPFAM_BOTH, true, NULL },
                { "tcp", "::1", STAS_IPFAM_BOTH, true, NULL },
                { "tcp", "not-an-ip-address", STAS_IPFAM_BOTH, false, "IP address is not valid" },
                { "tcp", "10.10.10.10", STAS_IPFAM_V6, false, "IPv4 is disabled by ip-family" },
                { "tcp", "::1", STAS_IPFAM_V4, false, "IPv6 is disabled by ip-family" },
                { "tcp", "10.10.10.10", STAS_IPFAM_V4, true, NULL },
                { "tcp", "::1", STAS_IPFAM_V6, true, NULL },
                { "rdma", "192.168.0.1", STAS_IPFAM_BOTH, true, NULL },
                { "rdma", "192.168.0.1", STAS_IPFAM_V6, false, "IPv4 is disabled by ip-family" },
                { "rdma", "fe80::1%eth0", STAS_IPFAM_V6, true, NULL },
                { "fc", "nn-0x1000000044001123:pn-0x2000000055001123", STAS_IPFAM_V4, true, NULL },
                { "fc", "nn-0x1000000044001123:pn-0x2000000055001123", STAS_IPFAM_V6, true, NULL },
                { "loop", "", STAS_IPFAM_V4, true, NULL },
                { "unknown", "10.10.10.10", STAS_IPFAM_BOTH, false, "invalid transport" },
                { "", "10.10.10.10", STAS_IPFAM_BOTH, false, "invalid transport" },
                { "TCP", "10.10.10.10", STAS_IPFAM_BOTH, false, "invalid transport" },
                { "tcp", "", STAS_IPFAM_BOTH, false, "IP address is not valid" },
                { "tcp", "localhost", STAS_IPFAM_BOTH, false, "IP address is not valid" },
                { "tcp", "555.555.555.555", STAS_IPFAM_BOTH, false, "IP address is not valid" },
                { "tcp", "1.2.3", STAS_IPFAM_BOTH, false, "IP address is not valid" },
                { "tcp", " 1.2.3.4", STAS_IPFAM_BOTH, false, "IP address is not valid" },
                { "tcp", "fe80::1%", STAS_IPFAM_BOTH, false, "IP address is not valid" },
                /* IPv4-mapped keeps its written family, as in nvme-stas */
                { "tcp", "::ffff:10.0.0.1", STAS_IPFAM_V4, false, "IPv6 is disabled by ip-family" },
                { "tcp", "::ffff:10.0.0.1", STAS_IPFAM_V6, true, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                const char *reason = "unset";

                assert_int_equal(
                        filter_address_valid(v[i].transport, v[i].traddr, v[i].fam, &reason), v[i].valid);
                if (v[i].reason)
                        assert_string_equal(reason, v[i].reason);
                else
                        assert_null(reason);
        }
        assert_false(filter_address_valid(NULL, NULL, STAS_IPFAM_BOTH, NULL));
        assert_false(filter_address_valid("tcp", NULL, STAS_IPFAM_BOTH, NULL));
}

static void test_filter_ip_parse_and_equal(void **state) {
        unsigned char a[16];
        int fam = 0;

        assert_true(ip_parse("192.168.1.2", &fam, a));
        assert_int_equal(fam, AF_INET);
        assert_memory_equal(a, "\xc0\xa8\x01\x02", 4);

        assert_true(ip_parse("::ffff:192.168.1.2", &fam, a));
        assert_int_equal(fam, AF_INET);
        assert_memory_equal(a, "\xc0\xa8\x01\x02", 4);

        assert_true(ip_parse("2001:db8::1", &fam, a));
        assert_int_equal(fam, AF_INET6);
        assert_memory_equal(a, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);

        assert_true(ip_parse("fe80::1%enp0s8", &fam, NULL));
        assert_int_equal(fam, AF_INET6);
        assert_true(ip_parse("::", NULL, NULL));
        assert_false(ip_parse("", &fam, a));
        assert_false(ip_parse(NULL, &fam, a));
        assert_false(ip_parse("example.com", &fam, a));
        assert_false(ip_parse("1.2.3.4.5", &fam, a));
        assert_false(ip_parse("%eth0", &fam, a));
        assert_false(ip_parse("fe80::1%", &fam, a));
        assert_false(ip_parse("fe80:::1", &fam, a));
        assert_false(ip_parse("0000000000000000000000000000000000000000000000000000000%x", &fam, a));

        assert_true(ip_equal("10.0.0.1", "::ffff:10.0.0.1"));
        assert_true(ip_equal("::ffff:10.0.0.1", "10.0.0.1"));
        assert_true(ip_equal("2001:db8::1", "2001:0db8:0:0::1"));
        assert_true(ip_equal("FE80::1", "fe80::1"));
        assert_false(ip_equal("10.0.0.1", "10.0.0.2"));
        assert_false(ip_equal("::1", "127.0.0.1"));
        assert_false(ip_equal("::a00:1", "10.0.0.1")); /* IPv4-compatible is not IPv4-mapped */
        assert_false(ip_equal("host", "host"));
        assert_false(ip_equal(NULL, "10.0.0.1"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_filter_excluded_partial_matches),
                cmocka_unit_test(test_filter_excluded_exact_string_and_nqn_alias),
                cmocka_unit_test(test_filter_candidate_extra_keys),
                cmocka_unit_test(test_filter_remove_excluded_two_rules),
                cmocka_unit_test(test_filter_address_validity),
                cmocka_unit_test(test_filter_ip_parse_and_equal),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
