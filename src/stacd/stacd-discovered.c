/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-discovered.c - stacd's data model: the discovered set, its IOC candidates, the state file
 * document, the list_controllers dicts. See stacd-discovered.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "stacd-discovered.h"
#include "stas/json-util.h"
#include "stas/log-pages.h"
#include "stas/ctrl.h"
#include "stas/dlp.h"
#include "stas/log.h"
#include "stas/macro.h"
#include "stas/wire.h"

static bool field_is_sane(const char *s) {
        return stas_check_wire_field(s) == 0;
}

/**
 * stacd_tid_is_sane() - a TID that came from another process may be used.
 * @tid: the TID
 */
bool stacd_tid_is_sane(const StasTid *tid) {
        /* a DC's host-traddr, host-iface and host-nqn go into the IOCs' connect strings */
        return tid && !isempty(tid->transport) && !isempty(tid->traddr) && field_is_sane(tid->transport) &&
                field_is_sane(tid->traddr) && field_is_sane(tid->trsvcid) && field_is_sane(tid->subsysnqn) &&
                field_is_sane(tid->host_traddr) && field_is_sane(tid->host_iface) &&
                field_is_sane(tid->host_nqn) && stas_check_tid(tid, STAS_VALID_HOSTNAME, NULL) == 0;
}

bool stacd_dlpe_usable(const StasKV *dlpe, const char **ret_field) {
        if (ret_field)
                *ret_field = NULL;
        if (!dlpe)
                return false;
        KV_FOREACH(j, dlpe) {
                if (strlen(dlpe->keys[j]) > STAS_WIRE_FIELD_MAX ||
                    strlen(dlpe->values[j]) > STAS_WIRE_VALUE_MAX)
                        return false;
        }
        return dlpe_check(dlpe, ret_field) == 0;
}

void stacd_note_bad_dlpe(StacdDecodeStats *st, const StasTid *dc, const StasKV *dlpe, const char *field) {
        st->bad_dlpes++;
        if (st->first_field || !field)
                return;
        st->first_field = field;
        stas_excerpt(dc ? dc->traddr : "", st->first_dc, sizeof(st->first_dc));
        stas_excerpt(kv_get(dlpe, field), st->first_value, sizeof(st->first_value));
}

static void dc_done(StacdDc *dc) {
        dc->tid = tid_free(dc->tid);
        dc->dlpes = dlp_list_free(dc->dlpes);
}

/**
 * stacd_discovered_done() - free the contents of a discovered set.
 * @d: the set
 */
void stacd_discovered_done(StacdDiscovered *d) {
        for (size_t i = 0; i < d->n; i++)
                dc_done(&d->dcs[i]);
        free(d->dcs);
        *d = (StacdDiscovered){};
}

static const StacdDc *discovered_find(const StacdDiscovered *d, const StasTid *tid) {
        for (size_t i = 0; d && i < d->n; i++)
                if (tid_equal(d->dcs[i].tid, tid))
                        return &d->dcs[i];
        return NULL;
}

/* What log_pages_from_json() refused: counted in the stats, the first one described. */
typedef struct Refused {
        StacdDecodeStats *st;
        const StasTid *dc;
} Refused;

static void note_refused(void *userdata, const StasKV *dlpe, const char *field) {
        Refused *x = userdata;

        stacd_note_bad_dlpe(x->st, x->dc, dlpe, field);
}

/* The entries of @pages (NULL: the element had none): usable ones only, or @old's for the DC. */
static int decode_pages(
        json_object *pages,
        size_t idx,
        const StasTid *tid,
        const StacdDiscovered *old,
        StacdDecodeStats *st,
        StasKV ***ret) {
        Refused x = { .st = st, .dc = tid };
        LogPagesRead rd = { .check = true, .refused = note_refused, .userdata = &x };
        const StacdDc *prev;
        int r;

        if (pages) {
                r = log_pages_from_json(pages, &rd, ret);
                st->bad_dlpes += rd.malformed; /* the refused ones are counted by note_refused() */
                return r;
        }
        log_debug("get_all_log_pages: element %zu: no log page list, keeping the DC's last entries", idx);
        st->bad_dcs++;
        prev = discovered_find(old, tid);
        if (!prev)
                return 1;
        *ret = dlp_list_copy(prev->dlpes);
        if (!*ret)
                return -ENOMEM;
        st->kept++;
        return 0;
}

