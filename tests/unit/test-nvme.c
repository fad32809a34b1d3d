/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nvme adapter against libnvme 1.3 with its kernel-facing entry points replaced at link
 * time (-Wl,--wrap=..., see tests/unit/meson.build). The wrappers record what the adapter
 * passed and return what the test scripted, through plain globals (they may run on a worker
 * thread; the task pool's completion gives the loop a consistent view afterwards).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <endian.h>
#include <dlfcn.h>
#include <libnvme.h>
#include <stdio.h>

#include "stas/ctrl.h"
#include "stas/dlp.h"
#include "stas/nvme.h"
#include "log-capture.h"

/* ---- scripted fakes ---- */

static struct {
        int ret, err;
        const char *name; /* set as the controller name on success */
        /* captured */
        unsigned calls;
        struct nvme_fabrics_config cfg;
        char transport[16], traddr[64], trsvcid[16], subsysnqn[256], host_iface[32], host_traddr[64];
        char hostnqn[256], symname[64], ctrl_host_key[64], ctrl_key[64], host_key[64];
        bool discovery, host_iface_null;
        int block_fd; /* >= 0: block until a byte can be read */
} fake_add;

static struct {
        bool supported;
        int ret, err;
        enum nvmf_dim_tas tas;
        unsigned calls;
} fake_reg;

static struct {
        int ret, err;
        struct nvme_get_log_args args;
        uint32_t lid70;
} fake_log;

static struct {
        struct nvmf_discovery_log *log; /* the page served by nvme_get_log() */
        size_t size;
        int err;
        uint8_t lsp;
        unsigned commands;
        bool last_rae;
} fake_dlp;

static const char *fake_name;
static const char *fake_attr;
static int fake_init_ret, fake_init_instance;
static int fake_disc_ret;

static void copy(char *dst, size_t size, const char *s) {
        snprintf(dst, size, "%s", s ? s : "");
}

int __wrap_nvmf_add_ctrl(nvme_host_t h, nvme_ctrl_t c, const struct nvme_fabrics_config *cfg);
int __wrap_nvmf_add_ctrl(nvme_host_t h, nvme_ctrl_t c, const struct nvme_fabrics_config *cfg) {
        fake_add.calls++;
        fake_add.cfg = *cfg;
        copy(fake_add.transport, sizeof(fake_add.transport), nvme_ctrl_get_transport(c));
        copy(fake_add.traddr, sizeof(fake_add.traddr), nvme_ctrl_get_traddr(c));
        copy(fake_add.trsvcid, sizeof(fake_add.trsvcid), nvme_ctrl_get_trsvcid(c));
        copy(fake_add.subsysnqn, sizeof(fake_add.subsysnqn), nvme_ctrl_get_subsysnqn(c));
        copy(fake_add.host_traddr, sizeof(fake_add.host_traddr), nvme_ctrl_get_host_traddr(c));
        fake_add.host_iface_null = !nvme_ctrl_get_host_iface(c);
        copy(fake_add.host_iface, sizeof(fake_add.host_iface), nvme_ctrl_get_host_iface(c));
        copy(fake_add.hostnqn, sizeof(fake_add.hostnqn), nvme_host_get_hostnqn(h));
        copy(fake_add.symname, sizeof(fake_add.symname), nvme_host_get_hostsymname(h));
        copy(fake_add.host_key, sizeof(fake_add.host_key), nvme_host_get_dhchap_key(h));
        copy(fake_add.ctrl_host_key, sizeof(fake_add.ctrl_host_key), nvme_ctrl_get_dhchap_host_key(c));
        copy(fake_add.ctrl_key, sizeof(fake_add.ctrl_key), nvme_ctrl_get_dhchap_key(c));
        fake_add.discovery = nvme_ctrl_is_discovery_ctrl(c);
        if (fake_add.block_fd >= 0) {
                char b;
                assert_int_equal(read(fake_add.block_fd, &b, 1), 1);
        }
        if (fake_add.ret == 0)
                fake_name = fake_add.name;
        errno = fake_add.err;
        return fake_add.ret;
}

const char *__wrap_nvme_ctrl_get_name(nvme_ctrl_t c);
const char *__wrap_nvme_ctrl_get_name(nvme_ctrl_t c) {
        return fake_name;
}

int __wrap_nvme_init_ctrl(nvme_host_t h, nvme_ctrl_t c, int instance);
int __wrap_nvme_init_ctrl(nvme_host_t h, nvme_ctrl_t c, int instance) {
        fake_init_instance = instance;
        if (fake_init_ret == 0)
                fake_name = "nvme9";
        errno = fake_init_ret ? ENOENT : 0;
        return fake_init_ret;
}

int __wrap_nvme_disconnect_ctrl(nvme_ctrl_t c);
int __wrap_nvme_disconnect_ctrl(nvme_ctrl_t c) {
        errno = fake_disc_ret ? EIO : 0;
        return fake_disc_ret;
}

bool __wrap_nvmf_is_registration_supported(nvme_ctrl_t c);
bool __wrap_nvmf_is_registration_supported(nvme_ctrl_t c) {
        return fake_reg.supported;
}

int __wrap_nvmf_register_ctrl(nvme_ctrl_t c, enum nvmf_dim_tas tas, __u32 *result);
int __wrap_nvmf_register_ctrl(nvme_ctrl_t c, enum nvmf_dim_tas tas, __u32 *result) {
        fake_reg.calls++;
        fake_reg.tas = tas;
        *result = 0x1234;
        errno = fake_reg.err;
        return fake_reg.ret;
}

int __wrap_nvme_ctrl_get_fd(nvme_ctrl_t c);
int __wrap_nvme_ctrl_get_fd(nvme_ctrl_t c) {
        return 42;
}

int __wrap_nvme_get_log_page(int fd, __u32 xfer_len, struct nvme_get_log_args *args);
int __wrap_nvme_get_log_page(int fd, __u32 xfer_len, struct nvme_get_log_args *args) {
        struct nvme_supported_log_pages *p = args->log;

        fake_log.args = *args;
        if (fake_log.ret == 0 && args->len >= sizeof(*p))
                p->lid_support[NVME_LOG_LID_DISCOVER] = htole32(fake_log.lid70);
        errno = fake_log.err;
        return fake_log.ret;
}

int __wrap_nvme_get_log(struct nvme_get_log_args *args);
int __wrap_nvme_get_log(struct nvme_get_log_args *args) {
        assert_int_equal(args->lid, NVME_LOG_LID_DISCOVER);
        assert_int_equal(args->fd, 42);
        fake_dlp.lsp = args->lsp;
        fake_dlp.commands++;
        fake_dlp.last_rae = args->rae;
        if (fake_dlp.err) {
                errno = fake_dlp.err;
                return -1;
        }
        memset(args->log, 0, args->len);
        if (fake_dlp.log && args->lpo < fake_dlp.size)
                memcpy(args->log,
                       (uint8_t *) fake_dlp.log + args->lpo,
                       fake_dlp.size - args->lpo < args->len ? fake_dlp.size - args->lpo : args->len);
        return 0;
}

char *__wrap_nvme_get_ctrl_attr(nvme_ctrl_t c, const char *attr);
char *__wrap_nvme_get_ctrl_attr(nvme_ctrl_t c, const char *attr) {
        return fake_attr ? strdup(fake_attr) : NULL;
}

static int reset(void **state) {
        memset(&fake_add, 0, sizeof(fake_add));
        memset(&fake_reg, 0, sizeof(fake_reg));
        memset(&fake_log, 0, sizeof(fake_log));
        free(fake_dlp.log);
        memset(&fake_dlp, 0, sizeof(fake_dlp));
        fake_add.block_fd = -1;
        fake_add.name = "nvme3";
        fake_name = NULL;
        fake_attr = NULL;
        fake_init_ret = 0;
        fake_disc_ret = 0;
        return 0;
}

static const StasNvmeHost HOST = {
        .hostnqn = "nqn.2014-08.org.nvmexpress:uuid:host",
        .hostid = "2c0e6b3c-0b5b-4c9a-9e1f-1d2f3a4b5c6d",
        .hostkey = "DHHC-1:00:hostkey:",
        .symname = "sym-1",
};

static StasNvme *ctx_new(bool all_supported) {
        StasNvmeKernel k = { all_supported, all_supported, all_supported, all_supported };
        StasNvme *ctx = NULL;

        assert_int_equal(stas_nvme_new(&HOST, &k, LOG_ERR, &ctx), 0);
        return ctx;
}

/* ---- tests ---- */

/* the run-time level applies to new controllers, capped at LOG_INFO when a secret is involved */
static void test_nvme_log_level(void **state) {
        StasNvmeHost nokey = HOST;
        StasNvmeKernel k = {};
        StasConnectOptions secret = { .dhchap_secret = (char *) "DHHC-1:00:x:" };
        StasNvme *ctx = NULL;

        nokey.hostkey = NULL;
        assert_int_equal(stas_nvme_new(&nokey, &k, LOG_ERR, &ctx), 0);
        assert_int_equal(stas_nvme_ctrl_log_level(ctx, NULL), LOG_ERR);
        stas_nvme_set_log_level(ctx, LOG_DEBUG);
        assert_int_equal(stas_nvme_get_log_level(ctx), LOG_DEBUG);
        assert_int_equal(stas_nvme_ctrl_log_level(ctx, NULL), LOG_DEBUG);
        assert_int_equal(stas_nvme_ctrl_log_level(ctx, &secret), LOG_INFO);
        stas_nvme_set_log_level(ctx, LOG_ERR);
        assert_int_equal(stas_nvme_ctrl_log_level(ctx, &secret), LOG_ERR);
        stas_nvme_free(ctx);

        /* the host key only counts when the kernel takes it */
        ctx = ctx_new(false);
        stas_nvme_set_log_level(ctx, LOG_DEBUG);
        assert_int_equal(stas_nvme_ctrl_log_level(ctx, NULL), LOG_DEBUG);
        stas_nvme_free(ctx);
        ctx = ctx_new(true);
        stas_nvme_set_log_level(ctx, LOG_DEBUG);
        assert_int_equal(stas_nvme_ctrl_log_level(ctx, NULL), LOG_INFO);
        stas_nvme_free(ctx);
}

static void test_nvme_error_mapping(void **state) {
        int status = 0;

        assert_int_equal(stas_nvme_map_error(0, EINVAL, &status), 0);
        assert_int_equal(stas_nvme_map_error(-1, ENODEV, NULL), -ENODEV);
        assert_int_equal(stas_nvme_map_error(-1, 0, NULL), -EIO);
        assert_int_equal(stas_nvme_map_error(-1, ENVME_CONNECT_ADDRINUSE, NULL), -ENVME_CONNECT_ADDRINUSE);
        assert_int_equal(stas_nvme_map_error(0x4002, 0, &status), -EREMOTEIO);
        assert_int_equal(status, 0x4002);

        assert_string_equal(stas_nvme_strerror(-ENODEV), strerror(ENODEV));
        assert_string_equal(
                stas_nvme_strerror(-ENVME_CONNECT_ADDRINUSE), nvme_errno_to_string(ENVME_CONNECT_ADDRINUSE));
        assert_string_not_equal(stas_nvme_strerror(-ENVME_CONNECT_ADDRINUSE), "unrecognized");
        assert_non_null(stas_nvme_status_string(0x4002));
        assert_string_equal(stas_nvme_version(), nvme_get_version(NVME_VERSION_PROJECT));
}

static void test_nvme_build_config(void **state) {
        struct nvme_fabrics_config def, cfg;
        StasConnectOptions o;

        nvmf_default_config(&def);
        stas_nvme_build_config(NULL, &cfg);
        assert_memory_equal(&def, &cfg, sizeof(cfg));
        connect_options_init(&o);
        stas_nvme_build_config(&o, &cfg);
        assert_memory_equal(&def, &cfg, sizeof(cfg));

        o.kato = 30;
        o.queue_size = 128;
        o.nr_io_queues = 4;
        o.nr_write_queues = 2;
        o.nr_poll_queues = 1;
        o.reconnect_delay = 5;
        o.ctrl_loss_tmo_set = true;
        o.ctrl_loss_tmo = -1;
        o.hdr_digest = 1;
        o.data_digest = 0;
        o.disable_sqflow = 1;
        stas_nvme_build_config(&o, &cfg);
        assert_int_equal(cfg.keep_alive_tmo, 30);
        assert_int_equal(cfg.queue_size, 128);
        assert_int_equal(cfg.nr_io_queues, 4);
        assert_int_equal(cfg.nr_write_queues, 2);
        assert_int_equal(cfg.nr_poll_queues, 1);
        assert_int_equal(cfg.reconnect_delay, 5);
        assert_int_equal(cfg.ctrl_loss_tmo, -1);
        assert_true(cfg.hdr_digest);
        assert_false(cfg.data_digest);
        assert_true(cfg.disable_sqflow);
        assert_int_equal(cfg.tos, def.tos);
        assert_int_equal(cfg.fast_io_fail_tmo, def.fast_io_fail_tmo);
}

/* nvme_create_root() seen: the stream stas gives libnvme, then libnvme's own */
static FILE *root_fp;
nvme_root_t nvme_create_root(FILE *fp, int log_level) {
        nvme_root_t (*real)(FILE *, int) =
                (nvme_root_t(*)(FILE *, int)) dlsym(RTLD_NEXT, "nvme_create_root");

        root_fp = fp;
        return real(fp, log_level);
}

/* libnvme's messages go to the log (debug; warning if they look like errors), never to stderr */
static void test_nvme_libnvme_log_stream(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(tid_freep) StasTid *tid = tid_new("tcp", "10.0.0.1", "4420", "nqn.io", "", "", "");
        StasNvmeCtrl *c = NULL;
        LogCapture lc;

        root_fp = NULL;
        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, NULL, false, &c), 0);
        assert_non_null(root_fp);
        assert_true(root_fp != stderr);
        log_capture_start(&lc);
        fprintf(root_fp, "scanning ctrl\nfailed to open nvme3\n");
        fflush(root_fp);
        assert_int_equal(log_capture_count_has(&lc, LOG_DEBUG, "libnvme: scanning ctrl"), 1);
        assert_int_equal(log_capture_count_has(&lc, LOG_WARNING, "libnvme: failed to open nvme3"), 1);
        log_capture_stop(&lc);
        stas_nvme_ctrl_free(c);
}

