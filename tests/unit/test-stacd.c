/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of stacd's pure parts (src/stacd/stacd-discovered.c, stacd-plan.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "stacd-plan.h"
#include "stas/dlp.h"
#include "stas/json-util.h"
#include "stas/strv.h"

#define DC_TCP                                                                                 \
        "{\"transport\":\"tcp\",\"traddr\":\"10.0.0.1\",\"trsvcid\":\"8009\","                 \
        "\"subsysnqn\":\"nqn.2014-08.org.nvmexpress.discovery\",\"host-traddr\":\"10.0.0.9\"," \
        "\"host-iface\":\"eth0\",\"host-nqn\":\"nqn.host\",\"device\":\"nvme0\"}"
#define DLPE(trtype, traddr, subtype, subnqn, eflags)                                                    \
        "{\"trtype\":\"" trtype "\",\"adrfam\":\"ipv4\",\"traddr\":\"" traddr "\",\"trsvcid\":\"4420\"," \
        "\"subnqn\":\"" subnqn "\",\"subtype\":\"" subtype "\",\"treq\":\"not specified\","              \
        "\"portid\":\"1\",\"cntlid\":\"65535\",\"asqsz\":\"32\",\"eflags\":\"" eflags "\"}"

static const char *good_json =
        "[{\"discovery-controller\":" DC_TCP
        ",\"log-pages\":[" DLPE("tcp", "10.0.0.2", "nvme", "nqn.io1", "0") "," DLPE("tcp", "10.0.0.3", "referral", "nqn.2014-08.org.nvmexpress.discovery", "0") "," DLPE(
                "tcp",
                "10.0.0.1",
                "discovery",
                "nqn.2014-08.org.nvmexpress.discovery",
                "0") "," DLPE("rdma", "10.0.0.4", "nvme", "nqn.io2", "4") "]}]";

static void test_stacd_decode_good(void **state) {
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};

        assert_int_equal(stacd_discovered_from_json(good_json, &d), 0);
        assert_true(d.known);
        assert_int_equal(d.n, 1);
        assert_string_equal(d.dcs[0].tid->host_iface, "eth0");
        assert_string_equal(d.dcs[0].tid->host_nqn, "nqn.host");
        assert_int_equal(dlp_list_length(d.dcs[0].dlpes), 4);
}

static void test_stacd_decode_hostile_keeps_set(void **state) {
        static const char *bad[] = {
                "",
                "null",
                "{}",
                "[{\"discovery-controller\":" DC_TCP ",\"log-pages\":[]}] trailing",
                "[{\"discovery-controller\":" DC_TCP ",\"log-pages\":[]}",
        };
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};

        /* not an array at all: nothing can be read, the whole text is rejected */
        assert_int_equal(stacd_discovered_from_json(good_json, &d), 0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(stacd_discovered_from_json(bad[i], &d), -EINVAL);
                /* the previous set is still in force */
                assert_true(d.known);
                assert_int_equal(d.n, 1);
                assert_int_equal(dlp_list_length(d.dcs[0].dlpes), 4);
        }
        assert_int_equal(stacd_discovered_from_json(NULL, &d), -EINVAL);
        assert_int_equal(d.n, 1);
}

#define DC2 \
        "{\"transport\":\"tcp\",\"traddr\":\"10.0.0.20\",\"trsvcid\":\"8009\",\"subsysnqn\":\"nqn.2014-08.org.nvmexpress.discovery\"}"
#define NQN256                                                                                             \
        "nqn.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"  \
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define HOSTILE_DC \
        "{\"transport\":\"tcp\",\"traddr\":\"10.0.0.66\",\"trsvcid\":\"8009\",\"subsysnqn\":\"" NQN256 "\"}"

