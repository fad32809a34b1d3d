/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The only file that includes libnvme.h. See nvme.h for the threading rules and the libnvme
 * calls of each verb.
 */
#include <endian.h>
#include <inttypes.h>
#include <libnvme.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "stas/dlp.h"
#include "stas/log.h"
#include "stas/nvme.h"
#include "stas/wire.h"

/*
 * stas's own copy of the discovery log page layout and codes (dlp.h) is what libnvme's is:
 * checked here, the one place that sees both.
 */
#define SAME_FIELD(stas, nvme, f)                                                  \
        _Static_assert(                                                            \
                offsetof(stas, f) == offsetof(struct nvme, f) &&                   \
                        sizeof(((stas *) 0)->f) == sizeof(((struct nvme *) 0)->f), \
                #stas "." #f " matches libnvme")
_Static_assert(sizeof(StasDlpEntry) == sizeof(struct nvmf_disc_log_entry), "StasDlpEntry size");
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, trtype);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, adrfam);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, subtype);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, treq);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, portid);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, cntlid);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, asqsz);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, eflags);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, trsvcid);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, subnqn);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, traddr);
SAME_FIELD(StasDlpEntry, nvmf_disc_log_entry, tsas);
_Static_assert(sizeof(StasDlpHeader) == sizeof(struct nvmf_discovery_log), "StasDlpHeader size");
SAME_FIELD(StasDlpHeader, nvmf_discovery_log, genctr);
SAME_FIELD(StasDlpHeader, nvmf_discovery_log, numrec);
SAME_FIELD(StasDlpHeader, nvmf_discovery_log, recfmt);
_Static_assert(offsetof(StasDlpHeader, entries) == offsetof(struct nvmf_discovery_log, entries), "entries");
#undef SAME_FIELD

_Static_assert(STAS_LID_SUPPORTED_LOG_PAGES == NVME_LOG_LID_SUPPORTED_LOG_PAGES, "LID 0x00");
_Static_assert(STAS_LID_DISCOVERY == NVME_LOG_LID_DISCOVER, "LID 0x70");
_Static_assert(
        STAS_TRTYPE_UNSPECIFIED == NVMF_TRTYPE_UNSPECIFIED && STAS_TRTYPE_RDMA == NVMF_TRTYPE_RDMA &&
                STAS_TRTYPE_FC == NVMF_TRTYPE_FC && STAS_TRTYPE_TCP == NVMF_TRTYPE_TCP &&
                STAS_TRTYPE_LOOP == NVMF_TRTYPE_LOOP,
        "TRTYPE codes");
_Static_assert(
        STAS_ADRFAM_PCI == NVMF_ADDR_FAMILY_PCI && STAS_ADRFAM_IP4 == NVMF_ADDR_FAMILY_IP4 &&
                STAS_ADRFAM_IP6 == NVMF_ADDR_FAMILY_IP6 && STAS_ADRFAM_IB == NVMF_ADDR_FAMILY_IB &&
                STAS_ADRFAM_FC == NVMF_ADDR_FAMILY_FC,
        "ADRFAM codes");
_Static_assert(
        STAS_SUBTYPE_REFERRAL == NVME_NQN_DISC && STAS_SUBTYPE_NVME == NVME_NQN_NVME &&
                STAS_SUBTYPE_DISCOVERY == NVME_NQN_CURR,
        "SUBTYPE codes");
_Static_assert(
        STAS_TREQ_NOT_SPECIFIED == NVMF_TREQ_NOT_SPECIFIED && STAS_TREQ_REQUIRED == NVMF_TREQ_REQUIRED &&
                STAS_TREQ_NOT_REQUIRED == NVMF_TREQ_NOT_REQUIRED &&
                STAS_TREQ_DISABLE_SQFLOW == NVMF_TREQ_DISABLE_SQFLOW,
        "TREQ codes");
_Static_assert(
        STAS_EFLAGS_DUPRETINFO == NVMF_DISC_EFLAGS_DUPRETINFO &&
                STAS_EFLAGS_EPCSD == NVMF_DISC_EFLAGS_EPCSD && STAS_EFLAGS_NCC == NVMF_DISC_EFLAGS_NCC,
        "EFLAGS bits");