static void test_nvme_connect_marshalling(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(tid_freep) StasTid *tid =
                tid_new("tcp", "10.0.0.1", "4420", "nqn.io", "10.0.0.2", "eth0", "");
        StasNvmeCtrl *c = NULL;
        StasConnectOptions o;

        connect_options_init(&o);
        o.queue_size = 64;
        o.kato = 15;
        o.dhchap_secret = strdup("DHHC-1:00:ctrlhost:");
        o.dhchap_ctrl_secret = strdup("DHHC-1:00:ctrl:");
        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, &o, false, &c), 0);
        connect_options_done(&o);

        assert_null(stas_nvme_ctrl_name(c));
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        assert_string_equal(stas_nvme_ctrl_name(c), "nvme3");
        assert_int_equal(fake_add.calls, 1);
        assert_int_equal(fake_add.cfg.queue_size, 64); /* DESIGN 6: queue-size reaches libnvme */
        assert_int_equal(fake_add.cfg.keep_alive_tmo, 15);
        assert_string_equal(fake_add.transport, "tcp");
        assert_string_equal(fake_add.traddr, "10.0.0.1");
        assert_string_equal(fake_add.trsvcid, "4420");
        assert_string_equal(fake_add.subsysnqn, "nqn.io");
        assert_string_equal(fake_add.host_traddr, "10.0.0.2");
        assert_string_equal(fake_add.host_iface, "eth0");
        assert_string_equal(fake_add.hostnqn, HOST.hostnqn);
        assert_string_equal(fake_add.symname, "sym-1");
        /* the per-connection key replaces the sys.conf host key, on the connection's own host
         * object (libnvme 1.3 leaks keys set with nvme_ctrl_set_dhchap_host_key) */
        assert_string_equal(fake_add.host_key, "DHHC-1:00:ctrlhost:");
        assert_string_equal(fake_add.ctrl_host_key, "");
        assert_string_equal(fake_add.ctrl_key, "DHHC-1:00:ctrl:");
        assert_false(fake_add.discovery);

        /* already connected */
        assert_int_equal(stas_nvme_ctrl_connect(c), -EALREADY);
        assert_int_equal(fake_add.calls, 1);
        c = stas_nvme_ctrl_free(c);
}

