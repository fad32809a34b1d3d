/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-stasadm - runs the built stasadm binary ($STASADM, set by meson) against files in a
 * temporary directory, with STAS_TEST_ROOT pointing at a fake machine-id / DMI tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/wait.h>

#include "config.h"
#include "ini-edit.h"

#define NQN_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"

typedef struct Env {
        char dir[64];   /* temporary directory */
        char root[128]; /* fake STAS_TEST_ROOT */
        char conf[128]; /* sys.conf path */
} Env;

typedef struct Result {
        int status;
        char *out, *err;
} Result;

static void result_clear(Result *r) {
        free(r->out);
        free(r->err);
}

static void write_all(const char *path, const char *s) {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(s, f);
        fclose(f);
}

static char *slurp(const char *path) {
        char *s = NULL;

        assert_int_equal(read_text_file(path, &s), 0);
        return s;
}

static void mkdirs(const char *base, const char *rel) {
        char p[512];

        snprintf(p, sizeof(p), "%s/%s/x", base, rel);
        assert_int_equal(write_file_atomic(p, "", 0, 0644), 0); /* creates the parents */
        assert_int_equal(unlink(p), 0);
}

/*
 * A copy of @exe in @dir (mode 0755), for a run as nobody: the build directory may be private
 * (a package build's is often 0700), and nobody must not need to reach into it.
 */
static char *copy_exe(const char *exe, const char *dir) {
        _cleanup_free_ char *data = NULL;
        char *path = NULL;
        size_t size = 0, n;
        FILE *f;

        f = fopen(exe, "re");
        assert_non_null(f);
        for (;;) {
                char *g = realloc(data, size + 65536);

                assert_non_null(g);
                data = g;
                n = fread(data + size, 1, 65536, f);
                size += n;
                if (n < 65536)
                        break;
        }
        assert_false(ferror(f));
        fclose(f);
        assert_true(asprintf(&path, "%s/stasadm", dir) > 0);
        assert_int_equal(write_file_atomic(path, data, size, 0755), 0);
        return path;
}

/* Run stasadm with @args (NULL-terminated) in @cwd with STAS_TEST_ROOT=@root; as user nobody
 * (65534) when @unprivileged and the test runs as root. */
static Result run_as(const Env *e, const char *cwd, bool unprivileged, const char *const *args) {
        const char *exe = getenv("STASADM");
        _cleanup_free_ char *copy = NULL;
        char outp[200], errp[200];
        const char *argv[32];
        size_t n = 0;
        Result r = {};
        pid_t pid;
        int st;

        assert_non_null(exe);
        if (unprivileged && geteuid() == 0)
                exe = copy = copy_exe(exe, e->dir);
        argv[n++] = exe;
        for (; args && *args; args++) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = *args;
        }
        argv[n] = NULL;
        snprintf(outp, sizeof(outp), "%s/stdout", e->dir);
        snprintf(errp, sizeof(errp), "%s/stderr", e->dir);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                int er = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (o < 0 || er < 0 || dup2(o, 1) < 0 || dup2(er, 2) < 0)
                        _exit(127);
                if (cwd && chdir(cwd) < 0)
                        _exit(127);
                if (unprivileged && geteuid() == 0 &&
                    (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
                     setresuid(65534, 65534, 65534) < 0))
                        _exit(127);
                setenv("STAS_TEST_ROOT", e->root, 1);
                execv(exe, (char **) argv);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        r.status = WEXITSTATUS(st);
        r.out = slurp(outp);
        r.err = slurp(errp);
        return r;
}

static Result run(const Env *e, const char *cwd, const char *const *args) {
        return run_as(e, cwd, false, args);
}

#define RUN(e, ...) run((e), NULL, (const char *const[]){ __VA_ARGS__, NULL })

static int setup(void **state) {
        Env *e = calloc(1, sizeof(Env));

        assert_non_null(e);
        snprintf(e->dir, sizeof(e->dir), "/tmp/stas-stasadm-XXXXXX");
        assert_non_null(mkdtemp(e->dir));
        snprintf(e->root, sizeof(e->root), "%s/root", e->dir);
        snprintf(e->conf, sizeof(e->conf), "%s/sys.conf", e->dir);
        mkdirs(e->root, "etc");
        *state = e;
        return 0;
}