_Static_assert(STAS_DLP_LSP_PLEO == NVMF_LOG_DISC_LSP_PLEO, "LSP PLEO");
_Static_assert(
        STAS_DLP_LID_EXTDLPES == NVMF_LOG_DISC_LID_EXTDLPES &&
                STAS_DLP_LID_PLEOS == NVMF_LOG_DISC_LID_PLEOS &&
                STAS_DLP_LID_ALLSUBES == NVMF_LOG_DISC_LID_ALLSUBES,
        "LID 0x70 support bits");

struct StasNvme {
        char *hostnqn;
        char *hostid;
        char *hostkey;
        char *symname;
        StasNvmeKernel kernel;
        int log_level;
};

typedef struct NvmeOp NvmeOp;

struct StasNvmeCtrl {
        StasNvme *ctx;
        nvme_root_t root;
        nvme_host_t host;
        nvme_ctrl_t ctrl;
        StasConnectOptions opts; /* integers only; secrets are applied at creation and dropped */
        bool discovery;
        char *name;
        int last_status;
        NvmeOp *op;   /* in flight (the worker owns the tree) */
        bool freeing; /* stas_nvme_ctrl_free() called while busy */
};

/* ---- errors ---- */

int stas_nvme_map_error(int ret, int err, int *ret_status) {
        if (ret == 0)
                return 0;
        if (ret > 0) {
                if (ret_status)
                        *ret_status = ret;
                return -EREMOTEIO;
        }
        if (err <= 0)
                return -EIO;
        return -err;
}

const char *stas_nvme_error_name(int r) {
        /* libnvme's connect codes that stand for an errno (values fixed by libnvme's ABI) */
        static const struct {
                int code;
                const char *name;
        } map[] = {
                { STAS_NVME_ERRNO_BASE + 12, "EALREADY" },     /* ENVME_CONNECT_ALREADY */
                { STAS_NVME_ERRNO_BASE + 13, "EINVAL" },       /* ENVME_CONNECT_INVAL */
                { STAS_NVME_ERRNO_BASE + 14, "EADDRINUSE" },   /* ENVME_CONNECT_ADDRINUSE */
                { STAS_NVME_ERRNO_BASE + 15, "ENODEV" },       /* ENVME_CONNECT_NODEV */
                { STAS_NVME_ERRNO_BASE + 16, "EOPNOTSUPP" },   /* ENVME_CONNECT_OPNOTSUPP */
                { STAS_NVME_ERRNO_BASE + 17, "ECONNREFUSED" }, /* ENVME_CONNECT_CONNREFUSED */
        };
        int e = r < 0 ? -r : r;

        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
                if (map[i].code == e)
                        return map[i].name;
        return NULL;
}

const char *stas_nvme_strerror(int r) {
        int e = r < 0 ? -r : r;

        if (e >= STAS_NVME_ERRNO_BASE)
                return nvme_errno_to_string(e);
        if (e == EREMOTEIO)
                return "NVMe command failed with a status (see the status text)";
        return strerror(e);
}

const char *stas_nvme_status_string(int status) {
        return nvme_status_to_string(status, true);
}

const char *stas_nvme_version(void) {
        return nvme_get_version(NVME_VERSION_PROJECT);
}

/* ---- context ---- */

static int host_copy(StasNvme *ctx, const StasNvmeHost *host) {
        _cleanup_free_ char *nqn = NULL, *id = NULL, *key = NULL, *sym = NULL;

        if (!host || isempty(host->hostnqn))
                return -EINVAL;
        nqn = strdup(host->hostnqn);
        id = isempty(host->hostid) ? NULL : strdup(host->hostid);
        key = isempty(host->hostkey) ? NULL : strdup(host->hostkey);
        sym = isempty(host->symname) ? NULL : strdup(host->symname);
        if (!nqn || (!isempty(host->hostid) && !id) || (!isempty(host->hostkey) && !key) ||
            (!isempty(host->symname) && !sym))
                return -ENOMEM;

        free(ctx->hostnqn);
        free(ctx->hostid);
        if (ctx->hostkey)
                explicit_bzero(ctx->hostkey, strlen(ctx->hostkey));
        free(ctx->hostkey);
        free(ctx->symname);
        ctx->hostnqn = TAKE_PTR(nqn);
        ctx->hostid = TAKE_PTR(id);
        ctx->hostkey = TAKE_PTR(key);
        ctx->symname = TAKE_PTR(sym);
        return 0;
}

/*
 * libnvme's messages: a stream (fopencookie(3)) whose writes are cut into lines, each passed to
 * the log at debug level, or at warning level if it looks like an error ("fail", "error",
 * "invalid", "unable" in any case). libnvme writes whole lines (its own level filter applies).
 */
