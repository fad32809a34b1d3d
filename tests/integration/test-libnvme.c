/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration test of the fake kernel itself: the real libnvme 1.3 driven end to end
 * (connect, init/adopt, DIM, supported log pages, discovery log, disconnect) with
 * fakekernel.so preloaded. Every test runs in its own temporary root.
 */

#include <errno.h>
#include <fcntl.h>
#include <libnvme.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "fk-test.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define HOSTID "11111111-2222-3333-4444-555555555555"
#define WKNQN NVME_DISC_SUBSYS_NAME

static struct fk_test T;

struct env {
        nvme_root_t r;
        nvme_host_t h;
};

static int setup(void **state) {
        struct env *e = calloc(1, sizeof *e);

        assert_int_equal(fk_test_setup(&T, true), 0);
        e->r = nvme_create_root(stderr, LOG_ERR);
        assert_non_null(e->r);
        e->h = nvme_lookup_host(e->r, HOSTNQN, HOSTID);
        assert_non_null(e->h);
        *state = e;
        return 0;
}

static int teardown(void **state) {
        struct env *e = *state;

        nvme_free_tree(e->r);
        free(e);
        fk_test_teardown(&T);
        return 0;
}

static void assert_contains(const char *hay, const char *needle) {
        if (!hay || !strstr(hay, needle))
                fail_msg("\"%s\" not found in:\n%s", needle, hay ? hay : "(null)");
}

static void assert_not_contains(const char *hay, const char *needle) {
        if (hay && strstr(hay, needle))
                fail_msg("\"%s\" unexpectedly found in:\n%s", needle, hay);
}

static void expect_uevent(const char *a, const char *b, const char *c) {
        char *ev = fk_test_uevent(&T);
        assert_non_null(ev);
        assert_contains(ev, a);
        if (b)
                assert_contains(ev, b);
        if (c)
                assert_contains(ev, c);
        free(ev);
}

static void expect_file_contains(const char *file, const char *needle) {
        char *s = fk_test_read(&T, file);
        assert_contains(s, needle);
        free(s);
}

static nvme_ctrl_t connect_dc(struct env *e, const char *traddr, int expect_rc) {
        struct nvme_fabrics_config cfg;
        nvme_ctrl_t c = nvme_create_ctrl(e->r, WKNQN, "tcp", traddr, NULL, NULL, "8009");

        assert_non_null(c);
        nvme_ctrl_set_discovery_ctrl(c, true);
        nvmf_default_config(&cfg);
        cfg.keep_alive_tmo = 30;
        assert_int_equal(nvmf_add_ctrl(e->h, c, &cfg), expect_rc);
        return c;
}

static const char dc_scenario[] =
        "{ \"controllers\": [ { \"traddr\": \"192.168.1.10\", \"dctype\": \"cdc\", \"pleo\": true,"
        "  \"dlp\": { \"genctr\": 7, \"entries\": ["
        "    { \"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"subtype\": \"nvme\", \"portid\": 2, \"eflags\": 4,"
        "      \"trsvcid\": \"4420\", \"subnqn\": \"nqn.io-1\", \"traddr\": \"192.168.1.20\", \"pad\": \" \" },"
        "    { \"trtype\": 3, \"adrfam\": 1, \"subtype\": \"referral\","
        "      \"trsvcid\": \"8009\", \"subnqn\": \"" WKNQN "\", \"traddr\": \"192.168.1.30\" } ] } } ] }";

