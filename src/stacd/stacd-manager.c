/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-manager.c - stacd's IOC set: reconcile (§5.8), the audit of foreign connections, uevent
 * routing, the state file, reload and the bounded stop. See stacd-manager.h; one IOC is
 * stacd-ctrl.c.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "stas/metrics.h"
#include "stacd-ctrl.h"
#include "stacd-manager.h"
#include "stacd-conf.h"
#include "stas/bus-debug.h"
#include "stas/json-util.h"
#include "stas/daemon.h"
#include "stas/dlp.h"
#include "stas/kvv.h"
#include "stas/filter.h"
#include "stas/ifaddr.h"
#include "stas/lkc.h"
#include "stas/log.h"
#include "stas/match.h"
#include "stas/strv.h"

/*
 * Worker pools (task.h, ctrl.h). Connects get their own pool: a connect to a dead target can
 * block its worker in the kernel for the transport's connect timeout. 32 connects at once let
 * the I/O controllers of a host converge in parallel after a boot or a fabric outage, and a dead
 * fabric costs at most 32 threads; further connects wait in the queue (and only ever behind other
 * connects, retried on their backoff). The short operations (disconnect, host name lookups) take
 * a round trip or a few: 4 workers are enough.
 */
#define STACD_CONNECT_WORKERS 32
#define STACD_SHORT_WORKERS 4

static void stop_now(StacdManager *m) {
        manager_save_lkc(m);
        (void) lkc_writer_flush(m->lkc_writer); /* always written at stop */
        (void) sd_event_exit(m->event, 0);
}

/* Stop tracking @io; disconnect unless @keep. Never overtakes a connect in flight (ctrl.h). */
static void ioc_dispose(StacdManager *m, StacdIoc *io, bool keep) {
        _cleanup_free_ char *s = ioc_tid_str(stas_ctrl_tid(io->ctrl));
        int r;

        (void) ioc_list_remove(&m->iocs, &m->n_iocs, io);
        log_info(
                "Controller %s is no longer wanted: %s.",
                s,
                keep ? "forgetting it, connection kept" : "disconnecting");
        /* the terminator keeps the controller until its disconnect is done; the IOC goes now */
        r = ctrl_set_remove(m->ctrls, TAKE_PTR(io->ctrl), keep, false);
        ioc_free(io);
        if (r < 0)
                log_warning_errno(r, "Controller %s: dispose failed, leaving its connection: %m", s);
}

/**
 * manager_find() - a tracked IOC by TID.
 * @m: the manager
 * @tid: the TID
 */
StacdIoc *manager_find(StacdManager *m, const StasTid *tid) {
        for (size_t i = 0; i < m->n_iocs; i++)
                if (tid_equal(stas_ctrl_tid(m->iocs[i]->ctrl), tid))
                        return m->iocs[i];
        return NULL;
}

static void plan_conf(StacdManager *m, StacdPlanConf *pc) {
        *pc = (StacdPlanConf){
                .controllers = m->conf->controllers,
                .n_controllers = m->conf->n_controllers,
                .excludes = m->conf->excludes,
                .n_excludes = m->conf->n_excludes,
                .ignore_iface = m->conf->ignore_iface,
                .ip_family = m->conf->ip_family,
                .scope = m->conf->disconnect_scope,
                .trtypes = m->conf->disconnect_trtypes,
                .hostnqn = m->sys->hostnqn,
        };
}

/* exclusions apply to a host name before it is resolved (and to the address in stacd_plan()) */
static bool name_excluded(const StasKV *entry, void *userdata) {
        StacdManager *m = userdata;
        _cleanup_(tid_freep) StasTid *t =
                stacd_configured_tid(entry, m->conf->ignore_iface, m->sys->hostnqn);

        return t && filter_tid_excluded(m->conf->excludes, m->conf->n_excludes, t, entry) != 0;
}

static void reconcile(StacdManager *m);

static void names_resolved(StasResolver *res, void *userdata) {
        reconcile(userdata);
}