static ssize_t libnvme_log_write(void *cookie, const char *buf, size_t size) {
        size_t i = 0;

        while (i < size) {
                const char *nl = memchr(buf + i, '\n', size - i);
                size_t n = nl ? (size_t) (nl - (buf + i)) : size - i;
                char line[512];
                bool bad;

                snprintf(
                        line,
                        sizeof(line),
                        "%.*s",
                        (int) (n < sizeof(line) ? n : sizeof(line) - 1),
                        buf + i);
                bad = strcasestr(line, "fail") || strcasestr(line, "error") || strcasestr(line, "invalid") ||
                        strcasestr(line, "unable");
                if (n > 0)
                        log_full(bad ? LOG_WARNING : LOG_DEBUG, "libnvme: %s", line);
                i += n + (nl ? 1 : 0);
        }
        return (ssize_t) size;
}

static FILE *libnvme_log;
static pthread_once_t libnvme_log_once = PTHREAD_ONCE_INIT;

static void libnvme_log_open(void) {
        libnvme_log = fopencookie(NULL, "w", (cookie_io_functions_t){ .write = libnvme_log_write });
        if (libnvme_log)
                setvbuf(libnvme_log, NULL, _IOLBF, 0);
}

/* The one stream for libnvme's messages (NULL, i.e. stderr, if it could not be made). */
static FILE *libnvme_log_stream(void) {
        pthread_once(&libnvme_log_once, libnvme_log_open);
        return libnvme_log;
}

int stas_nvme_new(const StasNvmeHost *host, const StasNvmeKernel *kernel, int log_level, StasNvme **ret) {
        _cleanup_(stas_nvme_freep) StasNvme *ctx = NULL;
        int r;

        ctx = new0(StasNvme, 1);
        if (!ctx)
                return -ENOMEM;
        r = host_copy(ctx, host);
        if (r < 0)
                return r;
        if (kernel)
                ctx->kernel = *kernel;
        ctx->log_level = log_level;
        *ret = TAKE_PTR(ctx);
        return 0;
}

StasNvme *stas_nvme_free(StasNvme *ctx) {
        if (!ctx)
                return NULL;
        free(ctx->hostnqn);
        free(ctx->hostid);
        if (ctx->hostkey)
                explicit_bzero(ctx->hostkey, strlen(ctx->hostkey));
        free(ctx->hostkey);
        free(ctx->symname);
        free(ctx);
        return NULL;
}

int stas_nvme_set_host(StasNvme *ctx, const StasNvmeHost *host) {
        return host_copy(ctx, host);
}

/**
 * stas_nvme_set_log_level() - libnvme's level for controllers created from now on.
 * @ctx: the context
 * @log_level: syslog LOG_* level
 */
void stas_nvme_set_log_level(StasNvme *ctx, int log_level) {
        ctx->log_level = log_level;
}

/**
 * stas_nvme_get_log_level() - libnvme's level for new controllers.
 * @ctx: the context
 */
int stas_nvme_get_log_level(const StasNvme *ctx) {
        return ctx->log_level;
}

/**
 * stas_nvme_ctrl_log_level() - the libnvme level of a new controller.
 * @ctx: the context
 * @opts: the connection's options (NULL = defaults)
 */
int stas_nvme_ctrl_log_level(const StasNvme *ctx, const StasConnectOptions *opts) {
        /*
         * libnvme 1.3 prints the whole connect string, DH-HMAC-CHAP secrets included, at debug
         * level and has no hook to filter it: a connection that carries a secret never gets
         * libnvme's debug output.
         */
        bool secret = (opts && (!isempty(opts->dhchap_secret) || !isempty(opts->dhchap_ctrl_secret))) ||
                (!isempty(ctx->hostkey) && ctx->kernel.dhchap_secret);

        return secret && ctx->log_level > LOG_INFO ? LOG_INFO : ctx->log_level;
}

void stas_nvme_set_kernel(StasNvme *ctx, const StasNvmeKernel *kernel) {
        ctx->kernel = *kernel;
}

const StasNvmeKernel *stas_nvme_get_kernel(const StasNvme *ctx) {
        return &ctx->kernel;
}

/* ---- options ---- */