static void test_fake_connect_register_discover_disconnect(void **state) {
        struct env *e = *state;
        struct nvme_supported_log_pages slp;
        struct nvmf_discovery_log *log;
        nvme_ctrl_t c;
        __u32 result = 0;
        char *s;

        assert_int_equal(fk_test_scenario(&T, dc_scenario), 0);
        nvme_host_set_hostsymname(e->h, "fk-sym");
        c = connect_dc(e, "192.168.1.10", 0);
        assert_string_equal(nvme_ctrl_get_name(c), "nvme0");
        assert_string_equal(nvme_ctrl_get_state(c), "live");
        assert_string_equal(nvme_ctrl_get_traddr(c), "192.168.1.10");
        assert_true(fk_test_exists(&T, "sys/class/nvme-subsystem/nvme-subsys0/nvme0"));
        expect_file_contains(
                "connect.log",
                "nqn=" WKNQN ",transport=tcp,traddr=192.168.1.10,trsvcid=8009,hostnqn=" HOSTNQN
                ",hostid=" HOSTID ",keep_alive_tmo=30");
        expect_file_contains(
                "sys/class/nvme/nvme0/address", "traddr=192.168.1.10,trsvcid=8009,src_addr=127.0.0.1");
        expect_uevent("ACTION=add", "SYSNAME=nvme0", "NVME_TRADDR=192.168.1.10");

        /* TP8010: dctype comes from the fake sysfs, DIM is decoded and logged */
        assert_true(nvmf_is_registration_supported(c));
        assert_int_equal(nvmf_register_ctrl(c, NVMF_DIM_TAS_REGISTER, &result), 0);
        expect_file_contains("dim.log", "nvme0 tas=register eid=" HOSTNQN);
        expect_file_contains("dim.log", "nqn=" HOSTNQN " hostid=" HOSTID " symname=fk-sym");

        /* Supported log pages: LID 0x70 with PLEOS */
        assert_int_equal(nvme_get_log_supported_log_pages(nvme_ctrl_get_fd(c), true, &slp), 0);
        assert_int_equal(
                (le32toh(slp.lid_support[NVME_LOG_LID_DISCOVER]) >> 16) & NVMF_LOG_DISC_LID_PLEOS,
                NVMF_LOG_DISC_LID_PLEOS);

        /* Discovery log with LSP=PLEO */
        struct nvme_get_discovery_args args = {
                .c = c,
                .args_size = sizeof args,
                .max_retries = 6,
                .lsp = NVMF_LOG_DISC_LSP_PLEO,
        };
        log = nvmf_get_discovery_wargs(&args);
        assert_non_null(log);
        assert_int_equal(le64toh(log->genctr), 7);
        assert_int_equal(le64toh(log->numrec), 2);
        assert_int_equal(log->entries[0].subtype, NVME_NQN_NVME);
        assert_int_equal(le16toh(log->entries[0].eflags), NVMF_DISC_EFLAGS_NCC);
        assert_int_equal(le16toh(log->entries[0].portid), 2);
        assert_string_equal(log->entries[0].traddr, "192.168.1.20");    /* libnvme strips space padding */
        assert_memory_equal(log->entries[0].subnqn, "nqn.io-1   ", 11); /* subnqn is never stripped */
        assert_int_equal(log->entries[1].subtype, NVME_NQN_DISC);
        assert_string_equal(log->entries[1].traddr, "192.168.1.30");
        free(log);
        expect_file_contains("admin.log", "opc=0x02 cdw10=0x00ff8270 off=0 len=1024");
        expect_file_contains("admin.log", "opc=0x02 cdw10=0x02ff0270 off=0 len=3072");

        /* Disconnect: delete_controller removes the dir and the emptied subsystem, sends remove */
        assert_int_equal(nvme_disconnect_ctrl(c), 0);
        assert_false(fk_test_exists(&T, "sys/class/nvme/nvme0"));
        assert_false(fk_test_exists(&T, "sys/class/nvme-subsystem/nvme-subsys0"));
        expect_uevent("ACTION=remove", "SYSNAME=nvme0", "NVME_TRADDR=192.168.1.10");
        s = fk_test_read(&T, "admin.log");
        free(s);
}

