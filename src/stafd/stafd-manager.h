/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-manager.h - the discovery-controller (DC) manager of stafd, free of D-Bus and avahi so
 * it is unit-tested with the fake controller backend (tests/unit/fake-ctrl-ops.h).
 *
 * Sources of DCs: the controller= entries of stafd.conf, the zeroconf services handed in by
 * staf_manager_set_zeroconf(), and the referrals of the DCs' log pages (expanded only from
 * configured and zeroconf DCs, transitively, so a referral cycle can neither grow the set nor keep
 * itself alive). The first change arms a short soak timer (STAF_SOAK_USEC; later changes within
 * the window do not push it out); when it fires the set is reconciled with reconcile_dcs() (exclusions,
 * ip-family and address filters on all three). Host names in controller= traddrs are resolved first on the
 * worker pool (staf_manager_set_task_pool(), resolve.h); the pass then completes when the answers arrive.
 *
 * Per DC (StafDc, on a StasCtrl): connect or adopt; then TP8010 DIM register when the DC supports
 * it; then, with pleo enabled on a DC that is not a CDC, the Supported Log Pages to decide the
 * PLEO bit; then Get Discovery Log Page. Failures retry after 5 s (register, supported) and 20 s
 * (log), logging one error per streak. AEN 0x70f002 re-reads the log; NVME_EVENT=connected or
 * rediscover resyncs from the register step; a removed device reconnects and keeps its cached log
 * pages. The log_pages_changed hook runs only when the cached content changed (DESIGN 4).
 *
 * The last-known state (per DC: TID, origin, log pages) is restored by staf_manager_start() (the
 * cached log pages are served at once) and saved after every reconcile, every log page change and
 * at stop. A restored DC touches the kernel only from the first reconcile on, with the options of
 * the current configuration; one no longer wanted is never connected (a connection the previous
 * run left in the kernel is adopted only to deregister and disconnect it). Every reconcile
 * recomputes the connect options of every kept DC ([Global] plus its controller= entry, if any).
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "stas/ctrl.h"
#include "stas/conf.h"
#include "stas/reconcile.h"
#include "stas/sysconf.h"
#include "stas/task.h"

#define STAF_SOAK_USEC (150 * USEC_PER_MSEC)
#define STAF_REGISTER_RETRY_USEC (5 * USEC_PER_SEC)
#define STAF_SUPPORTED_RETRY_USEC (5 * USEC_PER_SEC)
#define STAF_LOG_RETRY_USEC (20 * USEC_PER_SEC)
/* hostile DLPs: at most this many referral DCs in total */
#define STAF_MAX_REFERRALS 256

typedef struct StafManager StafManager;
typedef struct StafDc StafDc;

typedef struct StafHooks {
        void (*log_pages_changed)(StafManager *m, StafDc *dc, void *userdata);
        void (*dc_removed)(StafManager *m, void *userdata);
        /* a change uevent from a DC stafd does not own (§5.11 interop); optional */
        void (*foreign_dc_event)(StafManager *m, const StasUevent *ev, void *userdata);
} StafHooks;

/*
 * staf_manager_new() - @conf and @sys are taken (also on failure). @lkc_path NULL disables the
 * last-known state. Return: 0 or -errno.
 */
int staf_manager_new(
        sd_event *event,
        const StasCtrlOps *ops,
        void *ops_ctx,
        StasConf *conf,
        StasSysConf *sys,
        const char *lkc_path,
        const StafHooks *hooks,
        void *userdata,
        StafManager **ret);
