/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-helpers.h"
#include "stas/log.h"
#include "stas/strv.h"

static void test_strv_split_join(void **state) {
        _cleanup_strv_free_ char **l = strv_split("tcp+rdma++fc+", "+");
        _cleanup_free_ char *j = NULL;

        assert_int_equal(strv_length(l), 3);
        assert_true(strv_contains(l, "rdma"));
        assert_false(strv_contains(l, "loop"));
        j = strv_join(l, ",");
        assert_string_equal(j, "tcp,rdma,fc");
}

static void test_strv_split_edges_and_size(void **state) {
        _cleanup_strv_free_ char **a = strv_split(NULL, "+"), **b = strv_split("+++", "+");
        _cleanup_strv_free_ char **c = strv_split(" a b ", " "), **big = NULL;
        _cleanup_free_ char *text = malloc(2 * 200000 + 1);

        assert_int_equal(strv_length(a), 0);
        assert_int_equal(strv_length(b), 0);
        assert_int_equal(strv_length(c), 2);
        assert_string_equal(c[1], "b");
        /* a 1 MiB-class value of a config option (disconnect-trtypes = x+x+...) */
        assert_non_null(text);
        for (size_t i = 0; i < 200000; i++)
                memcpy(text + 2 * i, i % 2 ? "y+" : "x+", 2);
        text[2 * 200000] = '\0';
        big = strv_split(text, "+");
        assert_int_equal(strv_length(big), 200000);
        assert_string_equal(big[0], "x");
        assert_string_equal(big[199999], "y");
}

static void test_strv_copy_extend(void **state) {
        _cleanup_strv_free_ char **l = NULL, **c = NULL;

        assert_int_equal(strv_extend(&l, "a"), 0);
        assert_int_equal(strv_extend(&l, NULL), 0);
        c = strv_copy(l);
        assert_int_equal(strv_length(c), 2);
        assert_string_equal(c[1], "");
}

static void test_log_levels_and_errno(void **state) {
        LogCapture c;
        int r;

        log_capture_start_at(&c, LOG_INFO);
        log_debug("hidden");
        assert_int_equal(c.n_lines, 0);
        r = log_error_errno(-ENOENT, "open '%s': %m", "x");
        assert_int_equal(r, -ENOENT);
        assert_int_equal(c.n_lines, 1);
        assert_string_equal(log_capture_last(&c, LOG_ERR, LOG_ERR), "open 'x': No such file or directory");
        r = log_debug_errno(EIO, "not shown");
        assert_int_equal(r, -EIO);
        assert_int_equal(c.n_lines, 1);
        log_set_max_level(LOG_DEBUG);
        log_debug("shown");
        assert_string_equal(log_capture_last(&c, LOG_DEBUG, LOG_DEBUG), "shown");
        assert_string_equal(log_level_to_string(LOG_DEBUG), "DEBUG");
        assert_string_equal(log_level_to_string(LOG_INFO), "INFO");
        assert_string_equal(LOG_SECRET("DHHC-1:00:abc="), "(set)");
        assert_string_equal(LOG_SECRET(""), "");
        log_capture_stop(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strv_split_join),
                cmocka_unit_test(test_strv_split_edges_and_size),
                cmocka_unit_test(test_strv_copy_extend),
                cmocka_unit_test(test_log_levels_and_errno),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
