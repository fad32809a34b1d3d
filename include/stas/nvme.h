/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvme.h - the kernel boundary: daemon-level verbs on a controller, implemented with libnvme
 * 1.3 (src/libstas/nvme.c is the only file that includes libnvme.h).
 *
 * Objects and threads.
 *  - StasNvme (context): the host identity (hostnqn, hostid, host DH-HMAC-CHAP key, symbolic
 *    name), which kernel options are supported, and libnvme's log level. Created, changed and
 *    freed on the loop thread only. It must outlive its controllers.
 *  - StasNvmeCtrl: one controller. It owns a PRIVATE libnvme tree (nvme_root_t -> host ->
 *    [subsystem] -> ctrl), created on the loop by stas_nvme_ctrl_new(). libnvme 1.3 objects
 *    are unlocked and nvmf_add_ctrl() links the controller into its host's subsystem list
 *    from inside the call (via nvme_init_ctrl), so a tree shared between controllers would be
 *    mutated by a worker while the loop walks it. With one tree per controller (the upstream
 *    model) the rule is simple: a controller's tree is touched by exactly one thread at a
 *    time. While an async verb runs, the tree belongs to that worker; every other verb on the
 *    controller returns -EBUSY until the completion callback has run on the loop.
 *  - Blocking verbs (connect, disconnect, register, supported log pages, get log pages) have
 *    a synchronous form (tests, the vm check program, or a caller that accepts blocking) and
 *    an _async form that runs the libnvme call on a StasTaskPool worker (task.h) and calls back
 *    on the loop. Only plain data crosses threads: the options are marshalled on the loop
 *    before submission; the results (return code, NVMe status, raw log buffer) are decoded on
 *    the loop after completion. Adopt (nvme_init_ctrl: sysfs reads only) and the sysfs
 *    getters are loop-only and non-blocking.
 *
 * libnvme calls made by each verb (for the fake kernel, tests/integration):
 *  - stas_nvme_ctrl_new: nvme_create_root(NULL, level), nvme_lookup_host(r, hostnqn, hostid),
 *    nvme_host_set_hostsymname, [nvme_host_set_dhchap_key if kernel dhchap_secret],
 *    nvme_create_ctrl(r, subsysnqn, transport, traddr, host_traddr|NULL,
 *    host_iface|NULL (only if kernel host_iface), trsvcid|NULL),
 *    nvme_ctrl_set_discovery_ctrl(c, true) for DCs, [nvme_ctrl_set_dhchap_host_key,
 *    nvme_ctrl_set_dhchap_key if the kernel supports dhchap_secret / dhchap_ctrl_secret].
 *  - connect: nvmf_default_config + named fields (stas_nvme_build_config), then
 *    nvmf_add_ctrl(h, c, &cfg) (writes /dev/nvme-fabrics, reads "instance=N", nvme_init_ctrl).
 *  - adopt: nvme_init_ctrl(h, c, instance).
 *  - disconnect: nvme_disconnect_ctrl(c) (writes "1" to delete_controller).
 *  - dctype / cntrltype / state: nvme_get_ctrl_attr(c, "dctype"|"cntrltype"|"state").
 *  - register: nvme_host_set_hostsymname (current name, on the loop), then on the worker
 *    nvmf_is_registration_supported(c) (may send Identify) and nvmf_register_ctrl(c, tas, &res).
 *  - supported log pages: nvme_ctrl_get_fd(c), nvme_get_log_page(fd, 4096, {LID 0x00, RAE=1, 1024 bytes})
 *    (through nvme_get_log_supported_log_pages).
 *  - get log pages: nvme_ctrl_get_fd(c), then dlp_read() (dlp.h) with one nvme_get_log() per
 *    command ({LID 0x70, lsp, NSID none, lpo, len <= 4096, RAE}): header, entries, header again
 *    with RAE cleared; decoded on the worker. Never nvmf_get_discovery_wargs() (its size
 *    arithmetic wraps and it leaves RAE set, see dlp.h).
 *  - free: nvme_free_tree(r) (frees the ctrl; does not disconnect).
 *
 * Errors (mapped once, here): 0 success; -errno for libc errors (-1 + errno from libnvme; an
 * errno of 0 becomes -EIO); libnvme's own codes (ENVME_CONNECT_*, >= 1000) are kept as
 * -ENVME_CONNECT_x: print them with stas_nvme_strerror(), never "%m"; an NVMe status (> 0) becomes
 * -EREMOTEIO and the status is kept (stas_nvme_ctrl_last_status(), stas_nvme_status_string()).
 * Nothing here logs above debug level.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "stas/dlp.h"
#include "stas/kv.h"
#include "stas/macro.h"
#include "stas/task.h"
#include "stas/tid.h"
#include "stas/types.h"

struct nvme_fabrics_config;

/* Lowest libnvme-specific error code (ENVME_CONNECT_RESOLVE in libnvme 1.3). */
#define STAS_NVME_ERRNO_BASE 1000

/* TP8010 task (cdw10 TAS) */
typedef enum StasDimTask {
        STAS_DIM_REGISTER = 0,
        STAS_DIM_DEREGISTER = 1,
        STAS_DIM_UPDATE = 2,
} StasDimTask;

