/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests of the libstas nvme adapter (nvme.h) over the real libnvme 1.3 and the fake
 * kernel (fakekernel.so preloaded by meson): connect, adopt, DIM, supported log pages, hostile
 * discovery logs, disconnect and error paths. Each test has its own temporary root.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "fk-test.h"
#include "stas/dlp.h"
#include "stas/nvme.h"
#include "stas/task.h"
#include "stas/tid.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define HOSTID "11111111-2222-3333-4444-555555555555"

static struct fk_test T;

static int setup(void **state) {
        const StasNvmeHost host = { .hostnqn = HOSTNQN, .hostid = HOSTID, .symname = "fk-host" };
        const StasNvmeKernel kernel = {
                .host_iface = true, .discovery = true, .dhchap_secret = true, .dhchap_ctrl_secret = true
        };
        StasNvme *ctx = NULL;

        assert_int_equal(fk_test_setup(&T, true), 0);
        assert_int_equal(stas_nvme_new(&host, &kernel, LOG_ERR, &ctx), 0);
        *state = ctx;
        return 0;
}

static int teardown(void **state) {
        stas_nvme_free(*state);
        fk_test_teardown(&T);
        return 0;
}

static void assert_contains(const char *hay, const char *needle) {
        if (!hay || !strstr(hay, needle))
                fail_msg("\"%s\" not found in:\n%s", needle, hay ? hay : "(null)");
}

static void file_contains(const char *file, const char *needle) {
        char *s = fk_test_read(&T, file);
        assert_contains(s, needle);
        free(s);
}

static StasNvmeCtrl *new_ctrl(
        StasNvme *ctx,
        const char *nqn,
        const char *traddr,
        const char *trsvcid,
        const char *iface,
        const StasConnectOptions *o,
        bool dc) {
        StasTid *tid = tid_new("tcp", traddr, trsvcid, nqn, NULL, iface, NULL);
        StasNvmeCtrl *c = NULL;

        assert_non_null(tid);
        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, o, dc, &c), 0);
        tid_free(tid);
        return c;
}

static StasNvmeCtrl *new_dc(StasNvme *ctx, const char *traddr) {
        StasConnectOptions o;

        connect_options_init(&o);
        o.kato = 30;
        return new_ctrl(ctx, NVME_DISC_WKNQN, traddr, "8009", NULL, &o, true);
}

static void test_adapter_connect_options_reach_kernel(void **state) {
        StasConnectOptions o;
        StasNvmeCtrl *c;
        char *s = NULL;

        assert_int_equal(fk_test_scenario(&T, "{}"), 0);
        connect_options_init(&o);
        o.queue_size = 64;
        o.nr_io_queues = 2;
        o.ctrl_loss_tmo_set = true;
        o.ctrl_loss_tmo = -1;
        o.hdr_digest = 1;
        c = new_ctrl(*state, "nqn.io-1", "192.168.1.20", "4420", "eth0", &o, false);
        assert_null(stas_nvme_ctrl_name(c));
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        assert_string_equal(stas_nvme_ctrl_name(c), "nvme0");
        file_contains(
                "connect.log",
                "nqn=nqn.io-1,transport=tcp,traddr=192.168.1.20,host_iface=eth0,trsvcid=4420");
        file_contains("connect.log", "hostnqn=" HOSTNQN ",hostid=" HOSTID);
        file_contains("connect.log", "nr_io_queues=2,queue_size=64");
        file_contains("connect.log", "ctrl_loss_tmo=-1");
        file_contains("connect.log", "hdr_digest");
        assert_int_equal(stas_nvme_ctrl_state(c, &s), 0);
        assert_string_equal(s, "live");
        free(s);
        assert_int_equal(stas_nvme_ctrl_cntrltype(c, &s), 0);
        assert_string_equal(s, "io");
        free(s);

        assert_int_equal(stas_nvme_ctrl_disconnect(c), 0);
        assert_false(fk_test_exists(&T, "sys/class/nvme/nvme0"));
        assert_null(stas_nvme_ctrl_name(c));
        stas_nvme_ctrl_free(c);
}

