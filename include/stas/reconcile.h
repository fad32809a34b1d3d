/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile.h - the controller-set reconciliation of stafd (§5.3) and stacd (§5.8) as pure
 * functions: from what is wanted (configured, discovered, referrals) and what exists now to the
 * lists of controllers to add, to remove (and whether to keep the kernel connection), and the
 * origin each kept controller should have. No I/O, no logging, no clock.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stas/tid.h"
#include "stas/types.h"

/* Where a discovery controller comes from, in decreasing priority (§5.3 step 5). */
typedef enum StasOrigin {
        STAS_ORIGIN_CONFIGURED,
        STAS_ORIGIN_REFERRAL,
        STAS_ORIGIN_DISCOVERED,
        _STAS_ORIGIN_MAX,
        _STAS_ORIGIN_INVALID = -1,
} StasOrigin;

const char *stas_origin_to_string(StasOrigin o);
StasOrigin stas_origin_from_string(const char *s);

/* A controller that exists now. */
typedef struct StasCurrent {
        const StasTid *tid;
        StasOrigin origin;
        bool unresponsive; /* a lost mDNS DC whose persistence timer expired (§5.4) */
} StasCurrent;

/* A wanted controller. */
typedef struct StasWanted {
        const StasTid *tid;
        StasOrigin origin;
} StasWanted;

/* Returns true if @tid must not exist (excluded, or an address that ip-family rules out). */
typedef bool (*StasRejectFn)(const StasTid *tid, void *userdata);

typedef struct StasReconcileResult {
        /* indexes into the wanted array: controllers to create, each with its final origin */
        size_t *add;
        StasOrigin *add_origin;
        size_t n_add;
        /* indexes into the current array: controllers to remove */
        size_t *del;
        bool *del_keep_connection;
        size_t n_del;
        /* for each current controller (same index): the origin it should have now */
        StasOrigin *origin;
} StasReconcileResult;

void reconcile_result_done(StasReconcileResult *r);

/*
 * reconcile_dcs() - stafd (§5.3). @wanted holds configured, mDNS-discovered and referral DCs
 * (duplicates allowed; the highest-priority origin wins). Rejected TIDs are dropped. A current
 * DC that is no longer wanted is removed, except one of origin "discovered" that is neither
 * rejected nor unresponsive (an avahi restart must not tear connections down). Removed DCs never
 * keep their kernel connection. Return: 0 or -ENOMEM.
 */
int reconcile_dcs(
        const StasCurrent *current,
        size_t n_current,
        const StasWanted *wanted,
        size_t n_wanted,
        StasRejectFn rejected,
        void *userdata,
        StasReconcileResult *ret);

/*
 * reconcile_iocs() - stacd (§5.8). @wanted holds configured IOCs and those discovered from
 * stafd's log pages. Removed IOCs keep their kernel connection when @scope is no-disconnect, or
 * when it is all-connections-matching-disconnect-trtypes and the transport is not in
 * @trtypes. Return: 0 or -ENOMEM.
 */
int reconcile_iocs(
        const StasCurrent *current,
        size_t n_current,
        const StasWanted *wanted,
        size_t n_wanted,
        StasRejectFn rejected,
        void *userdata,
        StasDisconnectScope scope,
        char *const *trtypes,
        StasReconcileResult *ret);

/* reconcile_keep_connection() - the §5.8 keep rule alone, for callers that remove one IOC. */
bool reconcile_keep_connection(StasDisconnectScope scope, char *const *trtypes, const char *transport);