static void test_stacd_decode_hostile_dc_skipped_alone(void **state) {
        /* the reviewer's case: a referral with a 256-character subnqn that stafd connected */
        static const char *text = "[{\"discovery-controller\":" HOSTILE_DC ",\"log-pages\":[" DLPE(
                "tcp",
                "10.0.0.67",
                "nvme",
                "nqn.evil",
                "0") "]},{\"discovery-controller\":" DC2
                     ",\"log-pages\":[" DLPE("tcp", "10.0.0.21", "nvme", "nqn.io21", "0") "]}]";
        _cleanup_(stacd_discovered_done) StacdDiscovered old = {}, d = {};
        _cleanup_json_ json_object *o = NULL;
        StacdDecodeStats st = {};
        StacdCandidate *c = NULL;
        size_t n = 0;

        assert_int_equal(strlen(NQN256), 256);
        assert_int_equal(stacd_discovered_from_json(good_json, &old), 0);
        assert_int_equal(json_parse(text, &o), 0);
        assert_int_equal(stacd_discovered_decode(o, &old, &d, &st), 0);
        assert_true(d.known);
        assert_int_equal(st.bad_dcs, 1);
        assert_int_equal(st.unidentified, 0);
        assert_int_equal(st.kept, 0);
        /* DC_TCP is not in the answer and no element could have been it: it is gone */
        assert_int_equal(d.n, 1);
        assert_string_equal(d.dcs[0].tid->traddr, "10.0.0.20");
        assert_int_equal(stacd_discovered_iocs(&d, false, &c, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(c[0].tid->traddr, "10.0.0.21");
        stacd_candidates_free(c, n);
}

static void test_stacd_decode_unidentified_element_keeps_missing_dcs(void **state) {
        static const char *texts[] = {
                "[1,{\"discovery-controller\":" DC2 ",\"log-pages\":[]}]",
                "[{},{\"discovery-controller\":" DC2 ",\"log-pages\":[]}]",
                "[{\"discovery-controller\":{\"transport\":5},\"log-pages\":[]},{\"discovery-controller\":" DC2
                ",\"log-pages\":[]}]",
                "[[[[[[[[[[]]]]]]]]],{\"discovery-controller\":" DC2 ",\"log-pages\":[]}]",
        };

        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
                _cleanup_(stacd_discovered_done) StacdDiscovered d = {};

                assert_int_equal(stacd_discovered_from_json(good_json, &d), 0);
                assert_int_equal(stacd_discovered_from_json(texts[i], &d), 0);
                /* DC2 applies; DC_TCP could be the unreadable element: it keeps its entries */
                assert_int_equal(d.n, 2);
                assert_string_equal(d.dcs[0].tid->traddr, "10.0.0.20");
                assert_int_equal(dlp_list_length(d.dcs[0].dlpes), 0);
                assert_string_equal(d.dcs[1].tid->traddr, "10.0.0.1");
                assert_int_equal(dlp_list_length(d.dcs[1].dlpes), 4);
        }
}

static void test_stacd_decode_bad_page_list_keeps_dc_entries(void **state) {
        static const char *text = "[{\"discovery-controller\":" DC_TCP
                                  ",\"log-pages\":{}},{\"discovery-controller\":" DC2 ",\"log-pages\":7}]";
        _cleanup_(stacd_discovered_done) StacdDiscovered old = {}, d = {};
        _cleanup_json_ json_object *o = NULL;
        StacdDecodeStats st = {};

        assert_int_equal(stacd_discovered_from_json(good_json, &old), 0);
        assert_int_equal(json_parse(text, &o), 0);
        assert_int_equal(stacd_discovered_decode(o, &old, &d, &st), 0);
        assert_int_equal(st.bad_dcs, 2);
        assert_int_equal(st.kept, 1);
        /* DC_TCP keeps its 4 entries; DC2 was never known: skipped */
        assert_int_equal(d.n, 1);
        assert_string_equal(d.dcs[0].tid->traddr, "10.0.0.1");
        assert_int_equal(dlp_list_length(d.dcs[0].dlpes), 4);
}

static void test_stacd_decode_bad_dlpe_dropped_alone(void **state) {
        char big[5000];
        _cleanup_free_ char *text = NULL;
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};
        _cleanup_json_ json_object *o = NULL;
        StacdDecodeStats st = {};

        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        assert_true(
                asprintf(
                        &text,
                        "[{\"discovery-controller\":" DC_TCP ",\"log-pages\":[1,{\"trtype\":5}," DLPE(
                                "tcp", "10.0.0.2", "nvme", "nqn.io1", "0") ",{\"trtype\":{\"a\":\"b\"}},"
                                                                           "{\"traddr\":\"%s\"},"
                                                                           "{\"bad\\nkey\":\"x\"}]}]",
                        big) > 0);
        assert_int_equal(json_parse(text, &o), 0);
        assert_int_equal(stacd_discovered_decode(o, NULL, &d, &st), 0);
        assert_int_equal(st.bad_dlpes, 5);
        assert_int_equal(st.bad_dcs + st.unidentified, 0);
        assert_int_equal(d.n, 1);
        assert_int_equal(dlp_list_length(d.dcs[0].dlpes), 1);
        assert_string_equal(kv_get(d.dcs[0].dlpes[0], "subnqn"), "nqn.io1");
}