static void test_nvme_connect_sysconf_host_key(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(tid_freep) StasTid *tid = tid_new("tcp", "10.0.0.1", "4420", "nqn.io", "", "", "");
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *c = NULL;

        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, NULL, false, &c), 0);
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);
        assert_string_equal(fake_add.host_key, HOST.hostkey);
        assert_string_equal(fake_add.ctrl_host_key, "");
}

static void test_nvme_connect_kernel_gating(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(false);
        _cleanup_(tid_freep) StasTid *tid =
                tid_new("tcp", "10.0.0.1", "", "", "", "eth0", "nqn.per-tid-host");
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *c = NULL;
        StasConnectOptions o;

        connect_options_init(&o);
        o.dhchap_secret = strdup("DHHC-1:00:x:");
        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, &o, true, &c), 0);
        connect_options_done(&o);
        assert_int_equal(stas_nvme_ctrl_connect(c), 0);

        assert_true(fake_add.host_iface_null); /* kernel lacks host_iface */
        assert_string_equal(fake_add.host_key, "");
        assert_string_equal(fake_add.ctrl_host_key, "");
        assert_true(fake_add.discovery);
        assert_string_equal(fake_add.subsysnqn, NVME_DISC_WKNQN); /* empty NQN of a DC */
        assert_string_equal(fake_add.trsvcid, "");
        assert_string_equal(fake_add.hostnqn, "nqn.per-tid-host");
}

