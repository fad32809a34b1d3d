/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-manager.c - the DC set and the per-DC discovery state machine (see stafd-manager.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stafd-manager.h"
#include "stas/dlp.h"
#include "stas/filter.h"
#include "stas/json-util.h"
#include "stas/log-pages.h"
#include "stas/kvv.h"
#include "stas/daemon.h"
#include "stas/lkc-writer.h"
#include "stas/lkc.h"
#include "stas/match.h"
#include "stas/log.h"
#include "stas/resolve.h"
#include "stas/udev.h"
#include "stas/wire.h"

typedef enum Stage {
        STAGE_IDLE = 0,
        STAGE_REGISTER,
        STAGE_SUPPORTED,
        STAGE_LOG,
        STAGE_DONE,
} Stage;

struct StafDc {
        StafManager *m;
        StasTid *tid;
        char *tid_str;
        StasOrigin origin;
        StasKV *entry; /* the controller= entry (configured DCs) */
        StasCtrl *ctrl;
        bool started; /* restored DCs touch the kernel only from the first reconcile on */
        StasKV **log_pages;

        Stage stage;
        bool in_flight;
        Stage pending; /* requested while a verb was in flight */
        bool log_reached;
        uint8_t lsp;
        StasDimTask dim_task;
        StasTimer *stage_timer;
        unsigned stage_failures;
        bool registered;
        uint64_t dlp_warned; /* dlp_report_signature() of the page last warned about, 0 = none */

        StasTimer *lost_timer;
        bool unresponsive;
        time_t lost_since;
};

struct StafManager {
        sd_event *event;
        const StasCtrlOps *ops;
        void *ops_ctx;
        StasConf *conf;
        StasSysConf *sys;
        char *lkc_path;
        LkcStatus lkc_status;  /* the state file's last problem (process_info) */
        LkcWriter *lkc_writer; /* coalesced writes of lkc_path, off the loop (NULL: no file) */
        StafHooks hooks;
        void *userdata;

        StafDc **dcs;
        size_t n_dcs;
        StasCtrl **disposing;
        size_t n_disposing;
        StasKV **zeroconf;
        size_t n_zeroconf;

        StasTimer *soak;
        size_t referrals_dropped; /* last reported count of referrals over STAF_MAX_REFERRALS */
        StasResolver *resolver;
        bool stopping;
        void (*stop_done)(void *userdata);
        void *stop_ud;
        StasTimer *stop_timer;
};

static void dc_start_stage(StafDc *dc, Stage s);
static void soak_start(StafManager *m);
static void soak_cb(StasTimer *t, void *userdata);
static void names_resolved(StasResolver *res, void *userdata);
static json_object *lkc_document(void *userdata);

static StasKV *kv_from_json(json_object *o) {
        StasKV *kv = NULL;

        return json_to_kv(o, &kv) < 0 ? NULL : kv;
}

/* ---------------------------------------------------------------- DC */

const StasTid *staf_dc_tid(const StafDc *dc) {
        return dc->tid;
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

        for (size_t i = 0; i < m->n_zeroconf; i++) {
                _cleanup_(tid_freep) StasTid *t = tid_from_kv(m->zeroconf[i]);

                if (!t)
                        continue;
                if (streq(t->transport, dc->tid->transport) && streq(t->traddr, dc->tid->traddr) &&
                    streq(t->trsvcid, dc->tid->trsvcid) && streq(t->subsysnqn, dc->tid->subsysnqn))
                        return true;
        }
        return false;
}

/* §5.4: a lost zeroconf DC is purged after zeroconf-connections-persistence. */
static void dc_check_lost(StafDc *dc) {
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
                log_info("Controller %s not responding. Retrying...", dc->tid_str);
                return;
        }
        log_info(
                "Controller %s is not responding. Will be removed in %.0f s unless restored.",
                dc->tid_str,
                p);
        (void) timer_start(dc->lost_timer, usec_from_sec(p));
}

static void lost_cb(StasTimer *t, void *userdata) {
        StafDc *dc = userdata;

        dc->unresponsive = true;
        soak_start(dc->m);
}

static void stage_fail(StafDc *dc, const char *what, int r, uint64_t retry) {
        if (dc->stage_failures++ == 0)
                log_error(
                        "Controller %s (%s): %s failed: %s. Retrying every %.0f s.",
                        dc->tid_str,
                        strempty(staf_dc_device(dc)),
                        what,
                        stas_nvme_strerror(r),
                        (double) retry / USEC_PER_SEC);
        else
                log_debug("Controller %s: %s failed again: %s", dc->tid_str, what, stas_nvme_strerror(r));
        (void) timer_start(dc->stage_timer, retry);
}

