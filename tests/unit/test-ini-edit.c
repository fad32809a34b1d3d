/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#include "test-helpers.h"
#include "stas/ini.h"
#include "ini-edit.h"

static const char sample[] = "# sys.conf: host identity\n"
                             "; another comment style\n"
                             "\n"
                             "[Host]\n"
                             "# nqn = file:///etc/nvme/hostnqn\n"
                             "nqn = file:///etc/nvme/hostnqn\n"
                             "id=file:///etc/nvme/hostid\n"
                             "\n"
                             "[Other]\n"
                             "nqn = untouched\n";

static void check_set(
        const char *in, const char *section, const char *key, const char *value, int rc, const char *out) {
        _cleanup_free_ char *r = NULL;

        assert_int_equal(ini_edit_set(in, section, key, value, &r), rc);
        assert_non_null(r);
        assert_string_equal(r, out);
}

static void check_remove(const char *in, const char *section, const char *key, int rc, const char *out) {
        _cleanup_free_ char *r = NULL;

        assert_int_equal(ini_edit_remove(in, section, key, &r), rc);
        assert_non_null(r);
        assert_string_equal(r, out);
}

static void test_ini_edit_replace_keeps_comments_and_order(void **state) {
        check_set(
                sample,
                "Host",
                "id",
                "file:///tmp/x",
                1,
                "# sys.conf: host identity\n"
                "; another comment style\n"
                "\n"
                "[Host]\n"
                "# nqn = file:///etc/nvme/hostnqn\n"
                "nqn = file:///etc/nvme/hostnqn\n"
                "id = file:///tmp/x\n"
                "\n"
                "[Other]\n"
                "nqn = untouched\n");
        /* Commented-out keys are not keys; the other section's nqn is not touched. */
        check_set(
                sample,
                "Host",
                "nqn",
                "nqn.2014-08.org.nvmexpress:uuid:x",
                1,
                "# sys.conf: host identity\n"
                "; another comment style\n"
                "\n"
                "[Host]\n"
                "# nqn = file:///etc/nvme/hostnqn\n"
                "nqn = nqn.2014-08.org.nvmexpress:uuid:x\n"
                "id=file:///etc/nvme/hostid\n"
                "\n"
                "[Other]\n"
                "nqn = untouched\n");
}

static void test_ini_edit_replace_keeps_indentation_and_case_insensitive(void **state) {
        check_set("[Host]\n  NQN= a\n", "Host", "nqn", "b", 1, "[Host]\n  nqn = b\n");
        /* Already set: unchanged, returns 0. */
        check_set("[Host]\nnqn = b\n", "Host", "nqn", "b", 0, "[Host]\nnqn = b\n");
        /* Section names are case-sensitive. */
        check_set("[host]\nnqn = a\n", "Host", "nqn", "b", 1, "[host]\nnqn = a\n\n[Host]\nnqn = b\n");
}

static void test_ini_edit_append_to_section(void **state) {
        check_set(
                sample,
                "Host",
                "symname",
                "my host",
                1,
                "# sys.conf: host identity\n"
                "; another comment style\n"
                "\n"
                "[Host]\n"
                "# nqn = file:///etc/nvme/hostnqn\n"
                "nqn = file:///etc/nvme/hostnqn\n"
                "id=file:///etc/nvme/hostid\n"
                "symname = my host\n"
                "\n"
                "[Other]\n"
                "nqn = untouched\n");
        /* Last line without newline, section with only a comment. */
        check_set("[Host]\n# nothing yet", "Host", "id", "x", 1, "[Host]\n# nothing yet\nid = x\n");
        /* Empty section header at end of file without newline. */
        check_set("[Host]", "Host", "id", "x", 1, "[Host]\nid = x\n");
}

static void test_ini_edit_create_section_and_file(void **state) {
        check_set(NULL, "Host", "nqn", "v", 1, "[Host]\nnqn = v\n");
        check_set("", "Host", "nqn", "v", 1, "[Host]\nnqn = v\n");
        check_set("# only a comment", "Host", "nqn", "v", 1, "# only a comment\n\n[Host]\nnqn = v\n");
        check_set(
                "[Global]\ntron = true\n\n",
                "Host",
                "nqn",
                "v",
                1,
                "[Global]\ntron = true\n\n[Host]\nnqn = v\n");
}

