/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tid.h - the transport identifier (TID) that names a controller, as in nvme-stas (§5.1):
 * transport, traddr, trsvcid, subsysnqn, host-traddr, host-iface, host-nqn. Equality and hash
 * cover exactly these seven fields (never connect options). All fields are owned, never NULL
 * ("" when unset). Nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "stas/kv.h"
#include "stas/macro.h"

#define NVME_DISC_WKNQN "nqn.2014-08.org.nvmexpress.discovery"

typedef struct StasTid {
        char *transport;
        char *traddr;
        char *trsvcid;
        char *subsysnqn;
        char *host_traddr;
        char *host_iface;
        char *host_nqn;
} StasTid;

/* tid_new() - allocate a TID; NULL arguments become "". Return: NULL on allocation failure. */
StasTid *tid_new(
        const char *transport,
        const char *traddr,
        const char *trsvcid,
        const char *subsysnqn,
        const char *host_traddr,
        const char *host_iface,
        const char *host_nqn);
StasTid *tid_free(StasTid *tid);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasTid *, tid_free);
StasTid *tid_copy(const StasTid *tid);

/*
 * tid_from_kv() - build a TID from a dict with the keys of controller_id_dict / a config entry:
 * "transport", "traddr", "trsvcid", "subsysnqn" (or "nqn"), "host-traddr", "host-iface",
 * "host-nqn". Missing keys become "".
 */
StasTid *tid_from_kv(const StasKV *kv);

/*
 * tid_to_kv() - the identity dict: transport, traddr, trsvcid, subsysnqn, host-traddr,
 * host-iface, host-nqn (in that order). Return: NULL on allocation failure.
 */
StasKV *tid_to_kv(const StasTid *tid);

bool tid_equal(const StasTid *a, const StasTid *b);
/* tid_hash() - stable across runs (FNV-1a over the seven fields). */
uint64_t tid_hash(const StasTid *tid);
/* tid_compare() - a total order, for sorting lists deterministically. */
int tid_compare(const StasTid *a, const StasTid *b);

/*
 * tid_to_string() - "(transport, traddr, trsvcid[, subsysnqn][, host-iface][, host-traddr])",
 * the form nvme-stas uses in logs and in process_info keys. Caller frees; NULL on ENOMEM.
 */
char *tid_to_string(const StasTid *tid);

/*
 * StasTidSet - a set of borrowed TIDs (open addressing on a keyed hash of the seven fields, the key
 * random per set: referrals come from the network and must not be able to collide on purpose),
 * for linear-time deduplication of long lists. The TIDs must outlive the set.
 * tid_set_add() returns 1 when @tid was added, 0 when an equal TID is already in, -ENOMEM.
 */
typedef struct StasTidSet {
        const StasTid **slots;
        size_t n, mask;
        uint64_t key[2];
        size_t probes; /* slots compared by tid_set_add(), in total (a test figure) */
} StasTidSet;

void tid_set_done(StasTidSet *s);
int tid_set_add(StasTidSet *s, const StasTid *tid);