static void test_adapter_dc_kato_and_discovery_flag(void **state) {
        StasNvmeCtrl *c;

        assert_int_equal(fk_test_scenario(&T, "{}"), 0);
        c = new_ctrl(*state, "nqn.unique-dc", "192.168.1.10", "8009", NULL, NULL, true);
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        file_contains("connect.log", "nqn=nqn.unique-dc,transport=tcp,traddr=192.168.1.10,trsvcid=8009");
        file_contains("connect.log", ",discovery"); /* TP8013 unique DC NQN */
        stas_nvme_ctrl_free(c);
        c = new_dc(*state, "192.168.1.11");
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        file_contains(
                "connect.log",
                "traddr=192.168.1.11,trsvcid=8009,hostnqn=" HOSTNQN ",hostid=" HOSTID ",keep_alive_tmo=30");
        stas_nvme_ctrl_free(c); /* frees, does not disconnect */
        assert_true(fk_test_exists(&T, "sys/class/nvme/nvme1"));
}

static void test_adapter_adopt_existing(void **state) {
        const char *argv[] = { "connect",
                               "nqn=" NVME_DISC_WKNQN
                               ",transport=tcp,traddr=10.0.0.1,trsvcid=8009,hostnqn=" HOSTNQN
                               ",hostid=" HOSTID,
                               NULL };
        StasNvmeCtrl *c;
        char *s = NULL;

        assert_int_equal(fk_test_scenario(&T, "{ \"controllers\": [ { \"dctype\": \"ddc\" } ] }"), 0);
        assert_int_equal(fk_test_ctl(argv), 0);
        c = new_dc(*state, "10.0.0.1");
        assert_int_equal(stas_nvme_ctrl_adopt(c, 0), 0);
        assert_string_equal(stas_nvme_ctrl_name(c), "nvme0");
        assert_int_equal(stas_nvme_ctrl_dctype(c, &s), 0);
        assert_string_equal(s, "ddc");
        free(s);
        assert_int_equal(stas_nvme_ctrl_is_registration_supported(c), 1);
        /* no new connection was made: only fakekernel-ctl's own connect is in the log */
        char *log = fk_test_read(&T, "connect.log");
        assert_non_null(strchr(log, '\n'));
        assert_null(strchr(strchr(log, '\n') + 1, '\n'));
        free(log);
        stas_nvme_ctrl_free(c);
}

static void test_adapter_dim_and_pleo_on_cdc(void **state) {
        StasNvmeCtrl *c;
        uint32_t bits = 0, result = 1;

        assert_int_equal(
                fk_test_scenario(&T, "{ \"controllers\": [ { \"dctype\": \"cdc\", \"pleo\": true } ] }"), 0);
        c = new_dc(*state, "192.168.1.10");
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        assert_int_equal(stas_nvme_ctrl_is_registration_supported(c), 1);
        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_REGISTER, &result), 0);
        assert_int_equal(result, 0);
        file_contains("dim.log", "nvme0 tas=register eid=" HOSTNQN);
        file_contains("dim.log", "hostid=" HOSTID " symname=fk-host");
        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_DEREGISTER, NULL), 0);
        file_contains("dim.log", "nvme0 tas=deregister");
        assert_int_equal(stas_nvme_ctrl_supported_log_pages(c, &bits), 0);
        assert_int_equal(bits & STAS_DLP_LID_PLEOS, STAS_DLP_LID_PLEOS);
        file_contains("admin.log", "opc=0x02 cdw10=0x00ff8000"); /* LID 0, RAE */
        stas_nvme_ctrl_free(c);
}

static void test_adapter_dim_unsupported_fails_cleanly(void **state) {
        StasNvmeCtrl *c;

        /* dctype none: refused locally */
        assert_int_equal(fk_test_scenario(&T, "{}"), 0);
        c = new_dc(*state, "192.168.1.10");
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        /* sysfs dctype is "none": the kernel knows the attribute, the DC is neither DDC nor CDC */
        assert_int_equal(stas_nvme_ctrl_is_registration_supported(c), 0);
        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_REGISTER, NULL), -EOPNOTSUPP);
        assert_false(fk_test_exists(&T, "dim.log"));
        stas_nvme_ctrl_free(c);

        /* pre-5.18 kernel (no dctype attribute): -ENODATA, register decides via Identify (DDC) */
        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"controllers\": [ { \"traddr\": \"192.168.1.12\", "
                        "\"dctype\": \"ddc\", \"sysfs_types\": false } ] }"),
                0);
        c = new_dc(*state, "192.168.1.12");
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        assert_int_equal(stas_nvme_ctrl_is_registration_supported(c), -ENODATA);
        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_REGISTER, NULL), 0);
        file_contains("admin.log", "opc=0x06"); /* Identify fallback */
        file_contains("dim.log", "tas=register");
        stas_nvme_ctrl_free(c);

        /* a DDC that rejects DIM with Invalid Command Opcode: -EREMOTEIO + status */
        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"controllers\": [ { \"traddr\": \"192.168.1.11\", \"dctype\": "
                        "\"ddc\", \"status\": { \"dim\": 16385 } } ] }"),
                0);
        c = new_dc(*state, "192.168.1.11");
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_REGISTER, NULL), -EREMOTEIO);
        assert_int_equal(stas_nvme_ctrl_last_status(c), 0x4001);
        assert_non_null(stas_nvme_status_string(0x4001));
        stas_nvme_ctrl_free(c);
}

