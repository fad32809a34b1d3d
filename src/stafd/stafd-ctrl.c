/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-ctrl.c - stafd: the per-DC object and its discovery state machine (connect, DIM registration,
 * supported log pages, log page reads, lost and unresponsive DCs). See stafd-internal.h and stafd-manager.h.
 */
#include "stafd-internal.h"

#include "stas/message-ids.h"

StasKV *staf_kv_from_json(json_object *o) {
        StasKV *kv = NULL;

        return json_to_kv(o, &kv) < 0 ? NULL : kv;
}

/* ---------------------------------------------------------------- DC */

const StasTid *staf_dc_tid(const StafDc *dc) {
        return stas_ctrl_tid(dc->ctrl);
}

StasOrigin staf_dc_origin(const StafDc *dc) {
        return dc->origin;
}

StasKV *const *staf_dc_log_pages(const StafDc *dc) {
        return dc->log_pages;
}

const char *staf_dc_device(const StafDc *dc) {
        return stas_ctrl_device(dc->ctrl);
}

StasCtrl *staf_dc_ctrl(const StafDc *dc) {
        return dc->ctrl;
}

static bool dc_in_zeroconf(const StafDc *dc) {
        const StafManager *m = dc->m;
        const StasTid *tid = staf_dc_tid(dc);

        for (size_t i = 0; i < m->n_zeroconf; i++) {
                _cleanup_(tid_freep) StasTid *t = tid_from_kv(m->zeroconf[i]);

                if (!t)
                        continue;
                if (streq(t->transport, tid->transport) && streq(t->traddr, tid->traddr) &&
                    streq(t->trsvcid, tid->trsvcid) && streq(t->subsysnqn, tid->subsysnqn))
                        return true;
        }
        return false;
}

/* §5.4: a lost zeroconf DC is purged after zeroconf-connections-persistence. */
void staf_dc_check_lost(StafDc *dc) {
        double p = dc->m->conf->zeroconf_persistence_sec;

        if (dc->origin != STAS_ORIGIN_DISCOVERED || stas_ctrl_connected(dc->ctrl) || dc_in_zeroconf(dc)) {
                timer_stop(dc->lost_timer);
                dc->unresponsive = false;
                dc->lost_since = 0;
                return;
        }
        if (dc->lost_since != 0)
                return; /* already counting (or forever) */
        dc->lost_since = time(NULL);
        if (p < 0) {
                log_info("Controller %s not responding. Retrying...", staf_dc_name(dc));
                return;
        }
        log_info(
                "Controller %s is not responding. Will be removed in %.0f s unless restored.",
                staf_dc_name(dc),
                p);
        (void) timer_start(dc->lost_timer, usec_from_sec(p));
}

static void lost_cb(StasTimer *t, void *userdata) {
        StafDc *dc = userdata;

        dc->unresponsive = true;
        staf_manager_soak_start(dc->m);
}

static void stage_fail(StafDc *dc, const char *what, int r, uint64_t retry) {
        if (dc->stage_failures++ == 0)
                log_error(
                        "Controller %s (%s): %s failed: %s. Retrying every %.0f s.",
                        staf_dc_name(dc),
                        strempty(staf_dc_device(dc)),
                        what,
                        stas_nvme_strerror(r),
                        (double) retry / USEC_PER_SEC);
        else
                log_debug(
                        "Controller %s: %s failed again: %s", staf_dc_name(dc), what, stas_nvme_strerror(r));
        (void) timer_start(dc->stage_timer, retry);
}

/* after a verb: run a stage requested meanwhile, else @next */
static void dc_after(StafDc *dc, Stage next) {
        Stage p = dc->pending;

        dc->pending = STAGE_IDLE;
        if (p != STAGE_IDLE)
                staf_dc_start_stage(dc, p);
        else if (next != STAGE_IDLE)
                staf_dc_start_stage(dc, next);
}

