/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-stacd.h - checks on stacd's discovered set shared by the targets that decode one. */
#pragma once

#include "fuzz.h"
#include "stacd-discovered.h"
#include "stas/dlp.h"

/* dlpes_same() - the same entries in the same order. */
static inline bool dlpes_same(StasKV *const *a, StasKV *const *b) {
        size_t n = dlp_list_length(a);

        if (n != dlp_list_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!kv_equal(a[i], b[i]) || a[i]->n != b[i]->n)
                        return false;
        return true;
}

/* discovered_same() - the same DCs, in the same order, with the same entries. */
static inline bool discovered_same(const StacdDiscovered *a, const StacdDiscovered *b) {
        if (a->known != b->known || a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!tid_equal(a->dcs[i].tid, b->dcs[i].tid) ||
                    !dlpes_same(a->dcs[i].dlpes, b->dcs[i].dlpes))
                        return false;
        return true;
}

/* check_discovered() - what stacd-discovered.h promises about a decoded set. */
static inline void check_discovered(const StacdDiscovered *d) {
        for (size_t i = 0; i < d->n; i++) {
                fuzz_assert(stacd_tid_is_sane(d->dcs[i].tid));
                fuzz_assert(d->dcs[i].dlpes);
                for (StasKV **e = d->dcs[i].dlpes; *e; e++)
                        KV_FOREACH(j, *e) {
                                fuzz_assert(strlen((*e)->keys[j]) <= STAS_WIRE_FIELD_MAX);
                                fuzz_assert(strlen((*e)->values[j]) <= STAS_WIRE_VALUE_MAX);
                        }
        }
}