void stas_nvme_build_config(const StasConnectOptions *o, struct nvme_fabrics_config *cfg) {
        nvmf_default_config(cfg);
        if (!o)
                return;
        if (o->kato >= 0)
                cfg->keep_alive_tmo = o->kato;
        if (o->queue_size >= 0)
                cfg->queue_size = o->queue_size;
        if (o->nr_io_queues >= 0)
                cfg->nr_io_queues = o->nr_io_queues;
        if (o->nr_write_queues >= 0)
                cfg->nr_write_queues = o->nr_write_queues;
        if (o->nr_poll_queues >= 0)
                cfg->nr_poll_queues = o->nr_poll_queues;
        if (o->reconnect_delay >= 0)
                cfg->reconnect_delay = o->reconnect_delay;
        if (o->ctrl_loss_tmo_set)
                cfg->ctrl_loss_tmo = o->ctrl_loss_tmo;
        if (o->hdr_digest >= 0)
                cfg->hdr_digest = o->hdr_digest;
        if (o->data_digest >= 0)
                cfg->data_digest = o->data_digest;
        if (o->disable_sqflow >= 0)
                cfg->disable_sqflow = o->disable_sqflow;
}

/* ---- controller ---- */

static const char *nullable(const char *s) {
        return isempty(s) ? NULL : s;
}

/*
 * The last line of defence: no value that libnvme copies into the "key=value,..." connect string
 * may hold ',', '=' or a blank, whatever its source (secrets may hold '=': base64 padding, and the
 * kernel splits at the first '=' only). The sources validate first (validate.h); this refuses
 * what slipped through.
 */
static bool connect_values_safe(const StasNvme *ctx, const StasTid *tid, const StasConnectOptions *opts) {
        const char *const plain[] = {
                tid->transport,  tid->traddr,   tid->trsvcid, tid->subsysnqn, tid->host_traddr,
                tid->host_iface, tid->host_nqn, ctx->hostnqn, ctx->hostid,
        };
        const char *const secrets[] = {
                ctx->hostkey,
                opts ? opts->dhchap_secret : NULL,
                opts ? opts->dhchap_ctrl_secret : NULL,
        };

        for (size_t i = 0; i < ELEMENTSOF(plain); i++)
                if (!stas_option_value_is_safe(plain[i], false))
                        return false;
        for (size_t i = 0; i < ELEMENTSOF(secrets); i++)
                if (!stas_option_value_is_safe(secrets[i], true))
                        return false;
        return true;
}

int stas_nvme_ctrl_new(
        StasNvme *ctx,
        const StasTid *tid,
        const StasConnectOptions *opts,
        bool discovery,
        StasNvmeCtrl **ret) {
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *c = NULL;
        const char *subsysnqn;

        if (!ctx || !tid || !ret || isempty(tid->transport))
                return -EINVAL;
        if (!connect_values_safe(ctx, tid, opts))
                return -EINVAL;
        c = new0(StasNvmeCtrl, 1);
        if (!c)
                return -ENOMEM;
        c->ctx = ctx;
        c->discovery = discovery;
        if (opts) {
                c->opts = *opts;
                c->opts.dhchap_secret = c->opts.dhchap_ctrl_secret = NULL;
        } else
                connect_options_init(&c->opts);

        c->root = nvme_create_root(libnvme_log_stream(), stas_nvme_ctrl_log_level(ctx, opts));
        if (!c->root)
                return -ENOMEM;
        c->host = nvme_lookup_host(
                c->root, isempty(tid->host_nqn) ? ctx->hostnqn : tid->host_nqn, ctx->hostid);
        if (!c->host)
                return errno > 0 ? -errno : -ENOMEM;
        nvme_host_set_hostsymname(c->host, ctx->symname);
        /*
         * The per-connection host key goes on this controller's own host object: libnvme 1.3
         * never frees a key set with nvme_ctrl_set_dhchap_host_key(), and falls back to the
         * host's key when the controller has none, which gives the same connect options.
         */
        if (ctx->kernel.dhchap_secret) {
                const char *hostkey =
                        opts && !isempty(opts->dhchap_secret) ? opts->dhchap_secret : ctx->hostkey;
                if (!isempty(hostkey))
                        nvme_host_set_dhchap_key(c->host, hostkey);
        }

        subsysnqn = isempty(tid->subsysnqn) && discovery ? NVME_DISC_WKNQN : tid->subsysnqn;
        errno = 0;
        c->ctrl = nvme_create_ctrl(
                c->root,
                subsysnqn,
                tid->transport,
                tid->traddr,
                nullable(tid->host_traddr),
                ctx->kernel.host_iface ? nullable(tid->host_iface) : NULL,
                nullable(tid->trsvcid));
        if (!c->ctrl)
                return errno > 0 ? -errno : -EINVAL;
        if (discovery)
                nvme_ctrl_set_discovery_ctrl(c->ctrl, true);
        if (opts && !isempty(opts->dhchap_ctrl_secret) && ctx->kernel.dhchap_ctrl_secret)
                nvme_ctrl_set_dhchap_key(c->ctrl, opts->dhchap_ctrl_secret);

        *ret = TAKE_PTR(c);
        return 0;
}

