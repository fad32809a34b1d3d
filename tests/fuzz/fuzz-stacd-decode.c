/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-stacd-decode.c - stafd's get_all_log_pages answers as stacd decodes them (stacd-discovered.c:
 * stacd_discovered_from_json(), stacd_discovered_decode() with a last known set,
 * stacd_discovered_keep_missing(), then stacd_discovered_iocs() and the printed DLPEs).
 * Input: JSON texts separated by NUL bytes: each answer is decoded with the set the previous one
 * left as the last known set (the first starts from an unknown set).
 * Accepted: the last answer decodes. Invariants: a decoded set is known and holds sane DCs and
 * bounded entries only; it survives stacd_discovered_to_object() and back unchanged; keeping
 * the missing DCs of the last known set loses none of them; IOC candidates come from subtype
 * nvme entries only.
 */
#include <errno.h>

#include "fuzz-stacd.h"
#include "stas/json-util.h"

static void check_round_trip(const StacdDiscovered *d) {
        _cleanup_(stacd_discovered_done) StacdDiscovered back = {};
        _cleanup_json_ json_object *o = stacd_discovered_to_object(d);

        fuzz_assert(o);
        fuzz_assert(stacd_discovered_from_object(o, &back) == 0);
        fuzz_assert(discovered_same(d, &back));
}

static void check_iocs(const StacdDiscovered *d, bool ignore_iface) {
        StacdCandidate *c = NULL;
        size_t n = 0;

        fuzz_assert(stacd_discovered_iocs(d, ignore_iface, &c, &n) == 0);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *s = stacd_dlpe_to_string(c[i].dlpe);

                fuzz_assert(c[i].tid && c[i].dlpe && s);
                fuzz_assert_streq(kv_get(c[i].dlpe, "subtype"), "nvme");
                fuzz_assert(!ignore_iface || isempty(c[i].tid->host_iface));
        }
        stacd_candidates_free(c, n);
}

static void check_keep_missing(const StacdDiscovered *old, StacdDiscovered *new) {
        fuzz_assert(stacd_discovered_keep_missing(new, old) >= 0);
        for (size_t i = 0; old->known && i < old->n; i++) {
                bool found = false;

                if (dlp_list_length(old->dcs[i].dlpes) == 0)
                        continue;
                for (size_t j = 0; j < new->n && !found; j++)
                        found = tid_equal(new->dcs[j].tid, old->dcs[i].tid) &&
                                dlp_list_length(new->dcs[j].dlpes) > 0;
                fuzz_assert(found);
        }
}

/* Decode one answer against @cur (replaced on success). Return: whether it decoded. */
static bool decode(const char *text, StacdDiscovered *cur, bool fresh) {
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};
        _cleanup_json_ json_object *o = NULL;
        StacdDecodeStats st = {};
        int r;

        if (json_parse(text, &o) < 0) {
                fuzz_assert(stacd_discovered_from_json(text, &d) == -EINVAL);
                return false;
        }
        r = stacd_discovered_decode(o, cur, &d, &st);
        if (r < 0) {
                fuzz_assert(r == -EINVAL && !json_object_is_type(o, json_type_array));
                return false;
        }
        fuzz_assert(d.known);
        check_discovered(&d);
        fuzz_assert(d.n <= json_object_array_length(o) + cur->n);
        check_round_trip(&d);
        if (fresh)
                check_keep_missing(cur, &d);
        check_iocs(&d, false);
        check_iocs(&d, true);
        stacd_discovered_done(cur);
        *cur = d;
        d = (StacdDiscovered){};
        return true;
}

bool fuzz_one(const uint8_t *data, size_t size) {
        _cleanup_(stacd_discovered_done) StacdDiscovered cur = {};
        FuzzInput in = fuzz_input(data, size);
        bool ok = false;

        for (unsigned i = 0; in.n > 0; i++) {
                _cleanup_free_ char *text = fuzz_field(&in);

                ok = decode(text, &cur, i % 2 == 1);
        }
        return ok;
}