/* One element of the array: 0 decoded, 1 skipped (counted in @st), -ENOMEM. */
static int decode_element(
        json_object *e, size_t idx, const StacdDiscovered *old, StacdDc *out, StacdDecodeStats *st) {
        _cleanup_(kv_freep) StasKV *dckv = NULL;
        _cleanup_(tid_freep) StasTid *tid = NULL;
        StasKV **l = NULL;
        json_object *pages;
        int r;

        r = log_pages_element_from_json(e, &dckv, &pages);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_debug(
                        r == -ENOENT
                                ? "get_all_log_pages: element %zu names no discovery controller, skipped"
                                : "get_all_log_pages: element %zu: unreadable discovery controller, skipped",
                        idx);
                st->unidentified++;
                return 1;
        }
        tid = tid_from_kv(dckv);
        if (!tid)
                return -ENOMEM;
        if (!stacd_tid_is_sane(tid)) {
                /* never in a known set (only sane DCs get there): nothing to keep */
                log_debug("get_all_log_pages: element %zu: unusable discovery controller, skipped", idx);
                st->bad_dcs++;
                return 1;
        }
        r = decode_pages(pages, idx, tid, old, st, &l);
        if (r != 0)
                return r;
        out->tid = TAKE_PTR(tid);
        out->dlpes = l;
        return 0;
}

/**
 * stacd_discovered_decode() - decode the get_all_log_pages array element by element.
 * @array: the parsed JSON
 * @old: the last known set (for the entries of skipped elements; NULL: none)
 * @ret: the new set (overwritten; the caller frees it)
 * @ret_stats: what was skipped (optional)
 */
int stacd_discovered_decode(
        json_object *array, const StacdDiscovered *old, StacdDiscovered *ret, StacdDecodeStats *ret_stats) {
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {};
        StacdDecodeStats st = {};
        size_t len;
        int r;

        if (!json_object_is_type(array, json_type_array))
                return log_debug_errno(SYNTHETIC_ERRNO(EINVAL), "get_all_log_pages: not an array");
        len = json_object_array_length(array);
        d.dcs = new0(StacdDc, len ? len : 1);
        if (!d.dcs)
                return -ENOMEM;

        for (size_t i = 0; i < len; i++) {
                r = decode_element(json_object_array_get_idx(array, i), i, old, &d.dcs[d.n], &st);
                if (r < 0)
                        return r;
                if (r == 0)
                        d.n++;
        }
        /*
         * An element that names no DC could be any DC: the DCs of @old this answer lacks keep
         * their entries (DESIGN 3: an unreadable answer never reads as "these IOCs are gone").
         */
        if (st.unidentified > 0 && old && old->known)
                for (size_t i = 0; i < old->n; i++) {
                        if (discovered_find(&d, old->dcs[i].tid))
                                continue;
                        r = stacd_discovered_set_dc(&d, old->dcs[i].tid, old->dcs[i].dlpes);
                        if (r < 0)
                                return r;
                        st.kept++;
                }
        d.known = true;
        *ret = d;
        d = (StacdDiscovered){};
        if (ret_stats)
                *ret_stats = st;
        return 0;
}

/**
 * stacd_discovered_from_object() - decode the get_all_log_pages array in place.
 * @array: the parsed JSON
 * @ret: the set to replace on success (its old contents serve as the last known set)
 */
int stacd_discovered_from_object(json_object *array, StacdDiscovered *ret) {
        StacdDiscovered d = {};
        int r;

        r = stacd_discovered_decode(array, ret, &d, NULL);
        if (r < 0)
                return r;
        stacd_discovered_done(ret);
        *ret = d;
        return 0;
}

/**
 * stacd_discovered_from_json() - decode stafd's get_all_log_pages text.
 * @text: the string (hostile)
 * @ret: the set to replace on success
 */
int stacd_discovered_from_json(const char *text, StacdDiscovered *ret) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        r = log_pages_parse(text, &o);
        if (r < 0)
                return log_debug_errno(r, "get_all_log_pages: not a valid JSON array");
        return stacd_discovered_from_object(o, ret);
}

/**
 * stacd_discovered_to_object() - the set as a get_all_log_pages array.
 * @d: the set
 */
