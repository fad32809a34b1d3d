/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-helpers.h"
#include "stas/ini.h"

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

static void test_ini_section_names_case_sensitive(void **state) {
        _cleanup_(ini_freep) StasIni *ini =
                parse_ok("[Controllers]\ncontroller=a\n[controllers]\ncontroller=b\n");

        assert_string_equal(last(ini, "Controllers", "controller"), "a");
        assert_string_equal(last(ini, "controllers", "controller"), "b");
        assert_true(ini_has_section(ini, "controllers"));
        assert_false(ini_has_section(ini, "CONTROLLERS"));
        assert_int_equal(ini->n_sections, 2);
}

static void test_ini_option_names_lowercased(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Global]\nTron=true\nKATO = 5\n");

        assert_string_equal(last(ini, "Global", "tron"), "true");
        assert_string_equal(last(ini, "Global", "kato"), "5");
        assert_null(ini_find(ini, "Global", "Tron"));
}

static void test_ini_whitespace_around_equals(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Global]\n  kato \t=\t  30   \r\n");

        assert_string_equal(last(ini, "Global", "kato"), "30");
}

static void test_ini_equals_only_delimiter(void **state) {
        /* ':' is not a delimiter (configparser's default would accept it); the first '=' splits */
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Global]\nkato: 30\ncontroller=transport=tcp;a=b==\n");

        assert_non_null(ini_find(ini, "Global", "kato: 30"));
        assert_null(last(ini, "Global", "kato: 30"));
        assert_string_equal(last(ini, "Global", "controller"), "transport=tcp;a=b==");
}

static void test_ini_full_line_comments(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok(
                "# leading comment\n; another\n[Global]\n#kato=1\n;kato=2\n   # indented\nkato=3\n");

        assert_string_equal(last(ini, "Global", "kato"), "3");
        assert_int_equal(ini_find(ini, "Global", "kato")->n_values, 1);
}

