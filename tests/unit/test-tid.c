/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "stas/tid.h"

static void test_tid_equality_and_hash(void **state) {
        _cleanup_(tid_freep) StasTid *a =
                tid_new("tcp", "1.1.1.1", "8009", NVME_DISC_WKNQN, "", "eth0", "nqn.h");
        _cleanup_(tid_freep) StasTid *b = tid_copy(a);
        _cleanup_(tid_freep) StasTid *c =
                tid_new("tcp", "1.1.1.1", "8009", NVME_DISC_WKNQN, "", "eth1", "nqn.h");

        assert_true(tid_equal(a, b));
        assert_int_equal(tid_hash(a), tid_hash(b));
        assert_false(tid_equal(a, c));
        assert_int_not_equal(tid_hash(a), tid_hash(c));
        assert_true(tid_compare(a, c) < 0);
        assert_false(tid_equal(a, NULL));
}

static void test_tid_hash_field_boundaries(void **state) {
        _cleanup_(tid_freep) StasTid *a = tid_new("tcp", "ab", "c", "", "", "", "");
        _cleanup_(tid_freep) StasTid *b = tid_new("tcp", "a", "bc", "", "", "", "");

        assert_false(tid_equal(a, b));
        assert_int_not_equal(tid_hash(a), tid_hash(b));
}

static void test_tid_string_form(void **state) {
        _cleanup_(tid_freep) StasTid *a =
                tid_new("tcp", "::1", "8009", "nqn.x", "10.0.0.1", "eth0", "nqn.h");
        _cleanup_(tid_freep) StasTid *b = tid_new("fc", "nn-0x1:pn-0x2", "", "", "", "", "");
        _cleanup_free_ char *sa = tid_to_string(a), *sb = tid_to_string(b);

        assert_string_equal(sa, "(tcp, ::1, 8009, nqn.x, eth0, 10.0.0.1)");
        assert_string_equal(sb, "(fc, nn-0x1:pn-0x2, )");
}

static void test_tid_kv_round_trip(void **state) {
        _cleanup_(kv_freep) StasKV *kv = kv_new();
        _cleanup_(tid_freep) StasTid *t = NULL, *t2 = NULL;
        _cleanup_(kv_freep) StasKV *back = NULL;

        assert_int_equal(kv_set(kv, "transport", "rdma"), 0);
        assert_int_equal(kv_set(kv, "traddr", "192.168.1.1"), 0);
        assert_int_equal(kv_set(kv, "nqn", "nqn.io"), 0);
        t = tid_from_kv(kv);
        assert_string_equal(t->subsysnqn, "nqn.io");
        assert_string_equal(t->trsvcid, "");
        back = tid_to_kv(t);
        assert_int_equal(back->n, 7);
        assert_string_equal(kv_get(back, "subsysnqn"), "nqn.io");
        assert_string_equal(kv_get(back, "host-iface"), "");
        t2 = tid_from_kv(back);
        assert_true(tid_equal(t, t2));
}

static void test_kv_basics(void **state) {
        _cleanup_(kv_freep) StasKV *a = kv_new(), *b = NULL;

        assert_int_equal(kv_set(a, "x", "1"), 0);
        assert_int_equal(kv_set(a, "y", NULL), 0);
        assert_int_equal(kv_set(a, "x", "2"), 0);
        assert_int_equal(a->n, 2);
        assert_string_equal(a->keys[0], "x");
        assert_string_equal(kv_get(a, "x"), "2");
        assert_string_equal(kv_get(a, "y"), "");
        assert_null(kv_get(a, "z"));
        b = kv_copy(a);
        assert_true(kv_equal(a, b));
        assert_true(kv_remove(b, "x"));
        assert_false(kv_remove(b, "x"));
        assert_false(kv_equal(a, b));
}

static void test_tid_set_dedup(void **state) {
        StasTid *t[300];
        _cleanup_(tid_set_done) StasTidSet set = {};
        _cleanup_(tid_freep) StasTid *again = tid_new("tcp", "10.0.0.7", "4420", "nqn.x", "", "", "");
        _cleanup_(tid_freep) StasTid *other = tid_new("tcp", "10.0.0.7", "4420", "nqn.x", "", "eth0", "");
        char addr[32];

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                snprintf(addr, sizeof addr, "10.0.%zu.%zu", i >> 8, i & 255);
                t[i] = tid_new("tcp", addr, "4420", "nqn.x", "", "", "");
                assert_non_null(t[i]);
                assert_int_equal(tid_set_add(&set, t[i]), 1);
        }
        /* the table grew several times; every TID is still found */
        assert_int_equal(set.n, ELEMENTSOF(t));
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                assert_int_equal(tid_set_add(&set, t[i]), 0);
        assert_int_equal(tid_set_add(&set, again), 0); /* equal, not the same pointer */
        assert_int_equal(tid_set_add(&set, other), 1); /* host-iface differs */
        assert_int_equal(set.n, ELEMENTSOF(t) + 1);
        tid_set_done(&set);
        assert_null(set.slots);
        assert_int_equal(tid_set_add(&set, other), 1);
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                tid_free(t[i]);
}

/* referrals come from the network: inputs that collide under the public (unkeyed) tid_hash() must
 * not collide in a set, whose hash is keyed at random */
static void test_tid_set_resists_chosen_collisions(void **state) {
        enum { N = 512 };
        StasTid *t[N];
        StasTidSet set = {};
        char addr[32];
        size_t n = 0;

        for (unsigned k = 0; n < N; k++) {
                snprintf(addr, sizeof addr, "10.%u.%u.%u", (k >> 16) & 255, (k >> 8) & 255, k & 255);
                StasTid *c = tid_new("tcp", addr, "8009", "nqn.x", "", "", "");
                assert_non_null(c);
                if ((tid_hash(c) & 1023) == 0)
                        t[n++] = c;
                else
                        tid_free(c);
        }
        for (size_t i = 0; i < N; i++)
                assert_int_equal(tid_set_add(&set, t[i]), 1);
        assert_int_equal(set.n, N);
        /* linear probing over one chain of 512 would compare ~130000 slots */
        assert_true(set.probes < 8 * N);
        for (size_t i = 0; i < N; i++)
                assert_int_equal(tid_set_add(&set, t[i]), 0);
        tid_set_done(&set);
        for (size_t i = 0; i < N; i++)
                tid_free(t[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tid_set_resists_chosen_collisions),
                cmocka_unit_test(test_tid_equality_and_hash),
                cmocka_unit_test(test_tid_hash_field_boundaries),
                cmocka_unit_test(test_tid_string_form),
                cmocka_unit_test(test_tid_kv_round_trip),
                cmocka_unit_test(test_kv_basics),
                cmocka_unit_test(test_tid_set_dedup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