/* what stafd sends is validated again: a field that would inject connect options is refused */
static void test_stacd_decode_refuses_injection(void **state) {
        static const char *text =
                "[{\"discovery-controller\":" DC_TCP ",\"log-pages\":["
                "{\"trtype\":\"tcp\",\"adrfam\":\"ipv4\",\"traddr\":\"10.0.0.5\",\"trsvcid\":\"4420,host_iface=evil0\","
                "\"subnqn\":\"nqn.a\",\"subtype\":\"nvme\"},"
                "{\"trtype\":\"tcp\",\"adrfam\":\"ipv4\",\"traddr\":\"10.0.0.6\",\"trsvcid\":\"4420\","
                "\"subnqn\":\"nqn.2024-01.io.evil:x,host_traddr=203.0.113.9,nr_io_queues=1\",\"subtype\":\"nvme\"},"
                "{\"trtype\":\"tcp\",\"adrfam\":\"ipv4\",\"traddr\":\"10.0.0.7 \",\"trsvcid\":\"4420\","
                "\"subnqn\":\"nqn.b\",\"subtype\":\"nvme\"}," DLPE(
                        "tcp",
                        "10.0.0.2",
                        "nvme",
                        "nqn.io1",
                        "0") "]},"
                             "{\"discovery-controller\":{\"transport\":\"tcp\",\"traddr\":\"10.0.0.8\",\"trsvcid\":\"8009\","
                             "\"host-iface\":\"evil0,duplicate_connect\"},\"log-pages\":[" DLPE(
                                     "tcp", "10.0.0.9", "nvme", "nqn.io9", "0") "]}]";
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};
        _cleanup_json_ json_object *o = NULL;
        StacdDecodeStats st = {};
        const char *field = NULL;

        assert_int_equal(json_parse(text, &o), 0);
        assert_int_equal(stacd_discovered_decode(o, NULL, &d, &st), 0);
        assert_int_equal(st.bad_dlpes, 3);
        assert_int_equal(st.bad_dcs, 1);
        assert_string_equal(st.first_field, "trsvcid");
        assert_string_equal(st.first_dc, "10.0.0.1");
        assert_string_equal(st.first_value, "4420,host_iface=evil0");
        assert_int_equal(d.n, 1);
        assert_int_equal(dlp_list_length(d.dcs[0].dlpes), 1);
        assert_string_equal(kv_get(d.dcs[0].dlpes[0], "subnqn"), "nqn.io1");
        assert_false(stacd_dlpe_usable(NULL, &field));
        assert_true(stacd_dlpe_usable(d.dcs[0].dlpes[0], &field));
        assert_null(field);
}

static void test_stacd_decode_empty_list_is_explicit(void **state) {
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};

        /* a live stafd that knows no DC is an explicit, known, empty set */
        assert_int_equal(stacd_discovered_from_json("[]", &d), 0);
        assert_true(d.known);
        assert_int_equal(d.n, 0);
}