/* Discovery log LSP bits (NVMF_LOG_DISC_LSP_*) and LID-specific support bits. */
#define STAS_DLP_LSP_PLEO 0x02
#define STAS_DLP_LID_EXTDLPES 0x01
#define STAS_DLP_LID_PLEOS 0x02
#define STAS_DLP_LID_ALLSUBES 0x04

/* Options the running kernel accepts (from the /dev/nvme-fabrics probe, §3.7). */
typedef struct StasNvmeKernel {
        bool host_iface;
        bool discovery;
        bool dhchap_secret;
        bool dhchap_ctrl_secret;
} StasNvmeKernel;

/* Host identity; strings are copied. NULL/"" = unset. */
typedef struct StasNvmeHost {
        const char *hostnqn;
        const char *hostid;
        const char *hostkey; /* DHHC-1:... secret; never logged */
        const char *symname;
} StasNvmeHost;

typedef struct StasNvme StasNvme;
typedef struct StasNvmeCtrl StasNvmeCtrl;

/*
 * stas_nvme_new() - a context. @log_level is libnvme's own level (syslog LOG_*; libnvme prints
 * to stderr). Return: 0, -EINVAL (no hostnqn), -ENOMEM.
 */
int stas_nvme_new(const StasNvmeHost *host, const StasNvmeKernel *kernel, int log_level, StasNvme **ret);
StasNvme *stas_nvme_free(StasNvme *ctx);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasNvme *, stas_nvme_free);
/*
 * stas_nvme_set_host() - change the identity (e.g. on reload). Controllers created later use it;
 * existing ones pick up the symbolic name at their next register. Return: 0, -EINVAL, -ENOMEM.
 */
int stas_nvme_set_host(StasNvme *ctx, const StasNvmeHost *host);
void stas_nvme_set_kernel(StasNvme *ctx, const StasNvmeKernel *kernel);
/*
 * stas_nvme_set_log_level() - change libnvme's level (syslog LOG_*, e.g. when tron changes at run
 * time). libnvme keeps the level in each controller's root, so controllers created later use it;
 * existing ones keep theirs.
 */
void stas_nvme_set_log_level(StasNvme *ctx, int log_level);
int stas_nvme_get_log_level(const StasNvme *ctx);
/*
 * stas_nvme_ctrl_log_level() - the libnvme level a new controller with @opts gets: the context's
 * level, capped at LOG_INFO when the connection carries a DH-HMAC-CHAP secret (libnvme 1.3 prints
 * the connect string, secrets included, at debug level).
 */
int stas_nvme_ctrl_log_level(const StasNvme *ctx, const StasConnectOptions *opts);
const StasNvmeKernel *stas_nvme_get_kernel(const StasNvme *ctx);

/*
 * stas_nvme_ctrl_new() - an unconnected controller for @tid with @opts (copied; NULL = all
 * defaults). @discovery marks a discovery controller (TP8013 "discovery" flag; no I/O queue
 * options and no DH-HMAC-CHAP for DCs, as libnvme 1.3 does). An empty tid->host_nqn means the
 * context's hostnqn. Return: 0, -EINVAL (libnvme refused the TID, or a value that goes into the
 * connect string holds ',', '=' or a blank: stas_option_value_is_safe(), '=' allowed in secrets
 * only), -ENOMEM.
 */
int stas_nvme_ctrl_new(
        StasNvme *ctx,
        const StasTid *tid,
        const StasConnectOptions *opts,
        bool discovery,
        StasNvmeCtrl **ret);
/*
 * stas_nvme_ctrl_free() - free the controller (the kernel connection stays). If an async verb
 * is running, it is cancelled (its callback never runs) and the tree is freed when the worker
 * is done. NULL-tolerant; returns NULL.
 */
StasNvmeCtrl *stas_nvme_ctrl_free(StasNvmeCtrl *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasNvmeCtrl *, stas_nvme_ctrl_free);

/* stas_nvme_ctrl_busy() - an async verb is in flight (its worker owns the tree). */
bool stas_nvme_ctrl_busy(const StasNvmeCtrl *c);
/* stas_nvme_ctrl_cancel() - cancel the in-flight verb: its callback will not run. */
void stas_nvme_ctrl_cancel(StasNvmeCtrl *c);
/* stas_nvme_ctrl_name() - "nvmeN" once connected/adopted, else NULL. */
const char *stas_nvme_ctrl_name(const StasNvmeCtrl *c);
/* stas_nvme_ctrl_last_status() - NVMe status of the last verb that returned -EREMOTEIO. */
int stas_nvme_ctrl_last_status(const StasNvmeCtrl *c);

