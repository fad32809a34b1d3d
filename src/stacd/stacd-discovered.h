/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-discovered.h - stacd's data model, kept apart from the loop so it is unit-tested
 * (tests/unit/test-stacd.c): the discovered set (what stafd reported: each DC with its DLPEs),
 * decoded from stafd's hostile get_all_log_pages JSON; the IOC candidates it yields (subtype nvme
 * only, with the DC's host-traddr, host-iface and host-nqn); the last-known-config document
 * (§5.13); and the dicts list_controllers returns (secrets shown as "(set)"). The planner that
 * uses it is stacd-plan.h. Nothing here does I/O; decoding problems are logged at debug level
 * only.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "stas/kv.h"
#include "stas/tid.h"
#include "stas/types.h"
#include "stas/wire.h"

/* One discovery controller as stafd reports it, with its cached log page entries. */
typedef struct StacdDc {
        StasTid *tid;
        StasKV **dlpes; /* NULL-terminated, never NULL */
} StacdDc;

/*
 * The discovered set. @known is false until the set came from a live stafd or from the
 * last-known-config file: an unknown set never causes a disconnect (DESIGN 3).
 */
typedef struct StacdDiscovered {
        StacdDc *dcs;
        size_t n;
        bool known;
} StacdDiscovered;

/* stacd_discovered_done() - free the contents of @d and zero it (known becomes false). */
void stacd_discovered_done(StacdDiscovered *d);

/* What stacd_discovered_decode() skipped. */
typedef struct StacdDecodeStats {
        size_t unidentified; /* elements that name no readable DC */
        size_t bad_dcs;      /* elements with an unusable DC identity or no log page list */
        size_t bad_dlpes;    /* log page entries that are not a flat dict of short strings, or whose
                                traddr, trsvcid or subnqn breaks validate.h (dlpe_check()) */
        size_t kept;         /* DCs whose last known entries were carried over (see below) */
        /* the first entry refused by dlpe_check(), for the log line */
        const char *first_field; /* NULL: none */
        char first_dc[64];       /* traddr of its DC */
        char first_value[40];    /* excerpt of the bad value */
} StacdDecodeStats;

/*
 * stacd_dlpe_usable() - a DLPE received from stafd may be used: a dict of short strings (keys at
 * most STAS_WIRE_FIELD_MAX bytes, values 4096) whose connect-string fields pass dlpe_check(). On
 * false, *@ret_field (optional) names the bad key (NULL when it is the size).
 */
bool stacd_dlpe_usable(const StasKV *dlpe, const char **ret_field);
/* stacd_note_bad_dlpe() - count @dlpe (refused for @field) in @st, remembering the first. */
void stacd_note_bad_dlpe(StacdDecodeStats *st, const StasTid *dc, const StasKV *dlpe, const char *field);

/*
 * stacd_discovered_decode() - decode get_all_log_pages(true), parsed: an array of
 * {"discovery-controller": {..}, "log-pages": [{..}, ..]} with string values only, with the
 * log-pages codec (stas/log-pages.h), element by element, so one hostile element cannot hide the others
 * (DESIGN 3 still holds: what cannot be read never reads as "gone"):
 *  - an element whose DC identity is unusable (no transport or traddr, a field with control
 *    characters or longer than STAS_WIRE_FIELD_MAX, or one that breaks validate.h) is skipped: such a
 *    DC is never in a known set;
 *  - a log page entry that is not usable (stacd_dlpe_usable()) is skipped alone;
 *  - an element whose DC is readable but whose "log-pages" is missing or not an array keeps
 *    that DC's entries from @old (or is skipped when @old does not have it);
 *  - an element that names no DC at all (not an object, no or unreadable "discovery-controller")
 *    could be any DC: every DC of @old (when known) the answer lacks keeps its @old entries;
 *  - a log page entry that is not a flat dict of strings (key <= STAS_WIRE_FIELD_MAX, value <= 4096
 *    characters) is dropped alone.
 * The counts go to @ret_stats (optional) so the caller logs once per answer. *@ret is set (known)
 * on success. Return: 0, -EINVAL (not an array), -ENOMEM.
 */
