/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "test-helpers.h"
#include "stas/ini.h"
#include "stas/hostid.h"
#include "stas/sysconf.h"

#define NQN "nqn.2014-08.org.nvmexpress:uuid:9aae2691-b275-4b64-8bfe-5da429a2bab9"
#define ID "56529e15-0f3e-4ede-87e2-63932a4adb99"
#define KEY \
        "DHHC-1:03:qwertyuioplkjhgfdsazxcvbnm0123456789QWERTYUIOPLKJHGFDSAZXCVBNM010101010101010101010101010101:"
/* what hostnqn_generate() derives from the machine-id written by setup() */
#define MACHINE_UUID "f2782346-4809-484a-9a8b-952a04b57ba4"
#define DERIVED_NQN NVME_HOSTNQN_UUID_PREFIX MACHINE_UUID

typedef struct Fixture {
        char root[64];
        char path[128];
} Fixture;

static void mkdirs(const char *root, const char *rel) {
        char p[256], cmd[300];

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
        assert_int_equal(system(cmd), 0);
}

static void put(const char *root, const char *rel, const char *content) {
        char p[256];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));

        snprintf(f->root, sizeof(f->root), "/tmp/stas-sysconf-XXXXXX");
        assert_non_null(mkdtemp(f->root));
        mkdirs(f->root, "etc");
        mkdirs(f->root, STAS_ETC_NVME);
        put(f->root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        snprintf(f->path, sizeof(f->path), "%s/sys.conf", f->root);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static StasSysConf *load(Fixture *f, const char *text, LogCapture *cap) {
        StasSysConf *s = NULL;

        if (text)
                put(f->root, "sys.conf", text);
        log_capture_start(cap);
        assert_int_equal(sysconf_load(f->path, f->root, &s), 0);
        assert_non_null(s);
        return s;
}

static void assert_has(const LogCapture *cap, int level, const char *needle) {
        if (!log_capture_has(cap, level, needle))
                fail_msg("expected a level-%d line containing \"%s\" in:\n%s", level, needle, cap->text);
}

/* upstream test_config_1 */
static void test_sysconf_literal_values(void **state) {
        Fixture *f = *state;
        LogCapture cap;
        StasSysConf *s =
                load(f, "[Host]\nnqn=" NQN "\nid=" ID "\nkey=" KEY "\nsymname=Bart-Simpson\n", &cap);

        assert_string_equal(s->hostnqn, NQN);
        assert_string_equal(s->hostid, ID);
        assert_string_equal(s->hostkey, KEY);
        assert_string_equal(s->symname, "Bart-Simpson");
        assert_false(s->hostnqn_derived);
        assert_false(s->hostid_derived);
        assert_int_equal(log_capture_count(&cap, LOG_WARNING) + log_capture_count(&cap, LOG_ERR), 0);
        assert_null(strstr(cap.text, "DHHC"));
        log_capture_stop(&cap);
        sysconf_free(s);
}

static void test_sysconf_env_override(void **state) {
        Fixture *f = *state;
        StasSysConf *s = NULL;

        put(f->root, "sys.conf", "[Host]\nnqn=" NQN "\nid=" ID "\n");
        assert_int_equal(setenv("STAS_SYS_CONF", f->path, 1), 0);
        assert_string_equal(sysconf_default_path(), f->path);
        assert_int_equal(sysconf_load(NULL, f->root, &s), 0);
        assert_string_equal(s->hostnqn, NQN);
        assert_string_equal(s->hostid, ID);
        sysconf_free(s);
        assert_int_equal(setenv("STAS_SYS_CONF", "", 1), 0);
        assert_string_equal(sysconf_default_path(), STAS_ETC_STAS "/sys.conf");
        unsetenv("STAS_SYS_CONF");
}

static void test_sysconf_file_targets(void **state) {
        Fixture *f = *state;
        char text[1024];
        LogCapture cap;
        StasSysConf *s;

        put(f->root, "n", "  " NQN "  trailing words\nsecond line\n");
        put(f->root, "i", ID "\n");
        put(f->root, "k", KEY " x\n");
        put(f->root, "sym", "  Bart Simpson's host  \nline 2\n");
        snprintf(
                text,
                sizeof(text),
                "[Host]\nnqn = file://%s/n\nid=file://%s/i\nkey=file://%s/k\nsymname=file://%s/sym\n",
                f->root,
                f->root,
                f->root,
                f->root);
        s = load(f, text, &cap);
        assert_string_equal(s->hostnqn, NQN);
        assert_string_equal(s->hostid, ID);
        assert_string_equal(s->hostkey, KEY);
        assert_string_equal(s->symname, "Bart Simpson's host"); /* the whole line */
        assert_false(s->hostnqn_derived);
        assert_null(strstr(cap.text, "DHHC"));
        log_capture_stop(&cap);
        sysconf_free(s);
}

/* default targets under root, and no sys.conf at all */
static void test_sysconf_default_targets(void **state) {
        Fixture *f = *state;
        LogCapture cap;
        StasSysConf *s;

        put(f->root, STAS_ETC_NVME "/hostnqn", NQN "\n");
        put(f->root, STAS_ETC_NVME "/hostid", ID "\n");
        put(f->root, STAS_ETC_NVME "/hostkey", KEY "\n");
        s = load(f, NULL, &cap);
        assert_string_equal(s->hostnqn, NQN);
        assert_string_equal(s->hostid, ID);
        assert_string_equal(s->hostkey, KEY);
        assert_null(s->symname);
        assert_int_equal(log_capture_count(&cap, LOG_WARNING), 0);
        log_capture_stop(&cap);
        sysconf_free(s);
}

/* upstream test_config_2: /dev/null gives nothing; the NQN is then derived */
static void test_sysconf_dev_null(void **state) {
        Fixture *f = *state;
        LogCapture cap;
        StasSysConf *s = load(
                f,
                "[Host]\nnqn=file:///dev/null\nid=" ID "\nkey=file:///dev/null\nsymname=file:///dev/null\n",
                &cap);

        assert_null(s->hostkey);
        assert_null(s->symname);
        assert_string_equal(s->hostnqn, DERIVED_NQN);
        assert_true(s->hostnqn_derived);
        assert_has(&cap, LOG_WARNING, "sys.conf:2: the host NQN is empty; deriving one");
        log_capture_stop(&cap);
        sysconf_free(s);
}

/* upstream test_config_3: bad prefix */
static void test_sysconf_bad_nqn_prefix(void **state) {
        Fixture *f = *state;
        LogCapture cap;
        StasSysConf *s = load(
                f,
                "[Host]\nnqn=qnq.2014-08.org.nvmexpress:uuid:9aae2691-b275-4b64-8bfe-5da429a2bab9\nid=" ID
                "\n",
                &cap);

        assert_string_equal(s->hostnqn, DERIVED_NQN);
        assert_true(s->hostnqn_derived);
        assert_string_equal(s->hostid, ID);
        assert_false(s->hostid_derived);
        assert_null(s->symname);
        assert_has(&cap, LOG_ERR, "sys.conf:2: invalid host NQN 'qnq.");
        log_capture_stop(&cap);
        sysconf_free(s);
}

/* the host NQN goes into every connect string: one that would inject options is refused */
static void test_sysconf_nqn_injection_refused(void **state) {
        Fixture *f = *state;
        LogCapture cap;
        StasSysConf *s = load(f, "[Host]\nnqn=nqn.2024-01.io.x:h,duplicate_connect\nid=" ID "\n", &cap);

        assert_string_equal(s->hostnqn, DERIVED_NQN);
        assert_true(s->hostnqn_derived);
        assert_has(&cap, LOG_ERR, "sys.conf:2: invalid host NQN 'nqn.2024-01.io.x:h,duplicate_connect'");
        log_capture_stop(&cap);
        sysconf_free(s);
        assert_false(nqn_is_valid("nqn.a b"));
        assert_false(nqn_is_valid("nqn.a=b"));
}

static void test_sysconf_nqn_length_limit(void **state) {
        Fixture *f = *state;
        char text[600], nqn[300];
        LogCapture cap;
        StasSysConf *s;

        memset(nqn, 'a', sizeof(nqn));
        memcpy(nqn, "nqn.", 4);
        nqn[223] = 0;
        snprintf(text, sizeof(text), "[Host]\nnqn=%s\nid=%s\n", nqn, ID);
        s = load(f, text, &cap);
        assert_string_equal(s->hostnqn, nqn);
        assert_false(s->hostnqn_derived);
        log_capture_stop(&cap);
        sysconf_free(s);

        nqn[223] = 'a';
        nqn[224] = 0;
        snprintf(text, sizeof(text), "[Host]\nnqn=%s\nid=%s\n", nqn, ID);
        s = load(f, text, &cap);
        assert_string_equal(s->hostnqn, DERIVED_NQN);
        assert_true(s->hostnqn_derived);
        assert_has(&cap, LOG_ERR, "at most 223 printable characters");
        log_capture_stop(&cap);
        sysconf_free(s);
}

/* upstream test_config_4: missing targets */
static void test_sysconf_missing_files_derived(void **state) {
        Fixture *f = *state;
        LogCapture cap;
        StasSysConf *s = load(
                f,
                "[Host]\nnqn=file:///some/non/existing/file/!@#\nid=file:///some/non/existing/file/!@#\n"
                "symname=file:///some/non/existing/file/!@#\n",
                &cap);

        assert_string_equal(s->hostnqn, DERIVED_NQN);
        assert_true(s->hostnqn_derived);
        /* the host ID is the UUID of the (derived) uuid host NQN */
        assert_string_equal(s->hostid, MACHINE_UUID);
        assert_true(s->hostid_derived);
        assert_null(s->symname);
        assert_null(s->hostkey);
        assert_has(
                &cap, LOG_WARNING, "sys.conf:2: cannot read the host NQN from /some/non/existing/file/!@#");
        assert_has(&cap, LOG_WARNING, "sys.conf:3: cannot read the host ID");
        assert_has(&cap, LOG_WARNING, "sys.conf:4: cannot read the host symbolic name");
        assert_has(&cap, LOG_WARNING, "Using the derived host NQN " DERIVED_NQN);
        log_capture_stop(&cap);
        sysconf_free(s);
}

static void test_sysconf_hostid_from_configured_nqn(void **state) {
        Fixture *f = *state;
        LogCapture cap;
        StasSysConf *s = load(f, "[Host]\nnqn=" NQN "\nid=not-a-uuid\n", &cap);

        assert_string_equal(s->hostid, "9aae2691-b275-4b64-8bfe-5da429a2bab9");
        assert_true(s->hostid_derived);
        assert_has(&cap, LOG_ERR, "sys.conf:3: invalid host ID 'not-a-uuid'");
        log_capture_stop(&cap);
        sysconf_free(s);

        /* a non-uuid NQN: the machine's derived UUID */
        s = load(f, "[Host]\nnqn=nqn.2014-08.com.example:host1\n", &cap);
        assert_string_equal(s->hostnqn, "nqn.2014-08.com.example:host1");
        assert_string_equal(s->hostid, MACHINE_UUID);
        log_capture_stop(&cap);
        sysconf_free(s);
}

static void test_sysconf_missing_conf_file(void **state) {
        Fixture *f = *state;
        StasSysConf *s = NULL;
        LogCapture cap;

        log_capture_start(&cap);
        assert_int_equal(sysconf_load("/just/some/ramdom/file/name", f->root, &s), 0);
        assert_null(s->symname);
        assert_true(s->hostnqn_derived);
        log_capture_stop(&cap);
        sysconf_free(s);
}

static void test_sysconf_invalid_and_syntax(void **state) {
        Fixture *f = *state;
        StasSysConf *s = NULL;
        LogCapture cap;

        s = load(f, "[Host]\nnqn=" NQN "\nid=" ID "\nhostnqn=x\n[host]\nnqn=y\n", &cap);
        assert_has(&cap, LOG_ERR, "sys.conf:4: invalid option 'hostnqn' in [Host]");
        assert_has(&cap, LOG_ERR, "sys.conf:5: invalid section [host]");
        assert_string_equal(s->hostnqn, NQN);
        log_capture_stop(&cap);
        sysconf_free(s);

        put(f->root, "sys.conf", "nqn=" NQN "\n");
        s = NULL;
        log_capture_start(&cap);
        assert_int_equal(sysconf_load(f->path, f->root, &s), -EINVAL);
        assert_null(s);
        log_capture_stop(&cap);
}

static void test_sysconf_validators(void **state) {
        assert_true(nqn_is_valid("nqn.x"));
        assert_false(nqn_is_valid("nqn"));
        assert_false(nqn_is_valid(NULL));
        assert_true(uuid_is_valid(ID));
        assert_false(uuid_is_valid("56529e15-0f3e-4ede-87e2-63932a4adb9"));
        assert_false(uuid_is_valid("56529e15x0f3e-4ede-87e2-63932a4adb99"));
        assert_false(uuid_is_valid("g6529e15-0f3e-4ede-87e2-63932a4adb99"));
}

/* A file full of unknown sections and keys: INI_MAX_MESSAGES errors and one summary line. */
static void test_sysconf_invalid_messages_capped(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *text = malloc(200 * 32);
        StasSysConf *s;
        LogCapture cap;
        size_t n = 0;

        assert_non_null(text);
        n += (size_t) sprintf(text, "[Host]\nnqn=" NQN "\nid=" ID "\n");
        for (int i = 0; i < 100; i++)
                n += (size_t) sprintf(text + n, "bad%d=x\n", i);
        for (int i = 0; i < 100; i++)
                n += (size_t) sprintf(text + n, "[S%d]\n", i);
        s = load(f, text, &cap);
        assert_string_equal(s->hostnqn, NQN);
        assert_has(&cap, LOG_ERR, "sys.conf:104: invalid section [S0]");
        assert_has(&cap, LOG_ERR, "sys.conf: 180 more invalid sections and options, not shown");
        assert_int_equal(log_capture_count(&cap, LOG_ERR), INI_MAX_MESSAGES + 1);
        log_capture_stop(&cap);
        sysconf_free(s);
}

/* A host key pasted as a key name, a section, the NQN or the ID is never echoed. */
static void test_sysconf_pasted_secret_redacted(void **state) {
        Fixture *f = *state;
        StasSysConf *s;
        LogCapture cap;

        s = load(f, "[Host]\n" KEY "\nnqn = " KEY "\nid = dhhc-1:00:c2VjcmV0:\n[" KEY "]\n", &cap);
        assert_has(&cap, LOG_ERR, "sys.conf:2: invalid option '(secret)' in [Host]");
        assert_has(&cap, LOG_ERR, "sys.conf:3: invalid host NQN '(secret)'");
        assert_has(&cap, LOG_ERR, "sys.conf:4: invalid host ID '(secret)'");
        assert_has(&cap, LOG_ERR, "sys.conf:5: invalid section [(secret)]");
        if (strcasestr(cap.text, "dhhc") || strstr(cap.text, "c2VjcmV0"))
                fail_msg("a secret was logged:\n%s", cap.text);
        assert_true(s->hostnqn_derived);
        log_capture_stop(&cap);
        sysconf_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_sysconf_literal_values, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_env_override, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_file_targets, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_default_targets, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_dev_null, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_bad_nqn_prefix, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_nqn_injection_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_nqn_length_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_missing_files_derived, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_hostid_from_configured_nqn, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_missing_conf_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_invalid_and_syntax, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_invalid_messages_capped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysconf_pasted_secret_redacted, setup, teardown),
                cmocka_unit_test(test_sysconf_validators),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
