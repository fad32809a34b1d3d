/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-helpers.h"
#include "stas/kernel.h"
#include "stas/log.h"
#include "stas/strv.h"

#define OLD_KERNEL "5.4.0-150-generic"
#define NEW_KERNEL "6.1.0-28-amd64"

/* A real 6.x /dev/nvme-fabrics line (option list), and upstream's test-nvme_options template. */
#define FABRICS_REAL                                                                                     \
        "instance=%d,cntlid=%d,transport=%s,traddr=%s,trsvcid=%s,nqn=%s,queue_size=%d,nr_io_queues=%d,"  \
        "reconnect_delay=%d,ctrl_loss_tmo=%d,keep_alive_tmo=%d,hostnqn=%s,host_traddr=%s,host_iface=%s," \
        "hostid=%s,duplicate_connect,disable_sqflow,hdr_digest,data_digest,nr_write_queues=%d,"          \
        "nr_poll_queues=%d,tos=%d,fast_io_fail_tmo=%d,discovery,dhchap_secret=%s,dhchap_ctrl_secret=%s\n"
#define FABRICS_UPSTREAM "host_iface=%s,discovery,dhchap_secret=%s,dhchap_ctrl_secret=%s\n"

static char dir[] = "/tmp/test-kernel-XXXXXX";
static LogCapture logs;

/* warnings and worse since the last log_capture_clear() */
#define WARNINGS() log_capture_count_upto(&logs, LOG_WARNING)
#define LAST_WARNING() log_capture_last(&logs, LOG_EMERG, LOG_WARNING)

static int group_setup(void **state) {
        if (!mkdtemp(dir))
                return -1;
        log_capture_start_at(&logs, LOG_INFO);
        return 0;
}