int stacd_discovered_decode(
        json_object *array, const StacdDiscovered *old, StacdDiscovered *ret, StacdDecodeStats *ret_stats);

/*
 * stacd_discovered_from_json() - parse @text and stacd_discovered_decode() it with the current
 * contents of *@ret as the last known set, then replace *@ret. Invalid JSON, trailing garbage or
 * a non-array reject the whole text. Return: 0, -EINVAL (*@ret untouched), -ENOMEM.
 */
int stacd_discovered_from_json(const char *text, StacdDiscovered *ret);

/* stacd_discovered_from_object() - the same from a parsed array (the lkc form). */
int stacd_discovered_from_object(json_object *array, StacdDiscovered *ret);

/* stacd_discovered_to_object() - the get_all_log_pages array form (for the lkc). NULL on ENOMEM. */
json_object *stacd_discovered_to_object(const StacdDiscovered *d);

/*
 * stacd_discovered_set_dc() - replace the entries of DC @dc (added if unknown) with a copy of
 * @dlpes (NULL = none). Return: 0 or -ENOMEM.
 */
int stacd_discovered_set_dc(StacdDiscovered *d, const StasTid *dc, StasKV *const *dlpes);

/* One IOC candidate of the discovered set; @dlpe points into the set. */
typedef struct StacdCandidate {
        StasTid *tid;
        const StasKV *dlpe;
} StacdCandidate;

void stacd_candidates_free(StacdCandidate *c, size_t n);

/*
 * stacd_discovered_iocs() - the IOCs to connect from @d: every DLPE of subtype "nvme" (referral
 * and discovery entries are ignored), transport=trtype, traddr, trsvcid, subsysnqn=subnqn, with
 * host-traddr, host-iface and host-nqn of the DC that reported it. host-iface is dropped when
 * @ignore_iface is set or the transport is rdma (never bound to an interface, #305). Duplicates
 * (the same IOC via two DCs with the same host fields) are kept once, with the first DLPE.
 * Return: 0 and *@ret / *@ret_n, or -ENOMEM.
 */
int stacd_discovered_iocs(const StacdDiscovered *d, bool ignore_iface, StacdCandidate **ret, size_t *ret_n);

/* stacd_dlpe_to_string() - the DLPE in nvme-stas's printed form "{'k': 'v', ...}", or "None". */
char *stacd_dlpe_to_string(const StasKV *dlpe);

/*
 * stacd_ioc_dict() - the list_controllers dict of one IOC: the TID keys, "device" (@device or
 * "nvme?"), then the keys of the controller= @entry (may be NULL) not already present, the
 * secret ones shown as "(set)". Return: NULL on ENOMEM.
 */
StasKV *stacd_ioc_dict(const StasTid *tid, const char *device, const StasKV *entry);

/*
 * The last-known-config document of stacd: {"iocs": [tid dicts], "discovered": [as
 * get_all_log_pages] | null}. "discovered" is null when the set was never known.
 * stacd_lkc_build() returns NULL on ENOMEM. stacd_lkc_parse() validates it: *@ret_tids is a
 * NULL-terminated TID array (bad items skipped), *@ret_discovered the restored set.
 * Return: 0, -EINVAL (wrong shape), -ENOMEM.
 */
json_object *stacd_lkc_build(StasTid *const *iocs, size_t n, const StacdDiscovered *d);
int stacd_lkc_parse(json_object *data, StasTid ***ret_tids, StacdDiscovered *ret_discovered);

/* stacd_tid_is_sane() - transport and traddr set, every field printable and not too long. */
bool stacd_tid_is_sane(const StasTid *tid);

/*
 * stacd_discovered_keep_missing() - DESIGN 3 for the first answer of a stafd that just
 * (re)appeared: it may not have read its DCs yet. Every DC of @old that @new lacks, or lists
 * with no entry, keeps its @old entries in @new. Return: number of DCs kept that way, or -ENOMEM.
 */
int stacd_discovered_keep_missing(StacdDiscovered *new, const StacdDiscovered *old);