json_object *stacd_discovered_to_object(const StacdDiscovered *d) {
        _cleanup_json_ json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < d->n; i++) {
                _cleanup_(kv_freep) StasKV *dckv = tid_to_kv(d->dcs[i].tid);

                if (!dckv || log_pages_add_element(a, dckv, d->dcs[i].dlpes) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

/**
 * stacd_discovered_set_dc() - replace (or add) the entries of one DC.
 * @d: the set
 * @dc: the DC
 * @dlpes: its entries (copied; NULL = none)
 */
int stacd_discovered_set_dc(StacdDiscovered *d, const StasTid *dc, StasKV *const *dlpes) {
        _cleanup_(dlp_list_freep) StasKV **copy = dlp_list_copy(dlpes);
        StacdDc *t;

        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < d->n; i++)
                if (tid_equal(d->dcs[i].tid, dc)) {
                        dlp_list_free(d->dcs[i].dlpes);
                        d->dcs[i].dlpes = TAKE_PTR(copy);
                        return 0;
                }
        t = realloc(d->dcs, sizeof(StacdDc) * (d->n + 1));
        if (!t)
                return -ENOMEM;
        d->dcs = t;
        d->dcs[d->n].tid = tid_copy(dc);
        if (!d->dcs[d->n].tid)
                return -ENOMEM;
        d->dcs[d->n].dlpes = TAKE_PTR(copy);
        d->n++;
        return 0;
}

/**
 * stacd_candidates_free() - free a candidate array.
 * @c: the array (NULL-tolerant)
 * @n: its length
 */
void stacd_candidates_free(StacdCandidate *c, size_t n) {
        for (size_t i = 0; c && i < n; i++)
                tid_free(c[i].tid);
        free(c);
}

/**
 * stacd_discovered_iocs() - the IOC candidates of the discovered set (§5.8).
 * @d: the set
 * @ignore_iface: [Global] ignore-iface
 * @ret: the candidates (free with stacd_candidates_free())
 * @ret_n: their number
 */
int stacd_discovered_iocs(const StacdDiscovered *d, bool ignore_iface, StacdCandidate **ret, size_t *ret_n) {
        _cleanup_(tid_set_done) StasTidSet seen = {};
        StacdCandidate *c = NULL;
        size_t n = 0, total = 0;

        for (size_t i = 0; i < d->n; i++)
                total += dlp_list_length(d->dcs[i].dlpes);
        c = new0(StacdCandidate, total ? total : 1);
        if (!c)
                return -ENOMEM;

        for (size_t i = 0; i < d->n; i++) {
                const StasTid *dc = d->dcs[i].tid;

                for (StasKV **p = d->dcs[i].dlpes; p && *p; p++) {
                        const char *trtype = kv_get(*p, "trtype");
                        bool no_iface = ignore_iface || streq(strempty(trtype), "rdma");
                        StasTid *t;
                        int r;

                        if (!dlpe_is_nvme(*p))
                                continue;
                        t =
                                tid_new(trtype,
                                        kv_get(*p, "traddr"),
                                        kv_get(*p, "trsvcid"),
                                        kv_get(*p, "subnqn"),
                                        dc->host_traddr,
                                        no_iface ? NULL : dc->host_iface,
                                        dc->host_nqn);
                        if (!t) {
                                stacd_candidates_free(c, n);
                                return -ENOMEM;
                        }
                        if (!stacd_tid_is_sane(t)) {
                                tid_free(t);
                                continue;
                        }
                        r = tid_set_add(&seen, t);
                        if (r <= 0) {
                                tid_free(t);
                                if (r == 0)
                                        continue;
                                stacd_candidates_free(c, n);
                                return r;
                        }
                        c[n].tid = t;
                        c[n].dlpe = *p;
                        n++;
                }
        }
        *ret = c;
        *ret_n = n;
        return 0;
}

/* Append @s to the growing buffer, quoting as Python's repr of a str does (single quotes). */
static int append(char **buf, size_t *len, const char *s, bool quote) {
        size_t add = strlen(s) * 2 + 3;
        char *t = realloc(*buf, *len + add + 1), *p;

        if (!t)
                return -ENOMEM;
        *buf = t;
        p = t + *len;
        if (quote)
                *p++ = '\'';
        for (; *s; s++) {
                if (quote && (*s == '\'' || *s == '\\'))
                        *p++ = '\\';
                *p++ = *s;
        }
        if (quote)
                *p++ = '\'';
        *p = 0;
        *len = p - t;
        return 0;
}

/**
 * stacd_dlpe_to_string() - the DLPE as nvme-stas prints a dict.
 * @dlpe: the entry (NULL gives "None")
 */
char *stacd_dlpe_to_string(const StasKV *dlpe) {
        char *buf = NULL;
        size_t len = 0;

        if (!dlpe)
                return strdup("None");
        if (append(&buf, &len, "{", false) < 0)
                goto oom;
        KV_FOREACH(i, dlpe) {
                if ((i > 0 && append(&buf, &len, ", ", false) < 0) ||
                    append(&buf, &len, dlpe->keys[i], true) < 0 || append(&buf, &len, ": ", false) < 0 ||
                    append(&buf, &len, dlpe->values[i], true) < 0)
                        goto oom;
        }
        if (append(&buf, &len, "}", false) < 0)
                goto oom;
        return buf;
oom:
        free(buf);
        return NULL;
}

/**
 * stacd_ioc_dict() - the short list_controllers dict of an IOC.
 * @tid: its identity
 * @device: "nvmeN" or NULL
 * @entry: its controller= entry, or NULL
 */
StasKV *stacd_ioc_dict(const StasTid *tid, const char *device, const StasKV *entry) {
        _cleanup_(kv_freep) StasKV *kv = tid_to_kv(tid);

        if (!kv || kv_set(kv, "device", isempty(device) ? "nvme?" : device) < 0)
                return NULL;
        KV_FOREACH(i, entry) {
                const char *k = entry->keys[i];

                if (kv_get(kv, k) || streq(k, "nqn"))
                        continue;
                if (kv_set(kv, k, stas_secret_key(k) ? LOG_SECRET(entry->values[i]) : entry->values[i]) < 0)
                        return NULL;
        }
        return TAKE_PTR(kv);
}

/**
 * stacd_lkc_build() - the last-known-config document.
 * @iocs: the tracked IOC TIDs
 * @n: their number
 * @d: the discovered set
 */
json_object *stacd_lkc_build(StasTid *const *iocs, size_t n, const StacdDiscovered *d) {
        json_object *root = json_object_new_object(), *a = json_object_new_array(), *disc = NULL;

        if (!root || !a)
                goto fail;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(kv_freep) StasKV *kv = tid_to_kv(iocs[i]);
                json_object *o = kv ? json_from_kv(kv) : NULL;

                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        goto fail;
                }
        }
        if (d->known) {
                disc = stacd_discovered_to_object(d);
                if (!disc)
                        goto fail;
        }
        json_object_object_add(root, "iocs", a);
        json_object_object_add(root, "discovered", disc);
        return root;