static void test_nvme_connect_errors(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(tid_freep) StasTid *tid = tid_new("tcp", "10.0.0.1", "4420", "nqn.io", "", "", "");
        _cleanup_(tid_freep) StasTid *bad = tid_new("", "10.0.0.1", "4420", "nqn.io", "", "", "");
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *c = NULL;
        StasNvmeCtrl *c2 = NULL;

        assert_int_equal(stas_nvme_ctrl_new(ctx, bad, NULL, false, &c2), -EINVAL); /* no transport */
        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, NULL, false, &c), 0);
        fake_add.ret = -1;
        fake_add.err = ENVME_CONNECT_ADDRINUSE;
        assert_int_equal(stas_nvme_ctrl_connect(c), -ENVME_CONNECT_ADDRINUSE);
        assert_null(stas_nvme_ctrl_name(c));
        fake_add.err = 0; /* libnvme forgot errno */
        assert_int_equal(stas_nvme_ctrl_connect(c), -EIO);
        assert_int_equal(stas_nvme_ctrl_disconnect(c), -ENOTCONN);
        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_REGISTER, NULL), -ENOTCONN);
}

/* the last line of defence: no value of the connect string may hold ',', '=' or a blank */
static void test_nvme_refuses_unsafe_values(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        static const char *const evil[][7] = {
                { "tcp", "10.0.0.1", "4420,host_iface=evil0", "nqn.io", "", "", "" },
                { "tcp", "10.0.0.1", "4420", "nqn.x,host_traddr=203.0.113.9", "", "", "" },
                { "tcp", "10.0.0.1 ", "4420", "nqn.io", "", "", "" },
                { "tcp", "10.0.0.1", "4420", "nqn.io", "1.2.3.4,nr_io_queues=1", "", "" },
                { "tcp", "10.0.0.1", "4420", "nqn.io", "", "lo\tx", "" },
                { "tcp", "10.0.0.1", "4420", "nqn.io", "", "", "nqn.h=x" },
                { "tcp,duplicate_connect", "10.0.0.1", "4420", "nqn.io", "", "", "" },
        };
        StasConnectOptions o;
        StasNvmeHost h = HOST;
        StasNvmeCtrl *c = NULL;

        for (size_t i = 0; i < ELEMENTSOF(evil); i++) {
                _cleanup_(tid_freep) StasTid *t = tid_new(
                        evil[i][0], evil[i][1], evil[i][2], evil[i][3], evil[i][4], evil[i][5], evil[i][6]);

                assert_int_equal(stas_nvme_ctrl_new(ctx, t, NULL, false, &c), -EINVAL);
                assert_null(c);
        }

        _cleanup_(tid_freep) StasTid *ok = tid_new("tcp", "10.0.0.1", "4420", "nqn.io", "", "", "");
        connect_options_init(&o);
        o.dhchap_secret = "DHHC-1:01:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo0NTY3ODkwMTIzNDU2Nzg5MA==:";
        assert_int_equal(stas_nvme_ctrl_new(ctx, ok, &o, false, &c), 0); /* '=' padding is data */
        c = stas_nvme_ctrl_free(c);
        o.dhchap_secret = "DHHC-1:01:abc,hostnqn=x:";
        assert_int_equal(stas_nvme_ctrl_new(ctx, ok, &o, false, &c), -EINVAL);
        assert_null(c);

        h.hostid = "2c0e6b3c-0b5b-4c9a-9e1f-1d2f3a4b5c6d,duplicate_connect";
        assert_int_equal(stas_nvme_set_host(ctx, &h), 0);
        assert_int_equal(stas_nvme_ctrl_new(ctx, ok, NULL, false, &c), -EINVAL);
        assert_null(c);
}

