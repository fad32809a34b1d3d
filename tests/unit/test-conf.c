/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log-capture.h"
#include "stas/conf.h"

static StasIni *parse_ok(const char *text) {
        StasIni *ini = NULL;

        assert_int_equal(ini_parse_string(text, "test.conf", &ini), 0);
        assert_non_null(ini);
        return ini;
}

static const char *last(const StasIni *ini, const char *section, const char *key) {
        const StasIniValue *v = ini_last(ini_find(ini, section, key), NULL);

        return v ? v->value : NULL;
}

static void test_conf_section_names_case_sensitive(void **state) {
        _cleanup_(ini_freep) StasIni *ini =
                parse_ok("[Controllers]\ncontroller=a\n[controllers]\ncontroller=b\n");

        assert_string_equal(last(ini, "Controllers", "controller"), "a");
        assert_string_equal(last(ini, "controllers", "controller"), "b");
        assert_true(ini_has_section(ini, "controllers"));
        assert_false(ini_has_section(ini, "CONTROLLERS"));
        assert_int_equal(ini->n_sections, 2);
}

static void test_conf_option_names_lowercased(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Global]\nTron=true\nKATO = 5\n");

        assert_string_equal(last(ini, "Global", "tron"), "true");
        assert_string_equal(last(ini, "Global", "kato"), "5");
        assert_null(ini_find(ini, "Global", "Tron"));
}

static void test_conf_whitespace_around_equals(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Global]\n  kato \t=\t  30   \r\n");

        assert_string_equal(last(ini, "Global", "kato"), "30");
}

static void test_conf_equals_only_delimiter(void **state) {
        /* ':' is not a delimiter (configparser's default would accept it); the first '=' splits */
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Global]\nkato: 30\ncontroller=transport=tcp;a=b==\n");

        assert_non_null(ini_find(ini, "Global", "kato: 30"));
        assert_null(last(ini, "Global", "kato: 30"));
        assert_string_equal(last(ini, "Global", "controller"), "transport=tcp;a=b==");
}

static void test_conf_full_line_comments(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok(
                "# leading comment\n; another\n[Global]\n#kato=1\n;kato=2\n   # indented\nkato=3\n");

        assert_string_equal(last(ini, "Global", "kato"), "3");
        assert_int_equal(ini_find(ini, "Global", "kato")->n_values, 1);
}

static void test_conf_inline_comment_stripped(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Controllers]   # the section\n"
                                                     "exclude = host-iface=enp0s8   # not this one\n"
                                                     "controller = transport=tcp;traddr=a#b\n"
                                                     "bare   # comment on a bare key\n"
                                                     "x = ;semicolon stays\n");

        assert_true(ini_has_section(ini, "Controllers"));
        assert_string_equal(last(ini, "Controllers", "exclude"), "host-iface=enp0s8");
        /* '#' not preceded by whitespace is data */
        assert_string_equal(last(ini, "Controllers", "controller"), "transport=tcp;traddr=a#b");
        assert_non_null(ini_find(ini, "Controllers", "bare"));
        assert_null(last(ini, "Controllers", "bare"));
        assert_string_equal(last(ini, "Controllers", "x"), ";semicolon stays");
}

static void test_conf_repeated_keys_kept_in_order(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok(
                "[Controllers]\ncontroller=a\ncontroller=b\n[Global]\nkato=1\n[Controllers]\ncontroller=c\n");
        const StasIniKey *k = ini_find(ini, "Controllers", "controller");

        assert_int_equal(k->n_values, 3);
        assert_string_equal(k->values[0].value, "a");
        assert_int_equal(k->values[0].line, 2);
        assert_string_equal(k->values[1].value, "b");
        assert_int_equal(k->values[1].line, 3);
        assert_string_equal(k->values[2].value, "c");
        assert_int_equal(k->values[2].line, 7);
        /* the repeated section merged into the first */
        assert_int_equal(ini->n_sections, 2);
        assert_int_equal(ini->sections[0].line, 1);
}

static void test_conf_last_wins_for_single_values(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Global]\nkato=1\nkato=2\nKato=3\n");
        const StasIniValue *v = ini_last(ini_find(ini, "Global", "kato"), NULL);

        assert_string_equal(v->value, "3");
        assert_int_equal(v->line, 4);
}

static void test_conf_continuation_lines(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Controllers]\n"
                                                     "controller = transport=tcp;traddr=1.1.1.1\n"
                                                     "    transport=tcp;traddr=2.2.2.2\n"
                                                     "\n"
                                                     "\ttransport=tcp;traddr=3.3.3.3\n"
                                                     "  # a comment inside\n"
                                                     "exclude=x\n"
                                                     "[Global]\n"
                                                     "kato = 10\n"
                                                     "  20\n");
        const StasIniKey *k = ini_find(ini, "Controllers", "controller");
        bool multi;
        const StasIniValue *v;

        assert_int_equal(k->n_values, 3);
        assert_string_equal(k->values[1].value, "transport=tcp;traddr=2.2.2.2");
        assert_true(k->values[1].continuation);
        assert_int_equal(k->values[1].line, 3);
        assert_string_equal(k->values[2].value, "transport=tcp;traddr=3.3.3.3");
        assert_int_equal(k->values[2].line, 5);
        assert_string_equal(last(ini, "Controllers", "exclude"), "x");
        /* a single-valued key with a continuation is flagged as multi-line */
        v = ini_last(ini_find(ini, "Global", "kato"), &multi);
        assert_string_equal(v->value, "10");
        assert_true(multi);
}