static void ctrl_destroy(StasNvmeCtrl *c) {
        /* the ctrl may or may not be linked under a subsystem: unlink+free it first */
        if (c->ctrl)
                nvme_free_ctrl(c->ctrl);
        if (c->root)
                nvme_free_tree(c->root);
        free(c->name);
        free(c);
}

struct NvmeOp {
        StasNvmeCtrl *c;
        StasTask *task;
        int kind;
        bool cancelled;
        /* inputs (marshalled on the loop) */
        struct nvme_fabrics_config cfg;
        StasDimTask tas;
        uint8_t lsp;
        int max_retries;
        /* outputs (written by the worker, read on the loop after completion) */
        int status;
        uint32_t result;
        StasKV **entries;
        StasDlpReport report;
        /* completion */
        void *cb;
        void *userdata;
};

enum { OP_CONNECT, OP_DISCONNECT, OP_REGISTER, OP_SUPPORTED, OP_GET_LOG };

StasNvmeCtrl *stas_nvme_ctrl_free(StasNvmeCtrl *c) {
        if (!c)
                return NULL;
        if (c->op) {
                /* the worker still owns the tree: let the op's cleanup free everything */
                c->freeing = true;
                stas_nvme_ctrl_cancel(c);
                return NULL;
        }
        ctrl_destroy(c);
        return NULL;
}

bool stas_nvme_ctrl_busy(const StasNvmeCtrl *c) {
        return c && c->op;
}

void stas_nvme_ctrl_cancel(StasNvmeCtrl *c) {
        if (!c || !c->op || c->op->cancelled)
                return;
        c->op->cancelled = true;
        task_cancel(c->op->task);
}

const char *stas_nvme_ctrl_name(const StasNvmeCtrl *c) {
        return c ? c->name : NULL;
}

int stas_nvme_ctrl_last_status(const StasNvmeCtrl *c) {
        return c ? c->last_status : 0;
}

static int refresh_name(StasNvmeCtrl *c) {
        const char *n = nvme_ctrl_get_name(c->ctrl);

        return free_and_strdup(&c->name, n);
}

/* ---- blocking parts: run on the thread that owns the tree; map errors before returning ---- */

/*
 * libnvme 1.3 re-reads a controller's sysfs attributes when it connects or adopts it and
 * overwrites the controller key (dhchap_ctrl_secret) set with nvme_ctrl_set_dhchap_key()
 * without freeing it. Free the replaced string; only for the version known to leak, since a
 * fixed libnvme frees it itself.
 */
static void release_replaced_ctrl_key(StasNvmeCtrl *c, const char *before) {
        if (before && nvme_ctrl_get_dhchap_key(c->ctrl) != before && streq_ptr(stas_nvme_version(), "1.3"))
                free((char *) before);
}

static int do_connect(StasNvmeCtrl *c, const struct nvme_fabrics_config *cfg, int *status) {
        const char *key = nvme_ctrl_get_dhchap_key(c->ctrl);
        int r;

        errno = 0;
        r = nvmf_add_ctrl(c->host, c->ctrl, cfg);
        r = stas_nvme_map_error(r, errno, status);
        release_replaced_ctrl_key(c, key);
        return r;
}

static int do_disconnect(StasNvmeCtrl *c, int *status) {
        int r;

        errno = 0;
        r = nvme_disconnect_ctrl(c->ctrl);
        return stas_nvme_map_error(r, errno, status);
}

static int do_register(StasNvmeCtrl *c, StasDimTask tas, uint32_t *result, int *status) {
        int r;

        if (!nvmf_is_registration_supported(c->ctrl))
                return -EOPNOTSUPP;
        errno = 0;
        r = nvmf_register_ctrl(c->ctrl, (enum nvmf_dim_tas) tas, result);
        return stas_nvme_map_error(r, errno, status);
}