static void test_fake_io_connect_options_reach_kernel(void **state) {
        struct env *e = *state;
        struct nvme_fabrics_config cfg;
        nvme_ctrl_t c = nvme_create_ctrl(e->r, "nqn.io-1", "tcp", "192.168.1.20", NULL, "eth0", "4420");

        assert_int_equal(fk_test_scenario(&T, "{}"), 0);
        nvmf_default_config(&cfg);
        cfg.queue_size = 64;
        cfg.nr_io_queues = 4;
        /* host key on the host object: libnvme 1.3 leaks a key set with nvme_ctrl_set_dhchap_host_key */
        nvme_host_set_dhchap_key(e->h, "DHHC-1:00:secret:");
        assert_int_equal(nvmf_add_ctrl(e->h, c, &cfg), 0);
        expect_file_contains(
                "connect.log",
                "nqn=nqn.io-1,transport=tcp,traddr=192.168.1.20,host_iface=eth0,trsvcid=4420");
        expect_file_contains("connect.log", "dhchap_secret=DHHC-1:00:secret:,nr_io_queues=4,queue_size=64");
        expect_file_contains("sys/class/nvme/nvme0/address", "host_iface=eth0");
        expect_file_contains("sys/class/nvme/nvme0/cntrltype", "io");
        expect_file_contains("sys/class/nvme-subsystem/nvme-subsys0/subsystype", "nvm");
        expect_uevent("ACTION=add", "NVME_HOST_IFACE=eth0", "NVME_TRSVCID=4420");

        /* the same connection again without duplicate_connect: EALREADY like nvme-tcp */
        nvme_ctrl_t c2 = nvme_create_ctrl(e->r, "nqn.io-1", "tcp", "192.168.1.20", NULL, "eth0", "4420");
        assert_int_equal(nvmf_add_ctrl(e->h, c2, &cfg), -1);
        assert_int_equal(errno, ENVME_CONNECT_ALREADY);
        nvme_free_ctrl(c2); /* never linked into the tree */
        assert_int_equal(nvme_disconnect_ctrl(c), 0);
}

static void test_fake_adopt_existing(void **state) {
        struct env *e = *state;
        const char *argv[] = { "connect",
                               "nqn=" WKNQN ",transport=tcp,traddr=10.0.0.1,trsvcid=8009,hostnqn=" HOSTNQN
                               ",hostid=" HOSTID,
                               NULL };
        nvme_ctrl_t c;

        assert_int_equal(fk_test_scenario(&T, "{ \"controllers\": [ { \"dctype\": \"ddc\" } ] }"), 0);
        assert_int_equal(fk_test_ctl(argv), 0);
        expect_uevent("ACTION=add", "SYSNAME=nvme0", NULL);
        c = nvme_create_ctrl(e->r, WKNQN, "tcp", "10.0.0.1", NULL, NULL, "8009");
        assert_int_equal(nvme_init_ctrl(e->h, c, 0), 0);
        assert_string_equal(nvme_ctrl_get_name(c), "nvme0");
        assert_string_equal(nvme_ctrl_get_state(c), "live");
        assert_true(nvme_ctrl_is_discovery_ctrl(c));
        assert_true(nvmf_is_registration_supported(c));

        /* the kernel drops it: state becomes unreadable, remove event */
        const char *rm[] = { "remove", "nvme0", NULL };
        assert_int_equal(fk_test_ctl(rm), 0);
        expect_uevent("ACTION=remove", "SYSNAME=nvme0", "NVME_TRADDR=10.0.0.1");
        assert_false(fk_test_exists(&T, "sys/class/nvme/nvme0"));
        assert_null(nvme_ctrl_get_state(c));
}

static void test_fake_connect_refused(void **state) {
        struct env *e = *state;

        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"controllers\": [ { \"traddr\": \"192.168.1.99\","
                        " \"connect_error\": \"ECONNREFUSED\" } ] }"),
                0);
        nvme_free_ctrl(connect_dc(e, "192.168.1.99", -1));
        assert_int_equal(errno, ENVME_CONNECT_CONNREFUSED);
        expect_file_contains("connect.log", "traddr=192.168.1.99"); /* the attempt reached the kernel */
        assert_false(fk_test_exists(&T, "sys/class/nvme/nvme0"));
        /* another address is not refused */
        nvme_ctrl_t c = connect_dc(e, "192.168.1.98", 0);
        assert_string_equal(nvme_ctrl_get_name(c), "nvme0");
}