static void test_nvme_adopt_and_disconnect(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(tid_freep) StasTid *tid = tid_new("tcp", "10.0.0.1", "8009", NVME_DISC_WKNQN, "", "", "");
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *c = NULL;

        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, NULL, true, &c), 0);
        fake_init_ret = -1;
        assert_int_equal(stas_nvme_ctrl_adopt(c, 9), -ENOENT);
        fake_init_ret = 0;
        assert_int_equal(stas_nvme_ctrl_adopt(c, -1), -EINVAL);
        assert_int_equal(stas_nvme_ctrl_adopt(c, 9), 0);
        assert_int_equal(fake_init_instance, 9);
        assert_string_equal(stas_nvme_ctrl_name(c), "nvme9");

        fake_disc_ret = -1;
        assert_int_equal(stas_nvme_ctrl_disconnect(c), -EIO);
        assert_string_equal(stas_nvme_ctrl_name(c), "nvme9");
        fake_disc_ret = 0;
        assert_int_equal(stas_nvme_ctrl_disconnect(c), 0);
        assert_null(stas_nvme_ctrl_name(c));
}

static StasNvmeCtrl *connected_dc(StasNvme *ctx) {
        _cleanup_(tid_freep) StasTid *tid = tid_new("tcp", "10.0.0.1", "8009", NVME_DISC_WKNQN, "", "", "");
        StasNvmeCtrl *c = NULL;

        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, NULL, true, &c), 0);
        assert_int_equal(stas_nvme_ctrl_adopt(c, 1), 0);
        return c;
}

static void test_nvme_register(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *c = connected_dc(ctx);
        StasNvmeHost h = HOST;
        uint32_t result = 0;

        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_REGISTER, &result), -EOPNOTSUPP);
        assert_int_equal(fake_reg.calls, 0);

        fake_reg.supported = true;
        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_REGISTER, &result), 0);
        assert_int_equal(result, 0x1234);
        assert_int_equal(fake_reg.tas, NVMF_DIM_TAS_REGISTER);

        /* the symbolic name changes: an update carries the new one */
        h.symname = "sym-2";
        assert_int_equal(stas_nvme_set_host(ctx, &h), 0);
        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_UPDATE, NULL), 0);
        assert_int_equal(fake_reg.tas, NVMF_DIM_TAS_UPDATE);
        /* nvme_init_ctrl is wrapped, so the ctrl has no subsystem: the host is not reachable
         * through it here; the fake kernel tests check the DIM payload end to end. */

        fake_reg.ret = 0x6;
        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_DEREGISTER, NULL), -EREMOTEIO);
        assert_int_equal(stas_nvme_ctrl_last_status(c), 0x6);
        assert_int_equal(fake_reg.tas, NVMF_DIM_TAS_DEREGISTER);
        fake_reg.ret = -1;
        fake_reg.err = ENOTSUP;
        assert_int_equal(stas_nvme_ctrl_register(c, STAS_DIM_REGISTER, NULL), -ENOTSUP);
}

static void test_nvme_supported_log_pages(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *c = connected_dc(ctx);
        uint32_t bits = 0;

        fake_log.lid70 = (STAS_DLP_LID_PLEOS | STAS_DLP_LID_EXTDLPES) << 16 | 0x1;
        assert_int_equal(stas_nvme_ctrl_supported_log_pages(c, &bits), 0);
        assert_int_equal(bits, STAS_DLP_LID_PLEOS | STAS_DLP_LID_EXTDLPES);
        assert_int_equal(fake_log.args.lid, NVME_LOG_LID_SUPPORTED_LOG_PAGES);
        assert_true(fake_log.args.rae);
        assert_int_equal(fake_log.args.fd, 42);
        assert_int_equal(fake_log.args.len, 1024);

        fake_log.ret = 0x2;
        assert_int_equal(stas_nvme_ctrl_supported_log_pages(c, &bits), -EREMOTEIO);
        assert_int_equal(stas_nvme_ctrl_last_status(c), 0x2);
}

static struct nvmf_discovery_log *make_log(void) {
        struct nvmf_discovery_log *log = calloc(1, sizeof(*log) + 2 * sizeof(struct nvmf_disc_log_entry));

