/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-manager.c - stafd: the DC set: reconcile, reload, zeroconf input, uevent routing, the bounded stop.
 * See stafd-internal.h and stafd-manager.h.
 */
#include "stas/metrics.h"
#include "stafd-internal.h"

static void soak_cb(StasTimer *t, void *userdata);
static void dc_resynced(StasCtrl *c, bool removed, void *userdata);
static void names_resolved(StasResolver *res, void *userdata);

/**
 * staf_manager_new() - see stafd-manager.h.
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
        StafManager **ret) {
        _cleanup_(stas_conf_freep) StasConf *c = conf;
        _cleanup_(sysconf_freep) StasSysConf *s = sys;
        _cleanup_(staf_manager_freep) StafManager *m = NULL;
        int r;

        if (!event || !ops || !conf || !sys || !ret)
                return -EINVAL;
        m = new0(StafManager, 1);
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(event);
        m->conf = TAKE_PTR(c);
        m->sys = TAKE_PTR(s);
        if (hooks)
                m->hooks = *hooks;
        m->userdata = userdata;
        if (lkc_path && !(m->lkc_path = strdup(lkc_path)))
                return -ENOMEM;
        if (lkc_path) {
                r = lkc_writer_new(
                        event, lkc_path, "stafd", &m->lkc_status, staf_state_document, m, &m->lkc_writer);
                if (r < 0)
                        return r;
        }
        r = timer_new(event, soak_cb, m, &m->soak);
        if (r < 0)
                return r;
        r = resolver_new(NULL, names_resolved, m, &m->resolver);
        if (r < 0)
                return r;
        r = ctrl_set_new(event, ops, ops_ctx, &m->ctrls);
        if (r < 0)
                return r;
        ctrl_set_on_resync(m->ctrls, dc_resynced, m);
        if (getenv("NOTIFY_SOCKET")) {
                r = ctrl_set_notify_status(m->ctrls, "DCs");
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

/**
 * staf_manager_free() - see stafd-manager.h.
 */
StafManager *staf_manager_free(StafManager *m) {
        if (!m)
                return NULL;
        m->lkc_writer = lkc_writer_free(m->lkc_writer);
        for (size_t i = 0; i < m->n_dcs; i++)
                staf_dc_free(m->dcs[i]);
        free(m->dcs);
        m->ctrls = ctrl_set_free(m->ctrls);
        for (size_t i = 0; i < m->n_zeroconf; i++)
                kv_free(m->zeroconf[i]);
        free(m->zeroconf);
        timer_free(m->soak);
        resolver_free(m->resolver);
        stas_conf_free(m->conf);
        sysconf_free(m->sys);
        free(m->lkc_path);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

static void soak_cb(StasTimer *t, void *userdata) {
        (void) staf_manager_reconcile_now(userdata);
}

/* a fixed window: the first change arms it, later changes within it do not push it out */
void staf_manager_soak_start(StafManager *m) {
        if (m->stopping || timer_is_armed(m->soak))
                return;
        (void) timer_start(m->soak, STAF_SOAK_USEC);
}

int staf_manager_dcs_append(StafManager *m, StafDc *dc) {
        StafDc **n = realloc(m->dcs, (m->n_dcs + 1) * sizeof(StafDc *));

        if (!n)
                return -ENOMEM;
        m->dcs = n;
        m->dcs[m->n_dcs++] = dc;
        return 0;
}

/**
 * staf_manager_start() - see stafd-manager.h.
 */
int staf_manager_start(StafManager *m) {
        (void) staf_state_load(m);
        staf_manager_soak_start(m);
        return 0;
}

/*
 * the orderly removal of @dc's controller (ctrl_set_remove()), and free @dc; the TID and its
 * name are the controller's (staf_dc_tid(), staf_dc_name()): a log line about @dc comes before
 * this call
 */
static int dc_dispose(StafManager *m, StafDc *dc, bool keep, bool deregister) {
        int r = ctrl_set_remove(m->ctrls, TAKE_PTR(dc->ctrl), keep, deregister);

        staf_dc_free(dc);
        return r;
}

static void names_resolved(StasResolver *res, void *userdata) {
        (void) staf_manager_reconcile_now(userdata);
}

/* The plan for the DCs held now against the wanted set @w (reconcile.h). */
static int reconcile_plan(StafManager *m, const Wanted *w, StasReconcileResult *res) {
        _cleanup_free_ StasCurrent *cur = new0(StasCurrent, m->n_dcs + 1);

        if (!cur)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_dcs; i++)
                cur[i] = (StasCurrent){ .tid = staf_dc_tid(m->dcs[i]),
                                        .origin = m->dcs[i]->origin,
                                        .unresponsive = m->dcs[i]->unresponsive };
        return reconcile_dcs(cur, m->n_dcs, w->w, w->n, staf_wanted_rejected, m, res);
}

