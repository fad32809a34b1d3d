/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Truth table of §5.10, ported (as vectors, not code) from the cases of upstream nvme-stas
 * test/test-udev.py test__cid_matches_tid, with a synthetic interface map instead of the
 * host's interfaces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "stas/match.h"

#define TRADDR4 "1.2.3.4"
#define TRADDR4_REV "4.3.2.1"
#define TRADDR6 "FE80::aaaa:BBBB:cccc:dddd"
#define TRADDR6_REV "fe80::DDDD:cccc:bbbb:AAAA"

static StasIfMap *ifmap(void) {
        StasIfMap *m = ifaddr_map_new();

        assert_non_null(m);
        assert_int_equal(ifaddr_map_add(m, "eth0", "192.168.1.10"), 0);
        assert_int_equal(ifaddr_map_add(m, "eth0", "192.168.1.11"), 0);
        assert_int_equal(ifaddr_map_add(m, "eth0", "2001:db8::10"), 0);
        assert_int_equal(ifaddr_map_add(m, "eth1", "10.0.0.5"), 0);
        assert_int_equal(ifaddr_map_add(m, "eth1", "2001:db8:1::5"), 0);
        assert_int_equal(ifaddr_map_add(m, "eth1", "2001:db8:1::6"), 0);
        return m;
}

static bool match(
        const StasConnId *cid,
        const char *transport,
        const char *traddr,
        const char *trsvcid,
        const char *subsysnqn,
        const char *host_traddr,
        const char *host_iface,
        const StasIfMap *m) {
        _cleanup_(tid_freep) StasTid *t =
                tid_new(transport, traddr, trsvcid, subsysnqn, host_traddr, host_iface, "");

        assert_non_null(t);
        return match_cid_tid(cid, t, m);
}

/* Cases 1..12 of get_tids_to_test(); 'legacy' skips case 8 the way upstream does for IPv4. */
static void run_numbered_cases(
        const StasConnId *cid,
        const char *fwd,
        const char *rev,
        const char *src,
        const char *ifname,
        bool skip8,
        const StasIfMap *m) {
        assert_true(match(cid, "tcp", fwd, "8009", "hello", src, ifname, m));                /* 1 */
        assert_false(match(cid, "blah", fwd, "8009", "hello", src, ifname, m));              /* 2 */
        assert_false(match(cid, "tcp", rev, "8009", "hello", src, ifname, m));               /* 3 */
        assert_false(match(cid, "tcp", fwd, "8010", "hello", src, ifname, m));               /* 4 */
        assert_false(match(cid, "tcp", fwd, "8009", "hello", "255.255.255.255", ifname, m)); /* 5 */
        assert_false(match(cid, "tcp", fwd, "8009", "hello", src, "blah", m));               /* 6 */
        assert_false(match(cid, "tcp", fwd, "8009", "bob", src, ifname, m));                 /* 7 */
        if (!skip8)
                assert_true(match(cid, "tcp", fwd, "8009", "hello", NULL, ifname, m)); /* 8 */
        assert_true(match(cid, "tcp", fwd, "8009", "hello", src, NULL, m));            /* 9 */
        assert_true(match(cid, "tcp", fwd, "8009", "hello", NULL, NULL, m));           /* 10 */
        assert_true(match(cid, "tcp", fwd, "8009", "hello", src, ifname, m));          /* 11 */
        assert_true(match(cid, "tcp", fwd, "8009", "hello", NULL, ifname, m));         /* 12 */
}