/* after a verb: run a stage requested meanwhile, else @next */
static void dc_after(StafDc *dc, Stage next) {
        Stage p = dc->pending;

        dc->pending = STAGE_IDLE;
        if (p != STAGE_IDLE)
                dc_start_stage(dc, p);
        else if (next != STAGE_IDLE)
                dc_start_stage(dc, next);
}

static void dim_done(int r, uint32_t result, void *userdata) {
        StafDc *dc = userdata;

        dc->in_flight = false;
        if (r == -EOPNOTSUPP)
                log_debug("Controller %s: not a TP8010 discovery controller.", dc->tid_str);
        else if (r == -EREMOTEIO)
                log_warning(
                        "Controller %s: Registration error: %s",
                        dc->tid_str,
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
                log_debug("Controller %s: registered (TP8010, task %d).", dc->tid_str, dc->dim_task);
        }
        dc->stage_failures = 0;
        dc->dim_task = STAS_DIM_REGISTER;
        dc_after(dc, STAGE_SUPPORTED);
}

static void supported_done(int r, uint32_t lid_support, void *userdata) {
        StafDc *dc = userdata;

        dc->in_flight = false;
        if (r == -EREMOTEIO || r == -EOPNOTSUPP) {
                /*
                 * The controller answered with an error status (Linux nvmet, for one, rejects
                 * LID 0x00): it does not tell us whether it supports PLEO, so read the
                 * discovery log without it instead of retrying forever.
                 */
                log_info(
                        "Controller %s: no Supported Log Pages (%s); reading the discovery log without PLEO.",
                        dc->tid_str,
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
                log_debug("Controller %s: discovery log page: %s", dc->tid_str, what);
                return;
        }
        dc->dlp_warned = sig;
        log_warning(
                "Controller %s (%s): discovery log page: %s.",
                dc->tid_str,
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
                        dc->tid_str,
                        strempty(staf_dc_device(dc)),
                        what,
                        dlp_list_length(dc->log_pages),
                        (double) STAF_LOG_RETRY_USEC / USEC_PER_SEC);
        else
                log_debug("Controller %s: discovery log page %s", dc->tid_str, what);
        (void) timer_start(dc->stage_timer, STAF_LOG_RETRY_USEC);
}

static void log_done(int r, StasKV **entries, const StasDlpReport *report, void *userdata) {
        StafDc *dc = userdata;
        StafManager *m = dc->m;

        dc->in_flight = false;
        if (r < 0) {
                if (dc->pending == STAGE_IDLE) {
                        log_read_failed(dc, r, report);
                        return;
                }
                dc_after(dc, STAGE_IDLE);
                return;
        }
        log_page_problems(dc, report);
        dc->stage_failures = 0;
        dc->stage = STAGE_DONE;
        log_info(
                "Controller %s (%s): Received discovery log pages (num records=%zu).",
                dc->tid_str,
                strempty(staf_dc_device(dc)),
                dlp_list_length(entries));
        if (!dlp_list_equal(dc->log_pages, entries)) {
                _cleanup_(dlp_tids_freep) StasTid **old_refs = NULL, **new_refs = NULL;
                bool refs_changed = true;

                if (dlp_referral_tids(dc->log_pages, dc->tid, &old_refs) >= 0 &&
                    dlp_referral_tids(entries, dc->tid, &new_refs) >= 0)
                        refs_changed = !tids_same_set(old_refs, new_refs);
                dlp_list_free(dc->log_pages);
                dc->log_pages = entries;
                staf_manager_save(m);
                if (m->hooks.log_pages_changed)
                        m->hooks.log_pages_changed(m, dc, m->userdata);
                if (refs_changed)
                        soak_start(m);
        } else
                dlp_list_free(entries);
        dc_after(dc, STAGE_IDLE);
}

static void dc_start_stage(StafDc *dc, Stage s) {
        StafManager *m = dc->m;
        int r;

        if (m->stopping || !stas_ctrl_connected(dc->ctrl))
                return;
        if (dc->in_flight) {
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
                        dc_start_stage(dc, STAGE_SUPPORTED);
                        return;
                }
                dc->in_flight = true;
                r = stas_ctrl_dim(dc->ctrl, dc->dim_task, dim_done, dc);
                if (r < 0) {
                        dc->in_flight = false;
                        stage_fail(dc, "DIM registration", r, STAF_REGISTER_RETRY_USEC);
                }
                return;
        case STAGE_SUPPORTED: {
                _cleanup_free_ char *dctype = NULL;

                dc->lsp = 0;
                if (!m->conf->pleo || (stas_ctrl_dctype(dc->ctrl, &dctype) >= 0 && streq(dctype, "cdc"))) {
                        dc_start_stage(dc, STAGE_LOG);
                        return;
                }
                dc->in_flight = true;
                r = stas_ctrl_supported_log_pages(dc->ctrl, supported_done, dc);
                if (r < 0) {
                        dc->in_flight = false;
                        stage_fail(dc, "Get supported log pages", r, STAF_SUPPORTED_RETRY_USEC);
                }
                return;
        }
        case STAGE_LOG:
                dc->log_reached = true;
                dc->in_flight = true;
                r = stas_ctrl_get_log_pages(dc->ctrl, dc->lsp, log_done, dc);
                if (r < 0) {
                        dc->in_flight = false;
                        stage_fail(dc, "Get discovery log pages", r, STAF_LOG_RETRY_USEC);
                }
                return;
        default:
                return;
        }
}