static void test_stacd_candidates_nvme_only_with_dc_host_fields(void **state) {
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};
        StacdCandidate *c = NULL;
        size_t n = 0;

        assert_int_equal(stacd_discovered_from_json(good_json, &d), 0);
        assert_int_equal(stacd_discovered_iocs(&d, false, &c, &n), 0);
        assert_int_equal(n, 2); /* referral and discovery entries ignored */
        assert_string_equal(c[0].tid->transport, "tcp");
        assert_string_equal(c[0].tid->traddr, "10.0.0.2");
        assert_string_equal(c[0].tid->trsvcid, "4420");
        assert_string_equal(c[0].tid->subsysnqn, "nqn.io1");
        assert_string_equal(c[0].tid->host_traddr, "10.0.0.9");
        assert_string_equal(c[0].tid->host_iface, "eth0");
        assert_string_equal(c[0].tid->host_nqn, "nqn.host");
        assert_ptr_equal(c[0].dlpe, d.dcs[0].dlpes[0]);
        /* rdma is never bound to an interface */
        assert_string_equal(c[1].tid->transport, "rdma");
        assert_string_equal(c[1].tid->host_iface, "");
        assert_string_equal(c[1].tid->host_traddr, "10.0.0.9");
        stacd_candidates_free(c, n);

        /* ignore-iface drops host-iface */
        assert_int_equal(stacd_discovered_iocs(&d, true, &c, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(c[0].tid->host_iface, "");
        stacd_candidates_free(c, n);
}

static void test_stacd_candidates_dedup(void **state) {
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};
        StacdCandidate *c = NULL;
        size_t n = 0;
        const char *json = "[{\"discovery-controller\":" DC_TCP
                           ",\"log-pages\":[" DLPE("tcp", "10.0.0.2", "nvme", "nqn.io1", "0") "," DLPE(
                                   "tcp", "10.0.0.2", "nvme", "nqn.io1", "4") "]}]";

        assert_int_equal(stacd_discovered_from_json(json, &d), 0);
        assert_int_equal(stacd_discovered_iocs(&d, false, &c, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(kv_get(c[0].dlpe, "eflags"), "0");
        stacd_candidates_free(c, n);
}

static void test_stacd_ncc_limits(void **state) {
        _cleanup_(kv_freep) StasKV *ncc = kv_new(), *plain = kv_new();

        assert_int_equal(kv_set(ncc, "eflags", "4"), 0);
        assert_int_equal(kv_set(plain, "eflags", "0"), 0);
        /* limit 0 never stops */
        assert_false(stacd_ncc_exhausted(ncc, 0, 1000));
        /* limit 2: stop after the second attempt */
        assert_false(stacd_ncc_exhausted(ncc, 2, 0));
        assert_false(stacd_ncc_exhausted(ncc, 2, 1));
        assert_true(stacd_ncc_exhausted(ncc, 2, 2));
        assert_true(stacd_ncc_exhausted(ncc, 2, 3));
        /* without NCC, or without a DLPE (configured IOC), never */
        assert_false(stacd_ncc_exhausted(plain, 2, 10));
        assert_false(stacd_ncc_exhausted(NULL, 2, 10));
}

static void test_stacd_lkc_round_trip(void **state) {
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {}, d2 = {};
        _cleanup_(tid_freep) StasTid *a =
                tid_new("tcp", "10.0.0.2", "4420", "nqn.io1", "", "eth0", "nqn.host");
        _cleanup_(dlp_tids_freep) StasTid **tids = NULL;
        StasTid *list[] = { a };
        json_object *o;

        assert_int_equal(stacd_discovered_from_json(good_json, &d), 0);
        o = stacd_lkc_build(list, 1, &d);
        assert_non_null(o);
        /* through text, as the file does */
        {
                json_object *o2 = json_tokener_parse(json_object_to_json_string(o));

                assert_non_null(o2);
                assert_int_equal(stacd_lkc_parse(o2, &tids, &d2), 0);
                json_object_put(o2);
        }
        json_object_put(o);
        assert_non_null(tids[0]);
        assert_null(tids[1]);
        assert_true(tid_equal(tids[0], a));
        assert_true(d2.known);
        assert_int_equal(d2.n, 1);
        assert_true(tid_equal(d2.dcs[0].tid, d.dcs[0].tid));
        assert_true(dlp_list_equal(d2.dcs[0].dlpes, d.dcs[0].dlpes));
}

static void test_stacd_lkc_unknown_set_stays_unknown(void **state) {
        StacdDiscovered unknown = {}, d2 = {};
        _cleanup_(dlp_tids_freep) StasTid **tids = NULL;
        json_object *o = stacd_lkc_build(NULL, 0, &unknown);

        assert_non_null(o);
        assert_int_equal(stacd_lkc_parse(o, &tids, &d2), 0);
        assert_false(d2.known);
        assert_null(tids[0]);
        json_object_put(o);
        /* bad shapes */
        o = json_tokener_parse("{\"iocs\":{}}");
        assert_int_equal(stacd_lkc_parse(o, &tids, &d2), -EINVAL);
        json_object_put(o);
        o = json_tokener_parse("[]");
        assert_int_equal(stacd_lkc_parse(o, &tids, &d2), -EINVAL);
        json_object_put(o);
}

static void test_stacd_ioc_dict_hides_secrets(void **state) {
        _cleanup_(tid_freep) StasTid *a = tid_new("tcp", "10.0.0.2", "4420", "nqn.io1", "", "", "nqn.host");
        _cleanup_(kv_freep) StasKV *entry = kv_new(), *kv = NULL;

        assert_int_equal(kv_set(entry, "transport", "tcp"), 0);
        assert_int_equal(kv_set(entry, "dhchap-secret", "DHHC-1:00:abc="), 0);
        assert_int_equal(kv_set(entry, "dhchap-ctrl-secret", "DHHC-1:00:def="), 0);
        assert_int_equal(kv_set(entry, "queue-size", "64"), 0);
        kv = stacd_ioc_dict(a, NULL, entry);
        assert_non_null(kv);
        assert_string_equal(kv_get(kv, "device"), "nvme?");
        assert_string_equal(kv_get(kv, "dhchap-secret"), "(set)");
        assert_string_equal(kv_get(kv, "dhchap-ctrl-secret"), "(set)");
        assert_string_equal(kv_get(kv, "queue-size"), "64");
        assert_string_equal(kv_get(kv, "subsysnqn"), "nqn.io1");
}

static void test_stacd_dlpe_to_string(void **state) {
        _cleanup_(kv_freep) StasKV *e = kv_new();
        _cleanup_free_ char *s = NULL, *none = stacd_dlpe_to_string(NULL);

        assert_int_equal(kv_set(e, "trtype", "tcp"), 0);
        assert_int_equal(kv_set(e, "subnqn", "it's"), 0);
        s = stacd_dlpe_to_string(e);
        assert_string_equal(s, "{'trtype': 'tcp', 'subnqn': 'it\\'s'}");
        assert_string_equal(none, "None");
}

/* Planner fixtures: one configured IOC, the discovered set of good_json. */
typedef struct PlanFix {
        StasKV *ctrl[1];
        StacdPlanConf conf;
        char **trtypes;
} PlanFix;

static void fix_init(PlanFix *f, StasDisconnectScope scope, const char *trtypes) {
        f->ctrl[0] = kv_new();
        assert_int_equal(kv_set(f->ctrl[0], "transport", "tcp"), 0);
        assert_int_equal(kv_set(f->ctrl[0], "traddr", "10.0.0.7"), 0);
        assert_int_equal(kv_set(f->ctrl[0], "trsvcid", "4420"), 0);
        assert_int_equal(kv_set(f->ctrl[0], "subsysnqn", "nqn.io7"), 0);
        f->trtypes = strv_split(trtypes, "+");
        f->conf = (StacdPlanConf){
                .controllers = f->ctrl,
                .n_controllers = 1,
                .ip_family = STAS_IPFAM_BOTH,
                .scope = scope,
                .trtypes = f->trtypes,
                .hostnqn = "nqn.host",
        };
}

static void fix_done(PlanFix *f) {
        kv_free(f->ctrl[0]);
        strv_free(f->trtypes);
}

static void test_stacd_plan_adds_configured_and_discovered(void **state) {
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};
        _cleanup_(stacd_plan_done) StacdPlan p = {};
        PlanFix f;

        fix_init(&f, STAS_DISCONNECT_ONLY_STAS, "tcp");
        assert_int_equal(stacd_discovered_from_json(good_json, &d), 0);
        assert_int_equal(stacd_plan(&f.conf, &d, NULL, 0, &p), 0);
        assert_int_equal(p.n_add, 3);
        assert_string_equal(p.add[0]->traddr, "10.0.0.7");
        assert_string_equal(p.add[0]->host_nqn, "nqn.host"); /* default host-nqn */
        assert_ptr_equal(p.add_src[0].entry, f.ctrl[0]);
        assert_null(p.add_src[0].dlpe);
        assert_string_equal(p.add[1]->traddr, "10.0.0.2");
        assert_ptr_equal(p.add_src[1].dlpe, d.dcs[0].dlpes[0]);
        assert_int_equal(p.n_del, 0);
        fix_done(&f);
}

static void test_stacd_plan_stafd_absent_keeps_set(void **state) {
        _cleanup_(tid_freep) StasTid *io1 =
                tid_new("tcp", "10.0.0.2", "4420", "nqn.io1", "10.0.0.9", "eth0", "nqn.host");
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};
        _cleanup_(stacd_plan_done) StacdPlan p = {};
        StacdCurrentIoc cur[] = { { io1, true } };
        PlanFix f;

        fix_init(&f, STAS_DISCONNECT_ONLY_STAS, "tcp");
        /* a set known earlier stays in force while stafd is gone: nothing is removed */
        assert_int_equal(stacd_discovered_from_json(good_json, &d), 0);
        assert_int_equal(stacd_plan(&f.conf, &d, cur, 1, &p), 0);
        assert_int_equal(p.n_del, 0);
        assert_ptr_equal(p.cur_src[0].dlpe, d.dcs[0].dlpes[0]);
        stacd_plan_done(&p);

        /* never known (fresh start, stafd down, no lkc): the removal is deferred */
        stacd_discovered_done(&d);
        assert_int_equal(stacd_plan(&f.conf, &d, cur, 1, &p), 0);
        assert_int_equal(p.n_del, 0);
        assert_int_equal(p.n_deferred, 1);
        stacd_plan_done(&p);

        /* an explicit empty answer from a live stafd removes it */
        assert_int_equal(stacd_discovered_from_json("[]", &d), 0);
        assert_int_equal(stacd_plan(&f.conf, &d, cur, 1, &p), 0);
        assert_int_equal(p.n_del, 1);
        assert_int_equal(p.del[0], 0);
        assert_false(p.del_keep_connection[0]);
        fix_done(&f);
}