static void test_adapter_hostile_dlp(void **state) {
        char sc[4096], nqn256[257];
        StasNvmeCtrl *c;
        StasKV **l = NULL;
        StasDlpReport rep = {};

        memset(nqn256, 'q', 256);
        nqn256[256] = '\0';
        snprintf(
                sc,
                sizeof sc,
                "{ \"controllers\": [ { \"dlp\": { \"genctr\": 3, \"numrec\": 4, \"entries\": ["
                "  { \"subnqn\": \"%s\", \"traddr\": \"1.2.3.4\", \"trsvcid\": \"4420\" },"
                "  { \"subnqn\": \"nqn.ok\", \"traddr\": \"1.2.3.5\", \"trsvcid\": \"4420\", \"pad\": \" \" },"
                "  { \"subnqn\": \"nqn.zero\", \"traddr\": \"0.0.0.0\", \"trsvcid\": \"4420\" } ] } } ] }",
                nqn256);
        assert_int_equal(fk_test_scenario(&T, sc), 0);
        c = new_dc(*state, "192.168.1.10");
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        assert_int_equal(stas_nvme_ctrl_get_log_pages(c, 0, STAS_DLP_MAX_RETRIES, &l, &rep), 0);
        assert_int_equal(rep.genctr, 3);
        /* unterminated 256-byte subnqn: a valid 256-char NQN field, bounded, never overrun into traddr */
        size_t n = 0;
        bool saw_ok = false;
        for (; l[n]; n++) {
                const char *nqn = kv_get(l[n], "subnqn");
                assert_non_null(nqn);
                assert_true(strlen(nqn) <= 256);
                assert_true(strstr(nqn, "1.2.3.4") == NULL);
                if (strcmp(nqn, "nqn.ok") == 0) {
                        saw_ok = true;
                        assert_string_equal(kv_get(l[n], "traddr"), "1.2.3.5");
                        assert_string_equal(kv_get(l[n], "trsvcid"), "4420");
                }
                assert_string_not_equal(kv_get(l[n], "traddr"), "0.0.0.0");
        }
        assert_true(saw_ok);
        assert_true(n <= 2); /* 0.0.0.0 and the zero-filled records beyond the page are dropped */
        l = dlp_list_free(l);

        /* genctr changing between reads: once → retried, success with the new genctr */
        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"controllers\": [ { \"dlp\": { \"genctr\": 10, \"genctr_changes\": 1,"
                        " \"entries\": [ { \"traddr\": \"1.2.3.4\", \"subnqn\": \"nqn.a\" } ] } } ] }"),
                0);
        assert_int_equal(
                stas_nvme_ctrl_get_log_pages(c, STAS_DLP_LSP_PLEO, STAS_DLP_MAX_RETRIES, &l, &rep), 0);
        assert_int_equal(rep.genctr, 11);
        assert_non_null(l[0]);
        assert_null(l[1]);
        l = dlp_list_free(l);
        file_contains("admin.log", "cdw10=0x00ff8270"); /* LSP=PLEO reached the controller */

        /* never settles: a clean error, no list */
        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"controllers\": [ { \"dlp\": { \"genctr\": 10, \"genctr_changes\": 1000,"
                        " \"entries\": [ { \"traddr\": \"1.2.3.4\" } ] } } ] }"),
                0);
        assert_int_equal(stas_nvme_ctrl_get_log_pages(c, 0, STAS_DLP_MAX_RETRIES, &l, NULL), -EAGAIN);
        stas_nvme_ctrl_free(c);
}