static void dim_done(int r, uint32_t result, void *userdata) {
        StafDc *dc = userdata;

        dc->dim_state = r == -EOPNOTSUPP ? "not supported" : r < 0 ? "failed" : "registered";
        stas_metrics_add(
                "stas_dim_results_total",
                "operation",
                dc->dim_task == STAS_DIM_DEREGISTER ? "deregister" : "register",
                "result",
                r == -EOPNOTSUPP ? "not supported"
                        : r < 0  ? "failed"
                                 : "success",
                1);
        if (r == -EOPNOTSUPP)
                log_debug("Controller %s: not a TP8010 discovery controller.", staf_dc_name(dc));
        else if (r == -EREMOTEIO)
                log_warning(
                        "Controller %s: Registration error: %s",
                        staf_dc_name(dc),
                        stas_nvme_strerror(r)); /* an answer: go on */
        else if (r < 0) {
                if (dc->pending != STAGE_IDLE) {
                        dc_after(dc, STAGE_IDLE);
                        return;
                }
                stage_fail(dc, "DIM registration", r, STAF_REGISTER_RETRY_USEC);
                return;
        } else {
                dc->registered = true;
                log_ctrl(
                        LOG_INFO,
                        STAS_MESSAGE_REGISTERED,
                        staf_dc_tid(dc),
                        staf_dc_device(dc),
                        "Controller %s: registered (TP8010, task %d).",
                        staf_dc_name(dc),
                        dc->dim_task);
        }
        dc->stage_failures = 0;
        dc->dim_task = STAS_DIM_REGISTER;
        dc_after(dc, STAGE_SUPPORTED);
}

static void supported_done(int r, uint32_t lid_support, void *userdata) {
        StafDc *dc = userdata;

        if (r == -EREMOTEIO || r == -EOPNOTSUPP) {
                /*
                 * The controller answered with an error status (Linux nvmet, for one, rejects
                 * LID 0x00): it does not tell us whether it supports PLEO, so read the
                 * discovery log without it instead of retrying forever.
                 */
                log_info(
                        "Controller %s: no Supported Log Pages (%s); reading the discovery log without PLEO.",
                        staf_dc_name(dc),
                        stas_nvme_strerror(r));
                r = 0;
                lid_support = 0;
        }
        if (r < 0 && dc->pending == STAGE_IDLE) {
                stage_fail(dc, "Get supported log pages", r, STAF_SUPPORTED_RETRY_USEC);
                return;
        }
        if (r >= 0) {
                dc->stage_failures = 0;
                dc->lsp = (lid_support & STAS_DLP_LID_PLEOS) ? STAS_DLP_LSP_PLEO : 0;
        }
        dc_after(dc, STAGE_LOG);
}

static bool tids_same_set(StasTid *const *a, StasTid *const *b) {
        size_t na = 0, nb = 0;

        while (a && a[na])
                na++;
        while (b && b[nb])
                nb++;
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++) {
                bool found = false;
                for (size_t j = 0; j < nb && !found; j++)
                        found = tid_equal(a[i], b[j]);
                if (!found)
                        return false;
        }
        return true;
}

/* One warning per distinct problem with a page that was read (a hostile DC re-sends the same). */
static void log_page_problems(StafDc *dc, const StasDlpReport *rep) {
        char what[256];
        uint64_t sig;

        if (!dlp_report_describe(rep, what, sizeof(what))) {
                dc->dlp_warned = 0;
                return;
        }
        sig = dlp_report_signature(rep);
        if (sig == dc->dlp_warned) {
                log_debug("Controller %s: discovery log page: %s", staf_dc_name(dc), what);
                return;
        }
        dc->dlp_warned = sig;
        log_warning(
                "Controller %s (%s): discovery log page: %s.",
                staf_dc_name(dc),
                strempty(staf_dc_device(dc)),
                what);
}

static void log_read_failed(StafDc *dc, int r, const StasDlpReport *rep) {
        char what[160];

        if (r != -EAGAIN) {
                stage_fail(dc, "Get discovery log pages", r, STAF_LOG_RETRY_USEC);
                return;
        }
        /* a page that never holds still is the DC's fault: a warning, once per streak */
        snprintf(
                what,
                sizeof(what),
                "changed during each of %u reads (last: genctr %" PRIu64 ", %" PRIu64 " records)",
                rep->attempts,
                rep->genctr,
                rep->numrec);
        if (dc->stage_failures++ == 0)
                log_warning(
                        "Controller %s (%s): discovery log page %s; keeping the %zu entries read before. Retrying every %.0f s.",
                        staf_dc_name(dc),
                        strempty(staf_dc_device(dc)),
                        what,
                        dlp_list_length(dc->log_pages),
                        (double) STAF_LOG_RETRY_USEC / USEC_PER_SEC);
        else
                log_debug("Controller %s: discovery log page %s", staf_dc_name(dc), what);
        (void) timer_start(dc->stage_timer, STAF_LOG_RETRY_USEC);
}