static int do_supported(StasNvmeCtrl *c, uint32_t *bits, int *status) {
        struct nvme_supported_log_pages log = {};
        int fd, r;

        errno = 0;
        fd = nvme_ctrl_get_fd(c->ctrl);
        if (fd < 0)
                return stas_nvme_map_error(-1, errno, status);
        errno = 0;
        r = nvme_get_log_supported_log_pages(fd, true, &log);
        if (r != 0)
                return stas_nvme_map_error(r, errno, status);
        *bits = le32toh(log.lid_support[NVME_LOG_LID_DISCOVER]) >> 16;
        return 0;
}

/* One Get Log Page (LID 0x70) command for dlp_read(), on the thread that owns the tree. */
typedef struct GetLogCtx {
        int fd;
        uint8_t lsp;
        int status;
} GetLogCtx;

static int get_log_chunk(void *userdata, uint64_t offset, void *buf, uint32_t len, bool rae) {
        GetLogCtx *g = userdata;
        struct nvme_get_log_args args = {
                .lpo = offset,
                .result = NULL,
                .log = buf,
                .args_size = sizeof(args),
                .fd = g->fd,
                .timeout = 0,
                .lid = NVME_LOG_LID_DISCOVER,
                .len = len,
                .nsid = NVME_NSID_NONE,
                .csi = NVME_CSI_NVM,
                .lsi = NVME_LOG_LSI_NONE,
                .lsp = g->lsp,
                .uuidx = NVME_UUID_NONE,
                .rae = rae,
                .ot = false,
        };
        int r;

        errno = 0;
        r = nvme_get_log(&args);
        return stas_nvme_map_error(r, errno, &g->status);
}

/*
 * The discovery log, read by dlp_read() with plain Get Log Page commands (never
 * nvmf_get_discovery_wargs(): see dlp.h) and decoded here, on the worker.
 */
static int do_get_log(
        StasNvmeCtrl *c, uint8_t lsp, int max_retries, StasKV ***ret, StasDlpReport *rep, int *status) {
        GetLogCtx g = { .lsp = lsp };
        int r;

        errno = 0;
        g.fd = nvme_ctrl_get_fd(c->ctrl);
        if (g.fd < 0)
                return stas_nvme_map_error(-1, errno, status);
        r = dlp_read(get_log_chunk, &g, max_retries, ret, rep);
        if (r == -EREMOTEIO)
                *status = g.status;
        return r;
}

/* ---- synchronous verbs ---- */

#define CHECK_IDLE(c)                   \
        do {                            \
                if (!(c))               \
                        return -EINVAL; \
                if ((c)->op)            \
                        return -EBUSY;  \
        } while (0)

static void record_status(StasNvmeCtrl *c, int r, int status) {
        if (r == -EREMOTEIO)
                c->last_status = status;
}

int stas_nvme_ctrl_connect(StasNvmeCtrl *c) {
        struct nvme_fabrics_config cfg;
        int r, status = 0;

        CHECK_IDLE(c);
        if (c->name)
                return -EALREADY;
        stas_nvme_build_config(&c->opts, &cfg);
        r = do_connect(c, &cfg, &status);
        record_status(c, r, status);
        if (r < 0)
                return r;
        return refresh_name(c);
}

int stas_nvme_ctrl_adopt(StasNvmeCtrl *c, int instance) {
        const char *key;
        int r;

        CHECK_IDLE(c);
        if (c->name)
                return -EALREADY;
        if (instance < 0)
                return -EINVAL;
        key = nvme_ctrl_get_dhchap_key(c->ctrl);
        errno = 0;
        r = nvme_init_ctrl(c->host, c->ctrl, instance);
        r = stas_nvme_map_error(r, errno, NULL);
        release_replaced_ctrl_key(c, key);
        if (r < 0)
                return r;
        return refresh_name(c);
}

int stas_nvme_ctrl_disconnect(StasNvmeCtrl *c) {
        int r, status = 0;

        CHECK_IDLE(c);
        if (!c->name)
                return -ENOTCONN;
        r = do_disconnect(c, &status);
        if (r < 0)
                return r;
        free(c->name);
        c->name = NULL;
        return 0;
}