/* kept DCs: new origin, fresh config entry and options (from [Global] for all of them) */
static void reconcile_update_kept(StafManager *m, const Wanted *w, const StasReconcileResult *res) {
        for (size_t i = 0; i < m->n_dcs; i++) {
                StafDc *dc = m->dcs[i];
                const StasKV *entry = NULL;
                StasConnectOptions o;

                staf_dc_set_origin(dc, res->origin[i]);
                for (size_t j = 0; j < w->n && !entry; j++)
                        if (w->entries[j] && tid_equal(w->tids[j], staf_dc_tid(dc)))
                                entry = w->entries[j];
                if (!kv_equal(dc->entry, entry)) {
                        kv_free(dc->entry);
                        dc->entry = entry ? kv_copy(entry) : NULL;
                }
                if (stas_conf_connect_options(m->conf, dc->entry, &o) >= 0) {
                        (void) stas_ctrl_set_options(dc->ctrl, &o);
                        connect_options_done(&o);
                }
        }
}

/* the DCs no longer wanted leave the set (disposed, or dropped if never started) */
static int reconcile_remove(StafManager *m, const StasReconcileResult *res) {
        _cleanup_free_ bool *del = new0(bool, m->n_dcs + 1);
        bool snap_taken = false;
        void *snap = NULL;
        size_t k = 0;

        if (!del)
                return -ENOMEM;
        for (size_t i = 0; i < res->n_del; i++)
                del[res->del[i]] = true;
        for (size_t i = 0; i < m->n_dcs; i++) {
                StafDc *dc = m->dcs[i];

                if (!del[i]) {
                        m->dcs[k++] = dc;
                        continue;
                }
                /*
                 * Restored but no longer wanted: never connect it; a kernel connection left by the
                 * previous run is adopted only to deregister and disconnect it.
                 */
                if (!dc->started && !snap_taken) {
                        /* one look at the kernel for every restored DC dropped in this pass */
                        (void) ctrl_set_snapshot(m->ctrls, &snap);
                        snap_taken = true;
                }
                if (!dc->started && stas_ctrl_adopt_existing(dc->ctrl, snap) <= 0) {
                        log_info(
                                "Dropping discovery controller %s (no longer configured).",
                                staf_dc_name(dc));
                        staf_dc_free(dc);
                        continue;
                }
                log_info("Removing discovery controller %s.", staf_dc_name(dc));
                (void) dc_dispose(m, dc, false, true);
        }
        ctrl_set_snapshot_free(m->ctrls, snap);
        m->n_dcs = k;
        return 0;
}

/* the new DCs join the set; then every DC not started yet (new or restored) starts */
static int reconcile_add_and_start(StafManager *m, const Wanted *w, const StasReconcileResult *res) {
        for (size_t i = 0; i < res->n_add; i++) {
                size_t idx = res->add[i];
                StafDc *dc = NULL;
                int r;

                r = staf_dc_new(m, w->tids[idx], res->add_origin[i], w->entries[idx], &dc);
                if (r < 0)
                        return r;
                r = staf_manager_dcs_append(m, dc);
                if (r < 0) {
                        staf_dc_free(dc);
                        return r;
                }
                log_info(
                        "Adding discovery controller %s (%s).",
                        staf_dc_name(dc),
                        stas_origin_to_string(dc->origin));
        }
        /* new DCs, and restored ones now that their options are current */
        for (size_t i = 0; i < m->n_dcs; i++)
                if (!m->dcs[i]->started) {
                        m->dcs[i]->started = true;
                        (void) ctrl_set_start(m->ctrls, m->dcs[i]->ctrl);
                }
        for (size_t i = 0; i < m->n_dcs; i++)
                staf_dc_check_lost(m->dcs[i]);
        return 0;
}

/**
 * staf_manager_reconcile_now() - see stafd-manager.h.
 */
