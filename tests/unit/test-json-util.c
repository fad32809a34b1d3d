/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "stas/json-util.h"

static StasKV *kv_of(const char *k1, const char *v1, const char *k2, const char *v2) {
        StasKV *kv = kv_new();

        assert_non_null(kv);
        assert_int_equal(kv_set(kv, k1, v1), 0);
        if (k2)
                assert_int_equal(kv_set(kv, k2, v2), 0);
        return kv;
}

static void test_json_util_kv_keeps_order_and_escapes(void **state) {
        _cleanup_(kv_freep) StasKV *kv = kv_of("zeta", "1", "alpha", "a/b \"q\"");
        _cleanup_json_ json_object *o = json_from_kv(kv);
        _cleanup_free_ char *compact = NULL, *pretty = NULL;

        assert_non_null(o);
        assert_int_equal(json_to_string_dup(o, JSON_FORMAT_COMPACT, &compact), 0);
        assert_string_equal(compact, "{\"zeta\":\"1\",\"alpha\":\"a/b \\\"q\\\"\"}");
        assert_int_equal(json_to_string_dup(o, JSON_FORMAT_PRETTY, &pretty), 0);
        assert_non_null(strchr(pretty, '\n'));
}

static void test_json_util_round_trip_list(void **state) {
        StasKV *list[] = { kv_of("trtype", "tcp", "traddr", "::1"),
                           kv_of("subtype", "nvme", NULL, NULL),
                           NULL };
        _cleanup_json_ json_object *a = json_from_kvv(list), *back = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_(kvv_freep) StasKV **decoded = NULL;

        assert_int_equal(json_to_string_dup(a, JSON_FORMAT_COMPACT, &text), 0);
        assert_string_equal(text, "[{\"trtype\":\"tcp\",\"traddr\":\"::1\"},{\"subtype\":\"nvme\"}]");
        assert_int_equal(json_parse(text, &back), 0);
        assert_int_equal(json_to_kvv(back, &decoded), 0);
        assert_int_equal(kvv_length(decoded), 2);
        assert_true(kv_equal(decoded[0], list[0]));
        assert_true(kv_equal(decoded[1], list[1]));
        assert_string_equal(decoded[0]->keys[0], "trtype");
        kv_free(list[0]);
        kv_free(list[1]);
}

static void test_json_util_empty(void **state) {
        _cleanup_json_ json_object *o = json_from_kv(NULL), *a = json_from_kvv(NULL);
        _cleanup_free_ char *s1 = NULL, *s2 = NULL;

        assert_int_equal(json_to_string_dup(o, JSON_FORMAT_COMPACT, &s1), 0);
        assert_int_equal(json_to_string_dup(a, JSON_FORMAT_COMPACT, &s2), 0);
        assert_string_equal(s1, "{}");
        assert_string_equal(s2, "[]");
}

static void test_json_util_hostile_input(void **state) {
        const char *bad_parse[] = { "", "{", "[1,", "{} x", "null", "\"unterminated", "{\"a\":\"b\"}}" };
        const char *bad_kv[] = {
                "[]", "\"s\"", "{\"a\":1}", "{\"a\":null}", "{\"a\":{\"b\":\"c\"}}", "{\"a\":[\"b\"]}"
        };
        const char *bad_kvv[] = { "{}", "[1]", "[{\"a\":true}]", "[[]]", "[{\"a\":\"b\"}, \"c\"]" };
        json_object *o = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad_parse); i++)
                assert_int_equal(json_parse(bad_parse[i], &o), -EINVAL);
        assert_int_equal(json_parse(NULL, &o), -EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(bad_kv); i++) {
                StasKV *kv = NULL;

                assert_int_equal(json_parse(bad_kv[i], &o), 0);
                assert_int_equal(json_to_kv(o, &kv), -EINVAL);
                assert_null(kv);
                json_object_put(o);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_kvv); i++) {
                StasKV **l = NULL;

                assert_int_equal(json_parse(bad_kvv[i], &o), 0);
                assert_int_equal(json_to_kvv(o, &l), -EINVAL);
                assert_null(l);
                json_object_put(o);
        }
        /* trailing whitespace is fine */
        assert_int_equal(json_parse("{} \n", &o), 0);
        json_object_put(o);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_util_kv_keeps_order_and_escapes),
                cmocka_unit_test(test_json_util_round_trip_list),
                cmocka_unit_test(test_json_util_empty),
                cmocka_unit_test(test_json_util_hostile_input),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