static void test_ini_inline_comment_stripped(void **state) {
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

static void test_ini_repeated_keys_kept_in_order(void **state) {
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

static void test_ini_last_wins_for_single_values(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Global]\nkato=1\nkato=2\nKato=3\n");
        const StasIniValue *v = ini_last(ini_find(ini, "Global", "kato"), NULL);

        assert_string_equal(v->value, "3");
        assert_int_equal(v->line, 4);
}

static void test_ini_continuation_lines(void **state) {
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

static void test_ini_key_without_equals_is_null(void **state) {
        _cleanup_(ini_freep) StasIni *ini = parse_ok("[Global]\ntron\nkato=\n");
        const StasIniKey *k = ini_find(ini, "Global", "tron");

        assert_non_null(k);
        assert_int_equal(k->n_values, 1);
        assert_null(k->values[0].value);
        /* an empty value is not NULL */
        assert_string_equal(last(ini, "Global", "kato"), "");
}

static void test_ini_missing_file_is_empty(void **state) {
        _cleanup_(ini_freep) StasIni *ini = NULL;

        assert_int_equal(ini_parse_file("/nonexistent/stas/stafd.conf", &ini), 0);
        assert_int_equal(ini->n_sections, 0);
        assert_int_equal(ini->n_keys, 0);
        assert_string_equal(ini->name, "/nonexistent/stas/stafd.conf");
}

static void test_ini_parse_file(void **state) {
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

static void test_ini_syntax_errors(void **state) {
        expect_syntax_error("kato=1\n[Global]\n", 1); /* before any section */
        expect_syntax_error("\n# c\ngarbage\n", 3);   /* bare text before any section */
        expect_syntax_error("[Global]\n=value\n", 2); /* no option name */
        expect_syntax_error("[Global]\nkato=1\n[Global] junk\n", 3);
        expect_syntax_error("[Global\n", 1);
        expect_syntax_error("[]\n", 1);
        expect_syntax_error("[Global]\ntron\n   more\n", 3); /* continuation of a bare key */
}

static void test_ini_syntax_error_does_not_leak_line(void **state) {
        StasIni *ini = NULL;
        LogCapture c;

        log_capture_start(&c);
        assert_int_equal(ini_parse_string("DHHC-1:00:c2VjcmV0c2VjcmV0:\n", "x.conf", &ini), -EINVAL);
        assert_null(strstr(c.text, "DHHC"));
        log_capture_stop(&c);
}

static void test_ini_empty_and_null_text(void **state) {
        _cleanup_(ini_freep) StasIni *a = parse_ok("");
        _cleanup_(ini_freep) StasIni *b = NULL;

        assert_int_equal(ini_parse_string(NULL, NULL, &b), 0);
        assert_string_equal(b->name, "<string>");
        assert_int_equal(a->n_keys, 0);
        assert_null(ini_find(a, "Global", "kato"));
        assert_null(ini_last(NULL, NULL));
}

static void test_ini_section_name_kept_verbatim(void **state) {
        _cleanup_(ini_freep) StasIni *ini =
                parse_ok("[ Global ]\nkato=1\n[I/O controller connection management]\n");

        assert_true(ini_has_section(ini, " Global "));
        assert_false(ini_has_section(ini, "Global"));
        assert_true(ini_has_section(ini, "I/O controller connection management"));
        assert_int_equal(ini->sections[1].line, 3);
}

static void expect_line(IniLexer *lx, IniLineKind kind, const char *name, const char *value, size_t indent) {
        IniLine l;

        assert_true(ini_lex_line(lx, &l));
        if (l.kind != kind)
                fail_msg("line %u: kind %d, expected %d", l.number, l.kind, kind);
        assert_int_equal(l.indent, indent);
        if (name) {
                assert_int_equal(l.name_len, strlen(name));
                assert_memory_equal(l.name, name, l.name_len);
        }
        if (value) {
                assert_non_null(l.value);
                assert_int_equal(l.value_len, strlen(value));
                assert_memory_equal(l.value, value, l.value_len);
        } else if (kind == INI_LINE_OPTION)
                assert_null(l.value);
        if (kind == INI_LINE_INVALID)
                assert_non_null(l.error);
}

/* One line of each kind, with the spans the reader and the editor both use. */
static void test_ini_lexer_classifies_lines(void **state) {
        IniLexer lx;
        IniLine l;

        ini_lexer_init(
                &lx,
                "# c\n"
                "\n"
                "[Global]  # inline ] [\n"
                "  Kato = 30  # comment\n"
                "     more\n"
                "\t\n"
                "  ; comment inside\n"
                "\t\t\tstill more\n"
                "tron\n"
                "x=\n"
                "  [Not a header]\n"
                "[S]\n"
                "  [Header]\n"
                "a=b=c;d#e\n"
                "[Global] junk\n");
        expect_line(&lx, INI_LINE_COMMENT, NULL, NULL, 0);
        expect_line(&lx, INI_LINE_BLANK, NULL, NULL, 0);
        expect_line(&lx, INI_LINE_SECTION, "Global", NULL, 0);
        expect_line(&lx, INI_LINE_OPTION, "Kato", "30", 2);
        expect_line(&lx, INI_LINE_CONTINUATION, NULL, "more", 5);
        expect_line(&lx, INI_LINE_BLANK, NULL, NULL, 1);
        expect_line(&lx, INI_LINE_COMMENT, NULL, NULL, 2);
        expect_line(&lx, INI_LINE_CONTINUATION, NULL, "still more", 3);
        expect_line(&lx, INI_LINE_OPTION, "tron", NULL, 0);
        expect_line(&lx, INI_LINE_OPTION, "x", "", 0);
        expect_line(&lx, INI_LINE_CONTINUATION, NULL, "[Not a header]", 2);
        expect_line(&lx, INI_LINE_SECTION, "S", NULL, 0);
        expect_line(&lx, INI_LINE_SECTION, "Header", NULL, 2);
        expect_line(&lx, INI_LINE_OPTION, "a", "b=c;d#e", 0);
        expect_line(&lx, INI_LINE_INVALID, NULL, NULL, 0);
        assert_false(ini_lex_line(&lx, &l));
        assert_int_equal(lx.line, 15);
}

/* "\n", "\r\n" and a lone "\r" end a line (Python's universal newlines). */
static void test_ini_line_terminators(void **state) {
        _cleanup_(ini_freep) StasIni *mac = parse_ok("[Host]\rnqn = a\rid = b\r");
        _cleanup_(ini_freep) StasIni *split = parse_ok("[Host]\nnq\rn = a\r\nid = b\n\r\r\n");
        const StasIniValue *v = ini_last(ini_find(mac, "Host", "id"), NULL);
        IniLexer lx;
        IniLine l;

        assert_string_equal(last(mac, "Host", "nqn"), "a");
        assert_string_equal(v->value, "b");
        assert_int_equal(v->line, 3);
        /* a '\r' inside a name splits the line: "nq" has no value, "n" is another key */
        assert_non_null(ini_find(split, "Host", "nq"));
        assert_null(last(split, "Host", "nq"));
        assert_string_equal(last(split, "Host", "n"), "a");
        assert_int_equal(ini_last(ini_find(split, "Host", "id"), NULL)->line, 4);
        /* the terminator is not content */
        ini_lexer_init(&lx, "a\r\nb\rc");
        assert_true(ini_lex_line(&lx, &l));
        assert_int_equal(l.len, 3);
        assert_int_equal(l.content_len, 1);
        assert_true(ini_lex_line(&lx, &l));
        assert_int_equal(l.len, 2);
        assert_true(ini_lex_line(&lx, &l));
        assert_int_equal(l.len, 1);
        assert_int_equal(l.content_len, 1);
        /* "nqn\r = a": " = a" continues a key without '=' */
        expect_syntax_error("[Host]\nnqn\r = a\n", 3);
}

/* The blanks Python strips: space, \t, \v, \f and 0x1c..0x1f; nothing else. */
static void test_ini_blank_characters(void **state) {
        _cleanup_(ini_freep) StasIni *ini =
                parse_ok("[Global]\n\v\fkato\x1c=\x1d 5\x1e\x1f\t\n\x1fname = \xc2\xa0x\xc2\xa0\n");

        assert_string_equal(last(ini, "Global", "kato"), "5");
        /* non-ASCII whitespace (here U+00A0) is data */
        assert_string_equal(last(ini, "Global", "name"), "\xc2\xa0x\xc2\xa0");
        assert_true(ini_is_blank('\x1c'));
        assert_false(ini_is_blank('\n'));
        assert_false(ini_is_blank('\r'));
        assert_false(ini_is_blank('\x1b'));
}

static void test_ini_check_syntax(void **state) {
        const char *why = NULL;

        assert_int_equal(ini_check_syntax("[a]\nb = c\n  d\n", &why), 0);
        assert_null(why);
        assert_int_equal(ini_check_syntax(NULL, NULL), 0);
        assert_int_equal(ini_check_syntax("# c\n[a]\nb\n  d\n", &why), 4);
        assert_string_equal(why, "continuation line after a key without '='");
        assert_int_equal(ini_check_syntax("\n\nk = v\n", &why), 3);
        assert_string_equal(why, "text before the first [section] header");
        assert_int_equal(ini_check_syntax("[a]\n[b] x\n", &why), 2);
        assert_string_equal(why, "invalid section header");
}

static void test_ini_redact(void **state) {
        assert_string_equal(ini_redact("DHHC-1:00:c2VjcmV0:"), "(secret)");
        assert_string_equal(ini_redact("dhhc-1:01:abc"), "(secret)");
        assert_string_equal(ini_redact("5 dHhC-1:02:x"), "(secret)");
        assert_string_equal(ini_redact("dhhc-1"), "dhhc-1");
        assert_string_equal(ini_redact("kato"), "kato");
        assert_string_equal(ini_redact(NULL), "");
}

/* ---- 1 MiB worst cases: correct (the time they take is measured by bench/bench-ini) ---- */

static char *fill(const char *head, const char *fmt) {
        char *t = malloc(INI_MAX_SIZE + 1), line[64];
        size_t n = strlen(head);

        assert_non_null(t);
        memcpy(t, head, n + 1);
        for (unsigned i = 0;; i++) {
                int l = snprintf(line, sizeof(line), fmt, i, i); /* fmt uses i once or twice */

                if (n + (size_t) l > INI_MAX_SIZE)
                        break;
                memcpy(t + n, line, (size_t) l + 1);
                n += (size_t) l;
        }
        return t;
}

static void test_ini_worst_case_unique_keys(void **state) {
        _cleanup_free_ char *text = fill("[Global]\n", "K%x=%x\n");
        _cleanup_(ini_freep) StasIni *ini = parse_ok(text);
        char key[32], value[32];
        size_t n = ini->n_keys;

        assert_true(n > 70000);
        for (size_t i = 0; i < n; i += 997) {
                snprintf(key, sizeof(key), "k%zx", i);
                snprintf(value, sizeof(value), "%zx", i);
                assert_string_equal(last(ini, "Global", key), value);
                assert_string_equal(ini->keys[i].key, key); /* in order of appearance */
                assert_int_equal(ini->keys[i].values[0].line, i + 2);
        }
        snprintf(key, sizeof(key), "k%zx", n);
        assert_null(ini_find(ini, "Global", key));
}

static void test_ini_worst_case_sections(void **state) {
        _cleanup_free_ char *text = fill("", "[%x]\n");
        _cleanup_free_ char *keyed = fill("", "[%x]\nk=v\n");
        _cleanup_(ini_freep) StasIni *ini = parse_ok(text), *ki = parse_ok(keyed);
        char name[32];

        assert_true(ini->n_sections > 100000);
        assert_int_equal(ini->n_keys, 0);
        for (size_t i = 0; i < ini->n_sections; i += 991) {
                snprintf(name, sizeof(name), "%zx", i);
                assert_true(ini_has_section(ini, name));
                assert_string_equal(ini->sections[i].name, name);
                assert_int_equal(ini->sections[i].line, i + 1);
        }
        snprintf(name, sizeof(name), "%zx", ini->n_sections);
        assert_false(ini_has_section(ini, name));
        /* the same key in every section is one key per section */
        assert_int_equal(ki->n_keys, ki->n_sections);
        for (size_t i = 0; i < ki->n_sections; i += 991) {
                snprintf(name, sizeof(name), "%zx", i);
                assert_ptr_equal(ini_find(ki, name, "k"), &ki->keys[i]);
        }
}

static void test_ini_worst_case_continuations_and_repeats(void **state) {
        _cleanup_free_ char *cont = fill("[Controllers]\ncontroller = first\n", " %x\n");
        _cleanup_free_ char *rep = fill("[Controllers]\n", "exclude=%x\n");
        _cleanup_(ini_freep) StasIni *a = parse_ok(cont), *b = parse_ok(rep);
        const StasIniKey *k = ini_find(a, "Controllers", "controller");
        const StasIniKey *e = ini_find(b, "Controllers", "exclude");
        bool multi;

        assert_int_equal(a->n_keys, 1);
        assert_true(k->n_values > 100000);
        assert_string_equal(k->values[0].value, "first");
        assert_false(k->values[0].continuation);
        assert_string_equal(k->values[0x1234 + 1].value, "1234");
        assert_true(k->values[k->n_values - 1].continuation);
        assert_int_equal(k->values[k->n_values - 1].line, k->n_values + 1);
        assert_string_equal(ini_last(k, &multi)->value, "first");
        assert_true(multi);

        assert_int_equal(b->n_keys, 1);
        assert_true(e->n_values > 50000);
        assert_string_equal(e->values[0xabc].value, "abc");
        assert_false(e->values[e->n_values - 1].continuation);
}

static void test_ini_text_too_large(void **state) {
        _cleanup_free_ char *text = malloc(INI_MAX_SIZE + 2);
        StasIni *ini = NULL;
        LogCapture c;

        assert_non_null(text);
        memset(text, '\n', INI_MAX_SIZE + 1);
        text[INI_MAX_SIZE + 1] = '\0';
        log_capture_start(&c);
        assert_int_equal(ini_parse_string(text, "big.conf", &ini), -EFBIG);
        assert_null(ini);
        assert_true(log_capture_has(&c, LOG_ERR, "big.conf: larger than"));
        log_capture_stop(&c);
        text[INI_MAX_SIZE] = '\0';
        ini = parse_ok(text);
        ini_free(ini);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ini_section_names_case_sensitive),
                cmocka_unit_test(test_ini_option_names_lowercased),
                cmocka_unit_test(test_ini_whitespace_around_equals),
                cmocka_unit_test(test_ini_equals_only_delimiter),
                cmocka_unit_test(test_ini_full_line_comments),
                cmocka_unit_test(test_ini_inline_comment_stripped),
                cmocka_unit_test(test_ini_repeated_keys_kept_in_order),
                cmocka_unit_test(test_ini_last_wins_for_single_values),
                cmocka_unit_test(test_ini_continuation_lines),
                cmocka_unit_test(test_ini_key_without_equals_is_null),
                cmocka_unit_test(test_ini_missing_file_is_empty),
                cmocka_unit_test(test_ini_parse_file),
                cmocka_unit_test(test_ini_syntax_errors),
                cmocka_unit_test(test_ini_syntax_error_does_not_leak_line),
                cmocka_unit_test(test_ini_empty_and_null_text),
                cmocka_unit_test(test_ini_section_name_kept_verbatim),
                cmocka_unit_test(test_ini_lexer_classifies_lines),
                cmocka_unit_test(test_ini_line_terminators),
                cmocka_unit_test(test_ini_blank_characters),
                cmocka_unit_test(test_ini_check_syntax),
                cmocka_unit_test(test_ini_redact),
                cmocka_unit_test(test_ini_worst_case_unique_keys),
                cmocka_unit_test(test_ini_worst_case_sections),
                cmocka_unit_test(test_ini_worst_case_continuations_and_repeats),
                cmocka_unit_test(test_ini_text_too_large),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