static void stage_timer_cb(StasTimer *t, void *userdata) {
        StafDc *dc = userdata;
        dc_start_stage(dc, dc->stage);
}

static void dc_connected(StasCtrl *c, void *userdata) {
        StafDc *dc = userdata;

        dc_check_lost(dc);
        dc->stage_failures = 0;
        dc->log_reached = false;
        dc->pending = STAGE_IDLE;
        dc->dim_task = STAS_DIM_REGISTER; /* (re-)register after every (re)connect */
        dc_start_stage(dc, STAGE_REGISTER);
}

static void dc_removed(StasCtrl *c, void *userdata) {
        StafDc *dc = userdata;

        /* the ctrl cancelled the verb in flight; the cached log pages stay */
        timer_stop(dc->stage_timer);
        dc->in_flight = false;
        dc->pending = STAGE_IDLE;
        dc->stage = STAGE_IDLE;
        dc->log_reached = false;
        dc->registered = false;
        dc_check_lost(dc);
}

static void dc_change(StasCtrl *c, const StasUevent *ev, void *userdata) {
        StafDc *dc = userdata;

        if (uevent_is_dlp_changed(ev)) {
                if (dc->log_reached) {
                        log_debug("Controller %s: AEN: discovery log changed.", dc->tid_str);
                        dc_start_stage(dc, STAGE_LOG);
                }
        } else if (
                ev->nvme_event == STAS_NVME_EVENT_CONNECTED ||
                ev->nvme_event == STAS_NVME_EVENT_REDISCOVER) {
                log_debug(
                        "Controller %s: resync (%s).",
                        dc->tid_str,
                        ev->nvme_event == STAS_NVME_EVENT_CONNECTED ? "connected" : "rediscover");
                dc_start_stage(dc, STAGE_REGISTER);
        }
}

static bool dc_connect_failed(StasCtrl *c, int r, unsigned attempt, void *userdata) {
        dc_check_lost(userdata);
        return true;
}

static const StasCtrlEvents dc_events = {
        .connected = dc_connected,
        .removed = dc_removed,
        .change = dc_change,
        .connect_failed = dc_connect_failed,
};