int staf_manager_reconcile_now(StafManager *m) {
        _cleanup_(reconcile_result_done) StasReconcileResult res = {};
        _cleanup_(kvv_freep) StasKV **controllers = NULL;
        Wanted w = {};
        int r;

        if (m->stopping)
                return 0;
        timer_stop(m->soak);
        /* host names in controller= entries: the pass continues once they are resolved */
        r = resolver_resolve_conf(m->resolver, m->conf, staf_name_excluded, m, &controllers);
        if (r == -EINPROGRESS) {
                log_debug(
                        "Reconcile waits for %u host name(s) to be resolved.",
                        resolver_pending(m->resolver));
                return 0;
        }
        if (r >= 0) {
                resolver_reset(m->resolver); /* the next pass asks DNS again */
                r = staf_wanted_build(m, controllers, &w);
        }
        if (r >= 0)
                r = reconcile_plan(m, &w, &res);
        if (r >= 0) {
                reconcile_update_kept(m, &w, &res);
                r = reconcile_remove(m, &res);
        }
        if (r >= 0)
                r = reconcile_add_and_start(m, &w, &res);
        if (r >= 0) {
                if (res.n_del > 0 && m->hooks.dc_removed)
                        m->hooks.dc_removed(m, m->userdata);
                staf_manager_save(m);
        }
        staf_wanted_done(&w);
        if (r < 0)
                log_error_errno(r, "Reconciling discovery controllers failed: %m");
        return r < 0 ? r : 0;
}

/**
 * staf_manager_reload() - see stafd-manager.h.
 */
int staf_manager_reload(StafManager *m, StasConf *conf, StasSysConf *sys) {
        bool symname_changed;

        if (!conf || !sys) {
                stas_conf_free(conf);
                sysconf_free(sys);
                return -EINVAL;
        }
        symname_changed = !streq_ptr(m->sys->symname, sys->symname);
        stas_conf_free(m->conf);
        m->conf = conf;
        sysconf_free(m->sys);
        m->sys = sys;
        if (!m->conf->zeroconf)
                (void) staf_manager_set_zeroconf(m, NULL, 0);
        for (size_t i = 0; i < m->n_dcs; i++) {
                StafDc *dc = m->dcs[i];

                if (!stas_ctrl_connected(dc->ctrl))
                        continue;
                if (symname_changed && dc->registered) {
                        dc->dim_task = STAS_DIM_UPDATE; /* DESIGN 5 */
                        staf_dc_start_stage(dc, STAGE_REGISTER);
                }
        }
        staf_manager_soak_start(m);
        return 0;
}

/**
 * staf_manager_set_zeroconf() - see stafd-manager.h.
 */
int staf_manager_set_zeroconf(StafManager *m, StasKV *const *services, size_t n) {
        StasKV **l = new0(StasKV *, n + 1);

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(l[i] = kv_copy(services[i]))) {
                        for (size_t j = 0; j < i; j++)
                                kv_free(l[j]);
                        free(l);
                        return -ENOMEM;
                }
        for (size_t i = 0; i < m->n_zeroconf; i++)
                kv_free(m->zeroconf[i]);
        free(m->zeroconf);
        m->zeroconf = l;
        m->n_zeroconf = n;
        for (size_t i = 0; i < m->n_dcs; i++)
                staf_dc_check_lost(m->dcs[i]);
        staf_manager_soak_start(m);
        return 0;
}

/**
 * staf_manager_set_task_pool() - see stafd-manager.h.
 */
int staf_manager_set_task_pool(StafManager *m, StasTaskPool *pool) {
        StasResolver *r = NULL;
        int k;

        k = resolver_new(pool, names_resolved, m, &r);
        if (k < 0)
                return k;
        resolver_free(m->resolver);
        m->resolver = r;
        return 0;
}

/* After lost events: a DC still connected to the same device may have missed an AEN: read again. */
static void dc_resynced(StasCtrl *c, bool removed, void *userdata) {
        StafDc *dc = stas_ctrl_userdata(c);

        if (!removed && dc && dc->log_reached)
                staf_dc_start_stage(dc, STAGE_LOG);
}

/*
 * A DC restored from the state file is bound to its kernel device only at the first reconcile
 * (it adopts it then, with the current configuration). Until then an event of a device at its
 * address is that DC's, not a foreign one for nvme-cli's nvmf-connect@ (§5.11).
 */
static bool restored_dc_at(const StafManager *m, const StasUevent *ev) {
        for (size_t i = 0; i < m->n_dcs; i++) {
                const StasTid *t = staf_dc_tid(m->dcs[i]);

                if (!m->dcs[i]->started && streq(t->transport, ev->trtype) &&
                    match_traddr(t->transport, t->traddr, ev->traddr) && streq(t->trsvcid, ev->trsvcid))
                        return true;
        }
        return false;
}

