/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "stas/wire.h"

static const CliService svc = {
        .program = "stafctl",
        .daemon = "stafd",
        .bus_name = STAF_BUS_NAME,
        .path = STAF_BUS_PATH,
        .interface = STAF_BUS_IFACE,
        .debug_interface = STAF_BUS_DEBUG_IFACE,
        .log_pages = true,
};

static char *capture_table(StasKV *const *rows, size_t n, const CliColumn *cols, size_t ncols) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        cli_print_table(f, rows, n, cols, ncols);
        fclose(f);
        return buf;
}

static void test_cli_table_alignment_and_empty_values(void **state) {
        static const CliColumn cols[] = { { "device", "DEVICE" },
                                          { "traddr", "TRADDR" },
                                          { "host-iface", "IFACE" } };
        _cleanup_(kv_freep) StasKV *a = kv_new(), *b = kv_new();
        StasKV *rows[2] = { a, b };
        _cleanup_free_ char *out = NULL, *none = NULL;

        kv_set(a, "device", "nvme0");
        kv_set(a, "traddr", "192.168.100.100");
        kv_set(a, "host-iface", "");
        kv_set(b, "device", "nvme12");
        kv_set(b, "traddr", "::1");
        kv_set(b, "host-iface", "eth0");
        out = capture_table(rows, 2, cols, 3);
        assert_string_equal(
                out,
                "DEVICE  TRADDR           IFACE\n"
                "nvme0   192.168.100.100  -\n"
                "nvme12  ::1              eth0\n");
        none = capture_table(NULL, 0, cols, 3);
        assert_string_equal(none, "(none)\n");
}

static void test_cli_kv_block(void **state) {
        _cleanup_(kv_freep) StasKV *a = kv_new();
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        kv_set(a, "device", "nvme0");
        kv_set(a, "host-traddr", "");
        cli_print_kv(f, a, "  ");
        fclose(f);
        assert_string_equal(buf, "  device       nvme0\n  host-traddr  -\n");
        free(buf);
}

static int run(int argc, char **argv) {
        optind = 0; /* reset getopt between in-process runs */
        return cli_main(&svc, argc, argv);
}

static void test_cli_usage_errors_exit_2(void **state) {
        char *a1[] = { (char *) "stafctl", NULL };
        char *a2[] = { (char *) "stafctl", (char *) "bogus", NULL };
        char *a3[] = { (char *) "stafctl", (char *) "dlp", (char *) "-a", (char *) "::1", NULL };
        char *a4[] = { (char *) "stafctl", (char *) "--no-such-option", (char *) "ls", NULL };
        char *a5[] = { (char *) "stafctl", (char *) "dlp", (char *) "-a",
                       (char *) "::1",     (char *) "-s",  (char *) "8009",
                       (char *) "-t",      (char *) "xm",  NULL };

        assert_int_equal(run(1, a1), 2);
        assert_int_equal(run(2, a2), 2);
        assert_int_equal(run(4, a3), 2);
        assert_int_equal(run(3, a4), 2);
        assert_int_equal(run(8, a5), 2);
}

static void test_cli_stacctl_has_no_log_page_commands(void **state) {
        static const CliService stac = {
                .program = "stacctl",
                .daemon = "stacd",
                .bus_name = STAC_BUS_NAME,
                .path = STAC_BUS_PATH,
                .interface = STAC_BUS_IFACE,
                .debug_interface = STAC_BUS_DEBUG_IFACE,
        };
        char *a[] = { (char *) "stacctl", (char *) "adlp", NULL };

        optind = 0;
        assert_int_equal(cli_main(&stac, 2, a), 2);
}

static void test_cli_no_daemon_exit_1(void **state) {
        char *a[] = { (char *) "stafctl", (char *) "ls", NULL };

        setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/stas-test-bus", 1);
        assert_int_equal(run(2, a), 1);
}

static void test_cli_version_and_help_exit_0(void **state) {
        char *a[] = { (char *) "stafctl", (char *) "--version", NULL };
        char *b[] = { (char *) "stafctl", (char *) "-h", NULL };

        assert_int_equal(run(2, a), 0);
        assert_int_equal(run(2, b), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cli_table_alignment_and_empty_values),
                cmocka_unit_test(test_cli_kv_block),
                cmocka_unit_test(test_cli_usage_errors_exit_2),
                cmocka_unit_test(test_cli_stacctl_has_no_log_page_commands),
                cmocka_unit_test(test_cli_no_daemon_exit_1),
                cmocka_unit_test(test_cli_version_and_help_exit_0),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