static int teardown(void **state) {
        Env *e = *state;
        char cmd[200];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
        assert_int_equal(system(cmd), 0);
        free(e);
        return 0;
}

static void set_machine_id(const Env *e, const char *id) {
        char p[200];

        snprintf(p, sizeof(p), "%s/etc/machine-id", e->root);
        write_all(p, id);
}

static void test_stasadm_version_and_help(void **state) {
        Env *e = *state;
        Result r;

        r = RUN(e, "-v");
        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, "stas " STAS_VERSION "\n");
        result_clear(&r);

        r = RUN(e, "--version");
        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, "stas " STAS_VERSION "\n");
        result_clear(&r);

        r = RUN(e, "--help");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "Usage: stasadm"));
        assert_non_null(strstr(r.out, "set-symname"));
        result_clear(&r);

        r = RUN(e, "hostnqn", "-h");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "Usage: stasadm"));
        result_clear(&r);
}

static void test_stasadm_usage_errors(void **state) {
        Env *e = *state;
        const char *const *cases[] = {
                (const char *const[]){ NULL },                             /* no command */
                (const char *const[]){ "frobnicate", NULL },               /* unknown command */
                (const char *const[]){ "--bogus", "hostid", NULL },        /* unknown option */
                (const char *const[]){ "-x", "hostid", NULL },             /* unknown short option */
                (const char *const[]){ "-c", NULL },                       /* missing argument */
                (const char *const[]){ "hostnqn", "-f", NULL },            /* missing -f argument */
                (const char *const[]){ "hostid", "extra", NULL },          /* extra argument */
                (const char *const[]){ "set-symname", NULL },              /* missing SYMNAME */
                (const char *const[]){ "set-symname", "a", "b", NULL },    /* two names */
                (const char *const[]){ "clear-symname", "-f", "x", NULL }, /* -f not accepted */
                (const char *const[]){ "hostid", "--bogus", NULL },        /* unknown sub option */
        };
        char conf_arg[200];

        snprintf(conf_arg, sizeof(conf_arg), "%s", e->conf);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *argv[8] = { "-c", conf_arg };
                size_t n = 2;
                Result r;

                for (const char *const *a = cases[i]; *a; a++)
                        argv[n++] = *a;
                argv[n] = NULL;
                r = run(e, NULL, argv);
                assert_int_equal(r.status, 2);
                assert_string_not_equal(r.err, "");
                /* the style of all three CLIs: one line saying what is wrong, then the pointer */
                {
                        const char *tail = "\nTry 'stasadm --help'.\n";
                        size_t lt = strlen(tail), le = strlen(r.err);
                        assert_true(le > lt && streq(r.err + le - lt, tail));
                        assert_ptr_equal(strchr(r.err, '\n'), r.err + le - lt);
                }
                result_clear(&r);
        }
        /* None of them touched the configuration file. */
        assert_int_equal(access(e->conf, F_OK), -1);
}

static void test_stasadm_hostnqn_vectors(void **state) {
        Env *e = *state;
        _cleanup_free_ char *c1 = NULL, *c2 = NULL, *f = NULL;
        char file[200];
        Result r;

        write_all(e->conf, "# my comment\n[Host]\n# nqn = old\nnqn = old\nid = keep\n");
        set_machine_id(e, "0123456789abcdef0123456789abcdef\n");
        r = RUN(e, "-c", e->conf, "hostnqn");
        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, "");
        result_clear(&r);
        c1 = slurp(e->conf);
        assert_string_equal(
                c1,
                "# my comment\n[Host]\n# nqn = old\nnqn = " NQN_PREFIX
                "f2782346-4809-484a-9a8b-952a04b57ba4\nid = keep\n");

        set_machine_id(e, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        snprintf(file, sizeof(file), "%s/nvme/hostnqn", e->dir);
        r = RUN(e, "--conf-file", e->conf, "hostnqn", "--file", file);
        assert_int_equal(r.status, 0);
        result_clear(&r);
        f = slurp(file);
        assert_string_equal(f, NQN_PREFIX "3da64a01-16c5-4e10-ac46-397e2372b964\n");
        c2 = slurp(e->conf);
        assert_non_null(strstr(c2, "\nnqn = file://"));
        assert_non_null(strstr(c2, file));
        assert_non_null(strstr(c2, "# my comment\n"));
}

