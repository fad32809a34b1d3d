/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-plan.h - stacd's pure planning (§5.8, §5.9), unit-tested without a loop
 * (tests/unit/test-stacd.c): from the configuration, the discovered set (stacd-discovered.h) and
 * the IOCs stacd tracks now, which IOCs to create and which to remove (and whether to keep their
 * connection); and the NCC retry rule. Nothing here does I/O or logs above debug level.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stacd-discovered.h"
#include "stas/kv.h"
#include "stas/tid.h"
#include "stas/types.h"

/*
 * stacd_ncc_exhausted() - §5.9: true when retries must stop: the DLPE has NCC set, @limit
 * (connect-attempts-on-ncc) is not 0, and @attempts already made reached it.
 */
bool stacd_ncc_exhausted(const StasKV *dlpe, int limit, unsigned attempts);

/* One IOC stacd tracks now, as the planner sees it. */
typedef struct StacdCurrentIoc {
        const StasTid *tid;
        /* it was (or may have been) discovered: from a DLPE, the audit or the lkc */
        bool maybe_discovered;
} StacdCurrentIoc;

/* Where a wanted IOC comes from: its controller= entry and/or its DLPE (both borrowed). */
typedef struct StacdSource {
        const StasKV *entry; /* NULL: not configured */
        const StasKV *dlpe;  /* NULL: not discovered */
} StacdSource;

typedef struct StacdPlan {
        /* IOCs to create */
        StasTid **add; /* owned */
        StacdSource *add_src;
        size_t n_add;
        /* indexes into the current array: IOCs to remove, and whether to keep the connection */
        size_t *del;
        bool *del_keep_connection;
        size_t n_del;
        /* for each current IOC (same index): where it comes from now (both NULL if removed) */
        StacdSource *cur_src;
        /* removals suppressed because the discovered set is not known yet */
        size_t n_deferred;
} StacdPlan;

void stacd_plan_done(StacdPlan *p);

/* The configuration the planner needs (borrowed from StasConf / sys.conf). */
typedef struct StacdPlanConf {
        StasKV *const *controllers;
        size_t n_controllers;
        StasKV *const *excludes;
        size_t n_excludes;
        bool ignore_iface;
        StasIpFamily ip_family;
        StasDisconnectScope scope;
        char *const *trtypes;
        const char *hostnqn; /* default host-nqn of configured IOCs */
} StacdPlanConf;

/*
 * stacd_configured_tid() - the TID of a controller= entry: host-nqn defaults to @hostnqn,
 * host-iface is dropped with ignore-iface or for rdma. NULL on ENOMEM.
 */
StasTid *stacd_configured_tid(const StasKV *entry, bool ignore_iface, const char *hostnqn);

/*
 * stacd_plan() - §5.8: wanted = configured IOCs + the IOC candidates of @d, minus excluded and
 * invalid addresses (filter.h); then reconcile_iocs() with the disconnect policy. DESIGN 3: while
 * @d is not known (stafd never answered and no lkc), an IOC that may have been discovered is
 * never removed (counted in n_deferred instead). Return: 0 or -ENOMEM.
 */
int stacd_plan(
        const StacdPlanConf *conf,
        const StacdDiscovered *d,
        const StacdCurrentIoc *cur,
        size_t n_cur,
        StacdPlan *ret);
