/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-plan.c - stafd: which DCs stafd wants: the configured ones, the mDNS ones and, from every DC it
 * holds, their referrals, minus exclusions (the planning half of a reconcile). See stafd-internal.h and
 * stafd-manager.h.
 */
#include "stafd-internal.h"

void staf_wanted_done(Wanted *w) {
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

bool staf_wanted_rejected(const StasTid *tid, void *userdata) {
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

                if (dc->origin != STAS_ORIGIN_DISCOVERED || dc->unresponsive ||
                    staf_wanted_rejected(staf_dc_tid(dc), m) || wanted_has(w, staf_dc_tid(dc)))
                        continue;
                t = tid_copy(staf_dc_tid(dc));
                if (!t)
                        return -ENOMEM;
                r = wanted_add(w, t, STAS_ORIGIN_DISCOVERED, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

int staf_wanted_build(StafManager *m, StasKV *const *controllers, Wanted *w) {
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

                if (staf_wanted_rejected(w->tids[i], m))
                        continue;
                dc = staf_manager_find(m, w->tids[i]);
                if (!dc || !dc->log_pages)
                        continue;
                r = dlp_referral_tids(dc->log_pages, staf_dc_tid(dc), &refs);
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
bool staf_name_excluded(const StasKV *entry, void *userdata) {
        StafManager *m = userdata;
        _cleanup_(tid_freep) StasTid *t = tid_with_defaults(m, entry);

        if (t && filter_tid_excluded(m->conf->excludes, m->conf->n_excludes, t, NULL) != 0) {
                log_debug("Controller %s/%s excluded by configuration.", t->traddr, t->trsvcid);
                return true;
        }
        return false;
}
