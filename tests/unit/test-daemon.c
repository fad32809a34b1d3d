/* SPDX-License-Identifier: Apache-2.0 */
/* test-daemon - the command line, start-up checks and sys.conf path both daemons share. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-helpers.h"
#include "stas/daemon.h"
#include "stas/log.h"
#include "stas/macro.h"

static int parse(DaemonArgs *a, ...) {
        char *argv[16] = { (char *) "stafd" };
        int argc = 1;
        va_list ap;
        const char *s;

        va_start(ap, a);
        while ((s = va_arg(ap, const char *)) && argc < 15)
                argv[argc++] = (char *) s;
        va_end(ap);
        return daemon_parse_args("stafd", "test daemon", "/etc/stas/stafd.conf", argc, argv, a);
}

static void test_daemon_parse_args(void **state) {
        DaemonArgs a = {};

        assert_int_equal(parse(&a, NULL), -1);
        assert_string_equal(a.conf_path, "/etc/stas/stafd.conf");
        assert_false(a.syslog);
        assert_false(a.tron);

        assert_int_equal(parse(&a, "-f", "/tmp/x.conf", "-s", "--tron", NULL), -1);
        assert_string_equal(a.conf_path, "/tmp/x.conf");
        assert_true(a.syslog);
        assert_true(a.tron);
        assert_int_equal(parse(&a, "--conf-file=/tmp/y.conf", NULL), -1);
        assert_string_equal(a.conf_path, "/tmp/y.conf");

        /* usage errors: exit status 2 */
        assert_int_equal(parse(&a, "-f", NULL), 2);
        assert_int_equal(parse(&a, "-f", "", NULL), 2);
        assert_int_equal(parse(&a, "--bogus", NULL), 2);
        assert_int_equal(parse(&a, "-x", NULL), 2);
        assert_int_equal(parse(&a, "extra", NULL), 2);
        /* --help and --version end with status 0 */
        assert_int_equal(parse(&a, "-h", NULL), 0);
        assert_int_equal(parse(&a, "--version", NULL), 0);
}

static void test_daemon_check_startup(void **state) {
        char path[] = "/tmp/test-daemon.XXXXXX";
        LogCapture logs;
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        close(fd);
        log_capture_start_at(&logs, log_get_max_level());
        assert_int_equal(daemon_check_startup("stafd", 1000, path), -EPERM);
        assert_int_equal(daemon_check_startup("stafd", 0, "/nonexistent/nvme-fabrics"), -ENOENT);
        assert_int_equal(logs.n_lines, 2); /* each refusal is logged */
        assert_int_equal(daemon_check_startup("stafd", 0, path), 0);
        log_capture_stop(&logs);
        unlink(path);
}

static void test_daemon_sysconf_path_and_level(void **state) {
        assert_int_equal(unsetenv("STAS_SYS_CONF"), 0);
        assert_null(daemon_sysconf_path());
        assert_int_equal(setenv("STAS_SYS_CONF", "", 1), 0);
        assert_null(daemon_sysconf_path());
        assert_int_equal(setenv("STAS_SYS_CONF", "/tmp/sys.conf", 1), 0);
        assert_string_equal(daemon_sysconf_path(), "/tmp/sys.conf");
        unsetenv("STAS_SYS_CONF");

        assert_int_equal(daemon_log_level(false, false), LOG_INFO);
        assert_int_equal(daemon_log_level(true, false), LOG_DEBUG);
        assert_int_equal(daemon_log_level(false, true), LOG_DEBUG);
        /* outside systemd the notifications are harmless no-ops */
        daemon_notify_ready();
        daemon_notify_reloading();
        daemon_notify_stopping();
}

static void test_daemon_loop_status(void **state) {
        assert_int_equal(daemon_loop_status("stacd", 0), 0);
        assert_int_equal(daemon_loop_status("stacd", 1), 1); /* sd-bus exit-on-disconnect */
        assert_int_equal(daemon_loop_status("stacd", -EIO), 1);
}

/* a file with one option, [Global] kato= (the daemons' tables live with the daemons) */
static const StasConfOption kato_only[] = { STAS_CONF_CONNECT_OPTION("kato", "unset") };
static const StasConfSchema schema = { .name = "t.conf", .options = kato_only, .n_options = 1 };

/* at a reload a missing file keeps the running configuration (not the defaults) */
static void test_daemon_conf_reload_missing(void **state) {
        char dir[] = "/tmp/test-daemon.XXXXXX", path[64];
        StasConf *c = NULL;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/stafd.conf", dir);
        assert_int_equal(daemon_conf_reload(&schema, path, &c), -ENOENT);
        assert_null(c);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("[Global]\nkato=42\n", f);
        fclose(f);
        assert_int_equal(daemon_conf_reload(&schema, path, &c), 0);
        assert_non_null(c);
        assert_int_equal(c->global.kato, 42);
        stas_conf_free(c);
        unlink(path);
        rmdir(dir);
}

static void write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* a reload returns both files or neither (issue 9, failure 7) */
static void test_daemon_reload_confs_pair(void **state) {
        char dir[] = "/tmp/test-daemon.XXXXXX", conf[64], sys[64];
        const char *nqn = "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-1111-1111-1111-111111111111";
        StasConf *c = NULL;
        StasSysConf *s = NULL;

        assert_non_null(mkdtemp(dir));
        snprintf(conf, sizeof conf, "%s/t.conf", dir);
        snprintf(sys, sizeof sys, "%s/sys.conf", dir);
        write_text(
                sys, "[Host]\nnqn = nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-1111-1111-1111-111111111111\n");

        /* a bad daemon file: sys.conf (good) is not returned either */
        write_text(conf, "[Global\n");
        assert_int_equal(daemon_reload_confs(&schema, conf, sys, &c, &s), -EINVAL);
        assert_null(c);
        assert_null(s);
        /* a good daemon file with a bad sys.conf: neither */
        write_text(conf, "[Global]\nkato=42\n");
        write_text(sys, "[Host\n");
        assert_int_equal(daemon_reload_confs(&schema, conf, sys, &c, &s), -EINVAL);
        assert_null(c);
        assert_null(s);
        /* both good: both */
        write_text(
                sys, "[Host]\nnqn = nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-1111-1111-1111-111111111111\n");
        assert_int_equal(daemon_reload_confs(&schema, conf, sys, &c, &s), 0);
        assert_non_null(c);
        assert_non_null(s);
        assert_int_equal(c->global.kato, 42);
        assert_string_equal(s->hostnqn, nqn);
        stas_conf_free(c);
        sysconf_free(s);
        unlink(conf);
        unlink(sys);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_daemon_parse_args),
                cmocka_unit_test(test_daemon_loop_status),
                cmocka_unit_test(test_daemon_check_startup),
                cmocka_unit_test(test_daemon_sysconf_path_and_level),
                cmocka_unit_test(test_daemon_conf_reload_missing),
                cmocka_unit_test(test_daemon_reload_confs_pair),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