static void test_stacd_plan_disconnect_policy(void **state) {
        _cleanup_(tid_freep)
                StasTid *tcp = tid_new("tcp", "10.0.0.5", "4420", "nqn.x", "", "", "nqn.host"),
                        *fc = tid_new("fc", "nn-0x1:pn-0x2", "", "nqn.y", "nn-0x3:pn-0x4", "", "nqn.host");
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};
        _cleanup_(stacd_plan_done) StacdPlan p = {};
        StacdCurrentIoc cur[] = { { tcp, true }, { fc, true } };
        PlanFix f;

        assert_int_equal(stacd_discovered_from_json("[]", &d), 0);
        /* #202: disconnect-trtypes=rdma+fc must not disconnect tcp */
        fix_init(&f, STAS_DISCONNECT_ALL_MATCHING, "rdma+fc");
        assert_int_equal(stacd_plan(&f.conf, &d, cur, 2, &p), 0);
        assert_int_equal(p.n_del, 2);
        assert_true(p.del_keep_connection[0]);  /* tcp kept */
        assert_false(p.del_keep_connection[1]); /* fc disconnected */
        stacd_plan_done(&p);
        fix_done(&f);

        fix_init(&f, STAS_DISCONNECT_NONE, "tcp");
        assert_int_equal(stacd_plan(&f.conf, &d, cur, 2, &p), 0);
        assert_int_equal(p.n_del, 2);
        assert_true(p.del_keep_connection[0]);
        assert_true(p.del_keep_connection[1]);
        fix_done(&f);
}