static void run_family(
        const char *fwd,
        const char *rev,
        const char *const *addrs,
        size_t n_addrs,
        const char *other_host,
        bool v4) {
        _cleanup_(ifaddr_map_freep) StasIfMap *m = ifmap();
        const char *ifname = "eth0";

        for (size_t i = 0; i < n_addrs; i++) {
                const char *src = addrs[i];
                StasConnId cid = { "tcp", fwd, "8009", "hello", src, ifname, "", src };
                StasConnId legacy = { "tcp", fwd, "8009", "hello", src, ifname, "", "" };
                StasConnId leg_none = { "tcp", fwd, "8009", "hello", "", "", "", "" };
                StasConnId leg_iface = { "tcp", fwd, "8009", "hello", "", ifname, "", "" };
                StasConnId leg_host = { "tcp", fwd, "8009", "hello", src, "", "", "" };

                run_numbered_cases(&cid, fwd, rev, src, ifname, false, m);
                run_numbered_cases(&legacy, fwd, rev, src, ifname, v4, m);

                /* A.1: nothing known about the connection: optimistic match */
                assert_true(match(&leg_none, "tcp", fwd, "8009", "hello", other_host, NULL, m));
                /* A.2 */
                assert_true(match(&leg_iface, "tcp", fwd, "8009", "hello", NULL, NULL, m));
                /* B: host-traddr differs */
                assert_false(match(&leg_host, "tcp", fwd, "8009", "hello", other_host, NULL, m));
                /* C: interface of host-traddr is eth0, not blah */
                assert_false(match(&leg_host, "tcp", fwd, "8009", "hello", NULL, "blah", m));
                /* D */
                assert_true(match(&leg_host, "tcp", fwd, "8009", "hello", NULL, ifname, m));
                /* E, F: host-traddr is not eth0's primary address */
                assert_false(match(&leg_iface, "tcp", fwd, "8009", "hello", other_host, "blah", m));
                assert_false(match(&leg_iface, "tcp", fwd, "8009", "hello", other_host, NULL, m));
                /* G: host-traddr = first address: matches iff it is this connection's address */
                assert_int_equal(match(&leg_host, "tcp", fwd, "8009", "hello", addrs[0], NULL, m), i == 0);
        }
}

static void test_match_tcp_ipv4(void **state) {
        static const char *const a[] = { "192.168.1.10", "192.168.1.11" };

        run_family(TRADDR4, TRADDR4_REV, a, ELEMENTSOF(a), "1.1.1.1", true);
}

static void test_match_tcp_ipv6(void **state) {
        static const char *const a[] = { "2001:db8::10" };

        run_family(TRADDR6, TRADDR6_REV, a, ELEMENTSOF(a), "AAAA::FFFF", false);
}

static void test_match_legacy_uses_primary_address(void **state) {
        _cleanup_(ifaddr_map_freep) StasIfMap *m = ifmap();
        StasConnId leg_iface = { "tcp", TRADDR4, "8009", "hello", "", "eth0", "", "" };

        /* connection on eth0 without host-traddr uses eth0's primary (first) address */
        assert_true(match(&leg_iface, "tcp", TRADDR4, "8009", "hello", "192.168.1.10", NULL, m));
        assert_false(match(&leg_iface, "tcp", TRADDR4, "8009", "hello", "192.168.1.11", NULL, m));
        /* no address of that family on the interface: cannot tell, optimistic */
        assert_true(
                match(&leg_iface, "tcp", TRADDR4, "8009", "hello", "::1", NULL, m) ==
                (ifaddr_map_primary(m, "eth0", AF_INET6) == NULL));
        /* unparsable candidate host-traddr never matches */
        assert_false(match(&leg_iface, "tcp", TRADDR4, "8009", "hello", "not-an-ip", NULL, m));
}

static void test_match_fc(void **state) {
        StasConnId cid = { "fc", "ABC", "", "hello", "AAA::BBBB", "", "", "" };

        assert_true(match(&cid, "fc", "ABC", "", "hello", "AAA::BBBB", NULL, NULL));  /* FC-1 */
        assert_false(match(&cid, "fc", "ABC", "", "hello", "BBBB::AAA", NULL, NULL)); /* FC-2 */
        assert_true(match(&cid, "fc", "abc", "", "hello", "aaa::bbbb", NULL, NULL));
        assert_false(match(&cid, "fc", "ABC", "", "hello", NULL, NULL, NULL));
}

