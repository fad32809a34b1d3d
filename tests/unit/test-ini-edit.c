/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "stas/ini-edit.h"

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
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
