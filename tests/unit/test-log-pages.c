/* SPDX-License-Identifier: Apache-2.0 */
/* The one codec of the log-pages JSON (log-pages.h): the exact wire text, and hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stas/dlp.h"
#include "stas/json-util.h"
#include "stas/log-pages.h"
#include "stas/wire.h"

static StasKV *dict(const char *const *kv) {
        StasKV *d = kv_new();

        assert_non_null(d);
        for (; kv && kv[0]; kv += 2)
                assert_int_equal(kv_set(d, kv[0], kv[1]), 0);
        return d;
}

static StasKV *dlpe(const char *traddr, const char *trsvcid, const char *subnqn) {
        return dict((const char *const[]){ "trtype",
                                           "tcp",
                                           "adrfam",
                                           "ipv4",
                                           "traddr",
                                           traddr,
                                           "trsvcid",
                                           trsvcid,
                                           "subnqn",
                                           subnqn,
                                           "subtype",
                                           "nvme",
                                           NULL });
}

/* the text stafd answers and stacd's state file holds: key order kept, nothing added, '/' as is */
static void test_log_pages_encoder_wire_text(void **state) {
        _cleanup_(kv_freep) StasKV *dc1 = dict(
                (const char *const[]){ "transport", "tcp", "traddr", "10.0.0.1", "device", "nvme1", NULL });
        _cleanup_(kv_freep) StasKV *dc2 = dict((const char *const[]){ "transport", "rdma", NULL });
        StasKV *l[] = { dlpe("10.0.0.5", "4420", "nqn.io/1"), NULL };
        _cleanup_json_ json_object *a = json_object_new_array();
        _cleanup_free_ char *text = NULL, *pages = NULL;
        _cleanup_json_ json_object *p = log_pages_to_json(NULL);

        assert_non_null(a);
        assert_int_equal(log_pages_add_element(a, dc1, l), 0);
        assert_int_equal(log_pages_add_element(a, dc2, NULL), 0);
        assert_int_equal(json_to_string_dup(a, JSON_FORMAT_COMPACT, &text), 0);
        assert_string_equal(
                text,
                "[{\"discovery-controller\":{\"transport\":\"tcp\",\"traddr\":\"10.0.0.1\",\"device\":\"nvme1\"},"
                "\"log-pages\":[{\"trtype\":\"tcp\",\"adrfam\":\"ipv4\",\"traddr\":\"10.0.0.5\",\"trsvcid\":\"4420\","
                "\"subnqn\":\"nqn.io/1\",\"subtype\":\"nvme\"}]},"
                "{\"discovery-controller\":{\"transport\":\"rdma\"},\"log-pages\":[]}]");
        assert_int_equal(json_to_string_dup(p, JSON_FORMAT_COMPACT, &pages), 0);
        assert_string_equal(pages, "[]");
        kv_free(l[0]);
}

/* what the encoder writes, the decoder reads back unchanged */
static void test_log_pages_round_trip(void **state) {
        _cleanup_(kv_freep) StasKV *dc =
                dict((const char *const[]){ "transport", "tcp", "traddr", "::1", NULL });
        StasKV *l[] = { dlpe("10.0.0.5", "4420", "nqn.a"), dlpe("10.0.0.6", "4420", "nqn.b"), NULL };
        _cleanup_json_ json_object *a = json_object_new_array(), *back = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_(kv_freep) StasKV *dc2 = NULL;
        _cleanup_(dlp_list_freep) StasKV **l2 = NULL;
        LogPagesRead rd = { .check = true, .usable_traddr = true };
        json_object *pages = NULL;

        assert_int_equal(log_pages_add_element(a, dc, l), 0);
        assert_int_equal(json_to_string_dup(a, JSON_FORMAT_COMPACT, &text), 0);
        assert_int_equal(log_pages_parse(text, &back), 0);
        assert_int_equal(json_object_array_length(back), 1);
        assert_int_equal(log_pages_element_from_json(json_object_array_get_idx(back, 0), &dc2, &pages), 0);
        assert_true(kv_equal(dc, dc2));
        assert_non_null(pages);
        assert_int_equal(log_pages_from_json(pages, &rd, &l2), 0);
        assert_true(dlp_list_equal(l, l2));
        assert_int_equal(rd.malformed + rd.n_refused, 0);
        kv_free(l[0]);
        kv_free(l[1]);
}