static void test_match_rdma(void **state) {
        StasConnId cid = { "rdma", "2.3.4.5", "4444", "hello", "5.4.3.2", "", "", "" };

        assert_true(match(&cid, "rdma", "2.3.4.5", "4444", "hello", "5.4.3.2", NULL, NULL));  /* RDMA-1 */
        assert_false(match(&cid, "rdma", "2.3.4.5", "4444", "hello", "5.5.6.6", NULL, NULL)); /* RDMA-2 */
        assert_true(match(&cid, "rdma", "2.3.4.5", "4444", "hello", NULL, NULL, NULL));       /* RDMA-3 */
        assert_true(match(&cid, "rdma", "::ffff:2.3.4.5", "4444", "hello", NULL, NULL, NULL));
}

static void test_match_identity_fields(void **state) {
        StasConnId dc = { "tcp", "::ffff:10.1.1.1", "8009", "nqn.unique.dc", "", "", "nqn.host", "" };
        _cleanup_(tid_freep) StasTid *wk =
                tid_new("tcp", "10.1.1.1", "8009", NVME_DISC_WKNQN, "", "", "nqn.host");
        _cleanup_(tid_freep) StasTid *other_host =
                tid_new("tcp", "10.1.1.1", "8009", NVME_DISC_WKNQN, "", "", "nqn.other");
        _cleanup_(tid_freep) StasTid *other_nqn =
                tid_new("tcp", "10.1.1.1", "8009", "nqn.other.dc", "", "", "nqn.host");
        StasConnId loop = { "loop", "", "", "nqn.x", "", "", "", "" };
        _cleanup_(tid_freep) StasTid *tloop = tid_new("loop", "", "", "nqn.x", "", "", "");

        assert_true(match_cid_tid(&dc, wk, NULL)); /* TP8013 tolerance, v4-mapped traddr */
        assert_false(match_cid_tid(&dc, other_host, NULL));
        assert_false(match_cid_tid(&dc, other_nqn, NULL));
        assert_true(match_cid_tid(&loop, tloop, NULL));
        assert_false(match_cid_tid(NULL, tloop, NULL));
}

static void test_match_ip_helpers(void **state) {
        StasIpAddr a;

        assert_true(ifaddr_ip_str_equal("::ffff:1.2.3.4", "1.2.3.4"));
        assert_true(ifaddr_ip_str_equal("FE80::1%eth0", "fe80:0::1"));
        assert_false(ifaddr_ip_str_equal("1.2.3.4", "1.2.3.5"));
        assert_false(ifaddr_ip_str_equal("", ""));
        assert_int_equal(ifaddr_ip_parse("1.2.3.4%eth0", &a), -EINVAL);
        assert_int_equal(ifaddr_ip_parse("nqn.x", &a), -EINVAL);
}

static void test_match_system_map(void **state) {
        _cleanup_(ifaddr_map_freep) StasIfMap *m = NULL;
        StasIpAddr lo;

        assert_int_equal(ifaddr_map_from_system(&m), 0);
        assert_int_equal(ifaddr_ip_parse("127.0.0.1", &lo), 0);
        /* every Linux host with IPv4 has 127.0.0.1 on some interface (normally "lo") */
        if (m->n > 0)
                assert_non_null(ifaddr_map_iface_of(m, &lo));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_match_tcp_ipv4),
                cmocka_unit_test(test_match_tcp_ipv6),
                cmocka_unit_test(test_match_legacy_uses_primary_address),
                cmocka_unit_test(test_match_fc),
                cmocka_unit_test(test_match_rdma),
                cmocka_unit_test(test_match_identity_fields),
                cmocka_unit_test(test_match_ip_helpers),
                cmocka_unit_test(test_match_system_map),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