static void reconcile(StacdManager *m) {
        _cleanup_(stacd_plan_done) StacdPlan p = {};
        _cleanup_(kvv_freep) StasKV **controllers = NULL;
        _cleanup_free_ StacdCurrentIoc *cur = NULL;
        _cleanup_free_ StacdIoc **snap = NULL;
        StacdPlanConf pc;
        size_t n = m->n_iocs;
        int r;

        if (m->stopping)
                return;
        cur = new0(StacdCurrentIoc, n + 1);
        snap = new0(StacdIoc *, n + 1);
        if (!cur || !snap) {
                log_oom();
                return;
        }
        for (size_t i = 0; i < n; i++) {
                snap[i] = m->iocs[i];
                cur[i] = (StacdCurrentIoc){ stas_ctrl_tid(snap[i]->ctrl), snap[i]->maybe_discovered };
        }
        /* host names in controller= entries (§5.1): the pass continues once they are resolved */
        r = resolver_resolve_conf(m->resolver, m->conf, name_excluded, m, &controllers);
        if (r == -EINPROGRESS) {
                log_debug(
                        "Reconcile waits for %u host name(s) to be resolved.",
                        resolver_pending(m->resolver));
                return;
        }
        if (r < 0) {
                log_oom();
                return;
        }
        resolver_reset(m->resolver); /* the next pass asks DNS again */
        plan_conf(m, &pc);
        pc.controllers = controllers;
        pc.n_controllers = kvv_length(controllers);
        r = stacd_plan(&pc, &m->discovered, cur, n, &p);
        if (r < 0) {
                log_error_errno(r, "Failed to reconcile the I/O controllers: %m");
                return;
        }

        /* update the kept ones (a deferred removal keeps its old source) */
        for (size_t i = 0; i < n; i++) {
                StacdIoc *io = snap[i];
                StasConnectOptions opts;

                if (!p.cur_src[i].entry && !p.cur_src[i].dlpe)
                        continue;
                if (ioc_set_source(io, p.cur_src[i].entry, p.cur_src[i].dlpe) < 0 ||
                    ioc_options(m, io, &opts) < 0) {
                        log_oom();
                        continue;
                }
                (void) stas_ctrl_set_options(io->ctrl, &opts);
                connect_options_done(&opts);
        }
        for (size_t i = 0; i < p.n_del; i++)
                ioc_dispose(m, snap[p.del[i]], p.del_keep_connection[i]);
        if (p.n_deferred > 0)
                log_info(
                        "%zu I/O controller(s) not wanted by the configuration kept: the discovered set is not "
                        "known yet (stafd not reached).",
                        p.n_deferred);
        for (size_t i = 0; i < p.n_add; i++) {
                _cleanup_free_ char *s = ioc_tid_str(p.add[i]);
                StacdIoc *io;

                r = ioc_new(m, p.add[i], &p.add_src[i], &io);
                if (r < 0) {
                        log_error_errno(r, "Controller %s: cannot be created: %m", s);
                        continue;
                }
                log_debug("Controller %s added (%s).", s, p.add_src[i].entry ? "configured" : "discovered");
        }
        for (size_t i = 0; i < m->n_iocs; i++)
                ioc_start(m->iocs[i]);
        manager_save_lkc(m);
}

static void reconcile_timer_cb(StasTimer *t, void *userdata) {
        reconcile(userdata);
}

/**
 * manager_schedule_reconcile() - debounce a reconcile.
 * @m: the manager
 * @usec: delay
 */
void manager_schedule_reconcile(StacdManager *m, uint64_t usec) {
        if (m->stopping)
                return;
        if (timer_is_armed(m->reconcile_timer) && timer_remaining(m->reconcile_timer) <= usec)
                return;
        (void) timer_start(m->reconcile_timer, usec);
}

/* Kernel IOC devices of a disconnect-trtypes transport (never pcie) that nothing tracks or
 * wants: track them (they adopt), so the reconcile removes them (§5.8 audit). */