static void apply_symname(StasNvmeCtrl *c) {
        /* TP8010: the symbolic name sent is the host's current one (DESIGN 5: update on change) */
        nvme_host_set_hostsymname(c->host, c->ctx->symname);
}

int stas_nvme_ctrl_register(StasNvmeCtrl *c, StasDimTask tas, uint32_t *ret_result) {
        uint32_t result = 0;
        int r, status = 0;

        CHECK_IDLE(c);
        if (!c->name)
                return -ENOTCONN;
        apply_symname(c);
        r = do_register(c, tas, &result, &status);
        record_status(c, r, status);
        if (r < 0)
                return r;
        if (ret_result)
                *ret_result = result;
        return 0;
}

int stas_nvme_ctrl_supported_log_pages(StasNvmeCtrl *c, uint32_t *ret) {
        uint32_t bits = 0;
        int r, status = 0;

        CHECK_IDLE(c);
        if (!c->name)
                return -ENOTCONN;
        r = do_supported(c, &bits, &status);
        record_status(c, r, status);
        if (r < 0)
                return r;
        *ret = bits;
        return 0;
}

int stas_nvme_ctrl_get_log_pages(
        StasNvmeCtrl *c, uint8_t lsp, int max_retries, StasKV ***ret, StasDlpReport *ret_report) {
        StasDlpReport rep = {};
        int r, status = 0;

        CHECK_IDLE(c);
        if (!c->name)
                return -ENOTCONN;
        r = do_get_log(c, lsp, max_retries, ret, &rep, &status);
        record_status(c, r, status);
        if (ret_report)
                *ret_report = rep;
        return r;
}

static int read_attr(StasNvmeCtrl *c, const char *attr, char **ret) {
        char *v;
        size_t n;

        CHECK_IDLE(c);
        if (!c->name)
                return -ENOTCONN;
        v = nvme_get_ctrl_attr(c->ctrl, attr);
        if (!v)
                v = strdup("");
        if (!v)
                return -ENOMEM;
        n = strlen(v);
        while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == ' '))
                v[--n] = 0;
        if (streq(v, "none") || streq(v, "(efault)"))
                v[0] = 0;
        *ret = v;
        return 0;
}

int stas_nvme_ctrl_dctype(StasNvmeCtrl *c, char **ret) {
        return read_attr(c, "dctype", ret);
}

int stas_nvme_ctrl_cntrltype(StasNvmeCtrl *c, char **ret) {
        return read_attr(c, "cntrltype", ret);
}

int stas_nvme_ctrl_state(StasNvmeCtrl *c, char **ret) {
        return read_attr(c, "state", ret);
}

int stas_nvme_ctrl_is_registration_supported(StasNvmeCtrl *c) {
        _cleanup_free_ char *dctype = NULL;

        CHECK_IDLE(c);
        if (!c->name)
                return -ENOTCONN;
        /* libnvme returns NULL for a missing (kernel < 5.18) or empty attribute */
        dctype = nvme_get_ctrl_attr(c->ctrl, "dctype");
        if (!dctype)
                return -ENODATA;
        dctype[strcspn(dctype, " \n")] = 0;
        return streq(dctype, "ddc") || streq(dctype, "cdc");
}

/* ---- async verbs ---- */

static int op_work(void *userdata) {
        NvmeOp *op = userdata;
        StasNvmeCtrl *c = op->c;

        /* worker thread: only this op's controller tree and the op itself are touched */
        switch (op->kind) {
        case OP_CONNECT:
                return do_connect(c, &op->cfg, &op->status);
        case OP_DISCONNECT:
                return do_disconnect(c, &op->status);
        case OP_REGISTER:
                return do_register(c, op->tas, &op->result, &op->status);
        case OP_SUPPORTED:
                return do_supported(c, &op->result, &op->status);
        case OP_GET_LOG:
                return do_get_log(c, op->lsp, op->max_retries, &op->entries, &op->report, &op->status);
        }
        return -EINVAL;
}