        fake_dlp.size = sizeof(*log) + 2 * sizeof(struct nvmf_disc_log_entry);

        assert_non_null(log);
        log->genctr = htole64(7);
        log->numrec = htole64(2);
        log->entries[0].trtype = NVMF_TRTYPE_TCP;
        log->entries[0].subtype = NVME_NQN_NVME;
        memcpy(log->entries[0].traddr, "10.0.0.5", 8);
        memcpy(log->entries[0].subnqn, "nqn.io", 6);
        log->entries[1].trtype = NVMF_TRTYPE_TCP;
        memcpy(log->entries[1].traddr, "0.0.0.0", 7);
        return log;
}

static void test_nvme_get_log_pages(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *c = connected_dc(ctx);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        StasKV **none = NULL;
        StasDlpReport rep = {};

        fake_dlp.log = make_log();
        assert_int_equal(stas_nvme_ctrl_get_log_pages(c, STAS_DLP_LSP_PLEO, 6, &l, &rep), 0);
        assert_int_equal(fake_dlp.lsp, STAS_DLP_LSP_PLEO);
        /* header, the two entries (one command), header again with RAE cleared */
        assert_int_equal(fake_dlp.commands, 3);
        assert_false(fake_dlp.last_rae);
        assert_int_equal(rep.genctr, 7);
        assert_int_equal(rep.numrec, 2);
        assert_int_equal(dlp_list_length(l), 1);
        assert_string_equal(kv_get(l[0], "traddr"), "10.0.0.5");

        fake_dlp.err = EAGAIN;
        assert_int_equal(stas_nvme_ctrl_get_log_pages(c, 0, 6, &none, NULL), -EAGAIN);
        assert_null(none);
}

static void test_nvme_sysfs_getters(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(tid_freep) StasTid *tid = tid_new("tcp", "10.0.0.1", "8009", NVME_DISC_WKNQN, "", "", "");
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *unconnected = NULL;
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *c = connected_dc(ctx);
        _cleanup_free_ char *v = NULL, *w = NULL;
        char *x = NULL;

        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, NULL, true, &unconnected), 0);
        assert_int_equal(stas_nvme_ctrl_dctype(unconnected, &x), -ENOTCONN);

        fake_attr = "cdc\n";
        assert_int_equal(stas_nvme_ctrl_dctype(c, &v), 0);
        assert_string_equal(v, "cdc");
        assert_int_equal(stas_nvme_ctrl_is_registration_supported(c), 1);
        fake_attr = "none\n"; /* a kernel that knows dctype, and a DC that is neither DDC nor CDC */
        assert_int_equal(stas_nvme_ctrl_is_registration_supported(c), 0);
        fake_attr = "discovery";
        assert_int_equal(stas_nvme_ctrl_is_registration_supported(c), 0);
        fake_attr = NULL;
        assert_int_equal(stas_nvme_ctrl_is_registration_supported(c), -ENODATA);
        assert_int_equal(stas_nvme_ctrl_cntrltype(c, &w), 0);
        assert_string_equal(w, "");
}

/* ---- async ---- */

typedef struct Result {
        unsigned calls;
        int r;
        StasKV **entries;
        uint64_t genctr;
        uint32_t lid_support;
} Result;

static void on_done(StasNvmeCtrl *c, int r, void *userdata) {
        Result *res = userdata;

        res->calls++;
        res->r = r;
}

static void on_log(StasNvmeCtrl *c, int r, StasKV **entries, const StasDlpReport *report, void *userdata) {
        Result *res = userdata;

        res->calls++;
        res->r = r;
        res->entries = entries;
        res->genctr = report->genctr;
}

static void run_until(sd_event *e, StasTaskPool *pool, const unsigned *calls, unsigned want) {
        for (int i = 0; i < 500 && (*calls < want || task_pool_pending(pool) > 0); i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
}

static void test_nvme_async_verbs(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(tid_freep) StasTid *tid = tid_new("tcp", "10.0.0.1", "8009", NVME_DISC_WKNQN, "", "", "");
        StasNvmeCtrl *c = NULL;
        StasTaskPool *pool = NULL;
        sd_event *e = NULL;
        Result res = {};
        char *x = NULL;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(task_pool_new(e, 2, &pool), 0);
        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, NULL, true, &c), 0);

        assert_int_equal(stas_nvme_ctrl_connect_async(c, pool, on_done, &res), 0);
        assert_true(stas_nvme_ctrl_busy(c));
        /* the worker owns the tree: everything else is refused */
        assert_int_equal(stas_nvme_ctrl_connect(c), -EBUSY);
        assert_int_equal(stas_nvme_ctrl_dctype(c, &x), -EBUSY);
        assert_int_equal(stas_nvme_ctrl_connect_async(c, pool, on_done, &res), -EBUSY);
        run_until(e, pool, &res.calls, 1);
        assert_int_equal(res.calls, 1);
        assert_int_equal(res.r, 0);
        assert_false(stas_nvme_ctrl_busy(c));
        assert_string_equal(stas_nvme_ctrl_name(c), "nvme3");

        res = (Result){};
        fake_dlp.log = make_log();
        assert_int_equal(stas_nvme_ctrl_get_log_pages_async(c, pool, 0, 6, on_log, &res), 0);
        run_until(e, pool, &res.calls, 1);
        assert_int_equal(res.r, 0);
        assert_int_equal(res.genctr, 7);
        assert_int_equal(dlp_list_length(res.entries), 1);
        res.entries = dlp_list_free(res.entries);

        res = (Result){};
        assert_int_equal(stas_nvme_ctrl_disconnect_async(c, pool, on_done, &res), 0);
        run_until(e, pool, &res.calls, 1);
        assert_int_equal(res.r, 0);
        assert_null(stas_nvme_ctrl_name(c));

        c = stas_nvme_ctrl_free(c);
        pool = task_pool_free(pool);
        sd_event_unref(e);
}

