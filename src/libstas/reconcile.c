/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>

#include "stas/reconcile.h"
#include "stas/strv.h"

static const char *const origin_names[_STAS_ORIGIN_MAX] = {
        [STAS_ORIGIN_CONFIGURED] = "configured",
        [STAS_ORIGIN_REFERRAL] = "referral",
        [STAS_ORIGIN_DISCOVERED] = "discovered",
};

const char *stas_origin_to_string(StasOrigin o) {
        if (o < 0 || o >= _STAS_ORIGIN_MAX)
                return NULL;
        return origin_names[o];
}

StasOrigin stas_origin_from_string(const char *s) {
        for (int i = 0; s && i < _STAS_ORIGIN_MAX; i++)
                if (streq(s, origin_names[i]))
                        return (StasOrigin) i;
        return _STAS_ORIGIN_INVALID;
}

void reconcile_result_done(StasReconcileResult *r) {
        free(r->add);
        free(r->add_origin);
        free(r->del);
        free(r->del_keep_connection);
        free(r->origin);
        *r = (StasReconcileResult){};
}

bool reconcile_keep_connection(StasDisconnectScope scope, char *const *trtypes, const char *transport) {
        if (scope == STAS_DISCONNECT_NONE)
                return true;
        if (scope == STAS_DISCONNECT_ALL_MATCHING)
                return !strv_contains(trtypes, transport);
        return false;
}

/*
 * The wanted set, deduplicated: for each distinct accepted TID, the index of its first
 * occurrence and the best (lowest) origin among its duplicates. Quadratic, which is fine for the
 * sizes at hand (tens to a few hundred controllers) and keeps the order of the input.
 */
typedef struct Wanted {
        size_t index;
        StasOrigin origin;
        bool matched; /* a current controller has this TID */
} Wanted;

static int build_wanted(
        const StasWanted *wanted,
        size_t n_wanted,
        StasRejectFn rejected,
        void *userdata,
        Wanted **ret,
        size_t *ret_n) {
        _cleanup_free_ Wanted *w = new0(Wanted, n_wanted + 1);
        size_t n = 0;

        if (!w)
                return -ENOMEM;
        for (size_t i = 0; i < n_wanted; i++) {
                size_t j;

                if (rejected && rejected(wanted[i].tid, userdata))
                        continue;
                for (j = 0; j < n; j++)
                        if (tid_equal(wanted[w[j].index].tid, wanted[i].tid))
                                break;
                if (j < n) {
                        if (wanted[i].origin < w[j].origin)
                                w[j].origin = wanted[i].origin;
                        continue;
                }
                w[n++] = (Wanted){ .index = i, .origin = wanted[i].origin };
        }
        *ret = TAKE_PTR(w);
        *ret_n = n;
        return 0;
}

typedef bool (*KeepFn)(const StasCurrent *c, bool rejected, void *data);
typedef bool (*KeepConnFn)(const StasCurrent *c, void *data);

static int reconcile(
        const StasCurrent *current,
        size_t n_current,
        const StasWanted *wanted,
        size_t n_wanted,
        StasRejectFn rejected,
        void *userdata,
        KeepFn keep_unwanted,
        KeepConnFn keep_connection,
        void *data,
        StasReconcileResult *ret) {
        _cleanup_(reconcile_result_done) StasReconcileResult r = {};
        _cleanup_free_ Wanted *w = NULL;
        size_t n_w = 0;
        int k;

        k = build_wanted(wanted, n_wanted, rejected, userdata, &w, &n_w);
        if (k < 0)
                return k;

        r.add = new0(size_t, n_w + 1);
        r.add_origin = new0(StasOrigin, n_w + 1);
        r.del = new0(size_t, n_current + 1);
        r.del_keep_connection = new0(bool, n_current + 1);
        r.origin = new0(StasOrigin, n_current + 1);
        if (!r.add || !r.add_origin || !r.del || !r.del_keep_connection || !r.origin)
                return -ENOMEM;

        for (size_t i = 0; i < n_current; i++) {
                size_t j;

                r.origin[i] = current[i].origin;
                for (j = 0; j < n_w; j++)
                        if (tid_equal(wanted[w[j].index].tid, current[i].tid))
                                break;
                if (j < n_w) {
                        w[j].matched = true;
                        r.origin[i] = w[j].origin;
                        continue;
                }
                if (keep_unwanted &&
                    keep_unwanted(&current[i], rejected && rejected(current[i].tid, userdata), data))
                        continue;
                r.del_keep_connection[r.n_del] =
                        keep_connection ? keep_connection(&current[i], data) : false;
                r.del[r.n_del++] = i;
        }

        for (size_t j = 0; j < n_w; j++) {
                if (w[j].matched)
                        continue;
                r.add_origin[r.n_add] = w[j].origin;
                r.add[r.n_add++] = w[j].index;
        }

        *ret = r;
        r = (StasReconcileResult){};
        return 0;
}

static bool dc_keep_unwanted(const StasCurrent *c, bool rejected, void *data) {
        /* §5.3 step 3: mDNS DCs stay unless they must go (excluded, invalid or unresponsive). */
        return c->origin == STAS_ORIGIN_DISCOVERED && !rejected && !c->unresponsive;
}

int reconcile_dcs(
        const StasCurrent *current,
        size_t n_current,
        const StasWanted *wanted,
        size_t n_wanted,
        StasRejectFn rejected,
        void *userdata,
        StasReconcileResult *ret) {
        return reconcile(
                current, n_current, wanted, n_wanted, rejected, userdata, dc_keep_unwanted, NULL, NULL, ret);
}

typedef struct IocPolicy {
        StasDisconnectScope scope;
        char *const *trtypes;
} IocPolicy;

static bool ioc_keep_connection(const StasCurrent *c, void *data) {
        const IocPolicy *p = data;
        return reconcile_keep_connection(p->scope, p->trtypes, c->tid->transport);
}

int reconcile_iocs(
        const StasCurrent *current,
        size_t n_current,
        const StasWanted *wanted,
        size_t n_wanted,
        StasRejectFn rejected,
        void *userdata,
        StasDisconnectScope scope,
        char *const *trtypes,
        StasReconcileResult *ret) {
        IocPolicy p = { .scope = scope, .trtypes = trtypes };

        return reconcile(
                current,
                n_current,
                wanted,
                n_wanted,
                rejected,
                userdata,
                NULL,
                ioc_keep_connection,
                &p,
                ret);
}