static void test_adapter_error_paths(void **state) {
        StasNvmeCtrl *c;
        StasKV **l = NULL;
        uint32_t bits;

        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"controllers\": [ { \"traddr\": \"192.168.1.99\", \"connect_error\": "
                        "\"ECONNREFUSED\" }, { \"traddr\": \"192.168.1.10\", \"status\": {"
                        " \"get_log\": 16386, \"supported_log_pages\": \"EIO\" } } ] }"),
                0);
        c = new_dc(*state, "192.168.1.99");
        int r = stas_nvme_ctrl_connect(c);
        assert_true(r < 0);
        assert_true(-r >= STAS_NVME_ERRNO_BASE); /* ENVME_CONNECT_CONNREFUSED */
        assert_non_null(stas_nvme_strerror(r));
        assert_null(stas_nvme_ctrl_name(c));
        assert_false(fk_test_exists(&T, "sys/class/nvme/nvme0"));
        stas_nvme_ctrl_free(c);

        c = new_dc(*state, "192.168.1.10");
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        /* an NVMe status of a Get Log Page command is kept (libnvme 1.3's own reader said EIO) */
        assert_int_equal(stas_nvme_ctrl_get_log_pages(c, 0, STAS_DLP_MAX_RETRIES, &l, NULL), -EREMOTEIO);
        assert_int_equal(stas_nvme_ctrl_last_status(c), 16386);
        assert_null(l);
        assert_int_equal(stas_nvme_ctrl_supported_log_pages(c, &bits), -EIO);

        /* the kernel drops the controller under us: verbs fail cleanly */
        const char *rm[] = { "remove", "nvme0", NULL };
        assert_int_equal(fk_test_ctl(rm), 0);
        assert_true(stas_nvme_ctrl_get_log_pages(c, 0, STAS_DLP_MAX_RETRIES, &l, NULL) < 0);
        stas_nvme_ctrl_free(c);
}

struct async_ctx {
        int calls, r;
        StasKV **l;
};

static void on_connected(StasNvmeCtrl *c, int r, void *userdata) {
        struct async_ctx *a = userdata;
        a->calls++;
        a->r = r;
}

static void on_log(StasNvmeCtrl *c, int r, StasKV **entries, const StasDlpReport *report, void *userdata) {
        struct async_ctx *a = userdata;
        a->calls++;
        a->r = r;
        a->l = entries;
}

static void run_until(sd_event *e, struct async_ctx *a, int calls) {
        for (int i = 0; i < 100 && a->calls < calls; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(a->calls, calls);
}

static void test_adapter_async_connect_and_log(void **state) {
        sd_event *e = NULL;
        StasTaskPool *pool = NULL;
        struct async_ctx a = {};
        StasNvmeCtrl *c;

        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"controllers\": [ { \"dlp\": { \"entries\": ["
                        " { \"traddr\": \"1.2.3.4\", \"subnqn\": \"nqn.a\" } ] } } ] }"),
                0);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(task_pool_new(e, 2, &pool), 0);
        c = new_dc(*state, "192.168.1.10");
        assert_int_equal(stas_nvme_ctrl_connect_async(c, pool, on_connected, &a), 0);
        assert_int_equal(stas_nvme_ctrl_connect_async(c, pool, on_connected, &a), -EBUSY);
        run_until(e, &a, 1);
        assert_int_equal(a.r, 0);
        assert_string_equal(stas_nvme_ctrl_name(c), "nvme0");
        assert_int_equal(
                stas_nvme_ctrl_get_log_pages_async(c, pool, 0, STAS_DLP_MAX_RETRIES, on_log, &a), 0);
        run_until(e, &a, 2);
        assert_int_equal(a.r, 0);
        assert_non_null(a.l);
        assert_string_equal(kv_get(a.l[0], "subnqn"), "nqn.a");
        dlp_list_free(a.l);
        assert_int_equal(stas_nvme_ctrl_disconnect_async(c, pool, on_connected, &a), 0);
        run_until(e, &a, 3);
        assert_int_equal(a.r, 0);
        assert_false(fk_test_exists(&T, "sys/class/nvme/nvme0"));
        stas_nvme_ctrl_free(c);
        task_pool_free(pool);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_adapter_connect_options_reach_kernel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adapter_dc_kato_and_discovery_flag, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adapter_adopt_existing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adapter_dim_and_pleo_on_cdc, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adapter_dim_unsupported_fails_cleanly, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adapter_hostile_dlp, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adapter_error_paths, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adapter_async_connect_and_log, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