static void audit(StacdManager *m) {
        _cleanup_(nvmedev_list_freep) StasNvmeDevice **devs = NULL;
        _cleanup_(ifaddr_map_freep) StasIfMap *ifaces = NULL;
        _cleanup_(stacd_plan_done) StacdPlan p = {};
        StacdPlanConf pc;
        size_t added = 0;
        int r;

        if (m->stopping || m->conf->disconnect_scope != STAS_DISCONNECT_ALL_MATCHING)
                return;
        if (!m->discovered.known) {
                /* nothing adopted now could be removed, and a TID guessed from sysfs before the
                 * set is known might differ from the one stafd will report: audit once known */
                log_debug("Audit postponed until the discovered set is known.");
                return;
        }
        r = nvmedev_enumerate(m->ctrl_ctx.sysfs_root, &devs);
        if (r < 0) {
                log_warning_errno(r, "Audit: cannot list the nvme controllers: %m");
                return;
        }
        if (ifaddr_map_from_system(&ifaces) < 0 && !(ifaces = ifaddr_map_new()))
                return (void) log_oom();
        /* what the configuration and the discovered set want, as if nothing were tracked */
        plan_conf(m, &pc);
        r = stacd_plan(&pc, &m->discovered, NULL, 0, &p);
        if (r < 0)
                return (void) log_oom();

        for (size_t i = 0; devs && devs[i]; i++) {
                const StasNvmeDevice *d = devs[i];
                _cleanup_(tid_freep) StasTid *t = NULL;
                bool skip = false;
                StasConnId cid;
                StacdIoc *io;

                if (streq(d->transport, "pcie") ||
                    !strv_contains(m->conf->disconnect_trtypes, d->transport) || !nvmedev_is_ioc(d) ||
                    streq(d->state, "deleting"))
                        continue;
                nvmedev_conn_id(d, &cid);
                for (size_t j = 0; j < m->n_iocs && !skip; j++)
                        skip = streq_ptr(stas_ctrl_device(m->iocs[j]->ctrl), d->sysname) ||
                                match_cid_tid(&cid, stas_ctrl_tid(m->iocs[j]->ctrl), ifaces);
                for (size_t j = 0; j < ctrl_set_n_removing(m->ctrls) && !skip; j++) {
                        StasCtrl *c = ctrl_set_removing(m->ctrls, j);

                        skip = streq_ptr(stas_ctrl_device(c), d->sysname) ||
                                match_cid_tid(&cid, stas_ctrl_tid(c), ifaces);
                }
                for (size_t j = 0; j < p.n_add && !skip; j++)
                        skip = match_cid_tid(&cid, p.add[j], ifaces);
                if (skip)
                        continue;
                t =
                        tid_new(d->transport,
                                d->traddr,
                                d->trsvcid,
                                d->subsysnqn,
                                d->host_traddr,
                                m->conf->ignore_iface ? "" : d->host_iface,
                                isempty(d->hostnqn) ? m->sys->hostnqn : d->hostnqn);
                if (!t)
                        return (void) log_oom();
                if (manager_find(m, t) || ctrl_set_removing_tid(m->ctrls, t))
                        continue;
                r = ioc_new(m, t, NULL, &io);
                if (r < 0) {
                        log_warning_errno(r, "Audit: cannot track %s: %m", d->sysname);
                        continue;
                }
                io->maybe_discovered = true;
                ioc_start(io);
                added++;
                log_debug("Audit: tracking %s, not configured by stas.", d->sysname);
        }
        /* let the new controllers adopt their device before the reconcile disposes of them */
        if (added > 0)
                manager_schedule_reconcile(m, STACD_AUDIT_ADOPT_USEC);
}

/**
 * manager_discovered_updated() - a live stafd answered: persist, reconcile, audit if needed.
 * @m: the manager
 */
void manager_discovered_updated(StacdManager *m) {
        manager_save_lkc(m);
        manager_schedule_reconcile(m, 0);
        if (m->conf->disconnect_scope == STAS_DISCONNECT_ALL_MATCHING && !timer_is_armed(m->audit_timer))
                (void) timer_start(m->audit_timer, 0);
}

static void stopped(size_t left, void *userdata) {
        StacdManager *m = userdata;

        if (left > 0)
                log_warning(
                        "%zu disconnect(s) still pending after %u s: leaving those controllers connected; they are "
                        "kept in the last known configuration and removed at the next start.",
                        left,
                        (unsigned) (STAS_STOP_WAIT_USEC / USEC_PER_SEC));
        else
                log_info("Pending disconnects done.");
        stop_now(m);
}

static void audit_timer_cb(StasTimer *t, void *userdata) {
        audit(userdata);
}