static void test_conf_key_without_equals_is_null(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Global]\ntron\nkato=\n");
        const StasIniKey *k = ini_find(ini, "Global", "tron");

        assert_non_null(k);
        assert_int_equal(k->n_values, 1);
        assert_null(k->values[0].value);
        /* an empty value is not NULL */
        assert_string_equal(last(ini, "Global", "kato"), "");
}

static void test_conf_missing_file_is_empty(void **state) {
        _cleanup_(ini_freep) StasIni *ini = NULL;

        assert_int_equal(ini_parse_file("/nonexistent/stas/stafd.conf", &ini), 0);
        assert_int_equal(ini->n_sections, 0);
        assert_int_equal(ini->n_keys, 0);
        assert_string_equal(ini->name, "/nonexistent/stas/stafd.conf");
}

static void test_conf_parse_file(void **state) {
        char path[] = "/tmp/stas-conf-XXXXXX";
        int fd = mkstemp(path);
        _cleanup_(ini_freep) StasIni *ini = NULL;
        StasIni *bad = NULL;
        LogCapture c;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "[Global]\nkato=7\n", 16), 16);
        assert_int_equal(ini_parse_file(path, &ini), 0);
        assert_string_equal(last(ini, "Global", "kato"), "7");

        /* NUL bytes: not a text file */
        assert_int_equal(write(fd, "x\0y\n", 4), 4);
        close(fd);
        log_capture_start(&c);
        assert_int_equal(ini_parse_file(path, &bad), -EINVAL);
        assert_null(bad);
        assert_true(log_capture_has(&c, LOG_ERR, "NUL"));
        log_capture_stop(&c);
        unlink(path);

        /* a directory cannot be read */
        log_capture_start(&c);
        assert_true(ini_parse_file("/tmp", &bad) < 0);
        assert_null(bad);
        log_capture_stop(&c);
}

static void expect_syntax_error(const char *text, unsigned line) {
        StasIni *ini = NULL;
        LogCapture c;
        char needle[64];

        log_capture_start(&c);
        assert_int_equal(ini_parse_string(text, "bad.conf", &ini), -EINVAL);
        assert_null(ini);
        snprintf(needle, sizeof(needle), "bad.conf:%u: syntax error", line);
        if (!log_capture_has(&c, LOG_ERR, needle))
                fail_msg("expected \"%s\" in:\n%s", needle, c.text);
        log_capture_stop(&c);
}

static void test_conf_syntax_errors(void **state) {
        expect_syntax_error("kato=1\n[Global]\n", 1); /* before any section */
        expect_syntax_error("\n# c\ngarbage\n", 3);   /* bare text before any section */
        expect_syntax_error("[Global]\n=value\n", 2); /* no option name */
        expect_syntax_error("[Global]\nkato=1\n[Global] junk\n", 3);
        expect_syntax_error("[Global\n", 1);
        expect_syntax_error("[]\n", 1);
        expect_syntax_error("[Global]\ntron\n   more\n", 3); /* continuation of a bare key */
}

static void test_conf_syntax_error_does_not_leak_line(void **state) {
        StasIni *ini = NULL;
        LogCapture c;

        log_capture_start(&c);
        assert_int_equal(ini_parse_string("DHHC-1:00:c2VjcmV0c2VjcmV0:\n", "x.conf", &ini), -EINVAL);
        assert_null(strstr(c.text, "DHHC"));
        log_capture_stop(&c);
}

static void test_conf_empty_and_null_text(void **state) {
        _cleanup_(ini_freep) StasIni *a = parse_ok("");
        _cleanup_(ini_freep) StasIni *b = NULL;

        assert_int_equal(ini_parse_string(NULL, NULL, &b), 0);
        assert_string_equal(b->name, "<string>");
        assert_int_equal(a->n_keys, 0);
        assert_null(ini_find(a, "Global", "kato"));
        assert_null(ini_last(NULL, NULL));
}

static void test_conf_section_name_kept_verbatim(void **state) {
        _cleanup_(ini_freep) StasIni *ini =
                parse_ok("[ Global ]\nkato=1\n[I/O controller connection management]\n");

        assert_true(ini_has_section(ini, " Global "));
        assert_false(ini_has_section(ini, "Global"));
        assert_true(ini_has_section(ini, "I/O controller connection management"));
        assert_int_equal(ini->sections[1].line, 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_conf_section_names_case_sensitive),
                cmocka_unit_test(test_conf_option_names_lowercased),
                cmocka_unit_test(test_conf_whitespace_around_equals),
                cmocka_unit_test(test_conf_equals_only_delimiter),
                cmocka_unit_test(test_conf_full_line_comments),
                cmocka_unit_test(test_conf_inline_comment_stripped),
                cmocka_unit_test(test_conf_repeated_keys_kept_in_order),
                cmocka_unit_test(test_conf_last_wins_for_single_values),
                cmocka_unit_test(test_conf_continuation_lines),
                cmocka_unit_test(test_conf_key_without_equals_is_null),
                cmocka_unit_test(test_conf_missing_file_is_empty),
                cmocka_unit_test(test_conf_parse_file),
                cmocka_unit_test(test_conf_syntax_errors),
                cmocka_unit_test(test_conf_syntax_error_does_not_leak_line),
                cmocka_unit_test(test_conf_empty_and_null_text),
                cmocka_unit_test(test_conf_section_name_kept_verbatim),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