/**
 * staf_manager_uevent() - see stafd-manager.h.
 */
void staf_manager_uevent(StafManager *m, const StasUevent *ev) {
        if (ctrl_set_uevent(m->ctrls, ev) || ev->action == STAS_UEVENT_OVERFLOW)
                return;
        if (ev->action == STAS_UEVENT_CHANGE &&
            (uevent_is_dlp_changed(ev) || ev->nvme_event == STAS_NVME_EVENT_REDISCOVER) &&
            m->hooks.foreign_dc_event && !restored_dc_at(m, ev))
                m->hooks.foreign_dc_event(m, ev, m->userdata);
}

static void stopped(size_t left, void *userdata) {
        StafManager *m = userdata;
        void (*done)(void *) = TAKE_PTR(m->stop_done);

        if (left > 0)
                log_warning(
                        "%zu discovery controller disconnect(s) or deregistration(s) still pending after %u s: "
                        "leaving them; those controllers are kept in the last known configuration.",
                        left,
                        (unsigned) (STAS_STOP_WAIT_USEC / USEC_PER_SEC));
        if (done)
                done(m->stop_ud);
}

/**
 * staf_manager_stop() - see stafd-manager.h.
 */
int staf_manager_stop(StafManager *m, void (*done)(void *userdata), void *userdata) {
        bool keep = m->conf->persistent_connections;

        staf_manager_save(m);
        (void) staf_manager_flush_state(m); /* always written at stop */
        m->stopping = true;
        m->stop_done = done;
        m->stop_ud = userdata;
        timer_stop(m->soak);
        while (m->n_dcs > 0)
                (void) dc_dispose(m, m->dcs[--m->n_dcs], keep, !keep);
        if (ctrl_set_n_removing(m->ctrls) > 0)
                log_info(
                        "Waiting up to %u s for %zu pending disconnect(s) or deregistration(s).",
                        (unsigned) (STAS_STOP_WAIT_USEC / USEC_PER_SEC),
                        ctrl_set_n_removing(m->ctrls));
        /* stopped() ends the stop when the last one is done, at the deadline at the latest */
        (void) ctrl_set_stop(m->ctrls, STAS_STOP_WAIT_USEC, stopped, m);
        return 0;
}

const StasConf *staf_manager_conf(const StafManager *m) {
        return m->conf;
}

const StasSysConf *staf_manager_sysconf(const StafManager *m) {
        return m->sys;
}

size_t staf_manager_n_dcs(const StafManager *m) {
        return m->n_dcs;
}

StafDc *staf_manager_dc(const StafManager *m, size_t i) {
        return i < m->n_dcs ? m->dcs[i] : NULL;
}

StafDc *staf_manager_find(const StafManager *m, const StasTid *tid) {
        for (size_t i = 0; i < m->n_dcs; i++)
                if (tid_equal(staf_dc_tid(m->dcs[i]), tid))
                        return m->dcs[i];
        return NULL;
}

int staf_manager_metrics_add(const StafManager *m, json_object *o) {
        return stas_metrics_info_add(o, m->ctrls, true);
}

size_t staf_manager_n_disposing(const StafManager *m) {
        return ctrl_set_n_removing(m->ctrls);
}

const StasTid *staf_manager_disposing_tid(const StafManager *m, size_t i) {
        StasCtrl *c = ctrl_set_removing(m->ctrls, i);

        return c ? stas_ctrl_tid(c) : NULL;
}

const StasTimer *staf_manager_soak_timer(const StafManager *m) {
        return m->soak;
}

const char *staf_manager_lkc_path(const StafManager *m) {
        return m->lkc_path;
}

const char *staf_manager_lkc_error(const StafManager *m) {
        return m->lkc_status.text;
}

/**
 * staf_manager_all_log_pages_json() - see stafd-manager.h.
 */
int staf_manager_all_log_pages_json(const StafManager *m, bool detailed, char **ret) {
        _cleanup_json_ json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_dcs; i++) {
                _cleanup_(kv_freep) StasKV *id = NULL;
                int r;

                r = staf_dc_id_dict(m->dcs[i], detailed, &id);
                if (r < 0)
                        return r;
                r = log_pages_add_element(a, id, m->dcs[i]->log_pages);
                if (r < 0)
                        return r;
        }
        return json_to_string_dup(a, JSON_FORMAT_COMPACT, ret);
}