static void on_uevent(const StasUevent *ev, void *userdata) {
        StacdManager *m = userdata;

        /* lost events: every IOC is checked against sysfs; an add may be lost too (audit) */
        (void) ctrl_set_uevent(m->ctrls, ev);
        if (ev->action == STAS_UEVENT_OVERFLOW && m->conf->disconnect_scope == STAS_DISCONNECT_ALL_MATCHING)
                (void) timer_start(m->audit_timer, STACD_AUDIT_SOAK_USEC);
        if (ev->action == STAS_UEVENT_ADD && m->conf->disconnect_scope == STAS_DISCONNECT_ALL_MATCHING)
                (void) timer_start(m->audit_timer, STACD_AUDIT_SOAK_USEC);
}

/**
 * manager_save_lkc() - persist what stacd knows.
 * @m: the manager
 */
void manager_save_lkc(StacdManager *m) {
        /* coalesced, written off the loop; a failure is warned about once and shown by process_info */
        lkc_writer_schedule(m->lkc_writer);
}

/* The state file's document, when the writer starts a write (lkc-writer.h). */
static json_object *lkc_document(void *userdata) {
        StacdManager *m = userdata;
        _cleanup_free_ StasTid **tids = NULL;
        json_object *doc;
        size_t n = 0;

        tids = new0(StasTid *, m->n_iocs + ctrl_set_n_removing(m->ctrls) + 1);
        if (!tids)
                return NULL;
        for (size_t i = 0; i < m->n_iocs; i++)
                tids[n++] = (StasTid *) stas_ctrl_tid(m->iocs[i]->ctrl);
        /* leaving with disconnects pending: they stay connected, the next start removes them */
        for (size_t i = 0; m->stopping && i < ctrl_set_n_removing(m->ctrls); i++)
                tids[n++] = (StasTid *) stas_ctrl_tid(ctrl_set_removing(m->ctrls, i));
        doc = stacd_lkc_build(tids, n, &m->discovered);
        if (doc && lkc_host_uuid_add(doc) < 0) {
                json_object_put(doc);
                return NULL;
        }
        return doc;
}

/* §5.13: the discovered set, and each IOC whose kernel device still exists. */
static void restore_lkc(StacdManager *m) {
        _cleanup_(dlp_tids_freep) StasTid **tids = NULL;
        json_object *data = NULL;
        StacdDiscovered d = {};
        void *snap = NULL;
        int r;

        r = lkc_load_status(m->lkc_path, "stacd", &m->lkc_status, &data);
        if (r < 0)
                return; /* missing: nothing; bad: warned by lkc_load_status() */
        r = stacd_lkc_parse(data, &tids, &d);
        json_object_put(data);
        if (r < 0) {
                log_warning("Ignoring %s: unexpected content.", m->lkc_path);
                lkc_status_set(&m->lkc_status, r, "%s: unexpected content (not restored)", m->lkc_path);
                return;
        }
        stacd_discovered_done(&m->discovered);
        m->discovered = d;
        if (d.known)
                log_info("Restored the last known discovered set (%zu discovery controller(s)).", d.n);

        /* one look at the kernel for every IOC of the last run */
        if (tids[0])
                (void) ctrl_set_snapshot(m->ctrls, &snap);
        for (size_t i = 0; tids[i]; i++) {
                int instance;
                StacdIoc *io;

                if (manager_find(m, tids[i]))
                        continue;
                r = ctrl_set_find(m->ctrls, snap, tids[i], false, &instance);
                if (r <= 0)
                        continue;
                if (ioc_new(m, tids[i], NULL, &io) < 0)
                        continue;
                io->maybe_discovered = true;
        }
        ctrl_set_snapshot_free(m->ctrls, snap);
}

static int nvme_host(StacdManager *m, StasNvmeHost *h) {
        *h = (StasNvmeHost){
                .hostnqn = m->sys->hostnqn,
                .hostid = m->sys->hostid,
                .hostkey = m->sys->hostkey,
                .symname = m->sys->symname,
        };
        return 0;
}

/**
 * manager_log_level_apply() - tron from the flag or the config.
 * @m: the manager
 */
void manager_log_level_apply(StacdManager *m) {
        bool tron = m->tron_flag || (m->conf && m->conf->tron);

        log_set_max_level(daemon_log_level(m->tron_flag, m->conf && m->conf->tron));
        /* libnvme's own level follows (new controllers get it) */
        if (m->nvme)
                stas_nvme_set_log_level(m->nvme, tron ? LOG_DEBUG : LOG_ERR);
}