static void test_nvme_async_free_while_busy(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(tid_freep) StasTid *tid = tid_new("tcp", "10.0.0.1", "4420", "nqn.io", "", "", "");
        StasNvmeCtrl *c = NULL;
        StasTaskPool *pool = NULL;
        sd_event *e = NULL;
        Result res = {};
        int p[2];
        unsigned never = 1;

        assert_int_equal(pipe(p), 0);
        fake_add.block_fd = p[0];
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(task_pool_new(e, 1, &pool), 0);
        assert_int_equal(stas_nvme_ctrl_new(ctx, tid, NULL, false, &c), 0);
        assert_int_equal(stas_nvme_ctrl_connect_async(c, pool, on_done, &res), 0);

        /* free while the worker is (or will be) inside nvmf_add_ctrl: no callback, no leak */
        c = stas_nvme_ctrl_free(c);
        assert_int_equal(write(p[1], "x", 1), 1);
        run_until(e, pool, &never, 0);
        assert_int_equal(task_pool_pending(pool), 0);
        assert_int_equal(res.calls, 0);

        pool = task_pool_free(pool);
        sd_event_unref(e);
        close(p[0]);
        close(p[1]);
}

/* ---- the real controller backend (ctrl.c) on this adapter: which pool runs which verb ---- */

static void on_backend_op(int r, void *userdata) {
        Result *res = userdata;

        res->calls++;
        res->r = r;
}

static void on_backend_dim(int r, uint32_t result, void *userdata) {
        on_backend_op(r, userdata);
}

static void on_backend_supported(int r, uint32_t lid_support, void *userdata) {
        Result *res = userdata;

        on_backend_op(r, userdata);
        res->lid_support = lid_support;
}

static void on_backend_log(int r, StasKV **entries, const StasDlpReport *report, void *userdata) {
        Result *res = userdata;

        res->calls++;
        res->r = r;
        res->genctr = report->genctr;
        dlp_list_free(entries);
}

/* Run the loop until *@calls reaches @want (hang guard: 500 iterations of at most 100 ms). */
static void run_until_calls(sd_event *e, const unsigned *calls, unsigned want) {
        for (int i = 0; i < 500 && *calls < want; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(*calls, want);
}

/* stas_ctrl_nvme_ops needs two distinct pools: connects must never share the short operations' one. */
static void test_nvme_backend_needs_two_pools(void **state) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(tid_freep) StasTid *tid = tid_new("tcp", "10.0.0.1", "4420", "nqn.io:1", "", "", "");
        StasTaskPool *pool = NULL, *other = NULL;
        sd_event *e = NULL;
        void *h = NULL;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(task_pool_new(e, 1, &pool), 0);
        assert_int_equal(task_pool_new(e, 1, &other), 0);

        StasCtrlNvmeCtx shared = { .nvme = ctx, .connect_pool = pool, .short_pool = pool };
        StasCtrlNvmeCtx no_connect = { .nvme = ctx, .short_pool = pool };
        StasCtrlNvmeCtx no_short = { .nvme = ctx, .connect_pool = pool };
        StasCtrlNvmeCtx both = { .nvme = ctx, .connect_pool = other, .short_pool = pool };

        assert_int_equal(stas_ctrl_nvme_ops.ctrl_new(&shared, tid, NULL, false, &h), -EINVAL);
        assert_int_equal(stas_ctrl_nvme_ops.ctrl_new(&no_connect, tid, NULL, false, &h), -EINVAL);
        assert_int_equal(stas_ctrl_nvme_ops.ctrl_new(&no_short, tid, NULL, false, &h), -EINVAL);
        assert_null(h);
        assert_int_equal(stas_ctrl_nvme_ops.ctrl_new(&both, tid, NULL, false, &h), 0);
        stas_ctrl_nvme_ops.ctrl_free(h);

        other = task_pool_free(other);
        pool = task_pool_free(pool);
        sd_event_unref(e);
}

/*
 * Connects run on the connect pool, every other verb on the short pool: with the only connect
 * worker blocked in nvmf_add_ctrl() (a dead target) and a second connect queued behind it, a
 * Get Log Page, a DIM, a Supported Log Pages and a disconnect of a connected controller still
 * complete. The connects
 * complete once the kernel lets them go.
 */