static void test_stacd_plan_excluded_and_ip_family(void **state) {
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};
        _cleanup_(stacd_plan_done) StacdPlan p = {};
        _cleanup_(kv_freep) StasKV *ex = kv_new();
        StasKV *excludes[] = { ex };
        PlanFix f;

        fix_init(&f, STAS_DISCONNECT_ONLY_STAS, "tcp");
        assert_int_equal(kv_set(ex, "traddr", "10.0.0.2"), 0);
        f.conf.excludes = excludes;
        f.conf.n_excludes = 1;
        assert_int_equal(stacd_discovered_from_json(good_json, &d), 0);
        assert_int_equal(stacd_plan(&f.conf, &d, NULL, 0, &p), 0);
        assert_int_equal(p.n_add, 2);
        assert_string_equal(p.add[0]->traddr, "10.0.0.7");
        assert_string_equal(p.add[1]->traddr, "10.0.0.4");
        stacd_plan_done(&p);

        f.conf.n_excludes = 0;
        f.conf.ip_family = STAS_IPFAM_V6;
        assert_int_equal(stacd_plan(&f.conf, &d, NULL, 0, &p), 0);
        assert_int_equal(p.n_add, 0);
        fix_done(&f);
}

static void test_stacd_fresh_stafd_keeps_missing_dcs(void **state) {
        _cleanup_(stacd_discovered_done) StacdDiscovered old = {}, fresh = {}, gone = {}, later = {};
        const char *no_pages = "[{\"discovery-controller\":" DC_TCP ",\"log-pages\":[]}]";

        assert_int_equal(stacd_discovered_from_json(good_json, &old), 0);
        /* a restarted stafd lists the DC without entries yet: the old entries stay */
        assert_int_equal(stacd_discovered_from_json(no_pages, &fresh), 0);
        assert_int_equal(stacd_discovered_keep_missing(&fresh, &old), 1);
        assert_int_equal(fresh.n, 1);
        assert_true(dlp_list_equal(fresh.dcs[0].dlpes, old.dcs[0].dlpes));
        /* ... or does not list it at all */
        assert_int_equal(stacd_discovered_from_json("[]", &gone), 0);
        assert_int_equal(stacd_discovered_keep_missing(&gone, &old), 1);
        assert_int_equal(gone.n, 1);
        /* a DC with entries replaces the old ones */
        assert_int_equal(stacd_discovered_from_json(good_json, &later), 0);
        assert_int_equal(kv_set(later.dcs[0].dlpes[0], "traddr", "10.9.9.9"), 0);
        assert_int_equal(stacd_discovered_keep_missing(&later, &old), 0);
        assert_string_equal(kv_get(later.dcs[0].dlpes[0], "traddr"), "10.9.9.9");
        /* nothing to keep from an unknown set */
        stacd_discovered_done(&old);
        assert_int_equal(stacd_discovered_keep_missing(&later, &old), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stacd_decode_good),
                cmocka_unit_test(test_stacd_decode_hostile_keeps_set),
                cmocka_unit_test(test_stacd_decode_hostile_dc_skipped_alone),
                cmocka_unit_test(test_stacd_decode_unidentified_element_keeps_missing_dcs),
                cmocka_unit_test(test_stacd_decode_bad_page_list_keeps_dc_entries),
                cmocka_unit_test(test_stacd_decode_bad_dlpe_dropped_alone),
                cmocka_unit_test(test_stacd_decode_empty_list_is_explicit),
                cmocka_unit_test(test_stacd_decode_refuses_injection),
                cmocka_unit_test(test_stacd_candidates_nvme_only_with_dc_host_fields),
                cmocka_unit_test(test_stacd_candidates_dedup),
                cmocka_unit_test(test_stacd_ncc_limits),
                cmocka_unit_test(test_stacd_lkc_round_trip),
                cmocka_unit_test(test_stacd_lkc_unknown_set_stays_unknown),
                cmocka_unit_test(test_stacd_ioc_dict_hides_secrets),
                cmocka_unit_test(test_stacd_dlpe_to_string),
                cmocka_unit_test(test_stacd_plan_adds_configured_and_discovered),
                cmocka_unit_test(test_stacd_plan_stafd_absent_keeps_set),
                cmocka_unit_test(test_stacd_plan_disconnect_policy),
                cmocka_unit_test(test_stacd_plan_excluded_and_ip_family),
                cmocka_unit_test(test_stacd_fresh_stafd_keeps_missing_dcs),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
