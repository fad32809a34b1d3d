/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
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

static void test_cli_json_key_snake_case(void **state) {
        const struct {
                const char *in, *out;
        } t[] = {
                { "connect attempts", "connect_attempts" },
                { "host-traddr", "host_traddr" },
                { "dlpe.eflags.ncc", "dlpe_eflags_ncc" },
                { "TP8013", "tp8013" },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *k = cli_json_key(t[i].in);
                assert_string_equal(k, t[i].out);
        }
}

static void test_cli_pydict_parse(void **state) {
        _cleanup_(kv_freep) StasKV *kv = NULL, *bad = NULL;

        assert_int_equal(
                cli_pydict_parse(
                        "{'fail count': 2, 'completed': False, 'alive': True, 'error': 'it\\'s \\\\ gone', "
                        "'retry timer': armed, 'x': None}",
                        &kv),
                0);
        assert_string_equal(kv_get(kv, "fail count"), "2");
        assert_string_equal(kv_get(kv, "completed"), "False");
        assert_string_equal(kv_get(kv, "error"), "it's \\ gone");
        assert_string_equal(kv_get(kv, "retry timer"), "armed");
        assert_string_equal(kv_get(kv, "x"), "");
        assert_int_equal(cli_pydict_parse("{}", &bad), 0);
        bad = kv_free(bad);
        /* hostile or truncated text is refused, never read past its end */
        assert_int_equal(cli_pydict_parse("{'a': 'open", &bad), -EINVAL);
        assert_int_equal(cli_pydict_parse("{'a' 1}", &bad), -EINVAL);
        assert_int_equal(cli_pydict_parse("{'a': 1", &bad), -EINVAL);
        assert_int_equal(cli_pydict_parse("{'a': 1} tail", &bad), -EINVAL);
        assert_int_equal(cli_pydict_parse("not a dict", &bad), -EINVAL);
        assert_int_equal(cli_pydict_parse("", &bad), -EINVAL);
        assert_null(bad);
}

static const char *typed(const char *key, const char *value) {
        static char buf[512];
        json_object *o = cli_typed_value(key, value);

        snprintf(buf, sizeof buf, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return buf;
}

static void test_cli_typed_values(void **state) {
        assert_string_equal(typed("portid", "3"), "3");
        assert_string_equal(typed("portid", "three"), "\"three\"");
        assert_string_equal(typed("trsvcid", "4420"), "\"4420\"");
        assert_string_equal(typed("connected", "True"), "true");
        assert_string_equal(typed("connected", "False"), "false");
        assert_string_equal(typed("host-traddr", ""), "null");
        assert_string_equal(typed("device", "nvme?"), "null");
        assert_string_equal(typed("device", "nvme3"), "\"nvme3\"");
        assert_string_equal(
                typed("retry connect timer", "60.0s [off]"), "{\"period_s\":60.0,\"remaining_s\":null}");
        assert_string_equal(
                typed("retry connect timer", "0.15s [0.1s]"), "{\"period_s\":0.15,\"remaining_s\":0.1}");
        assert_string_equal(typed("retry connect timer", "soon"), "\"soon\"");
        assert_string_equal(typed("unresponsive timeout", "72 sec"), "72");
        assert_string_equal(typed("unresponsive timeout", "forever"), "null");
        assert_string_equal(typed("unresponsive time", "---"), "null");
        assert_string_equal(typed("dlpe", "None"), "null");
        assert_string_equal(
                typed("dlpe", "{'portid': '3', 'traddr': '::1'}"), "{\"portid\":3,\"traddr\":\"::1\"}");
        assert_string_equal(
                typed("connect operation", "{'fail count': 1, 'alive': True}"),
                "{\"fail_count\":1,\"alive\":true}");
        assert_string_equal(typed("connect operation", "{broken"), "\"{broken\"");
        assert_string_equal(typed("some new key", "True"), "\"True\"");
}

static void test_cli_typed_process_info(void **state) {
        json_object *in = json_tokener_parse(
                "{\"tron\": true, \"kernel support.TP8013\": \"True\", \"terminator.audit timer\": \"1.0s [off]\","
                " \"terminator.controller.(tcp, ::1, 8009)\": \"disposing\","
                " \"avahi\": {\"services\": {\"(eth0, IPv6, SFSS._nvme-disc._tcp.local, _nvme-disc._tcp)\":"
                " {\"reachable\": \"True\"}}}}");
        json_object *o = cli_typed_process_info(in);

        assert_string_equal(
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                "{\"tron\":true,\"kernel_support\":{\"tp8013\":true},"
                "\"terminator\":{\"audit_timer\":{\"period_s\":1.0,\"remaining_s\":null},"
                "\"controllers\":[{\"tid\":\"(tcp, ::1, 8009)\",\"status\":\"disposing\"}]},"
                "\"avahi\":{\"services\":[{\"interface\":\"eth0\",\"protocol\":\"IPv6\","
                "\"name\":\"SFSS._nvme-disc._tcp.local\",\"type\":\"_nvme-disc._tcp\",\"reachable\":true}]}}");
        json_object_put(o);
        json_object_put(in);
}

static void test_cli_ctrl_state_text(void **state) {
        _cleanup_(kv_freep) StasKV *kv = kv_new();
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

        assert_int_equal(kv_set(kv, "device", "nvme?"), 0);
        a = cli_ctrl_state(kv); /* a daemon without the state keys */
        assert_string_equal(a, "not connected");
        assert_int_equal(kv_set(kv, "state", "retrying"), 0);
        assert_int_equal(kv_set(kv, "state reason", "ECONNREFUSED"), 0);
        assert_int_equal(kv_set(kv, "retry in", "12"), 0);
        b = cli_ctrl_state(kv);
        assert_string_equal(b, "retrying in 12s (ECONNREFUSED)");
        assert_int_equal(kv_set(kv, "state", "not connected"), 0);
        assert_int_equal(kv_set(kv, "state reason", "disabled"), 0);
        c = cli_ctrl_state(kv);
        assert_string_equal(c, "not connected (disabled)");
        assert_int_equal(kv_set(kv, "state", "live"), 0);
        assert_int_equal(kv_set(kv, "state reason", ""), 0);
        d = cli_ctrl_state(kv);
        assert_string_equal(d, "live");
        assert_int_equal(kv_set(kv, "state", "retrying"), 0);
        assert_int_equal(kv_set(kv, "retry in", ""), 0);
        e = cli_ctrl_state(kv);
        assert_string_equal(e, "retrying");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cli_table_alignment_and_empty_values),
                cmocka_unit_test(test_cli_kv_block),
                cmocka_unit_test(test_cli_usage_errors_exit_2),
                cmocka_unit_test(test_cli_json_key_snake_case),
                cmocka_unit_test(test_cli_pydict_parse),
                cmocka_unit_test(test_cli_typed_values),
                cmocka_unit_test(test_cli_typed_process_info),
                cmocka_unit_test(test_cli_ctrl_state_text),
                cmocka_unit_test(test_cli_stacctl_has_no_log_page_commands),
                cmocka_unit_test(test_cli_no_daemon_exit_1),
                cmocka_unit_test(test_cli_version_and_help_exit_0),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