static void log_done(int r, StasKV **entries, const StasDlpReport *report, void *userdata) {
        StafDc *dc = userdata;
        StafManager *m = dc->m;

        if (r < 0)
                stas_metrics_add("stas_log_page_reads_total", "result", "error", NULL, NULL, 1);
        if (r < 0) {
                if (dc->pending == STAGE_IDLE) {
                        log_read_failed(dc, r, report);
                        return;
                }
                dc_after(dc, STAGE_IDLE);
                return;
        }
        log_page_problems(dc, report);
        stas_metrics_add("stas_log_page_reads_total", "result", "ok", NULL, NULL, 1);
        stas_metrics_add("stas_log_page_bytes_total", NULL, NULL, NULL, NULL, report->bytes);
        dc->log_read_time = time(NULL);
        dc->log_genctr = report->genctr;
        dc->log_entries = dlp_list_length(entries);
        dc->stage_failures = 0;
        dc->stage = STAGE_DONE;
        log_info(
                "Controller %s (%s): Received discovery log pages (num records=%zu).",
                staf_dc_name(dc),
                strempty(staf_dc_device(dc)),
                dlp_list_length(entries));
        if (!dlp_list_equal(dc->log_pages, entries)) {
                _cleanup_(dlp_tids_freep) StasTid **old_refs = NULL, **new_refs = NULL;
                bool refs_changed = true;

                log_ctrl(
                        LOG_INFO,
                        STAS_MESSAGE_LOG_PAGE_CHANGED,
                        staf_dc_tid(dc),
                        staf_dc_device(dc),
                        "Controller %s (%s): the discovery log page changed.",
                        staf_dc_name(dc),
                        strempty(staf_dc_device(dc)));

                if (dlp_referral_tids(dc->log_pages, staf_dc_tid(dc), &old_refs) >= 0 &&
                    dlp_referral_tids(entries, staf_dc_tid(dc), &new_refs) >= 0)
                        refs_changed = !tids_same_set(old_refs, new_refs);
                dlp_list_free(dc->log_pages);
                dc->log_pages = entries;
                staf_manager_save(m);
                if (m->hooks.log_pages_changed)
                        m->hooks.log_pages_changed(m, dc, m->userdata);
                if (refs_changed)
                        staf_manager_soak_start(m);
        } else
                dlp_list_free(entries);
        dc_after(dc, STAGE_IDLE);
}

void staf_dc_start_stage(StafDc *dc, Stage s) {
        StafManager *m = dc->m;
        int r;

        if (m->stopping || !stas_ctrl_connected(dc->ctrl))
                return;
        if (stas_ctrl_busy(dc->ctrl)) {
                if (dc->pending == STAGE_IDLE || s < dc->pending)
                        dc->pending = s;
                return;
        }
        timer_stop(dc->stage_timer);
        dc->stage = s;
        switch (s) {
        case STAGE_REGISTER:
                r = stas_ctrl_registration_supported(dc->ctrl);
                if (r == 0) {
                        dc->dim_state = "not supported";
                        staf_dc_start_stage(dc, STAGE_SUPPORTED);
                        return;
                }
                r = stas_ctrl_dim(dc->ctrl, dc->dim_task, dim_done, dc);
                if (r < 0)
                        stage_fail(dc, "DIM registration", r, STAF_REGISTER_RETRY_USEC);
                return;
        case STAGE_SUPPORTED: {
                _cleanup_free_ char *dctype = NULL;

                dc->lsp = 0;
                if (!m->conf->pleo || (stas_ctrl_dctype(dc->ctrl, &dctype) >= 0 && streq(dctype, "cdc"))) {
                        staf_dc_start_stage(dc, STAGE_LOG);
                        return;
                }
                r = stas_ctrl_supported_log_pages(dc->ctrl, supported_done, dc);
                if (r < 0)
                        stage_fail(dc, "Get supported log pages", r, STAF_SUPPORTED_RETRY_USEC);
                return;
        }
        case STAGE_LOG:
                dc->log_reached = true;
                r = stas_ctrl_get_log_pages(dc->ctrl, dc->lsp, log_done, dc);
                if (r < 0)
                        stage_fail(dc, "Get discovery log pages", r, STAF_LOG_RETRY_USEC);
                return;
        default:
                return;
        }
}