static void op_done(int r, void *userdata) {
        NvmeOp *op = userdata;
        StasNvmeCtrl *c = op->c;

        /* loop thread: the worker is finished, the tree is ours again */
        c->op = NULL;
        op->c = NULL; /* cleanup must not touch the controller: the callback may free it */
        record_status(c, r, op->status);

        switch (op->kind) {
        case OP_CONNECT:
                if (r >= 0)
                        r = refresh_name(c);
                ((StasNvmeDone) op->cb)(c, r, op->userdata);
                break;
        case OP_DISCONNECT:
                if (r >= 0) {
                        free(c->name);
                        c->name = NULL;
                }
                ((StasNvmeDone) op->cb)(c, r, op->userdata);
                break;
        case OP_REGISTER:
                ((StasNvmeRegisterDone) op->cb)(c, r, op->result, op->userdata);
                break;
        case OP_SUPPORTED:
                ((StasNvmeSupportedDone) op->cb)(c, r, r >= 0 ? op->result : 0, op->userdata);
                break;
        case OP_GET_LOG:
                ((StasNvmeLogPagesDone) op->cb)(
                        c, r, r >= 0 ? TAKE_PTR(op->entries) : NULL, &op->report, op->userdata);
                break;
        }
}

static void op_cleanup(void *userdata) {
        NvmeOp *op = userdata;
        StasNvmeCtrl *c = op->c;

        /* loop thread, after op_done() or after a cancelled work() has returned */
        if (c) {
                c->op = NULL;
                if (c->freeing)
                        ctrl_destroy(c);
        }
        dlp_list_free(op->entries);
        free(op);
}

static int op_submit(StasNvmeCtrl *c, StasTaskPool *pool, NvmeOp *op_in) {
        _cleanup_free_ NvmeOp *op = op_in;
        int r;

        if (!pool || !op->cb)
                return -EINVAL;
        op->c = c;
        r = task_submit(pool, op_work, op_done, op_cleanup, op, &op->task);
        if (r < 0)
                return r;
        c->op = TAKE_PTR(op);
        return 0;
}

static NvmeOp *op_new(int kind, void *cb, void *userdata) {
        NvmeOp *op = new0(NvmeOp, 1);

        if (!op)
                return NULL;
        op->kind = kind;
        op->cb = cb;
        op->userdata = userdata;
        return op;
}

/* The common start of an async verb: the controller is idle and in the right state (connected,
 * or not for a connect), and a new op is ready. */
static int op_begin(StasNvmeCtrl *c, int kind, void *cb, void *userdata, NvmeOp **ret) {
        CHECK_IDLE(c);
        if (kind == OP_CONNECT && c->name)
                return -EALREADY;
        if (kind != OP_CONNECT && !c->name)
                return -ENOTCONN;
        *ret = op_new(kind, cb, userdata);
        return *ret ? 0 : -ENOMEM;
}

int stas_nvme_ctrl_connect_async(StasNvmeCtrl *c, StasTaskPool *pool, StasNvmeDone cb, void *userdata) {
        NvmeOp *op;
        int r = op_begin(c, OP_CONNECT, (void *) cb, userdata, &op);

        if (r < 0)
                return r;
        stas_nvme_build_config(&c->opts, &op->cfg);
        return op_submit(c, pool, op);
}

int stas_nvme_ctrl_disconnect_async(StasNvmeCtrl *c, StasTaskPool *pool, StasNvmeDone cb, void *userdata) {
        NvmeOp *op;
        int r = op_begin(c, OP_DISCONNECT, (void *) cb, userdata, &op);

        return r < 0 ? r : op_submit(c, pool, op);
}

int stas_nvme_ctrl_register_async(
        StasNvmeCtrl *c, StasTaskPool *pool, StasDimTask tas, StasNvmeRegisterDone cb, void *userdata) {
        NvmeOp *op;
        int r = op_begin(c, OP_REGISTER, (void *) cb, userdata, &op);

        if (r < 0)
                return r;
        op->tas = tas;
        apply_symname(c);
        return op_submit(c, pool, op);
}

int stas_nvme_ctrl_supported_log_pages_async(
        StasNvmeCtrl *c, StasTaskPool *pool, StasNvmeSupportedDone cb, void *userdata) {
        NvmeOp *op;
        int r = op_begin(c, OP_SUPPORTED, (void *) cb, userdata, &op);

        return r < 0 ? r : op_submit(c, pool, op);
}

int stas_nvme_ctrl_get_log_pages_async(
        StasNvmeCtrl *c,
        StasTaskPool *pool,
        uint8_t lsp,
        int max_retries,
        StasNvmeLogPagesDone cb,
        void *userdata) {
        NvmeOp *op;
        int r = op_begin(c, OP_GET_LOG, (void *) cb, userdata, &op);

        if (r < 0)
                return r;
        op->lsp = lsp;
        op->max_retries = max_retries;
        return op_submit(c, pool, op);
}