static void test_log_pages_parse_refuses(void **state) {
        static const char *const bad[] = { "{}", "\"[]\"", "not json", "[] x", "[{}", "null", "" };
        json_object *o = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(log_pages_parse(bad[i], &o), -EINVAL);
                assert_null(o);
        }
        assert_int_equal(log_pages_parse(NULL, &o), -EINVAL);
        assert_int_equal(log_pages_parse(" [ ] \n", &o), 0);
        assert_int_equal(json_object_array_length(o), 0);
        json_object_put(o);
}

static int element(const char *text, StasKV **dc, bool *has_pages) {
        _cleanup_json_ json_object *o = NULL;
        json_object *pages = (json_object *) 1;
        int r;

        assert_int_equal(json_parse(text, &o), 0);
        *dc = NULL;
        r = log_pages_element_from_json(o, dc, &pages);
        *has_pages = r == 0 && pages;
        return r;
}

/* an element names its DC with a dict within the wire limits, or it names none */
static void test_log_pages_element_hostile(void **state) {
        char long_key[STAS_WIRE_FIELD_MAX + 40], long_value[STAS_WIRE_VALUE_MAX + 40];
        char *text = NULL;
        StasKV *dc = NULL;
        bool has_pages;

        assert_int_equal(element("\"an element\"", &dc, &has_pages), -ENOENT);
        assert_int_equal(element("{\"log-pages\":[]}", &dc, &has_pages), -ENOENT);
        assert_int_equal(
                element("{\"discovery-controller\":[],\"log-pages\":[]}", &dc, &has_pages), -EINVAL);
        assert_int_equal(element("{\"discovery-controller\":{\"a\":2}}", &dc, &has_pages), -EINVAL);
        assert_int_equal(
                element("{\"discovery-controller\":{\"a\\u0001\":\"b\"}}", &dc, &has_pages), -EINVAL);
        assert_null(dc);

        /* a key of STAS_WIRE_FIELD_MAX bytes and a value of STAS_WIRE_VALUE_MAX are the most */
        for (size_t extra = 0; extra < 2; extra++) {
                memset(long_key, 'k', STAS_WIRE_FIELD_MAX + extra);
                long_key[STAS_WIRE_FIELD_MAX + extra] = 0;
                memset(long_value, 'v', STAS_WIRE_VALUE_MAX + extra);
                long_value[STAS_WIRE_VALUE_MAX + extra] = 0;
                assert_true(asprintf(&text, "{\"discovery-controller\":{\"%s\":\"x\"}}", long_key) > 0);
                assert_int_equal(element(text, &dc, &has_pages), extra ? -EINVAL : 0);
                dc = kv_free(dc);
                free(text);
                assert_true(asprintf(&text, "{\"discovery-controller\":{\"k\":\"%s\"}}", long_value) > 0);
                assert_int_equal(element(text, &dc, &has_pages), extra ? -EINVAL : 0);
                dc = kv_free(dc);
                free(text);
        }

        /* a readable DC without a usable log page list: the caller decides */
        assert_int_equal(element("{\"discovery-controller\":{\"traddr\":\"1.1.1.1\"}}", &dc, &has_pages), 0);
        assert_string_equal(kv_get(dc, "traddr"), "1.1.1.1");
        assert_false(has_pages);
        dc = kv_free(dc);
        assert_int_equal(
                element("{\"discovery-controller\":{},\"log-pages\":{\"a\":\"b\"}}", &dc, &has_pages), 0);
        assert_false(has_pages);
        dc = kv_free(dc);
        assert_int_equal(element("{\"discovery-controller\":{},\"log-pages\":[]}", &dc, &has_pages), 0);
        assert_true(has_pages);
        dc = kv_free(dc);
}