static void stage_timer_cb(StasTimer *t, void *userdata) {
        StafDc *dc = userdata;
        staf_dc_start_stage(dc, dc->stage);
}

static void dc_connected(StasCtrl *c, void *userdata) {
        StafDc *dc = userdata;

        staf_dc_check_lost(dc);
        dc->stage_failures = 0;
        dc->log_reached = false;
        dc->pending = STAGE_IDLE;
        dc->dim_task = STAS_DIM_REGISTER; /* (re-)register after every (re)connect */
        staf_dc_start_stage(dc, STAGE_REGISTER);
}

static void dc_removed(StasCtrl *c, void *userdata) {
        StafDc *dc = userdata;

        /* the ctrl cancelled the verb in flight; the cached log pages stay */
        timer_stop(dc->stage_timer);
        dc->pending = STAGE_IDLE;
        dc->stage = STAGE_IDLE;
        dc->log_reached = false;
        dc->registered = false;
        dc->dim_state = NULL;
        staf_dc_check_lost(dc);
}

static void dc_change(StasCtrl *c, const StasUevent *ev, void *userdata) {
        StafDc *dc = userdata;

        if (uevent_is_dlp_changed(ev)) {
                dc->aen_count++;
                stas_metrics_add("stas_aens_total", NULL, NULL, NULL, NULL, 1);
                if (dc->log_reached) {
                        log_debug("Controller %s: AEN: discovery log changed.", staf_dc_name(dc));
                        staf_dc_start_stage(dc, STAGE_LOG);
                }
        } else if (
                ev->nvme_event == STAS_NVME_EVENT_CONNECTED ||
                ev->nvme_event == STAS_NVME_EVENT_REDISCOVER) {
                log_debug(
                        "Controller %s: resync (%s).",
                        staf_dc_name(dc),
                        ev->nvme_event == STAS_NVME_EVENT_CONNECTED ? "connected" : "rediscover");
                staf_dc_start_stage(dc, STAGE_REGISTER);
        }
}

static bool dc_connect_failed(StasCtrl *c, int r, unsigned attempt, void *userdata) {
        staf_dc_check_lost(userdata);
        return true;
}

static const StasCtrlEvents dc_events = {
        .connected = dc_connected,
        .removed = dc_removed,
        .change = dc_change,
        .connect_failed = dc_connect_failed,
};

StafDc *staf_dc_free(StafDc *dc) {
        if (!dc)
                return NULL;
        ctrl_set_drop(dc->m->ctrls, dc->ctrl);
        timer_free(dc->stage_timer);
        timer_free(dc->lost_timer);
        dlp_list_free(dc->log_pages);
        kv_free(dc->entry);
        free(dc);
        return NULL;
}

int staf_dc_new(StafManager *m, const StasTid *tid, StasOrigin origin, const StasKV *entry, StafDc **ret) {
        _cleanup_(staf_dc_freep) StafDc *dc = NULL;
        StasConnectOptions opts;
        int r;

        dc = new0(StafDc, 1);
        if (!dc)
                return -ENOMEM;
        dc->m = m;
        dc->origin = origin;
        if (entry && !(dc->entry = kv_copy(entry)))
                return -ENOMEM;
        r = timer_new(m->event, stage_timer_cb, dc, &dc->stage_timer);
        if (r < 0)
                return r;
        r = timer_new(m->event, lost_cb, dc, &dc->lost_timer);
        if (r < 0)
                return r;
        r = stas_conf_connect_options(m->conf, entry, &opts);
        if (r < 0)
                return r;
        r = ctrl_set_new_ctrl(m->ctrls, tid, &opts, true, &dc_events, dc, &dc->ctrl);
        connect_options_done(&opts);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(dc);
        return 0;
}

void staf_dc_set_origin(StafDc *dc, StasOrigin o) {
        if (dc->origin == o)
                return;
        dc->origin = o;
        timer_stop(dc->lost_timer);
        dc->lost_since = 0;
        dc->unresponsive = false;
        staf_dc_check_lost(dc);
}

static const char *stage_state(const StafDc *dc, Stage s) {
        if (dc->stage == s && stas_ctrl_busy(dc->ctrl))
                return "{'completed': False, 'alive': True}";
        if (dc->stage == s && timer_is_armed(dc->stage_timer))
                return "{'completed': False, 'alive': True, 'retry timer': armed}";
        return NULL;
}