static void test_fake_option_probe_and_unsupported_option(void **state) {
        struct env *e = *state;
        char buf[4096] = "";
        ssize_t n;
        int fd;

        /* no write: the option list, like a 6.1 kernel */
        fd = open("/dev/nvme-fabrics", O_RDONLY);
        assert_true(fd >= 0);
        n = read(fd, buf, sizeof buf - 1);
        assert_true(n > 0);
        assert_contains(buf, "host_iface=%s,");
        assert_contains(buf, ",discovery,dhchap_secret=%s");
        assert_int_equal(read(fd, buf, sizeof buf), 0);
        close(fd);

        /* an old kernel without host_iface rejects the token with EINVAL */
        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"options\": \"instance=-1,cntlid=-1,transport=%s,traddr=%s,"
                        "trsvcid=%s,nqn=%s,hostnqn=%s,hostid=%s,keep_alive_tmo=%d,"
                        "ctrl_loss_tmo=%d\" }"),
                0);
        fd = open("/dev/nvme-fabrics", O_RDONLY);
        n = read(fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(fd);
        assert_not_contains(buf, "host_iface");
        struct nvme_fabrics_config cfg;
        nvme_ctrl_t c = nvme_create_ctrl(e->r, "nqn.io-1", "tcp", "192.168.1.20", NULL, "eth0", "4420");
        nvmf_default_config(&cfg);
        assert_int_equal(nvmf_add_ctrl(e->h, c, &cfg), -1);
        assert_int_equal(errno, ENVME_CONNECT_INVAL);
        nvme_free_ctrl(c);
        assert_false(access("/dev/nvme0", F_OK) == 0);
        assert_true(access("/dev/nvme-fabrics", F_OK) == 0);
}

static struct nvmf_discovery_log *get_log(nvme_ctrl_t c) {
        struct nvme_get_discovery_args args = {
                .c = c,
                .args_size = sizeof args,
                .max_retries = 6,
        };
        return nvmf_get_discovery_wargs(&args);
}

static void test_fake_hostile_dlp(void **state) {
        struct env *e = *state;
        char sc[4096], nqn256[257];
        struct nvmf_discovery_log *log;
        nvme_ctrl_t c;

        memset(nqn256, 'q', 256);
        nqn256[256] = '\0';
        snprintf(
                sc,
                sizeof sc,
                "{ \"controllers\": [ { \"dlp\": { \"genctr\": 3, \"numrec\": 3, \"entries\": ["
                "  { \"subnqn\": \"%s\", \"traddr\": \"1.2.3.4\", \"trsvcid\": \"4420\" } ] } } ] }",
                nqn256);
        assert_int_equal(fk_test_scenario(&T, sc), 0);
        c = connect_dc(e, "192.168.1.10", 0);
        log = get_log(c);
        assert_non_null(log);
        assert_int_equal(le64toh(log->numrec), 3); /* larger than the page: zero-filled records */
        assert_memory_equal(log->entries[0].subnqn, nqn256, 256); /* unterminated */
        assert_int_equal(log->entries[0].traddr[0], '1');
        assert_int_equal(log->entries[2].traddr[0], '\0');
        free(log);

        /* genctr changes once between reads: libnvme retries and succeeds with the new value */
        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"controllers\": [ { \"dlp\": { \"genctr\": 10, \"genctr_changes\": 1,"
                        " \"entries\": [ { \"traddr\": \"1.2.3.4\" } ] } } ] }"),
                0);
        log = get_log(c);
        assert_non_null(log);
        assert_int_equal(le64toh(log->genctr), 11);
        free(log);

        /* genctr never settles: EAGAIN after max_retries */
        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"controllers\": [ { \"dlp\": { \"genctr\": 10, \"genctr_changes\": 1000,"
                        " \"entries\": [ { \"traddr\": \"1.2.3.4\" } ] } } ] }"),
                0);
        assert_null(get_log(c));
        assert_int_equal(errno, EAGAIN);
}