static StafDc *dc_free(StafDc *dc) {
        if (!dc)
                return NULL;
        stas_ctrl_free(dc->ctrl);
        timer_free(dc->stage_timer);
        timer_free(dc->lost_timer);
        dlp_list_free(dc->log_pages);
        kv_free(dc->entry);
        tid_free(dc->tid);
        free(dc->tid_str);
        free(dc);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(StafDc *, dc_free);

static int dc_new(StafManager *m, const StasTid *tid, StasOrigin origin, const StasKV *entry, StafDc **ret) {
        _cleanup_(dc_freep) StafDc *dc = NULL;
        StasConnectOptions opts;
        int r;

        dc = new0(StafDc, 1);
        if (!dc)
                return -ENOMEM;
        dc->m = m;
        dc->origin = origin;
        dc->tid = tid_copy(tid);
        dc->tid_str = tid_to_string(tid);
        if (!dc->tid || !dc->tid_str)
                return -ENOMEM;
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
        r = stas_ctrl_new(m->event, m->ops, m->ops_ctx, tid, &opts, true, &dc_events, dc, &dc->ctrl);
        connect_options_done(&opts);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(dc);
        return 0;
}

static void dc_set_origin(StafDc *dc, StasOrigin o) {
        if (dc->origin == o)
                return;
        dc->origin = o;
        timer_stop(dc->lost_timer);
        dc->lost_since = 0;
        dc->unresponsive = false;
        dc_check_lost(dc);
}

static const char *stage_state(const StafDc *dc, Stage s) {
        if (dc->stage == s && dc->in_flight)
                return "{'completed': False, 'alive': True}";
        if (dc->stage == s && timer_is_armed(dc->stage_timer))
                return "{'completed': False, 'alive': True, 'retry timer': armed}";
        return NULL;
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
        _cleanup_(kv_freep) StasKV *kv = tid_to_kv(dc->tid);
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
        if (detailed) {
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
        m->ops = ops;
        m->ops_ctx = ops_ctx;
        m->conf = TAKE_PTR(c);
        m->sys = TAKE_PTR(s);
        if (hooks)
                m->hooks = *hooks;
        m->userdata = userdata;
        if (lkc_path && !(m->lkc_path = strdup(lkc_path)))
                return -ENOMEM;
        if (lkc_path) {
                r = lkc_writer_new(
                        event, lkc_path, "stafd", &m->lkc_status, lkc_document, m, &m->lkc_writer);
                if (r < 0)
                        return r;
        }
        r = timer_new(event, soak_cb, m, &m->soak);
        if (r < 0)
                return r;
        r = resolver_new(NULL, names_resolved, m, &m->resolver);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static void disposing_remove(StafManager *m, StasCtrl *c) {
        for (size_t i = 0; i < m->n_disposing; i++)
                if (m->disposing[i] == c) {
                        memmove(m->disposing + i,
                                m->disposing + i + 1,
                                (m->n_disposing - i - 1) * sizeof(StasCtrl *));
                        m->n_disposing--;
                        return;
                }
}

/**
 * staf_manager_free() - see stafd-manager.h.
 */
StafManager *staf_manager_free(StafManager *m) {
        if (!m)
                return NULL;
        m->lkc_writer = lkc_writer_free(m->lkc_writer);
        for (size_t i = 0; i < m->n_dcs; i++)
                dc_free(m->dcs[i]);
        free(m->dcs);
        for (size_t i = 0; i < m->n_disposing; i++)
                stas_ctrl_free(m->disposing[i]);
        free(m->disposing);
        for (size_t i = 0; i < m->n_zeroconf; i++)
                kv_free(m->zeroconf[i]);
        free(m->zeroconf);
        timer_free(m->soak);
        resolver_free(m->resolver);
        timer_free(m->stop_timer);
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
static void soak_start(StafManager *m) {
        if (m->stopping || timer_is_armed(m->soak))
                return;
        (void) timer_start(m->soak, STAF_SOAK_USEC);
}

static int dcs_append(StafManager *m, StafDc *dc) {
        StafDc **n = realloc(m->dcs, (m->n_dcs + 1) * sizeof(StafDc *));

        if (!n)
                return -ENOMEM;
        m->dcs = n;
        m->dcs[m->n_dcs++] = dc;
        return 0;
}

/* What the state file restores that breaks validate.h: counted, the first one described. */
typedef struct RestoreBad {
        unsigned n;
        char first[160];
} RestoreBad;

/* the value is logged as it is: the log writer escapes control characters */
static void restore_refused(void *userdata, const StasKV *e, const char *field) {
        RestoreBad *b = userdata;

        if (b->n++ == 0)
                snprintf(
                        b->first,
                        sizeof(b->first),
                        "log page entry %s '%.64s'",
                        field ?: "traddr",
                        kv_get(e, field ?: "traddr") ?: "");
}

/* One "dcs" element of the state file: a DC (not started) with its cached log page entries. */
static int restore_dc(StafManager *m, json_object *o, RestoreBad *bad) {
        _cleanup_(kv_freep) StasKV *tkv = NULL;
        _cleanup_(tid_freep) StasTid *tid = NULL;
        _cleanup_(dc_freep) StafDc *dc = NULL;
        json_object *jt, *jo, *jl;
        const char *field = NULL;
        StasOrigin origin;

        if (!json_object_object_get_ex(o, "tid", &jt) || !json_object_object_get_ex(o, "origin", &jo))
                return 0;
        tkv = kv_from_json(jt);
        origin = stas_origin_from_string(json_object_get_string(jo));
        if (!tkv || origin < 0 || isempty(kv_get(tkv, "transport")))
                return 0;
        tid = tid_from_kv(tkv);
        if (!tid || staf_manager_find(m, tid))
                return 0;
        if (stas_check_tid(tid, STAS_VALID_HOSTNAME, &field) < 0) {
                if (bad->n++ == 0)
                        snprintf(
                                bad->first,
                                sizeof(bad->first),
                                "%s '%.64s'",
                                field,
                                kv_get(tkv, field) ?: "");
                return 0;
        }
        if (dc_new(m, tid, origin, NULL, &dc) < 0)
                return 0;
        if (json_object_object_get_ex(o, "log-pages", &jl) && json_object_is_type(jl, json_type_array)) {
                LogPagesRead rd = {
                        .check = true,
                        .usable_traddr = true,
                        .max_entries = STAS_DLP_MAX_ENTRIES,
                        .refused = restore_refused,
                        .userdata = bad,
                };
                StasKV **l = NULL;

                if (log_pages_from_json(jl, &rd, &l) >= 0) {
                        dlp_list_free(dc->log_pages);
                        dc->log_pages = l;
                }
        }
        /* not started: the first reconcile applies the current configuration first */
        if (dcs_append(m, dc) < 0)
                return -ENOMEM;
        TAKE_PTR(dc);
        return 0;
}

static int load_state(StafManager *m) {
        _cleanup_json_ json_object *data = NULL;
        RestoreBad bad = {};
        json_object *dcs;
        int r;

        if (!m->lkc_path)
                return 0;
        r = lkc_load_status(m->lkc_path, "stafd", &m->lkc_status, &data);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (!json_object_object_get_ex(data, "dcs", &dcs) || !json_object_is_type(dcs, json_type_array))
                return 0;
        /* the file is hostile too: what could reach a connect string is validated again */
        for (size_t i = 0; i < json_object_array_length(dcs); i++) {
                r = restore_dc(m, json_object_array_get_idx(dcs, i), &bad);
                if (r < 0)
                        return r;
        }
        if (bad.n > 0)
                log_warning(
                        "%s: skipped %u discovery controller(s) or log page entries with invalid fields (first: %s).",
                        m->lkc_path,
                        bad.n,
                        bad.first);
        log_debug("Restored %zu discovery controllers from %s.", m->n_dcs, m->lkc_path);
        return 0;
}

/**
 * staf_manager_start() - see stafd-manager.h.
 */
int staf_manager_start(StafManager *m) {
        (void) load_state(m);
        soak_start(m);
        return 0;
}

/**
 * staf_manager_save() - see stafd-manager.h.
 */
void staf_manager_save(StafManager *m) {
        /* coalesced, written off the loop; a failure is warned about once and shown by process_info */
        lkc_writer_schedule(m->lkc_writer);
}

/**
 * staf_manager_flush_state() - see stafd-manager.h.
 */
int staf_manager_flush_state(StafManager *m) {
        return lkc_writer_flush(m->lkc_writer);
}

/* The state file's document, when the writer starts a write (lkc-writer.h). */
static json_object *lkc_document(void *userdata) {
        StafManager *m = userdata;
        _cleanup_json_ json_object *data = NULL;
        json_object *dcs;

        data = json_object_new_object();
        dcs = json_object_new_array();
        if (!data || !dcs) {
                json_object_put(dcs);
                return NULL;
        }
        json_object_object_add(data, "dcs", dcs);
        for (size_t i = 0; i < m->n_dcs; i++) {
                StafDc *dc = m->dcs[i];
                _cleanup_(kv_freep) StasKV *tkv = tid_to_kv(dc->tid);
                json_object *o = json_object_new_object();

                if (!o || !tkv) {
                        json_object_put(o);
                        return NULL;
                }
                json_object_object_add(o, "tid", json_from_kv(tkv));
                json_object_object_add(
                        o, "origin", json_object_new_string(stas_origin_to_string(dc->origin)));
                json_object_object_add(o, "log-pages", log_pages_to_json(dc->log_pages));
                json_object_array_add(dcs, o);
        }
        if (lkc_host_uuid_add(data) < 0)
                return NULL;
        return TAKE_PTR(data);
}

static void dispose_done(StasCtrl *c, void *userdata) {
        StafManager *m = userdata;

        disposing_remove(m, c);
        stas_ctrl_free(c);
        if (m->stopping && m->n_disposing == 0 && m->stop_done) {
                void (*done)(void *) = TAKE_PTR(m->stop_done);
                done(m->stop_ud);
        }
}

/* hand @dc's controller to the terminator and free @dc */
static int dc_dispose(StafManager *m, StafDc *dc, bool keep, bool deregister) {
        StasCtrl **n = realloc(m->disposing, (m->n_disposing + 1) * sizeof(StasCtrl *));
        StasCtrl *c = dc->ctrl;
        int r;

        if (!n)
                return -ENOMEM;
        m->disposing = n;
        r = stas_ctrl_dispose(c, keep, deregister, dispose_done, m);
        if (r < 0)
                return r;
        m->disposing[m->n_disposing++] = c;
        dc->ctrl = NULL;
        dc_free(dc);
        return 0;
}

typedef struct Wanted {
        StasWanted *w;
        StasTid **tids;
        const StasKV **entries;
        size_t n, allocated;
} Wanted;

static void wanted_done(Wanted *w) {
        for (size_t i = 0; i < w->n; i++)
                tid_free(w->tids[i]);
        free(w->tids);
        free(w->w);
        free(w->entries);
}

static int wanted_add(Wanted *w, StasTid *tid, StasOrigin o, const StasKV *entry) {
        if (w->n == w->allocated) {
                size_t a = w->allocated ? w->allocated * 2 : 16;
                StasWanted *nw = realloc(w->w, a * sizeof(StasWanted));
                if (nw)
                        w->w = nw;
                StasTid **nt = realloc(w->tids, a * sizeof(StasTid *));
                if (nt)
                        w->tids = nt;
                const StasKV **ne = realloc(w->entries, a * sizeof(StasKV *));
                if (ne)
                        w->entries = ne;
                if (!nw || !nt || !ne) {
                        tid_free(tid);
                        return -ENOMEM;
                }
                w->allocated = a;
        }
        w->tids[w->n] = tid;
        w->entries[w->n] = entry;
        w->w[w->n] = (StasWanted){ .tid = tid, .origin = o };
        w->n++;
        return 0;
}

static bool wanted_has(const Wanted *w, const StasTid *tid) {
        for (size_t i = 0; i < w->n; i++)
                if (tid_equal(w->tids[i], tid))
                        return true;
        return false;
}

static bool reject_tid(const StasTid *tid, void *userdata) {
        StafManager *m = userdata;
        const char *reason = NULL;

        if (filter_tid_excluded(m->conf->excludes, m->conf->n_excludes, tid, NULL) != 0) {
                log_debug("Controller %s/%s excluded by configuration.", tid->traddr, tid->trsvcid);
                return true;
        }
        if (!filter_address_valid(tid->transport, tid->traddr, m->conf->ip_family, &reason)) {
                log_debug("Controller %s/%s ignored: %s.", tid->traddr, tid->trsvcid, strempty(reason));
                return true;
        }
        return false;
}

/**
 * staf_dc_candidate() - see stafd-manager.h.
 */
StasTid *staf_dc_candidate(const StasConf *conf, const StasSysConf *sys, const StasKV *record) {
        StasTid *t = tid_from_kv(record);

        if (!t)
                return NULL;
        if (isempty(t->subsysnqn) && free_and_strdup(&t->subsysnqn, NVME_DISC_WKNQN) < 0)
                return tid_free(t);
        if (isempty(t->host_nqn) && free_and_strdup(&t->host_nqn, sys->hostnqn) < 0)
                return tid_free(t);
        if (conf->ignore_iface && free_and_strdup(&t->host_iface, "") < 0)
                return tid_free(t);
        return t;
}

static StasTid *tid_with_defaults(StafManager *m, const StasKV *kv) {
        return staf_dc_candidate(m->conf, m->sys, kv);
}

/*
 * mDNS DCs that reconcile_dcs() keeps although avahi does not list them now (a flap, an avahi
 * restart, the first passes after a stafd restart) are held, so their referrals are held too.
 * Only a lost DC whose persistence ran out (unresponsive) lets them go.
 */
static int add_held_discovered(StafManager *m, Wanted *w) {
        for (size_t i = 0; i < m->n_dcs; i++) {
                StafDc *dc = m->dcs[i];
                StasTid *t;
                int r;

                if (dc->origin != STAS_ORIGIN_DISCOVERED || dc->unresponsive || reject_tid(dc->tid, m) ||
                    wanted_has(w, dc->tid))
                        continue;
                t = tid_copy(dc->tid);
                if (!t)
                        return -ENOMEM;
                r = wanted_add(w, t, STAS_ORIGIN_DISCOVERED, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int build_wanted(StafManager *m, StasKV *const *controllers, Wanted *w) {
        size_t n_referrals = 0, n_dropped = 0;
        int r;

        for (size_t i = 0; controllers && controllers[i]; i++) {
                StasTid *t = tid_with_defaults(m, controllers[i]);
                if (!t)
                        return -ENOMEM;
                r = wanted_add(w, t, STAS_ORIGIN_CONFIGURED, controllers[i]);
                if (r < 0)
                        return r;
        }
        if (m->conf->zeroconf)
                for (size_t i = 0; i < m->n_zeroconf; i++) {
                        StasTid *t = tid_with_defaults(m, m->zeroconf[i]);
                        if (!t)
                                return -ENOMEM;
                        r = wanted_add(w, t, STAS_ORIGIN_DISCOVERED, NULL);
                        if (r < 0)
                                return r;
                }
        r = add_held_discovered(m, w);
        if (r < 0)
                return r;
        /* referrals, transitively from the DCs held for their own sake (loop-safe: each TID once) */
        for (size_t i = 0; i < w->n; i++) {
                _cleanup_(dlp_tids_freep) StasTid **refs = NULL;
                StafDc *dc;

                if (reject_tid(w->tids[i], m))
                        continue;
                dc = staf_manager_find(m, w->tids[i]);
                if (!dc || !dc->log_pages)
                        continue;
                r = dlp_referral_tids(dc->log_pages, dc->tid, &refs);
                if (r < 0)
                        return r;
                for (size_t j = 0; refs[j]; j++) {
                        if (wanted_has(w, refs[j]))
                                continue;
                        if (n_referrals >= STAF_MAX_REFERRALS) {
                                log_debug(
                                        "Too many referrals; ignoring %s/%s.",
                                        refs[j]->traddr,
                                        refs[j]->trsvcid);
                                n_dropped++;
                                continue;
                        }
                        StasTid *t = tid_copy(refs[j]);
                        if (!t)
                                return -ENOMEM;
                        r = wanted_add(w, t, STAS_ORIGIN_REFERRAL, NULL);
                        if (r < 0)
                                return r;
                        n_referrals++;
                }
        }
        /* one line per change of the count, not one per referral and pass */
        if (n_dropped != m->referrals_dropped) {
                if (n_dropped > 0)
                        log_warning(
                                "Too many referrals: %zu ignored (at most %d referral discovery controllers).",
                                n_dropped,
                                STAF_MAX_REFERRALS);
                else
                        log_info("Referrals back within the limit of %d.", STAF_MAX_REFERRALS);
                m->referrals_dropped = n_dropped;
        }
        return 0;
}

/* exclusions apply to a host name before it is resolved (and to the address after) */
static bool name_excluded(const StasKV *entry, void *userdata) {
        StafManager *m = userdata;
        _cleanup_(tid_freep) StasTid *t = tid_with_defaults(m, entry);

        if (t && filter_tid_excluded(m->conf->excludes, m->conf->n_excludes, t, NULL) != 0) {
                log_debug("Controller %s/%s excluded by configuration.", t->traddr, t->trsvcid);
                return true;
        }
        return false;
}

static void names_resolved(StasResolver *res, void *userdata) {
        (void) staf_manager_reconcile_now(userdata);
}

/**
 * staf_manager_reconcile_now() - see stafd-manager.h.
 */
int staf_manager_reconcile_now(StafManager *m) {
        _cleanup_(reconcile_result_done) StasReconcileResult res = {};
        _cleanup_(kvv_freep) StasKV **controllers = NULL;
        _cleanup_free_ StasCurrent *cur = NULL;
        _cleanup_free_ bool *del = NULL;
        Wanted w = {};
        size_t k;
        int r;

        if (m->stopping)
                return 0;
        timer_stop(m->soak);
        /* host names in controller= entries: the pass continues once they are resolved */
        r = resolver_resolve_conf(m->resolver, m->conf, name_excluded, m, &controllers);
        if (r == -EINPROGRESS) {
                log_debug(
                        "Reconcile waits for %u host name(s) to be resolved.",
                        resolver_pending(m->resolver));
                return 0;
        }
        if (r < 0)
                goto finish;
        resolver_reset(m->resolver); /* the next pass asks DNS again */
        r = build_wanted(m, controllers, &w);
        if (r < 0)
                goto finish;
        cur = new0(StasCurrent, m->n_dcs + 1);
        del = new0(bool, m->n_dcs + 1);
        if (!cur || !del) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < m->n_dcs; i++)
                cur[i] = (StasCurrent){ .tid = m->dcs[i]->tid,
                                        .origin = m->dcs[i]->origin,
                                        .unresponsive = m->dcs[i]->unresponsive };
        r = reconcile_dcs(cur, m->n_dcs, w.w, w.n, reject_tid, m, &res);
        if (r < 0)
                goto finish;

        /* kept DCs: new origin, fresh config entry and options (from [Global] for all of them) */
        for (size_t i = 0; i < m->n_dcs; i++) {
                StafDc *dc = m->dcs[i];
                const StasKV *entry = NULL;
                StasConnectOptions o;

                dc_set_origin(dc, res.origin[i]);
                for (size_t j = 0; j < w.n && !entry; j++)
                        if (w.entries[j] && tid_equal(w.tids[j], dc->tid))
                                entry = w.entries[j];
                if (!kv_equal(dc->entry, entry)) {
                        kv_free(dc->entry);
                        dc->entry = entry ? kv_copy(entry) : NULL;
                }
                if (stas_conf_connect_options(m->conf, dc->entry, &o) >= 0) {
                        (void) stas_ctrl_set_options(dc->ctrl, &o);
                        connect_options_done(&o);
                }
        }
        for (size_t i = 0; i < res.n_del; i++)
                del[res.del[i]] = true;
        k = 0;
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
                if (!dc->started && stas_ctrl_adopt_existing(dc->ctrl) <= 0) {
                        log_info("Dropping discovery controller %s (no longer configured).", dc->tid_str);
                        dc_free(dc);
                        continue;
                }
                log_info("Removing discovery controller %s.", dc->tid_str);
                if (dc_dispose(m, dc, false, true) < 0)
                        dc_free(dc);
        }
        m->n_dcs = k;

        for (size_t i = 0; i < res.n_add; i++) {
                size_t idx = res.add[i];
                StafDc *dc = NULL;

                r = dc_new(m, w.tids[idx], res.add_origin[i], w.entries[idx], &dc);
                if (r < 0)
                        goto finish;
                r = dcs_append(m, dc);
                if (r < 0) {
                        dc_free(dc);
                        goto finish;
                }
                log_info(
                        "Adding discovery controller %s (%s).",
                        dc->tid_str,
                        stas_origin_to_string(dc->origin));
        }
        /* new DCs, and restored ones now that their options are current */
        for (size_t i = 0; i < m->n_dcs; i++)
                if (!m->dcs[i]->started) {
                        m->dcs[i]->started = true;
                        (void) stas_ctrl_start(m->dcs[i]->ctrl);
                }
        for (size_t i = 0; i < m->n_dcs; i++)
                dc_check_lost(m->dcs[i]);
        if (res.n_del > 0 && m->hooks.dc_removed)
                m->hooks.dc_removed(m, m->userdata);
        staf_manager_save(m);
        r = 0;
finish:
        wanted_done(&w);
        if (r < 0)
                log_error_errno(r, "Reconciling discovery controllers failed: %m");
        return r;
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
                        dc_start_stage(dc, STAGE_REGISTER);
                }
        }
        soak_start(m);
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
                dc_check_lost(m->dcs[i]);
        soak_start(m);
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

/*
 * A DC restored from the state file is bound to its kernel device only at the first reconcile
 * (it adopts it then, with the current configuration). Until then an event of a device at its
 * address is that DC's, not a foreign one for nvme-cli's nvmf-connect@ (§5.11).
 */
static bool restored_dc_at(const StafManager *m, const StasUevent *ev) {
        for (size_t i = 0; i < m->n_dcs; i++) {
                const StasTid *t = m->dcs[i]->tid;

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
        if (ev->action == STAS_UEVENT_OVERFLOW) {
                for (size_t i = 0; i < m->n_dcs; i++)
                        if (stas_ctrl_resync(m->dcs[i]->ctrl) == 0 && m->dcs[i]->log_reached)
                                dc_start_stage(m->dcs[i], STAGE_LOG);
                for (size_t i = 0; i < m->n_disposing; i++)
                        (void) stas_ctrl_resync(m->disposing[i]);
                return;
        }
        for (size_t i = 0; i < m->n_dcs; i++)
                if (stas_ctrl_handle_uevent(m->dcs[i]->ctrl, ev))
                        return;
        for (size_t i = 0; i < m->n_disposing; i++)
                if (stas_ctrl_handle_uevent(m->disposing[i], ev))
                        return;
        if (ev->action == STAS_UEVENT_CHANGE &&
            (uevent_is_dlp_changed(ev) || ev->nvme_event == STAS_NVME_EVENT_REDISCOVER) &&
            m->hooks.foreign_dc_event && !restored_dc_at(m, ev))
                m->hooks.foreign_dc_event(m, ev, m->userdata);
}

static void stop_timer_cb(StasTimer *t, void *userdata) {
        StafManager *m = userdata;
        void (*done)(void *) = TAKE_PTR(m->stop_done);

        if (m->n_disposing > 0)
                log_warning(
                        "%zu discovery controller disconnect(s) or deregistration(s) still pending after %u s: "
                        "leaving them; those controllers are kept in the last known configuration.",
                        m->n_disposing,
                        (unsigned) (STAS_STOP_WAIT_USEC / USEC_PER_SEC));
        if (done)
                done(m->stop_ud);
}

/**
 * staf_manager_stop() - see stafd-manager.h.
 */
int staf_manager_stop(StafManager *m, void (*done)(void *userdata), void *userdata) {
        bool keep = m->conf->persistent_connections;
        int r;

        staf_manager_save(m);
        (void) staf_manager_flush_state(m); /* always written at stop */
        m->stopping = true;
        m->stop_done = done;
        m->stop_ud = userdata;
        timer_stop(m->soak);
        while (m->n_dcs > 0) {
                StafDc *dc = m->dcs[--m->n_dcs];
                if (dc_dispose(m, dc, keep, !keep) < 0)
                        dc_free(dc);
        }
        r = timer_new(m->event, stop_timer_cb, m, &m->stop_timer);
        if (r < 0)
                return r;
        if (m->n_disposing == 0)
                return timer_start(m->stop_timer, 0);
        /* dispose_done() ends the stop when the last one is done, this timer at the latest */
        log_info(
                "Waiting up to %u s for %zu pending disconnect(s) or deregistration(s).",
                (unsigned) (STAS_STOP_WAIT_USEC / USEC_PER_SEC),
                m->n_disposing);
        return timer_start(m->stop_timer, STAS_STOP_WAIT_USEC);
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
                if (tid_equal(m->dcs[i]->tid, tid))
                        return m->dcs[i];
        return NULL;
}

size_t staf_manager_n_disposing(const StafManager *m) {
        return m->n_disposing;
}

const StasTid *staf_manager_disposing_tid(const StafManager *m, size_t i) {
        return i < m->n_disposing ? stas_ctrl_tid(m->disposing[i]) : NULL;
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