static void test_ini_edit_repeated_keys_and_sections(void **state) {
        /* First occurrence replaced in place, the others (in a second instance of the section too)
         * removed with their continuation lines: the result is unambiguous. */
        check_set(
                "[Host]\nsymname = a\n  cont\n# keep me\nsymname = b\n[X]\nk=v\n[Host]\nsymname = c\n",
                "Host",
                "symname",
                "z",
                1,
                "[Host]\nsymname = z\n# keep me\n[X]\nk=v\n[Host]\n");
        /* Append goes to the last instance of the section. */
        check_set(
                "[Host]\nnqn = a\n[X]\n[Host]\nid = b\n\n",
                "Host",
                "symname",
                "s",
                1,
                "[Host]\nnqn = a\n[X]\n[Host]\nid = b\nsymname = s\n\n");
}

static void test_ini_edit_remove(void **state) {
        check_remove(
                sample,
                "Host",
                "nqn",
                1,
                "# sys.conf: host identity\n"
                "; another comment style\n"
                "\n"
                "[Host]\n"
                "# nqn = file:///etc/nvme/hostnqn\n"
                "id=file:///etc/nvme/hostid\n"
                "\n"
                "[Other]\n"
                "nqn = untouched\n");
        check_remove(
                "[Host]\nsymname\nsymname = a\n\tmore\nid = x\n[Host]\nSymName=b\n",
                "Host",
                "symname",
                3,
                "[Host]\nid = x\n[Host]\n");
        check_remove(sample, "Host", "symname", 0, sample);
        check_remove(NULL, "Host", "symname", 0, "");
}

static void test_ini_edit_crlf_and_no_cr_added(void **state) {
        _cleanup_free_ char *r = NULL;

        /* CRLF lines are parsed, kept byte-identical, and a replaced line keeps its CRLF. */
        check_set("[Host]\r\nnqn = a\r\n# c\r\n", "Host", "nqn", "b", 1, "[Host]\r\nnqn = b\r\n# c\r\n");
        /* LF files never get a CR. */
        assert_int_equal(ini_edit_set(sample, "Host", "symname", "s", &r), 1);
        assert_null(strchr(r, '\r'));
}

static void test_ini_edit_rejects_bad_input(void **state) {
        char *r = NULL;

        assert_int_equal(ini_edit_set("", "Host", "nqn", "a\nb", &r), -EINVAL);
        assert_int_equal(ini_edit_set("", "Host", "nqn", " a", &r), -EINVAL);
        assert_int_equal(ini_edit_set("", "Host", "nqn", "a # b", &r), -EINVAL);
        assert_int_equal(ini_edit_set("", "Host", "n=q", "a", &r), -EINVAL);
        assert_int_equal(ini_edit_set("", "Host", "", "a", &r), -EINVAL);
        assert_int_equal(ini_edit_set("", "Ho]st", "nqn", "a", &r), -EINVAL);
        assert_int_equal(ini_edit_set("", "", "nqn", "a", &r), -EINVAL);
        assert_int_equal(ini_edit_remove("", "Host", "#x", &r), -EINVAL);
        assert_null(r);
        /* '#' without a blank before it is part of the value. */
        check_set("", "Host", "symname", "a#b", 1, "[Host]\nsymname = a#b\n");
}

/* ---- editor and reader agree (the daemons' reader re-reads every edit) ---- */

static StasIni *reread(const char *text) {
        StasIni *ini = NULL;
        LogCapture cap;
        int r;

        log_capture_start(&cap);
        r = ini_parse_string(text, "edited.conf", &ini);
        if (r < 0)
                fail_msg("the reader rejects the edited text (%d):\n%s\n%s", r, text, cap.text);
        log_capture_stop(&cap);
        return ini;
}

static bool same_values(const StasIniKey *a, const StasIniKey *b) {
        if (!a || !b || a->n_values != b->n_values)
                return false;
        for (size_t i = 0; i < a->n_values; i++)
                if (!streq_ptr(a->values[i].value, b->values[i].value) ||
                    a->values[i].continuation != b->values[i].continuation)
                        return false;
        return true;
}

/* Every key of @a but [@section] @key is in @b with the same values, and @b has no other key;
 * @b has the sections of @a, plus @section when @set. */
static void assert_others_unchanged(
        const StasIni *a, const StasIni *b, const char *section, const char *key, bool set) {
        size_t others = 0;

        for (size_t i = 0; i < a->n_keys; i++) {
                const StasIniKey *k = &a->keys[i];

                if (streq(k->section, section) && strcasecmp(k->key, key) == 0)
                        continue;
                others++;
                if (!same_values(k, ini_find(b, k->section, k->key)))
                        fail_msg("[%s] %s changed", k->section, k->key);
        }
        for (size_t i = 0; i < b->n_keys; i++)
                if (!streq(b->keys[i].section, section) || strcasecmp(b->keys[i].key, key) != 0)
                        others--;
        assert_int_equal(others, 0);
        for (size_t i = 0; i < a->n_sections; i++)
                assert_true(ini_has_section(b, a->sections[i].name));
        assert_int_equal(b->n_sections, a->n_sections + (set && !ini_has_section(a, section)));
}

