/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "stas/reconcile.h"
#include "stas/strv.h"

static StasTid *T(const char *transport, const char *traddr) {
        return tid_new(transport, traddr, "8009", NVME_DISC_WKNQN, "", "", "nqn.host");
}

static bool reject_excluded(const StasTid *tid, void *userdata) {
        return strv_contains(userdata, tid->traddr);
}

static void test_reconcile_dcs_add_and_delete(void **state) {
        _cleanup_(tid_freep) StasTid *a = T("tcp", "10.0.0.1"), *b = T("tcp", "10.0.0.2"),
                                     *c = T("tcp", "10.0.0.3");
        StasCurrent cur[] = { { a, STAS_ORIGIN_CONFIGURED }, { b, STAS_ORIGIN_CONFIGURED } };
        StasWanted want[] = { { b, STAS_ORIGIN_CONFIGURED }, { c, STAS_ORIGIN_CONFIGURED } };
        _cleanup_(reconcile_result_done) StasReconcileResult r = {};

        assert_int_equal(reconcile_dcs(cur, 2, want, 2, NULL, NULL, &r), 0);
        assert_int_equal(r.n_add, 1);
        assert_int_equal(r.add[0], 1); /* c */
        assert_int_equal(r.n_del, 1);
        assert_int_equal(r.del[0], 0); /* a */
        assert_false(r.del_keep_connection[0]);
}

static void test_reconcile_dcs_origin_priority(void **state) {
        _cleanup_(tid_freep) StasTid *a = T("tcp", "10.0.0.1"), *a2 = T("tcp", "10.0.0.1"),
                                     *b = T("tcp", "10.0.0.2");
        StasCurrent cur[] = { { b, STAS_ORIGIN_DISCOVERED } };
        /* a is both discovered and a referral: referral wins; b becomes configured. */
        StasWanted want[] = {
                { a, STAS_ORIGIN_DISCOVERED },
                { a2, STAS_ORIGIN_REFERRAL },
                { b, STAS_ORIGIN_DISCOVERED },
                { b, STAS_ORIGIN_CONFIGURED },
        };
        _cleanup_(reconcile_result_done) StasReconcileResult r = {};

        assert_int_equal(reconcile_dcs(cur, 1, want, 4, NULL, NULL, &r), 0);
        assert_int_equal(r.n_add, 1);
        assert_int_equal(r.add[0], 0);
        assert_int_equal(r.add_origin[0], STAS_ORIGIN_REFERRAL);
        assert_int_equal(r.n_del, 0);
        assert_int_equal(r.origin[0], STAS_ORIGIN_CONFIGURED);
}

static void test_reconcile_dcs_mdns_kept_unless_must_remove(void **state) {
        _cleanup_(tid_freep) StasTid *a = T("tcp", "10.0.0.1"), *b = T("tcp", "10.0.0.2"),
                                     *c = T("tcp", "10.0.0.3"), *d = T("tcp", "10.0.0.4");
        char *excluded[] = { (char *) "10.0.0.3", NULL };
        StasCurrent cur[] = {
                { a, STAS_ORIGIN_DISCOVERED, false }, /* avahi lost it, still responsive: keep */
                { b, STAS_ORIGIN_DISCOVERED, true },  /* unresponsive: remove */
                { c, STAS_ORIGIN_DISCOVERED, false }, /* now excluded: remove */
                { d, STAS_ORIGIN_REFERRAL, false },   /* referral gone: remove */
        };
        _cleanup_(reconcile_result_done) StasReconcileResult r = {};

        assert_int_equal(reconcile_dcs(cur, 4, NULL, 0, reject_excluded, excluded, &r), 0);
        assert_int_equal(r.n_add, 0);
        assert_int_equal(r.n_del, 3);
        assert_int_equal(r.del[0], 1);
        assert_int_equal(r.del[1], 2);
        assert_int_equal(r.del[2], 3);
}

static void test_reconcile_dcs_rejected_never_added(void **state) {
        _cleanup_(tid_freep) StasTid *a = T("tcp", "10.0.0.1"), *b = T("tcp", "10.0.0.2");
        char *excluded[] = { (char *) "10.0.0.1", NULL };
        StasWanted want[] = { { a, STAS_ORIGIN_CONFIGURED }, { b, STAS_ORIGIN_REFERRAL } };
        _cleanup_(reconcile_result_done) StasReconcileResult r = {};

        assert_int_equal(reconcile_dcs(NULL, 0, want, 2, reject_excluded, excluded, &r), 0);
        assert_int_equal(r.n_add, 1);
        assert_int_equal(r.add[0], 1);
}