/* Synchronous verbs: block the calling thread. Return: 0 or a mapped error (above). */
int stas_nvme_ctrl_connect(StasNvmeCtrl *c);
/* stas_nvme_ctrl_adopt() - take over the existing kernel controller nvme<@instance>. */
int stas_nvme_ctrl_adopt(StasNvmeCtrl *c, int instance);
int stas_nvme_ctrl_disconnect(StasNvmeCtrl *c);
/* @ret_result (optional): command-specific DIM result. -EOPNOTSUPP if not a DDC/CDC. */
int stas_nvme_ctrl_register(StasNvmeCtrl *c, StasDimTask tas, uint32_t *ret_result);
/* @ret: LID-specific support bits of LID 0x70 (STAS_DLP_LID_*), i.e. le32(entry[0x70]) >> 16. */
int stas_nvme_ctrl_supported_log_pages(StasNvmeCtrl *c, uint32_t *ret);
/*
 * stas_nvme_ctrl_get_log_pages() - Get Discovery Log Page with @lsp (dlp_read(), at most
 * @max_retries passes); *@ret receives the decoded DLP list (dlp.h), *@ret_report (optional)
 * what was read and dropped (genctr, numrec, drops), also on failure.
 */
int stas_nvme_ctrl_get_log_pages(
        StasNvmeCtrl *c, uint8_t lsp, int max_retries, StasKV ***ret, StasDlpReport *ret_report);

/*
 * Sysfs getters (loop, non-blocking; need a connected/adopted controller): *@ret is a malloc'ed
 * trimmed attribute, "" if the kernel does not have it. Return: 0, -ENOTCONN, -EBUSY, -ENOMEM.
 */
int stas_nvme_ctrl_dctype(StasNvmeCtrl *c, char **ret);
int stas_nvme_ctrl_cntrltype(StasNvmeCtrl *c, char **ret);
int stas_nvme_ctrl_state(StasNvmeCtrl *c, char **ret);
/*
 * stas_nvme_ctrl_is_registration_supported() - from sysfs dctype only (no Identify, so it is
 * safe on the loop): 1 for "ddc"/"cdc", 0 for another value, -ENODATA when the kernel has no
 * dctype attribute (< 5.18): then stas_nvme_ctrl_register() decides (it may send Identify).
 */
int stas_nvme_ctrl_is_registration_supported(StasNvmeCtrl *c);

/* Async verbs: -EBUSY if one is already in flight; the callback runs on the loop. */
typedef void (*StasNvmeDone)(StasNvmeCtrl *c, int r, void *userdata);
typedef void (*StasNvmeRegisterDone)(StasNvmeCtrl *c, int r, uint32_t result, void *userdata);
typedef void (*StasNvmeSupportedDone)(StasNvmeCtrl *c, int r, uint32_t lid_support, void *userdata);
/*
 * @entries is owned by the callee (free with dlp_list_free()); NULL when r < 0. @report (never
 * NULL, valid during the call) tells what was read and dropped, also when r < 0.
 */
typedef void (*StasNvmeLogPagesDone)(
        StasNvmeCtrl *c, int r, StasKV **entries, const StasDlpReport *report, void *userdata);

int stas_nvme_ctrl_connect_async(StasNvmeCtrl *c, StasTaskPool *pool, StasNvmeDone cb, void *userdata);
int stas_nvme_ctrl_disconnect_async(StasNvmeCtrl *c, StasTaskPool *pool, StasNvmeDone cb, void *userdata);
int stas_nvme_ctrl_register_async(
        StasNvmeCtrl *c, StasTaskPool *pool, StasDimTask tas, StasNvmeRegisterDone cb, void *userdata);
int stas_nvme_ctrl_supported_log_pages_async(
        StasNvmeCtrl *c, StasTaskPool *pool, StasNvmeSupportedDone cb, void *userdata);
int stas_nvme_ctrl_get_log_pages_async(
        StasNvmeCtrl *c,
        StasTaskPool *pool,
        uint8_t lsp,
        int max_retries,
        StasNvmeLogPagesDone cb,
        void *userdata);

/*
 * stas_nvme_build_config() - fill @cfg from @opts: nvmf_default_config() first, then only the
 * options that are set: keep_alive_tmo (kato), queue_size, nr_io_queues, nr_write_queues,
 * nr_poll_queues, reconnect_delay, ctrl_loss_tmo (when ctrl_loss_tmo_set), hdr_digest,
 * data_digest, disable_sqflow. @opts NULL = defaults.
 */
void stas_nvme_build_config(const StasConnectOptions *opts, struct nvme_fabrics_config *cfg);

/*
 * stas_nvme_map_error() - the mapping above, from a libnvme return value and the errno seen
 * right after it. @ret_status (optional) receives the NVMe status when ret > 0.
 */
int stas_nvme_map_error(int ret, int err, int *ret_status);
/* stas_nvme_strerror() - message for a mapped error (libnvme's text for -ENVME_*, else strerror). */
/*
 * stas_nvme_error_name() - the errno name a libnvme connect code (>= STAS_NVME_ERRNO_BASE) stands
 * for ("ECONNREFUSED" for ENVME_CONNECT_CONNREFUSED), NULL for the others.
 */
const char *stas_nvme_error_name(int r);
const char *stas_nvme_strerror(int r);
/* stas_nvme_status_string() - libnvme's text for an NVMe (fabrics) status. */
const char *stas_nvme_status_string(int status);
/* stas_nvme_version() - libnvme's version string ("1.3"). */
const char *stas_nvme_version(void);