/*
 * Set [@section] @key = @value in @in; the reader must see exactly @value for it and every
 * other key unchanged; the same edit again must be a no-op. Returns the edited text.
 */
static char *set_and_reread(const char *in, const char *section, const char *key, const char *value) {
        _cleanup_(ini_freep) StasIni *before = reread(in), *after = NULL;
        _cleanup_free_ char *again = NULL, *lower = strdup(key);
        char *out = NULL;
        const StasIniKey *k;

        for (char *p = lower; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        assert_true(ini_edit_set(in, section, key, value, &out) >= 0);
        after = reread(out);
        k = ini_find(after, section, lower);
        if (!k || k->n_values != 1 || !streq_ptr(k->values[0].value, value))
                fail_msg("[%s] %s is not exactly '%s' after the edit:\n%s", section, key, value, out);
        assert_others_unchanged(before, after, section, lower, true);
        assert_int_equal(ini_edit_set(out, section, key, value, &again), 0);
        assert_string_equal(again, out);
        return out;
}

/* Remove [@section] @key from @in; the reader must not see it and see every other key as before. */
static char *remove_and_reread(const char *in, const char *section, const char *key) {
        _cleanup_(ini_freep) StasIni *before = reread(in), *after = NULL;
        _cleanup_free_ char *again = NULL;
        char *out = NULL;

        assert_true(ini_edit_remove(in, section, key, &out) >= 0);
        after = reread(out);
        assert_null(ini_find(after, section, key));
        assert_others_unchanged(before, after, section, key, false);
        assert_int_equal(ini_edit_remove(out, section, key, &again), 0);
        assert_string_equal(again, out);
        return out;
}

/* An indented header right after the insertion point stays a header for the reader. */
static void test_ini_edit_insert_before_indented_header(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        a = set_and_reread("[Host]\n  [Other]\nx = 1\n", "Host", "nqn", "v");
        assert_string_equal(a, "[Host]\n  nqn = v\n  [Other]\nx = 1\n");
        /* after a comment that follows a less indented option */
        b = set_and_reread("[Host]\n    id = 1\n# c\n\n  [Other]\nx = 1\n", "Host", "nqn", "v");
        assert_string_equal(b, "[Host]\n    id = 1\n# c\n  nqn = v\n\n  [Other]\nx = 1\n");
        /* an indented line that IS a continuation stays one: the insertion goes after it */
        c = set_and_reread("[Host]\nid = 1\n  [Other]\n", "Host", "nqn", "v");
        assert_string_equal(c, "[Host]\nid = 1\n  [Other]\nnqn = v\n");
}

/* Blank (and comment) lines do not end an option: its continuation lines go with it. */
static void test_ini_edit_continuation_across_blank_lines(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        a = set_and_reread("[Host]\nsymname = a\n\n  b\n# c\n\n\tc\nid = x\n", "Host", "symname", "z");
        assert_string_equal(a, "[Host]\nsymname = z\n\n# c\n\nid = x\n");
        b = remove_and_reread("[Host]\nid = x\nsymname = a\n\n  b\n", "Host", "symname");
        assert_string_equal(b, "[Host]\nid = x\n\n");
        /* a repeated key's continuation, after a blank line, is dropped with it */
        c = set_and_reread("[Host]\nnqn = a\nnqn = b\n\n   c\n[X]\nk = 1\n", "Host", "nqn", "n");
        assert_string_equal(c, "[Host]\nnqn = n\n\n[X]\nk = 1\n");
}

/* A ']' in the inline comment of a header is not part of the section name. */
static void test_ini_edit_bracket_in_header_comment(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL;

        a = set_and_reread("[Host]  # see [man sys.conf]\nnqn = a\n", "Host", "nqn", "b");
        assert_string_equal(a, "[Host]  # see [man sys.conf]\nnqn = b\n");
        b = set_and_reread("[Other] # not [Host]\nnqn = a\n", "Host", "nqn", "b");
        assert_string_equal(b, "[Other] # not [Host]\nnqn = a\n\n[Host]\nnqn = b\n");
}

/* '\r' ends a line for both (Python's universal newlines): it is never part of a key. */
static void test_ini_edit_carriage_returns(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        unsigned line;
        const char *why;
        StasIni *ini = NULL;
        LogCapture cap;

        /* old Mac line ends: the option is found and replaced, its "\r" kept */
        a = set_and_reread("[Host]\rnqn = a\rid = i\r", "Host", "nqn", "b");
        assert_string_equal(a, "[Host]\rnqn = b\rid = i\r");
        /* "nq\rn" is two lines: an option "nq" without value, then "n = a"; nqn is new */
        b = set_and_reread("[Host]\nnq\rn = a\n", "Host", "nqn", "b");
        assert_string_equal(b, "[Host]\nnq\rn = a\nnqn = b\n");
        /* "nqn\r = a": " = a" continues a key without '=': both refuse the text */
        assert_int_equal(ini_edit_set("[Host]\nnqn\r = a\n", "Host", "nqn", "b", &c), -EBADMSG);
        assert_null(c);
        line = ini_check_syntax("[Host]\nnqn\r = a\n", &why);
        assert_int_equal(line, 3);
        log_capture_start(&cap);
        assert_int_equal(ini_parse_string("[Host]\nnqn\r = a\n", "x.conf", &ini), -EINVAL);
        assert_true(log_capture_has(&cap, LOG_ERR, "x.conf:3: syntax error"));
        log_capture_stop(&cap);
        /* CRLF: the replaced line keeps its CRLF; a mixed file is fine too */
        d = set_and_reread("[Host]\r\nnqn = a\r\nid = x\n", "Host", "nqn", "b");
        assert_string_equal(d, "[Host]\r\nnqn = b\r\nid = x\n");
}

/* Text after a header's ']' is a syntax error for the reader; the editor refuses the file. */
static void test_ini_edit_header_with_junk_refused(void **state) {
        static const char *const bad[] = {
                "[Host]junk\nnqn = a\n", "[Host] junk\n", "[Host\nnqn = a\n",
                "nqn = a\n[Host]\n",     "[Host]\n=a\n",  "[Host]\nsymname\n  more\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *r = NULL;
                StasIni *ini = NULL;
                LogCapture cap;

                assert_int_equal(ini_edit_set(bad[i], "Host", "nqn", "b", &r), -EBADMSG);
                assert_int_equal(ini_edit_remove(bad[i], "Host", "nqn", &r), -EBADMSG);
                assert_null(r);
                assert_true(ini_check_syntax(bad[i], NULL) > 0);
                log_capture_start(&cap);
                assert_int_equal(ini_parse_string(bad[i], "x.conf", &ini), -EINVAL);
                log_capture_stop(&cap);
        }
}

/* A value starting with '#' would be an inline comment after " = ": written "key=#...". */
static void test_ini_edit_value_starting_with_hash(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL;

        a = set_and_reread("[Host]\n", "Host", "symname", "#1 host");
        assert_string_equal(a, "[Host]\nsymname=#1 host\n");
        b = set_and_reread("[Host]\nsymname = x\n", "Host", "symname", "");
        assert_string_equal(b, "[Host]\nsymname =\n");
}

/* The editor's view of keys and sections is the reader's: blanks, case, repeated sections. */
static void test_ini_edit_agrees_with_reader(void **state) {
        static const char *const texts[] = {
                "",
                "# only a comment",
                "[Host]",
                "[Host]\n\tNQN\t=\ta  # c\n [x]\n",
                "; c\n[Host]\nnqn = a\n[Other]\nnqn = o\n[Host]\nid = i\n  i2\n\n",
                "[Host]\n\x1cnqn\x1c= a\x1c\n",
                "[Host]\n\v\fid = 1\n  [Other]\n",
                "[ Host ]\nnqn = spaced section\n[Host]\n",
                "[Host]\nnqn\nid = x\n",
                "[Host]\r\n  symname = a\r\n     b\r\n  \r\n  nqn=x",
        };
        static const char *const keys[] = { "nqn", "NQN", "symname", "id", "new-key" };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                        free(set_and_reread(texts[i], "Host", keys[k], "value"));
                        free(set_and_reread(texts[i], "Host", keys[k], "a=b==;x#y [z]"));
                        free(set_and_reread(texts[i], "Other", keys[k], "o"));
                        if (islower((unsigned char) keys[k][0]))
                                free(remove_and_reread(texts[i], "Host", keys[k]));
                }
}

