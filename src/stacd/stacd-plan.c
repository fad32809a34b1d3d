/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-plan.c - stacd's pure planning: what to connect and what to remove. See stacd-plan.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "stacd-plan.h"
#include "stas/dlp.h"
#include "stas/filter.h"
#include "stas/log.h"
#include "stas/macro.h"
#include "stas/reconcile.h"

/**
 * stacd_ncc_exhausted() - whether NCC stops further connect attempts (§5.9).
 * @dlpe: the IOC's current DLPE (NULL: not discovered, never limited)
 * @limit: connect-attempts-on-ncc (0 = never stop)
 * @attempts: attempts made so far
 */
bool stacd_ncc_exhausted(const StasKV *dlpe, int limit, unsigned attempts) {
        return dlpe && dlpe_is_ncc(dlpe) && limit > 0 && attempts >= (unsigned) limit;
}

/**
 * stacd_plan_done() - free a plan.
 * @p: the plan
 */
void stacd_plan_done(StacdPlan *p) {
        for (size_t i = 0; i < p->n_add; i++)
                tid_free(p->add[i]);
        free(p->add);
        free(p->add_src);
        free(p->del);
        free(p->del_keep_connection);
        free(p->cur_src);
        *p = (StacdPlan){};
}

/**
 * stacd_configured_tid() - the identity of a controller= entry.
 * @entry: the entry
 * @ignore_iface: [Global] ignore-iface
 * @hostnqn: the default host NQN
 */
StasTid *stacd_configured_tid(const StasKV *entry, bool ignore_iface, const char *hostnqn) {
        StasTid *t = tid_from_kv(entry);

        if (!t)
                return NULL;
        if (isempty(t->host_nqn) && !isempty(hostnqn) && free_and_strdup(&t->host_nqn, hostnqn) < 0)
                return tid_free(t);
        if ((ignore_iface || streq(t->transport, "rdma")) && free_and_strdup(&t->host_iface, "") < 0)
                return tid_free(t);
        return t;
}

typedef struct Wanted {
        StasTid *tid; /* owned for configured, borrowed from candidates otherwise */
        StacdSource src;
} Wanted;

static bool plan_rejected(const StasTid *tid, void *userdata) {
        const StacdPlanConf *conf = userdata;

        if (!filter_address_valid(tid->transport, tid->traddr, conf->ip_family, NULL))
                return true;
        /* out of memory counts as excluded: never connect what might be excluded */
        return filter_tid_excluded((StasKV **) conf->excludes, conf->n_excludes, tid, NULL) != 0;
}

static StacdSource source_of(const StasTid *tid, const StasWanted *w, const Wanted *wx, size_t n) {
        StacdSource s = {};

        for (size_t i = 0; i < n; i++) {
                if (!tid_equal(w[i].tid, tid))
                        continue;
                if (wx[i].src.entry && !s.entry)
                        s.entry = wx[i].src.entry;
                if (wx[i].src.dlpe && !s.dlpe)
                        s.dlpe = wx[i].src.dlpe;
        }
        return s;
}

/* The plan from the reconcile result @rr of the wanted set @w (@wx: their sources). */
static int plan_fill(
        StacdPlan *p,
        const StasReconcileResult *rr,
        const StasWanted *w,
        const Wanted *wx,
        size_t n_w,
        const StacdCurrentIoc *cur,
        size_t n_cur,
        bool known) {
        p->add = new0(StasTid *, rr->n_add + 1);
        p->add_src = new0(StacdSource, rr->n_add + 1);
        p->del = new0(size_t, rr->n_del + 1);
        p->del_keep_connection = new0(bool, rr->n_del + 1);
        p->cur_src = new0(StacdSource, n_cur + 1);
        if (!p->add || !p->add_src || !p->del || !p->del_keep_connection || !p->cur_src)
                return -ENOMEM;
        for (size_t i = 0; i < rr->n_add; i++) {
                const StasTid *t = w[rr->add[i]].tid;

                p->add[p->n_add] = tid_copy(t);
                if (!p->add[p->n_add])
                        return -ENOMEM;
                p->add_src[p->n_add] = source_of(t, w, wx, n_w);
                p->n_add++;
        }
        for (size_t i = 0; i < n_cur; i++)
                p->cur_src[i] = source_of(cur[i].tid, w, wx, n_w);
        for (size_t i = 0; i < rr->n_del; i++) {
                size_t k = rr->del[i];

                p->cur_src[k] = (StacdSource){};
                if (!known && cur[k].maybe_discovered) {
                        p->n_deferred++;
                        continue;
                }
                p->del[p->n_del] = k;
                p->del_keep_connection[p->n_del] = rr->del_keep_connection[i];
                p->n_del++;
        }
        return 0;
}

/**
 * stacd_plan() - the add/remove lists of a stacd reconcile.
 * @conf: the configuration
 * @d: the discovered set
 * @cur: the IOCs tracked now
 * @n_cur: their number
 * @ret: the plan (release with stacd_plan_done())
 */
int stacd_plan(
        const StacdPlanConf *conf,
        const StacdDiscovered *d,
        const StacdCurrentIoc *cur,
        size_t n_cur,
        StacdPlan *ret) {
        _cleanup_(reconcile_result_done) StasReconcileResult rr = {};
        _cleanup_(stacd_plan_done) StacdPlan p = {};
        StacdCandidate *cand = NULL;
        size_t n_cand = 0, n_w = 0;
        _cleanup_free_ StasCurrent *sc = NULL;
        _cleanup_free_ StasWanted *w = NULL;
        _cleanup_free_ Wanted *wx = NULL;
        int r;

        r = stacd_discovered_iocs(d, conf->ignore_iface, &cand, &n_cand);
        if (r < 0)
                return r;
        w = new0(StasWanted, conf->n_controllers + n_cand + 1);
        wx = new0(Wanted, conf->n_controllers + n_cand + 1);
        sc = new0(StasCurrent, n_cur + 1);
        if (!w || !wx || !sc) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < conf->n_controllers; i++) {
                StasTid *t = stacd_configured_tid(conf->controllers[i], conf->ignore_iface, conf->hostnqn);

                if (!t) {
                        r = -ENOMEM;
                        goto finish;
                }
                wx[n_w] = (Wanted){ .tid = t, .src.entry = conf->controllers[i] };
                w[n_w] = (StasWanted){ .tid = t, .origin = STAS_ORIGIN_CONFIGURED };
                n_w++;
        }
        for (size_t i = 0; i < n_cand; i++) {
                wx[n_w] = (Wanted){ .src.dlpe = cand[i].dlpe };
                w[n_w] = (StasWanted){ .tid = cand[i].tid, .origin = STAS_ORIGIN_DISCOVERED };
                n_w++;
        }
        for (size_t i = 0; i < n_cur; i++)
                sc[i] = (StasCurrent){ .tid = cur[i].tid, .origin = STAS_ORIGIN_DISCOVERED };

        r = reconcile_iocs(sc, n_cur, w, n_w, plan_rejected, (void *) conf, conf->scope, conf->trtypes, &rr);
        if (r < 0)
                goto finish;

        r = plan_fill(&p, &rr, w, wx, n_w, cur, n_cur, d->known);
        if (r < 0)
                goto finish;
        *ret = p;
        p = (StacdPlan){};
        r = 0;
finish:
        for (size_t i = 0; wx && i < conf->n_controllers; i++)
                tid_free(wx[i].tid);
        stacd_candidates_free(cand, n_cand);
        return r;
}