StafManager *staf_manager_free(StafManager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(StafManager *, staf_manager_free);

/* staf_manager_start() - restore the last-known state and schedule the first reconcile. */
int staf_manager_start(StafManager *m);
/*
 * staf_manager_reload() - swap in a new configuration and identity (both taken). A changed
 * symbolic name re-registers (DIM update) the connected DCs. Schedules a reconcile.
 */
int staf_manager_reload(StafManager *m, StasConf *conf, StasSysConf *sys);
/*
 * staf_manager_set_zeroconf() - the reachable zeroconf services now (dicts with transport,
 * traddr, trsvcid, host-iface, subsysnqn; copied). Schedules a reconcile.
 */
int staf_manager_set_zeroconf(StafManager *m, StasKV *const *services, size_t n);
/*
 * staf_dc_candidate() - the TID of a DC candidate from a controller= entry or a zeroconf record
 * (transport, traddr, trsvcid, host-traddr, host-iface, host-nqn, subsysnqn keys): an empty
 * subsysnqn becomes the well-known discovery NQN, an empty host-nqn the host's NQN from @sys,
 * and ignore-iface clears host-iface. Filters are not applied here. Return: NULL on ENOMEM.
 */
StasTid *staf_dc_candidate(const StasConf *conf, const StasSysConf *sys, const StasKV *record);
/*
 * staf_manager_set_task_pool() - the workers that resolve host names in controller= traddrs
 * (resolve.h): stafd's pool of short operations, never the connect pool (a lookup must not
 * wait behind connects to dead targets). Without a pool such entries are dropped with an
 * error. Call before staf_manager_start(). Return: 0 or -ENOMEM.
 */
int staf_manager_set_task_pool(StafManager *m, StasTaskPool *pool);
/*
 * staf_manager_uevent() - route a kernel event to the DC owning the device. On
 * STAS_UEVENT_OVERFLOW (events were lost) every DC is checked against sysfs
 * (stas_ctrl_resync()), and each one still connected whose log pages were read re-reads them:
 * an AEN may have been among the lost events.
 */
void staf_manager_uevent(StafManager *m, const StasUevent *ev);
/* staf_manager_reconcile_now() - run the reconcile immediately (tests). */
int staf_manager_reconcile_now(StafManager *m);
/*
 * staf_manager_stop() - save the state, dispose of every DC (keep the kernel connections when
 * persistent-connections, else DIM deregister and disconnect) and call @done once everything
 * is disposed (possibly on the next loop iteration).
 */
int staf_manager_stop(StafManager *m, void (*done)(void *userdata), void *userdata);
/*
 * staf_manager_save() - write the last-known state soon: coalesced (at most one write per
 * LKC_WRITER_INTERVAL_USEC) and written off the loop (lkc-writer.h); staf_manager_stop() writes
 * what is pending at once.
 */
void staf_manager_save(StafManager *m);
/* staf_manager_flush_state() - write a pending save now (lkc_writer_flush()). Return: 0 or -errno. */
int staf_manager_flush_state(StafManager *m);

const StasConf *staf_manager_conf(const StafManager *m);
const StasSysConf *staf_manager_sysconf(const StafManager *m);
size_t staf_manager_n_dcs(const StafManager *m);
StafDc *staf_manager_dc(const StafManager *m, size_t i);
StafDc *staf_manager_find(const StafManager *m, const StasTid *tid);
/* staf_manager_n_disposing() - DCs being removed (the terminator). */
size_t staf_manager_n_disposing(const StafManager *m);
/* staf_manager_metrics_add() - the "metrics" key of process_info (metrics.h). */
int staf_manager_metrics_add(const StafManager *m, json_object *o);
const StasTid *staf_manager_disposing_tid(const StafManager *m, size_t i);
/* staf_manager_soak_timer() - for process_info. */
const StasTimer *staf_manager_soak_timer(const StafManager *m);
const char *staf_manager_lkc_path(const StafManager *m);
/* staf_manager_lkc_error() - the state file's last problem ("" when none; process_info). */
const char *staf_manager_lkc_error(const StafManager *m);

const StasTid *staf_dc_tid(const StafDc *dc);
StasOrigin staf_dc_origin(const StafDc *dc);
/* staf_dc_log_pages() - the cached DLPEs (NULL-terminated, maybe NULL = none). */
StasKV *const *staf_dc_log_pages(const StafDc *dc);
/* staf_dc_device() - "nvmeN" or NULL. */
const char *staf_dc_device(const StafDc *dc);
StasCtrl *staf_dc_ctrl(const StafDc *dc);
/*
 * staf_dc_id_dict() - controller_id_dict: the TID keys, "device" ("nvme?" if none) and the
 * controller= entry's other keys (secrets shown as "(set)"). @detailed adds the info keys.
 */
int staf_dc_id_dict(const StafDc *dc, bool detailed, StasKV **ret);
/* staf_dc_info() - the info() dict (ctrl info + origin, lost-DC timers, operation states). */
int staf_dc_info(const StafDc *dc, StasKV *kv);

/* staf_manager_all_log_pages_json() - the get_all_log_pages() JSON array. */
int staf_manager_all_log_pages_json(const StafManager *m, bool detailed, char **ret);