typedef struct Seen {
        unsigned n;
        char fields[8][16];
} Seen;

static void on_refused(void *userdata, const StasKV *e, const char *field) {
        Seen *s = userdata;

        assert_non_null(e);
        snprintf(s->fields[s->n++ % 8], sizeof(s->fields[0]), "%s", field ?: "(null)");
}

#define PAGES                                                                                                \
        "[{\"trtype\":\"tcp\",\"adrfam\":\"ipv4\",\"traddr\":\"10.0.0.1\",\"trsvcid\":\"4420\","             \
        "\"subnqn\":\"nqn.ok\"},"                                                                            \
        "{\"trtype\":\"tcp\",\"portid\":7},"                                                                 \
        "\"not an entry\","                                                                                  \
        "{\"trtype\":\"tcp\",\"adrfam\":\"ipv4\",\"traddr\":\"10.0.0.2\",\"trsvcid\":\"4420,host_iface=x\"," \
        "\"subnqn\":\"nqn.evil\"},"                                                                          \
        "{\"trtype\":\"tcp\",\"adrfam\":\"ipv4\",\"traddr\":\"0.0.0.0\",\"trsvcid\":\"4420\","               \
        "\"subnqn\":\"nqn.nowhere\"}]"

/* entries one by one: malformed ones counted, the checks the caller asks for applied */
static void test_log_pages_entries(void **state) {
        _cleanup_json_ json_object *pages = NULL;
        StasKV **l = NULL;
        Seen seen = {};
        LogPagesRead all = {};
        LogPagesRead checked = { .check = true, .refused = on_refused, .userdata = &seen };
        LogPagesRead usable = {
                .check = true, .usable_traddr = true, .refused = on_refused, .userdata = &seen
        };
        LogPagesRead capped = { .max_entries = 1 };

        assert_int_equal(json_parse(PAGES, &pages), 0);

        assert_int_equal(log_pages_from_json(pages, &all, &l), 0);
        assert_int_equal(dlp_list_length(l), 3); /* shown as they are (the CLIs) */
        assert_int_equal(all.malformed, 2);
        assert_int_equal(all.n_refused, 0);
        l = dlp_list_free(l);

        assert_int_equal(log_pages_from_json(pages, &checked, &l), 0);
        assert_int_equal(dlp_list_length(l), 2);
        assert_string_equal(kv_get(l[0], "subnqn"), "nqn.ok");
        assert_string_equal(kv_get(l[1], "subnqn"), "nqn.nowhere");
        assert_int_equal(checked.n_refused, 1);
        assert_int_equal(seen.n, 1);
        assert_string_equal(seen.fields[0], "trsvcid");
        l = dlp_list_free(l);

        seen = (Seen){};
        assert_int_equal(log_pages_from_json(pages, &usable, &l), 0);
        assert_int_equal(dlp_list_length(l), 1);
        assert_int_equal(usable.n_refused, 2);
        assert_string_equal(seen.fields[1], "(null)"); /* the unusable traddr */
        l = dlp_list_free(l);

        assert_int_equal(log_pages_from_json(pages, &capped, &l), 0);
        assert_int_equal(dlp_list_length(l), 1);
        l = dlp_list_free(l);

        assert_int_equal(log_pages_from_json(json_object_array_get_idx(pages, 0), &all, &l), -EINVAL);
        assert_null(l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_log_pages_encoder_wire_text),
                cmocka_unit_test(test_log_pages_round_trip),
                cmocka_unit_test(test_log_pages_parse_refuses),
                cmocka_unit_test(test_log_pages_element_hostile),
                cmocka_unit_test(test_log_pages_entries),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