fail:
        json_object_put(a);
        json_object_put(root);
        return NULL;
}

/**
 * stacd_lkc_parse() - validate and decode the last-known-config document.
 * @data: the "data" of the lkc file
 * @ret_tids: the IOC TIDs (NULL-terminated)
 * @ret_discovered: the discovered set (known only when the file had one)
 */
int stacd_lkc_parse(json_object *data, StasTid ***ret_tids, StacdDiscovered *ret_discovered) {
        _cleanup_(dlp_tids_freep) StasTid **tids = NULL;
        StacdDiscovered d = {};
        json_object *a, *disc;
        size_t len, n = 0;
        int r;

        if (!json_object_is_type(data, json_type_object) || !json_object_object_get_ex(data, "iocs", &a) ||
            !json_object_is_type(a, json_type_array))
                return -EINVAL;
        len = json_object_array_length(a);
        tids = new0(StasTid *, len + 1);
        if (!tids)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                _cleanup_(kv_freep) StasKV *kv = NULL;
                StasTid *t;

                if (log_pages_dict_from_json(json_object_array_get_idx(a, i), &kv) < 0)
                        continue;
                t = tid_from_kv(kv);
                if (!t)
                        return -ENOMEM;
                if (!stacd_tid_is_sane(t)) {
                        tid_free(t);
                        continue;
                }
                tids[n++] = t;
        }
        if (json_object_object_get_ex(data, "discovered", &disc) && disc) {
                r = stacd_discovered_from_object(disc, &d);
                if (r < 0)
                        return r;
        }
        stacd_discovered_done(ret_discovered);
        *ret_discovered = d;
        *ret_tids = TAKE_PTR(tids);
        return 0;
}

/**
 * stacd_discovered_keep_missing() - carry DCs not (yet) reported by a fresh stafd over.
 * @new: the answer of the fresh stafd (updated)
 * @old: the last known set
 */
int stacd_discovered_keep_missing(StacdDiscovered *new, const StacdDiscovered *old) {
        int kept = 0;

        if (!old->known)
                return 0;
        for (size_t i = 0; i < old->n; i++) {
                bool empty = true;
                int r;

                if (dlp_list_length(old->dcs[i].dlpes) == 0)
                        continue;
                for (size_t j = 0; j < new->n; j++)
                        if (tid_equal(new->dcs[j].tid, old->dcs[i].tid)) {
                                empty = dlp_list_length(new->dcs[j].dlpes) == 0;
                                break;
                        }
                if (!empty)
                        continue;
                r = stacd_discovered_set_dc(new, old->dcs[i].tid, old->dcs[i].dlpes);
                if (r < 0)
                        return r;
                kept++;
        }
        return kept;
}