/**
 * manager_new() - a manager (nothing loaded yet).
 * @event: the loop
 * @conf_path: stacd.conf
 * @tron: --tron
 * @ret: the manager
 */
int manager_new(sd_event *event, const char *conf_path, bool tron, StacdManager **ret) {
        _cleanup_(manager_freep) StacdManager *m = new0(StacdManager, 1);
        int r;

        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(event);
        m->tron_flag = tron;
        m->conf_path = strdup(conf_path);
        if (!m->conf_path)
                return -ENOMEM;
        m->sys_path = daemon_sysconf_path() ? strdup(daemon_sysconf_path()) : NULL;
        r = timer_new(event, reconcile_timer_cb, m, &m->reconcile_timer);
        if (r < 0)
                return r;
        r = timer_new(event, audit_timer_cb, m, &m->audit_timer);
        if (r < 0)
                return r;
        r = lkc_default_path("stacd", &m->lkc_path);
        if (r < 0)
                return r;
        r = lkc_writer_new(event, m->lkc_path, "stacd", &m->lkc_status, lkc_document, m, &m->lkc_writer);
        if (r < 0)
                return r;
        r = resolver_new(NULL, names_resolved, m, &m->resolver); /* workers come with manager_load() */
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

/**
 * manager_free() - free everything; kernel connections are left alone.
 * @m: the manager
 */
StacdManager *manager_free(StacdManager *m) {
        if (!m)
                return NULL;
        stacd_bus_done(m);
        m->staf = staf_free(m->staf);
        for (size_t i = 0; i < m->n_iocs; i++)
                ioc_free(m->iocs[i]);
        free(m->iocs);
        m->ctrls = ctrl_set_free(m->ctrls);
        m->lkc_writer = lkc_writer_free(m->lkc_writer);
        m->udev = stas_udev_free(m->udev);
        m->resolver = resolver_free(m->resolver);
        /* bounded (daemon.h): a connect blocked in the kernel does not hold up the exit */
        (void) task_pool_free_within(m->connect_pool, STAS_STOP_WORKERS_USEC);
        (void) task_pool_free_within(m->short_pool, STAS_STOP_WORKERS_USEC);
        m->connect_pool = m->short_pool = NULL;
        stas_nvme_free(m->nvme);
        timer_free(m->reconcile_timer);
        timer_free(m->audit_timer);
        stacd_discovered_done(&m->discovered);
        kernel_options_done(&m->kopts);
        stas_conf_free(m->conf);
        sysconf_free(m->sys);
        free(m->lkc_path);
        free(m->conf_path);
        free(m->sys_path);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

/**
 * manager_load() - the first load of the configuration and the kernel context.
 * @m: the manager
 */
int manager_load(StacdManager *m) {
        StasNvmeKernel k;
        StasNvmeHost h;
        int r;

        r = stas_conf_load(&stacd_conf_schema, m->conf_path, &m->conf);
        if (r < 0)
                return log_error_errno(r, "Cannot load %s: %m", m->conf_path);
        manager_log_level_apply(m);
        lkc_host_uuid_restore(m->lkc_path, "stacd"); /* a random host NQN survives a restart */
        r = sysconf_load(m->sys_path, NULL, &m->sys);
        if (r < 0)
                return log_error_errno(r, "Cannot load the host configuration (sys.conf): %m");
        r = kernel_options_probe(NULL, kernel_fabrics_path(), &m->kopts);
        if (r < 0)
                return log_error_errno(r, "Cannot probe the kernel's NVMe options: %m");
        k = (StasNvmeKernel){
                .host_iface = m->kopts.host_iface,
                .discovery = m->kopts.discovery,
                .dhchap_secret = m->kopts.dhchap_secret,
                .dhchap_ctrl_secret = m->kopts.dhchap_ctrl_secret,
        };
        nvme_host(m, &h);
        r = stas_nvme_new(&h, &k, (m->tron_flag || m->conf->tron) ? LOG_DEBUG : LOG_ERR, &m->nvme);
        if (r < 0)
                return log_error_errno(r, "Cannot create the libnvme context: %m");
        r = task_pool_new(m->event, STACD_CONNECT_WORKERS, &m->connect_pool);
        if (r >= 0)
                r = task_pool_new(m->event, STACD_SHORT_WORKERS, &m->short_pool);
        if (r < 0)
                return log_error_errno(r, "Cannot create the worker pools: %m");
        m->ctrl_ctx = (StasCtrlNvmeCtx){ .nvme = m->nvme,
                                         .connect_pool = m->connect_pool,
                                         .short_pool = m->short_pool,
                                         .sysfs_root = NULL };
        r = ctrl_set_new(m->event, &stas_ctrl_nvme_ops, &m->ctrl_ctx, &m->ctrls);
        if (r < 0)
                return log_error_errno(r, "Cannot create the controller set: %m");
        if (getenv("NOTIFY_SOCKET")) {
                r = ctrl_set_notify_status(m->ctrls, "I/O controllers");
                if (r < 0)
                        return log_error_errno(r, "Cannot follow the controllers for STATUS=: %m");
        }
        m->resolver = resolver_free(m->resolver);
        r = resolver_new(m->short_pool, names_resolved, m, &m->resolver);
        if (r < 0)
                return log_error_errno(r, "Cannot create the name resolver: %m");
        return 0;
}

/**
 * manager_new_backend() - see stacd-manager.h.
 *
 * Return: 0 or -errno.
 */
int manager_new_backend(
        sd_event *event,
        const StasCtrlOps *ops,
        void *ops_ctx,
        const char *conf_path,
        StasConf *conf,
        StasSysConf *sys,
        const char *lkc_path,
        StacdManager **ret) {
        _cleanup_(stas_conf_freep) StasConf *c = conf;
        _cleanup_(sysconf_freep) StasSysConf *s = sys;
        _cleanup_(manager_freep) StacdManager *m = NULL;
        int r;

        if (!ops || !conf || !sys || !ret)
                return -EINVAL;
        r = manager_new(event, conf_path, false, &m);
        if (r < 0)
                return r;
        r = ctrl_set_new(event, ops, ops_ctx, &m->ctrls);
        if (r < 0)
                return r;
        m->no_udev = true;
        m->conf = TAKE_PTR(c);
        m->sys = TAKE_PTR(s);
        m->lkc_writer = lkc_writer_free(m->lkc_writer);
        free(m->lkc_path);
        m->lkc_path = NULL;
        if (lkc_path) {
                m->lkc_path = strdup(lkc_path);
                if (!m->lkc_path)
                        return -ENOMEM;
                r = lkc_writer_new(
                        event, m->lkc_path, "stacd", &m->lkc_status, lkc_document, m, &m->lkc_writer);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

/**
 * manager_uevent() - see stacd-manager.h.
 * @m: the manager
 * @ev: the event
 */
void manager_uevent(StacdManager *m, const StasUevent *ev) {
        on_uevent(ev, m);
}

/**
 * manager_start() - restore state, watch udev, plan the first reconcile.
 * @m: the manager
 */
int manager_start(StacdManager *m) {
        int r;

        restore_lkc(m);
        r = m->no_udev ? 0 : stas_udev_new(m->event, on_uevent, m, &m->udev);
        if (r < 0)
                log_warning_errno(r, "Cannot monitor udev events, continuing without: %m");
        manager_schedule_reconcile(m, 0);
        if (m->conf->disconnect_scope == STAS_DISCONNECT_ALL_MATCHING)
                (void) timer_start(m->audit_timer, 0);
        return 0;
}

/**
 * manager_reload() - SIGHUP.
 * @m: the manager
 */
void manager_reload(StacdManager *m) {
        _cleanup_(stas_conf_freep) StasConf *c = NULL;
        _cleanup_(sysconf_freep) StasSysConf *s = NULL;
        StasNvmeHost h;
        int r;

        daemon_notify_reloading();
        log_info("Reloading the configuration.");
        /* both files or neither (issue 9, failure 7): never the new sys.conf with the old stacd.conf */
        r = daemon_reload_confs(&stacd_conf_schema, m->conf_path, m->sys_path, &c, &s);
        if (r >= 0) {
                stas_conf_free(m->conf);
                m->conf = TAKE_PTR(c);
                sysconf_free(m->sys);
                m->sys = TAKE_PTR(s);
                nvme_host(m, &h);
                r = m->nvme ? stas_nvme_set_host(m->nvme, &h) : 0; /* no libnvme on a test backend */
                if (r < 0)
                        log_warning_errno(r, "Cannot apply the host configuration: %m");
        }
        manager_log_level_apply(m);

        /* §5.7: an IOC that is not connected and has no retry pending tries again now */
        for (size_t i = 0; i < m->n_iocs; i++) {
                StasCtrl *ctrl = m->iocs[i]->ctrl;

                if (!stas_ctrl_connected(ctrl) && !stas_ctrl_retry_pending(ctrl) && !stas_ctrl_busy(ctrl)) {
                        m->iocs[i]->ncc_stopped = false;
                        (void) stas_ctrl_connect_now(ctrl);
                }
        }
        manager_schedule_reconcile(m, 0);
        if (m->conf->disconnect_scope == STAS_DISCONNECT_ALL_MATCHING)
                (void) timer_start(m->audit_timer, 0);
        daemon_notify_ready();
}

/**
 * manager_stop() - orderly stop: I/O connections stay.
 * @m: the manager
 */
void manager_stop(StacdManager *m) {
        if (m->stopping)
                return;
        daemon_notify_stopping();
        log_info("Stopping; I/O controller connections are left in place.");
        m->stopping = true;
        timer_stop(m->reconcile_timer);
        timer_stop(m->audit_timer);
        if (ctrl_set_n_removing(m->ctrls) == 0)
                return stop_now(m);
        log_info(
                "Waiting up to %u s for %zu pending disconnect(s).",
                (unsigned) (STAS_STOP_WAIT_USEC / USEC_PER_SEC),
                ctrl_set_n_removing(m->ctrls));
        (void) ctrl_set_stop(m->ctrls, STAS_STOP_WAIT_USEC, stopped, m);
}

/**
 * manager_ioc_dict() - one list_controllers dict (see stacd-manager.h).
 * @m: the manager
 * @io: the IOC
 * @detailed: add info(), sysfs attributes and the DLPE
 */
const StasKV *manager_ioc_dict(StacdManager *m, StacdIoc *io, bool detailed) {
        StacdIocDicts *d = &io->dicts;
        uint64_t gen = stas_ctrl_generation(io->ctrl);
        StasKV *kv;

        if (d->dict[detailed] && d->ctrl_gen[detailed] == gen && d->source_gen[detailed] == io->source_gen &&
            !(detailed && stas_ctrl_retry_pending(io->ctrl)))
                return d->dict[detailed];
        kv = ioc_dict_build(io, detailed);
        if (!kv)
                return NULL;
        kv_free(d->dict[detailed]);
        d->dict[detailed] = kv;
        d->ctrl_gen[detailed] = gen;
        d->source_gen[detailed] = io->source_gen;
        return kv;
}

/**
 * manager_process_info() - the process_info JSON (§4.3, bus-debug.h); the host key is "(set)".
 * @m: the manager
 * @ret: the text
 */
int manager_process_info(StacdManager *m, char **ret) {
        char buf[64];
        const BusDebugInfo info = {
                .hostnqn = m->sys->hostnqn,
                .hostid = m->sys->hostid,
                .hostkey = m->sys->hostkey,
                .symname = m->sys->symname,
                .lkc_path = m->lkc_path,
                .lkc_error = m->lkc_status.text,
                .soak_timer = timer_to_string(m->reconcile_timer, buf, sizeof buf),
                .tp8013 = m->kopts.discovery,
                .host_iface = m->kopts.host_iface,
        };
        _cleanup_json_ json_object *o = bus_debug_info_new(&info);
        int r;

        if (!o)
                return -ENOMEM;
        r = bus_debug_info_add(o, "stafd", m->staf && staf_present(m->staf) ? "present" : "absent");
        r = r ?: bus_debug_info_add(o, "discovered set", m->discovered.known ? "known" : "unknown");
        for (size_t i = 0; r >= 0 && i < ctrl_set_n_removing(m->ctrls); i++) {
                StasCtrl *c = ctrl_set_removing(m->ctrls, i);

                r = bus_debug_info_add_disposing(
                        o, stas_ctrl_tid(c), stas_ctrl_busy(c) ? "waiting for operation" : "disposing");
        }
        r = r ?: stas_metrics_info_add(o, m->ctrls, false);
        if (r < 0)
                return r;
        return bus_debug_info_to_string(o, ret);
}