static void test_fake_dim_unsupported_and_errors(void **state) {
        struct env *e = *state;
        nvme_ctrl_t c;
        __u32 result;

        /* dctype none: libnvme refuses without sending anything */
        assert_int_equal(fk_test_scenario(&T, "{}"), 0);
        c = connect_dc(e, "192.168.1.10", 0);
        assert_false(nvmf_is_registration_supported(c));
        assert_int_equal(nvmf_register_ctrl(c, NVMF_DIM_TAS_REGISTER, &result), -1);
        assert_false(fk_test_exists(&T, "dim.log"));

        /* DDC that answers DIM with Invalid Opcode; then get-log with a status and an errno */
        assert_int_equal(
                fk_test_scenario(
                        &T,
                        "{ \"controllers\": [ { \"dctype\": \"ddc\", \"status\": {"
                        " \"dim\": 16385, \"get_log\": \"EIO\", \"identify\": 16386 } } ] }"),
                0);
        assert_int_equal(nvme_disconnect_ctrl(c), 0);
        c = connect_dc(e, "192.168.1.10", 0);
        assert_int_equal(nvmf_register_ctrl(c, NVMF_DIM_TAS_DEREGISTER, &result), 0x4001);
        expect_file_contains("dim.log", "tas=deregister");
        assert_null(get_log(c));
        assert_int_equal(errno, EIO);
        struct nvme_id_ctrl id;
        assert_int_equal(nvme_ctrl_identify(c, &id), 0x4002);

        /* the scenario changes at run time: get-log works again */
        assert_int_equal(fk_test_scenario(&T, "{ \"controllers\": [ { \"dctype\": \"ddc\" } ] }"), 0);
        struct nvmf_discovery_log *log = get_log(c);
        assert_non_null(log);
        assert_int_equal(le64toh(log->numrec), 0);
        free(log);
        assert_int_equal(nvme_ctrl_identify(c, &id), 0);
        assert_int_equal(id.dctype, 1);
        assert_int_equal(id.cntrltype, 2);
}

static void test_fake_ctl_uevents(void **state) {
        const char *conn[] = { "connect", "nqn=nqn.x,transport=tcp,traddr=10.0.0.2,trsvcid=4420", NULL };
        const char *aen[] = { "uevent", "change", "nvme0", "NVME_AEN=0x70f002", NULL };
        const char *ev[] = { "event", "nvme0", "rediscover", NULL };
        const char *st[] = { "state", "nvme0", "connecting", NULL };
        const char *bad[] = { "remove", "nvme7", NULL };

        assert_int_equal(fk_test_ctl(conn), 0);
        expect_uevent("ACTION=add", "DEVNAME=/dev/nvme0", "NVME_TRTYPE=tcp");
        assert_int_equal(fk_test_ctl(aen), 0);
        expect_uevent("ACTION=change", "NVME_AEN=0x70f002", "SUBSYSTEM=nvme");
        assert_int_equal(fk_test_ctl(ev), 0);
        expect_uevent("ACTION=change", "NVME_EVENT=rediscover", "NVME_TRADDR=10.0.0.2");
        assert_int_equal(fk_test_ctl(st), 0);
        expect_file_contains("sys/class/nvme/nvme0/state", "connecting");
        assert_int_equal(fk_test_ctl(bad), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(
                        test_fake_connect_register_discover_disconnect, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fake_io_connect_options_reach_kernel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fake_adopt_existing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fake_connect_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_fake_option_probe_and_unsupported_option, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fake_hostile_dlp, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fake_dim_unsupported_and_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fake_ctl_uevents, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