/* Issue 11: the DIM state, the last log page read and the AEN count. */
static int dc_info_dim_log(const StafDc *dc, StasKV *kv) {
        char tbuf[STAS_RFC3339_MAX] = "", gen[32] = "", n[32] = "", aen[32];

        if (dc->log_read_time != 0) {
                rfc3339_utc(dc->log_read_time, tbuf, sizeof tbuf);
                snprintf(gen, sizeof gen, "%" PRIu64, dc->log_genctr);
                snprintf(n, sizeof n, "%zu", dc->log_entries);
        }
        snprintf(aen, sizeof aen, "%u", dc->aen_count);
        if (kv_set(kv, "dim state", dc->dim_state ?: "") < 0 || kv_set(kv, "log page read time", tbuf) < 0 ||
            kv_set(kv, "log page genctr", gen) < 0 || kv_set(kv, "log page entries", n) < 0 ||
            kv_set(kv, "aen count", aen) < 0)
                return -ENOMEM;
        return 0;
}

/**
 * staf_dc_info() - see stafd-manager.h.
 */
int staf_dc_info(const StafDc *dc, StasKV *kv) {
        char buf[64];
        int r;

        r = stas_ctrl_info(dc->ctrl, kv);
        if (r < 0)
                return r;
        r = kv_set(kv, "origin", stas_origin_to_string(dc->origin));
        if (r < 0)
                return r;
        r = dc_info_dim_log(dc, kv);
        if (r < 0)
                return r;
        if (dc->origin == STAS_ORIGIN_DISCOVERED) {
                double p = dc->m->conf->zeroconf_persistence_sec;
                char tbuf[64] = "---";

                if (kv_set(kv, "unresponsive timer", timer_to_string(dc->lost_timer, buf, sizeof buf)) < 0)
                        return -ENOMEM;
                if (p < 0)
                        snprintf(buf, sizeof buf, "forever");
                else
                        snprintf(buf, sizeof buf, "%.0f sec", p);
                if (kv_set(kv, "unresponsive timeout", buf) < 0)
                        return -ENOMEM;
                if (dc->lost_since != 0) {
                        struct tm tm;
                        if (localtime_r(&dc->lost_since, &tm))
                                strftime(tbuf, sizeof tbuf, "%a %b %e %H:%M:%S %Y", &tm);
                }
                if (kv_set(kv, "unresponsive time", tbuf) < 0)
                        return -ENOMEM;
        }
        const struct {
                Stage s;
                const char *key;
        } ops[] = {
                { STAGE_REGISTER, "register operation" },
                { STAGE_SUPPORTED, "get supported log page operation" },
                { STAGE_LOG, "get log page operation" },
        };
        for (size_t i = 0; i < ELEMENTSOF(ops); i++) {
                const char *v = stage_state(dc, ops[i].s);
                if (v && kv_set(kv, ops[i].key, v) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/**
 * staf_dc_id_dict() - see stafd-manager.h.
 */
int staf_dc_id_dict(const StafDc *dc, bool detailed, StasKV **ret) {
        _cleanup_(kv_freep) StasKV *kv = tid_to_kv(staf_dc_tid(dc));
        const char *dev = staf_dc_device(dc);

        if (!kv)
                return -ENOMEM;
        if (kv_set(kv, "device", dev ?: "nvme?") < 0)
                return -ENOMEM;
        KV_FOREACH(i, dc->entry) {
                const char *k = dc->entry->keys[i];

                if (kv_get(kv, k))
                        continue;
                if (kv_set(kv,
                           k,
                           stas_secret_key(k) ? LOG_SECRET(dc->entry->values[i]) : dc->entry->values[i]) < 0)
                        return -ENOMEM;
        }
        if (!detailed) {
                char buf[64];
                if (kv_set(kv, "state", stas_ctrl_state(dc->ctrl, NULL, buf, sizeof buf)) < 0)
                        return -ENOMEM;
        } else {
                int r = staf_dc_info(dc, kv);
                if (r < 0)
                        return r;
                r = stas_ctrl_sysfs_details(dc->ctrl, kv);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(kv);
        return 0;
}

/* ---------------------------------------------------------------- manager */