static void test_nvme_backend_connects_apart(void **state) {
        const StasCtrlOps *ops = &stas_ctrl_nvme_ops;
        _cleanup_(stas_nvme_freep) StasNvme *ctx = ctx_new(true);
        _cleanup_(tid_freep) StasTid *t1 = tid_new("tcp", "10.0.0.1", "4420", "nqn.io:1", "", "", "");
        _cleanup_(tid_freep) StasTid *t2 = tid_new("tcp", "10.0.0.2", "4420", "nqn.io:2", "", "", "");
        _cleanup_(tid_freep) StasTid *t3 = tid_new("tcp", "10.0.0.3", "8009", NVME_DISC_WKNQN, "", "", "");
        StasTaskPool *connect_pool = NULL, *short_pool = NULL;
        Result hung = {}, queued = {}, log = {}, dim = {}, supported = {}, disc = {};
        void *h_hung = NULL, *h_queued = NULL, *h_live = NULL;
        sd_event *e = NULL;
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(task_pool_new(e, 1, &connect_pool), 0);
        assert_int_equal(task_pool_new(e, 1, &short_pool), 0);
        StasCtrlNvmeCtx x = { .nvme = ctx, .connect_pool = connect_pool, .short_pool = short_pool };

        /* a healthy DC, already in the kernel (adopted: nvme9) */
        assert_int_equal(ops->ctrl_new(&x, t3, NULL, true, &h_live), 0);
        assert_int_equal(ops->adopt(h_live, 9), 0);

        /* two connects to a dead fabric: the first takes the only connect worker and hangs */
        fake_add.block_fd = p[0];
        assert_int_equal(ops->ctrl_new(&x, t1, NULL, false, &h_hung), 0);
        assert_int_equal(ops->ctrl_new(&x, t2, NULL, false, &h_queued), 0);
        assert_int_equal(ops->connect(h_hung, on_backend_op, &hung), 0);
        assert_int_equal(ops->connect(h_queued, on_backend_op, &queued), 0);
        assert_int_equal(task_pool_pending(connect_pool), 2);

        fake_dlp.log = make_log();
        assert_int_equal(ops->get_log_pages(h_live, 0, on_backend_log, &log), 0);
        assert_int_equal(task_pool_pending(short_pool), 1);
        run_until_calls(e, &log.calls, 1);
        assert_int_equal(log.r, 0);
        assert_int_equal(log.genctr, 7);

        fake_reg.supported = true;
        assert_int_equal(ops->dim(h_live, STAS_DIM_REGISTER, on_backend_dim, &dim), 0);
        run_until_calls(e, &dim.calls, 1);
        assert_int_equal(dim.r, 0);

        fake_log.lid70 = 3u << 16;
        assert_int_equal(ops->supported_log_pages(h_live, on_backend_supported, &supported), 0);
        run_until_calls(e, &supported.calls, 1);
        assert_int_equal(supported.r, 0);
        assert_int_equal(supported.lid_support, 3);

        assert_int_equal(ops->disconnect(h_live, on_backend_op, &disc), 0);
        run_until_calls(e, &disc.calls, 1);
        assert_int_equal(disc.r, 0);
        assert_null(ops->name(h_live));

        /* the fence: both connects are still pending, the short operations did not wait for them */
        assert_int_equal(hung.calls + queued.calls, 0);
        assert_int_equal(task_pool_pending(connect_pool), 2);

        assert_int_equal(write(p[1], "xx", 2), 2);
        run_until_calls(e, &hung.calls, 1);
        run_until_calls(e, &queued.calls, 1);
        assert_int_equal(hung.r, 0);
        assert_int_equal(queued.r, 0);
        assert_int_equal(task_pool_pending(connect_pool), 0);

        ops->ctrl_free(h_hung);
        ops->ctrl_free(h_queued);
        ops->ctrl_free(h_live);
        short_pool = task_pool_free(short_pool);
        connect_pool = task_pool_free(connect_pool);
        sd_event_unref(e);
        close(p[0]);
        close(p[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_nvme_error_mapping, reset),
                cmocka_unit_test_setup(test_nvme_build_config, reset),
                cmocka_unit_test_setup(test_nvme_libnvme_log_stream, reset),
                cmocka_unit_test_setup(test_nvme_connect_marshalling, reset),
                cmocka_unit_test_setup(test_nvme_connect_sysconf_host_key, reset),
                cmocka_unit_test_setup(test_nvme_connect_kernel_gating, reset),
                cmocka_unit_test_setup(test_nvme_connect_errors, reset),
                cmocka_unit_test_setup(test_nvme_adopt_and_disconnect, reset),
                cmocka_unit_test_setup(test_nvme_register, reset),
                cmocka_unit_test_setup(test_nvme_supported_log_pages, reset),
                cmocka_unit_test_setup(test_nvme_get_log_pages, reset),
                cmocka_unit_test_setup(test_nvme_refuses_unsafe_values, reset),
                cmocka_unit_test_setup(test_nvme_sysfs_getters, reset),
                cmocka_unit_test_setup(test_nvme_async_verbs, reset),
                cmocka_unit_test_setup(test_nvme_async_free_while_busy, reset),
                cmocka_unit_test_setup(test_nvme_log_level, reset),
                cmocka_unit_test_setup(test_nvme_backend_needs_two_pools, reset),
                cmocka_unit_test_setup(test_nvme_backend_connects_apart, reset),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