static void test_stasadm_hostnqn_unprivileged_without_machine_id(void **state) {
        Env *e = *state;
        char p[200];
        Result r;

        /* DMI is root-only: as upstream, an unprivileged user without a usable machine-id gets an
         * error even if product_uuid exists. */
        set_machine_id(e, "not-a-machine-id\n");
        mkdirs(e->root, "sys/class/dmi/id");
        snprintf(p, sizeof(p), "%s/sys/class/dmi/id/product_uuid", e->root);
        write_all(p, "4C4C4544-0034-1036-8038-B2C04F313233\n");
        assert_int_equal(chmod(e->dir, 0755), 0); /* nobody may look inside */
        r = run_as(e, NULL, true, (const char *const[]){ "-c", e->conf, "hostnqn", NULL });
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "Permission denied"));
        result_clear(&r);
        assert_int_equal(access(e->conf, F_OK), -1);
}

static void test_stasadm_hostnqn_root_uses_dmi(void **state) {
        Env *e = *state;
        _cleanup_free_ char *c = NULL;
        char p[200];
        Result r;

        set_machine_id(e, "not-a-machine-id\n");
        mkdirs(e->root, "sys/class/dmi/id");
        snprintf(p, sizeof(p), "%s/sys/class/dmi/id/product_uuid", e->root);
        write_all(p, "4C4C4544-0034-1036-8038-B2C04F313233\n");
        r = RUN(e, "-c", e->conf, "hostnqn");
        if (geteuid() != 0) {
                /* Only root may fall back to DMI (the vector itself is covered by test-hostid). */
                assert_int_equal(r.status, 1);
                assert_non_null(strstr(r.err, "Permission denied"));
                result_clear(&r);
                return;
        }
        assert_int_equal(r.status, 0);
        result_clear(&r);
        c = slurp(e->conf);
        assert_string_equal(c, "[Host]\nnqn = " NQN_PREFIX "44454C4C-3400-3610-8038-B2C04F313233\n");
}

static void test_stasadm_hostid(void **state) {
        Env *e = *state;
        _cleanup_free_ char *c1 = NULL, *c2 = NULL, *f = NULL;
        char file[200];
        Result r;

        r = RUN(e, "-c", e->conf, "hostid");
        assert_int_equal(r.status, 0);
        result_clear(&r);
        c1 = slurp(e->conf);
        assert_true(strneq(c1, "[Host]\nid = ", 12));
        assert_int_equal(strlen(c1), 12 + 36 + 1);
        assert_int_equal(c1[12 + 14], '4'); /* version-4 UUID */

        /* A relative -f path is stored as an absolute file:// reference. */
        r = run(e, e->dir, (const char *const[]){ "-c", e->conf, "hostid", "-f", "hostid", NULL });
        assert_int_equal(r.status, 0);
        result_clear(&r);
        snprintf(file, sizeof(file), "%s/hostid", e->dir);
        f = slurp(file);
        assert_int_equal(strlen(f), 37);
        assert_int_equal(f[36], '\n');
        assert_string_not_equal(f, c1 + 12); /* random: a new value */
        c2 = slurp(e->conf);
        char expect[300];
        snprintf(expect, sizeof(expect), "[Host]\nid = file://%s\n", file);
        assert_string_equal(c2, expect);
}