static void test_reconcile_dcs_referral_cycle_is_stable(void **state) {
        /* A refers to B, B refers back to A: the set is {A, B}, and a second pass changes nothing. */
        _cleanup_(tid_freep) StasTid *a = T("tcp", "10.0.0.1"), *b = T("tcp", "10.0.0.2");
        StasCurrent cur[] = { { a, STAS_ORIGIN_CONFIGURED }, { b, STAS_ORIGIN_REFERRAL } };
        StasWanted want[] = { { a, STAS_ORIGIN_CONFIGURED },
                              { b, STAS_ORIGIN_REFERRAL },
                              { a, STAS_ORIGIN_REFERRAL } };
        _cleanup_(reconcile_result_done) StasReconcileResult r = {};

        assert_int_equal(reconcile_dcs(cur, 2, want, 3, NULL, NULL, &r), 0);
        assert_int_equal(r.n_add, 0);
        assert_int_equal(r.n_del, 0);
        assert_int_equal(r.origin[0], STAS_ORIGIN_CONFIGURED);
        assert_int_equal(r.origin[1], STAS_ORIGIN_REFERRAL);
}

static void test_reconcile_iocs_disconnect_scope(void **state) {
        _cleanup_(tid_freep) StasTid *t = T("tcp", "10.0.0.1"), *f = T("fc", "nn-0x1:pn-0x2");
        StasCurrent cur[] = { { t, STAS_ORIGIN_DISCOVERED }, { f, STAS_ORIGIN_DISCOVERED } };
        char *tcp_only[] = { (char *) "tcp", NULL };
        char *rdma_fc[] = { (char *) "rdma", (char *) "fc", NULL };
        StasReconcileResult r = {};

        assert_int_equal(
                reconcile_iocs(cur, 2, NULL, 0, NULL, NULL, STAS_DISCONNECT_ONLY_STAS, tcp_only, &r), 0);
        assert_int_equal(r.n_del, 2);
        assert_false(r.del_keep_connection[0]);
        assert_false(r.del_keep_connection[1]);
        reconcile_result_done(&r);

        assert_int_equal(reconcile_iocs(cur, 2, NULL, 0, NULL, NULL, STAS_DISCONNECT_NONE, tcp_only, &r), 0);
        assert_int_equal(r.n_del, 2);
        assert_true(r.del_keep_connection[0]);
        assert_true(r.del_keep_connection[1]);
        reconcile_result_done(&r);

        /* upstream #202: rdma+fc must not remove tcp connections */
        assert_int_equal(
                reconcile_iocs(cur, 2, NULL, 0, NULL, NULL, STAS_DISCONNECT_ALL_MATCHING, rdma_fc, &r), 0);
        assert_int_equal(r.n_del, 2);
        assert_true(r.del_keep_connection[0]);
        assert_false(r.del_keep_connection[1]);
        reconcile_result_done(&r);
}

static void test_reconcile_iocs_add(void **state) {
        _cleanup_(tid_freep) StasTid *a = T("tcp", "10.0.0.1"), *b = T("tcp", "10.0.0.2");
        StasCurrent cur[] = { { a, STAS_ORIGIN_CONFIGURED } };
        StasWanted want[] = { { a, STAS_ORIGIN_DISCOVERED }, { b, STAS_ORIGIN_DISCOVERED } };
        _cleanup_(reconcile_result_done) StasReconcileResult r = {};

        assert_int_equal(
                reconcile_iocs(cur, 1, want, 2, NULL, NULL, STAS_DISCONNECT_ONLY_STAS, NULL, &r), 0);
        assert_int_equal(r.n_add, 1);
        assert_int_equal(r.add[0], 1);
        assert_int_equal(r.n_del, 0);
}

static void test_reconcile_origin_strings(void **state) {
        assert_string_equal(stas_origin_to_string(STAS_ORIGIN_CONFIGURED), "configured");
        assert_string_equal(stas_origin_to_string(STAS_ORIGIN_REFERRAL), "referral");
        assert_string_equal(stas_origin_to_string(STAS_ORIGIN_DISCOVERED), "discovered");
        assert_null(stas_origin_to_string(_STAS_ORIGIN_MAX));
        assert_int_equal(stas_origin_from_string("referral"), STAS_ORIGIN_REFERRAL);
        assert_int_equal(stas_origin_from_string("bogus"), _STAS_ORIGIN_INVALID);
        assert_int_equal(stas_origin_from_string(NULL), _STAS_ORIGIN_INVALID);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reconcile_dcs_add_and_delete),
                cmocka_unit_test(test_reconcile_dcs_origin_priority),
                cmocka_unit_test(test_reconcile_dcs_mdns_kept_unless_must_remove),
                cmocka_unit_test(test_reconcile_dcs_rejected_never_added),
                cmocka_unit_test(test_reconcile_dcs_referral_cycle_is_stable),
                cmocka_unit_test(test_reconcile_iocs_disconnect_scope),
                cmocka_unit_test(test_reconcile_iocs_add),
                cmocka_unit_test(test_reconcile_origin_strings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