static void test_ini_edit_size_limit(void **state) {
        _cleanup_free_ char *big = malloc(INI_MAX_SIZE + 2), *out = NULL;

        assert_non_null(big);
        memcpy(big, "[Host]\n", 7);
        memset(big + 7, '#', INI_MAX_SIZE - 7);
        big[INI_MAX_SIZE - 1] = '\n';
        big[INI_MAX_SIZE] = '\0';
        /* exactly the limit: readable, but one more line would not be */
        assert_int_equal(ini_edit_set(big, "Host", "nqn", "v", &out), -EFBIG);
        big[INI_MAX_SIZE] = '\n';
        big[INI_MAX_SIZE + 1] = '\0';
        assert_int_equal(ini_edit_remove(big, "Host", "nqn", &out), -EFBIG);
        assert_null(out);
}

static void write_all(const char *path, const char *s) {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(s, f);
        fclose(f);
}

static void test_ini_edit_files(void **state) {
        char dir[] = "/tmp/stas-ini-XXXXXX", path[600], link[600], cmd[700];
        _cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL;
        struct stat st;

        assert_non_null(mkdtemp(dir));

        /* Created with its missing parent directory. */
        snprintf(path, sizeof(path), "%s/sub/sys.conf", dir);
        assert_int_equal(ini_edit_file_set(path, "Host", "id", "x"), 0);
        assert_int_equal(read_text_file(path, &s1), 0);
        assert_string_equal(s1, "[Host]\nid = x\n");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644);

        /* Mode kept, symlink followed (the link stays a link). */
        assert_int_equal(chmod(path, 0600), 0);
        snprintf(link, sizeof(link), "%s/link.conf", dir);
        assert_int_equal(symlink(path, link), 0);
        assert_int_equal(ini_edit_file_set(link, "Host", "symname", "s"), 0);
        assert_int_equal(read_text_file(path, &s2), 0);
        assert_string_equal(s2, "[Host]\nid = x\nsymname = s\n");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(lstat(link, &st), 0);
        assert_true(S_ISLNK(st.st_mode));

        assert_int_equal(ini_edit_file_remove(path, "Host", "symname"), 1);
        assert_int_equal(ini_edit_file_remove(path, "Host", "symname"), 0);
        assert_int_equal(read_text_file(path, &s3), 0);
        assert_string_equal(s3, "[Host]\nid = x\n");

        /* Missing file: remove is a no-op and creates nothing. */
        snprintf(path, sizeof(path), "%s/missing.conf", dir);
        assert_int_equal(ini_edit_file_remove(path, "Host", "symname"), 0);
        assert_int_equal(access(path, F_OK), -1);

        /* A file with a NUL byte is refused, not truncated. */
        snprintf(path, sizeof(path), "%s/nul.conf", dir);
        {
                FILE *f = fopen(path, "w");
                assert_non_null(f);
                fwrite("[Host]\0id=x\n", 1, 12, f);
                fclose(f);
        }
        assert_int_equal(ini_edit_file_set(path, "Host", "id", "y"), -EINVAL);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, 12);

        /* A directory is not a file. */
        snprintf(path, sizeof(path), "%s/sub", dir);
        assert_int_equal(ini_edit_file_set(path, "Host", "id", "y"), -EISDIR);

        snprintf(path, sizeof(path), "%s/plain.conf", dir);
        write_all(path, "[Host]\nid = y\n");
        assert_int_equal(ini_edit_file_set(path, "Host", "id", "y"), 0);

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ini_edit_replace_keeps_comments_and_order),
                cmocka_unit_test(test_ini_edit_replace_keeps_indentation_and_case_insensitive),
                cmocka_unit_test(test_ini_edit_append_to_section),
                cmocka_unit_test(test_ini_edit_create_section_and_file),
                cmocka_unit_test(test_ini_edit_repeated_keys_and_sections),
                cmocka_unit_test(test_ini_edit_remove),
                cmocka_unit_test(test_ini_edit_crlf_and_no_cr_added),
                cmocka_unit_test(test_ini_edit_rejects_bad_input),
                cmocka_unit_test(test_ini_edit_files),
                cmocka_unit_test(test_ini_edit_insert_before_indented_header),
                cmocka_unit_test(test_ini_edit_continuation_across_blank_lines),
                cmocka_unit_test(test_ini_edit_bracket_in_header_comment),
                cmocka_unit_test(test_ini_edit_carriage_returns),
                cmocka_unit_test(test_ini_edit_header_with_junk_refused),
                cmocka_unit_test(test_ini_edit_value_starting_with_hash),
                cmocka_unit_test(test_ini_edit_agrees_with_reader),
                cmocka_unit_test(test_ini_edit_size_limit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