static void test_stasadm_symname(void **state) {
        Env *e = *state;
        _cleanup_free_ char *c1 = NULL, *c2 = NULL, *c3 = NULL, *f = NULL;
        char file[200], expect[400];
        Result r;

        write_all(e->conf, "[Host]\nnqn = file:///etc/nvme/hostnqn\n\n# trailing comment\n");
        r = RUN(e, "-c", e->conf, "set-symname", "rack 7 host");
        assert_int_equal(r.status, 0);
        result_clear(&r);
        c1 = slurp(e->conf);
        assert_string_equal(
                c1, "[Host]\nnqn = file:///etc/nvme/hostnqn\n\n# trailing comment\nsymname = rack 7 host\n");

        snprintf(file, sizeof(file), "%s/symname", e->dir);
        /* blanks at either end would be trimmed by the reader: refused, in a file too */
        r = RUN(e, "-c", e->conf, "set-symname", "-f", file, "  spaced name ");
        assert_int_equal(r.status, 1);
        assert_string_not_equal(r.err, "");
        result_clear(&r);
        r = RUN(e, "-c", e->conf, "set-symname", "-f", file, "spaced # name");
        assert_int_equal(r.status, 0);
        result_clear(&r);
        f = slurp(file);
        assert_string_equal(f, "spaced # name\n");
        c2 = slurp(e->conf);
        snprintf(
                expect,
                sizeof(expect),
                "[Host]\nnqn = file:///etc/nvme/hostnqn\n\n# trailing comment\nsymname = file://%s\n",
                file);
        assert_string_equal(c2, expect);

        /* Literally, such a name would be altered by the parser: refused, file unchanged. */
        r = RUN(e, "-c", e->conf, "set-symname", "a # b");
        assert_int_equal(r.status, 1);
        assert_string_not_equal(r.err, "");
        result_clear(&r);
        r = RUN(e, "-c", e->conf, "set-symname", "two\nlines");
        assert_int_equal(r.status, 1);
        result_clear(&r);

        r = RUN(e, "-c", e->conf, "clear-symname");
        assert_int_equal(r.status, 0);
        result_clear(&r);
        c3 = slurp(e->conf);
        assert_string_equal(c3, "[Host]\nnqn = file:///etc/nvme/hostnqn\n\n# trailing comment\n");
}

static void test_stasadm_clear_symname_missing_file(void **state) {
        Env *e = *state;
        Result r;

        r = RUN(e, "-c", e->conf, "clear-symname");
        assert_int_equal(r.status, 0);
        result_clear(&r);
        assert_int_equal(access(e->conf, F_OK), -1);
}

static void test_stasadm_errors_exit_1(void **state) {
        Env *e = *state;
        char file[200];
        Result r;

        /* The configuration "file" is a directory. */
        r = RUN(e, "-c", e->dir, "hostid");
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, e->dir));
        result_clear(&r);

        /* The -f target cannot be written (its parent is a regular file). */
        snprintf(file, sizeof(file), "%s/hostid", e->conf);
        write_all(e->conf, "[Host]\n");
        r = RUN(e, "-c", e->conf, "hostid", "-f", file);
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "Cannot write"));
        result_clear(&r);
        _cleanup_free_ char *c = slurp(e->conf);
        assert_string_equal(c, "[Host]\n");
}

/* A sys.conf the daemons would reject is not edited: the line and the reason are named. */
static void test_stasadm_refuses_file_with_syntax_error(void **state) {
        static const char bad[] = "[Host]\nnqn = file:///etc/nvme/hostnqn\n[Host]junk\n";
        Env *e = *state;
        char needle[200];
        Result r;

        write_all(e->conf, bad);
        r = RUN(e, "-c", e->conf, "set-symname", "name");
        assert_int_equal(r.status, 1);
        snprintf(needle, sizeof(needle), "%s:3: syntax error: invalid section header", e->conf);
        if (!strstr(r.err, needle))
                fail_msg("expected \"%s\" in: %s", needle, r.err);
        result_clear(&r);
        r = RUN(e, "-c", e->conf, "clear-symname");
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, needle));
        result_clear(&r);
        _cleanup_free_ char *c = slurp(e->conf);
        assert_string_equal(c, bad);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_stasadm_version_and_help, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stasadm_usage_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stasadm_hostnqn_vectors, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_stasadm_hostnqn_unprivileged_without_machine_id, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stasadm_hostnqn_root_uses_dmi, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stasadm_hostid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stasadm_symname, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stasadm_clear_symname_missing_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stasadm_errors_exit_1, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_stasadm_refuses_file_with_syntax_error, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