static int group_teardown(void **state) {
        char cmd[128];

        log_capture_stop(&logs);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *content) {
        static char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        assert_non_null(f);
        if (content)
                assert_int_equal(fputs(content, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        return path;
}

static void expect_flags(const StasKernelOptions *o, bool iface, bool disc, bool key, bool ckey) {
        assert_int_equal(o->host_iface, iface);
        assert_int_equal(o->discovery, disc);
        assert_int_equal(o->dhchap_secret, key);
        assert_int_equal(o->dhchap_ctrl_secret, ckey);
}

/* Upstream test-version.py, with KernelVersion('5.8.0-63-generic') on the left. */
static void test_kernel_version_upstream_vectors(void **state) {
        const char *v = "5.8.0-63-generic";

        assert_int_equal(kernel_version_compare(v, "5.8.0-63"), 0);
        assert_int_not_equal(kernel_version_compare(v, "5.8.0"), 0);
        assert_true(kernel_version_compare(v, "5.9") < 0);
        assert_false(kernel_version_compare(v, "5.7") < 0);
        assert_true(kernel_version_compare(v, "5.8.0-63") <= 0);
        assert_true(kernel_version_compare(v, "5.8.1") <= 0);
        assert_false(kernel_version_compare(v, "5.7") <= 0);
        assert_true(kernel_version_compare(v, "5.8") > 0);
        assert_false(kernel_version_compare(v, "5.9") > 0);
        assert_true(kernel_version_compare(v, "5.8.0-63") >= 0);
        assert_true(kernel_version_compare(v, "5.7.0") >= 0);
        assert_false(kernel_version_compare(v, "5.9") >= 0);
}

static void test_kernel_version_more_vectors(void **state) {
        static const struct {
                const char *a, *b;
                int sign;
        } v[] = {
                { "6.1.0-28-amd64", "6.0", 1 },
                { "6.1.0-28-amd64", "5.16", 1 },
                { "5.15.0-91-generic", "5.16", -1 },
                { "5.15.0-91-generic", "5.14", 1 },
                { "5.10.0", "5.9.99", 1 },       /* numeric, not lexical */
                { "5.14", "5.14.0", -1 },        /* LooseVersion: a longer list is greater */
                { "5.16.0-rc1", "5.16.0-1", 0 }, /* letters are ignored */
                { "6.0", "5.20", 1 },
                { "", "", 0 },
                { NULL, "1", -1 },
                { "99999999999999999999999.1", "18446744073709551615.0", 1 }, /* saturates */
                { "4.18.0-553.el8_10.x86_64", "4.18.0-553.el8_10.x86_64", 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                int r = kernel_version_compare(v[i].a, v[i].b), s = (r > 0) - (r < 0);

                assert_int_equal(s, v[i].sign);
                r = kernel_version_compare(v[i].b, v[i].a);
                assert_int_equal((r > 0) - (r < 0), -v[i].sign);
        }
}

static void test_kernel_probe_new_kernel_skips_file(void **state) {
        StasKernelOptions o = {};
        char missing[256];

        snprintf(missing, sizeof(missing), "%s/does-not-exist", dir);
        log_capture_clear(&logs);
        assert_int_equal(kernel_options_probe(NEW_KERNEL, missing, &o), 0);
        expect_flags(&o, true, true, true, true);
        assert_null(o.options);
        assert_int_equal(WARNINGS(), 0); /* the file was never looked at */
        kernel_options_done(&o);
}

/* Upstream test-nvme_options.py: missing, empty, wrong and correct files on an old kernel. */
static void test_kernel_probe_file_missing(void **state) {
        StasKernelOptions o = {};
        char missing[256];

        snprintf(missing, sizeof(missing), "%s/does-not-exist", dir);
        log_capture_clear(&logs);
        assert_int_equal(kernel_options_probe(OLD_KERNEL, missing, &o), 0);
        expect_flags(&o, false, false, false, false);
        assert_null(o.options);
        assert_int_equal(WARNINGS(), 1);
        assert_non_null(strstr(LAST_WARNING(), "Cannot determine which NVMe options the kernel supports"));
        assert_non_null(strstr(LAST_WARNING(), missing));
        kernel_options_done(&o);
}

static void test_kernel_probe_file_empty_or_garbage(void **state) {
        static const char *const contents[] = { "", "\n", "blah", "blah,blah=%d\n", "\x01\x02\xff,=,,\n" };
        StasKernelOptions o = {};

        for (size_t i = 0; i < ELEMENTSOF(contents); i++) {
                const char *p = write_file("fabrics-bad", contents[i]);

                log_capture_clear(&logs);
                assert_int_equal(kernel_options_probe("5.15.0-91-generic", p, &o), 0);
                /* the uname result stands: host_iface from 5.15, nothing else */
                expect_flags(&o, true, false, false, false);
                assert_null(o.options);
                assert_int_equal(WARNINGS(), 1);
                assert_non_null(
                        strstr(LAST_WARNING(), "Cannot determine which NVMe options the kernel supports"));
                kernel_options_done(&o);
        }

        /* a directory: open works, read fails */
        log_capture_clear(&logs);
        assert_int_equal(kernel_options_probe(OLD_KERNEL, dir, &o), 0);
        expect_flags(&o, false, false, false, false);
        assert_int_equal(WARNINGS(), 1);
        kernel_options_done(&o);
}

static void test_kernel_probe_file_correct(void **state) {
        StasKernelOptions o = {};
        const char *p = write_file("fabrics-upstream", FABRICS_UPSTREAM);

        log_capture_clear(&logs);
        assert_int_equal(kernel_options_probe(OLD_KERNEL, p, &o), 0);
        expect_flags(&o, true, true, true, true);
        assert_int_equal(WARNINGS(), 0);
        assert_int_equal(strv_length(o.options), 4);
        assert_string_equal(o.options[0], "host_iface");
        assert_string_equal(o.options[1], "discovery");
        assert_string_equal(o.options[2], "dhchap_secret");
        assert_string_equal(o.options[3], "dhchap_ctrl_secret");
        kernel_options_done(&o);
        assert_null(o.options);

        p = write_file("fabrics-real", FABRICS_REAL);
        assert_int_equal(kernel_options_probe(OLD_KERNEL, p, &o), 0);
        expect_flags(&o, true, true, true, true);
        assert_true(strv_contains(o.options, "duplicate_connect"));
        assert_true(strv_contains(o.options, "nqn"));
        assert_false(strv_contains(o.options, "%d"));
        kernel_options_done(&o);
}

static void test_kernel_probe_backport_and_first_line_only(void **state) {
        StasKernelOptions o = {};
        /* a 5.15 kernel with TP8013 backported; dhchap only appears on a second line (ignored) */
        const char *p = write_file(
                "fabrics-backport", " transport=%s , traddr=%s,discovery,host_iface=%s\ndhchap_secret=%s\n");

        assert_int_equal(kernel_options_probe("5.15.0-91-generic", p, &o), 0);
        expect_flags(&o, true, true, false, false);
        assert_string_equal(o.options[0], "transport");
        assert_string_equal(o.options[1], "traddr");
        kernel_options_done(&o);

        /* uname already grants host_iface on 5.15 even when the file lacks it */
        p = write_file("fabrics-no-iface", "transport=%s,traddr=%s\n");
        assert_int_equal(kernel_options_probe("5.15.0-91-generic", p, &o), 0);
        expect_flags(&o, true, false, false, false);
        kernel_options_done(&o);
}

static void test_kernel_probe_permission_denied(void **state) {
        const char *p = write_file("fabrics-private", FABRICS_UPSTREAM);
        StasKernelOptions o = {};
        pid_t pid;
        int status = 0;

        assert_int_equal(chmod(p, 0), 0);
        if (geteuid() != 0) {
                assert_int_equal(kernel_options_probe(OLD_KERNEL, p, &o), -EACCES);
                return;
        }
        /* root bypasses modes: check as an unprivileged child */
        assert_int_equal(chmod(dir, 0755), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(2);
                _exit(kernel_options_probe(OLD_KERNEL, p, &o) == -EACCES ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_kernel_fabrics_path_and_presence(void **state) {
        StasKernelOptions o = {};
        const char *p = write_file("fabrics-env", FABRICS_UPSTREAM);
        char missing[256];

        snprintf(missing, sizeof(missing), "%s/does-not-exist", dir);
        unsetenv("STAS_NVMF_DEV");
        assert_string_equal(kernel_fabrics_path(), "/dev/nvme-fabrics");
        setenv("STAS_NVMF_DEV", "", 1);
        assert_string_equal(kernel_fabrics_path(), "/dev/nvme-fabrics");

        setenv("STAS_NVMF_DEV", p, 1);
        assert_string_equal(kernel_fabrics_path(), p);
        assert_true(kernel_fabrics_present(NULL));
        assert_true(kernel_fabrics_present(p));
        assert_false(kernel_fabrics_present(missing));
        /* the probe reads $STAS_NVMF_DEV when no path is given */
        assert_int_equal(kernel_options_probe(OLD_KERNEL, NULL, &o), 0);
        expect_flags(&o, true, true, true, true);
        kernel_options_done(&o);
        /* and so does the convenience wrapper (whatever the running kernel is, it succeeds) */
        assert_int_equal(kernel_options_probe_default(&o), 0);
        kernel_options_done(&o);

        setenv("STAS_NVMF_DEV", missing, 1);
        assert_false(kernel_fabrics_present(NULL));
        unsetenv("STAS_NVMF_DEV");
        assert_int_equal(kernel_options_probe(OLD_KERNEL, p, NULL), -EINVAL);
        kernel_options_done(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kernel_version_upstream_vectors),
                cmocka_unit_test(test_kernel_version_more_vectors),
                cmocka_unit_test(test_kernel_probe_new_kernel_skips_file),
                cmocka_unit_test(test_kernel_probe_file_missing),
                cmocka_unit_test(test_kernel_probe_file_empty_or_garbage),
                cmocka_unit_test(test_kernel_probe_file_correct),
                cmocka_unit_test(test_kernel_probe_backport_and_first_line_only),
                cmocka_unit_test(test_kernel_probe_permission_denied),
                cmocka_unit_test(test_kernel_fabrics_path_and_presence),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
