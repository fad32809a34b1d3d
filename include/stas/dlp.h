/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dlp.h - Discovery Log Page decoding and the helpers the daemons need on top of it.
 *
 * A DLPE (discovery log page entry) is an owned StasKV with exactly the upstream D-Bus keys and
 * value strings (§4.2), in this order: trtype, adrfam, traddr, trsvcid, subnqn, subtype, treq,
 * portid, cntlid, asqsz, eflags. Enumerations use upstream's names (trtype tcp/rdma/fc/loop/
 * unspecified; adrfam pci/ipv4/ipv6/infiniband/fc; subtype referral/nvme/discovery; treq
 * "not specified"/"required"/"not required"/"disable sqflow"); any other code is rendered as a
 * decimal number. portid, cntlid, asqsz, eflags are decimal (little-endian decoded).
 *
 * The entries come from the network and are hostile. Fixed-width text fields (trsvcid 32,
 * subnqn 256, traddr 256 bytes) may be unterminated, NUL- or space-padded: each is copied with
 * a bound (up to the first NUL or the field width), then leading/trailing whitespace is
 * trimmed. Decision: an entry whose text field still contains a byte outside printable ASCII
 * (0x20..0x7e) is DROPPED (logged at debug), never repaired: a mangled subnqn or traddr must
 * not be turned into a different, plausible identity. Entries whose trimmed traddr is empty,
 * "0.0.0.0" or "::" are dropped too (a CDC quirk, §5.5), and so are entries whose subnqn is not
 * a plausible NQN ("nqn." prefix, at most STAS_NQN_MAX = 223 characters, NVMe base spec 4.5):
 * such an entry could never be connected, and passed on it would be an identity the peers
 * (stacd, D-Bus clients) refuse. A numrec larger than the entries actually present in the buffer
 * is clamped to what is there, and at most STAS_DLP_MAX_ENTRIES entries of one page are decoded
 * (the rest is counted as dropped): a hostile page cannot make the loop do unbounded work. All
 * list operations are linear (dedup by hash), never quadratic.
 *
 * A DLP list is a NULL-terminated array of owned DLPEs (StasKV **). Nothing here logs above
 * debug level.
 */
#pragma once

#include <nvme/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "stas/kv.h"
#include "stas/macro.h"
#include "stas/tid.h"

/* Most entries decoded from one log page; the rest is dropped (and counted). */
#define STAS_DLP_MAX_ENTRIES 4096
/* Longest NQN (NVMe base specification: 223 bytes of UTF-8). */
#define STAS_NQN_MAX 223

/* Why entries of one page were dropped (dlp_decode_ex()). */
typedef struct StasDlpDrops {
        unsigned bad_text;   /* a text field with a non-printable byte */
        unsigned bad_nqn;    /* subnqn not a plausible NQN */
        unsigned bad_traddr; /* traddr empty, 0.0.0.0 or :: */
        uint64_t over_cap;   /* entries past STAS_DLP_MAX_ENTRIES, never decoded */
} StasDlpDrops;

/* dlp_list_free() - free every DLPE and the array. NULL-tolerant; returns NULL. */
StasKV **dlp_list_free(StasKV **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasKV **, dlp_list_free);
size_t dlp_list_length(StasKV *const *l);
/* dlp_list_copy() - deep copy (NULL gives an empty list). NULL on allocation failure. */
StasKV **dlp_list_copy(StasKV *const *l);
/*
 * dlp_list_append() - append @e (ownership taken, also on failure). Walks the list: O(n) per
 * call, for short lists; build long ones with dlp_list_push(). Return: 0 or -ENOMEM.
 */
int dlp_list_append(StasKV ***l, StasKV *e);
/*
 * dlp_list_push() - amortised O(1) append: the caller keeps the length @n and the allocated
 * slots @cap (start with *@l NULL and both 0, or with a list of @n entries in @cap slots). The
 * list stays NULL-terminated. @e is owned (also on failure). Return: 0 or -ENOMEM.
 */
int dlp_list_push(StasKV ***l, size_t *n, size_t *cap, StasKV *e);
/*
 * dlp_list_equal() - same DLPEs (same keys and values), ignoring order: the change detection
 * behind log_pages_changed (DESIGN 4). NULL equals an empty list.
 */
bool dlp_list_equal(StasKV *const *a, StasKV *const *b);

/*
 * dlpe_from_entry() - decode one raw entry into a DLPE.
 * Return: 0; -EBADMSG if a text field holds a non-printable byte; -EINVAL if subnqn is not a
 * plausible NQN (dlp_nqn_is_plausible()); -ENOMEM.
 * The traddr filter is not applied here (see dlpe_has_usable_traddr()).
 */
int dlpe_from_entry(const struct nvmf_disc_log_entry *e, StasKV **ret);
/* dlp_nqn_is_plausible() - starts with "nqn." and is at most STAS_NQN_MAX characters long. */
bool dlp_nqn_is_plausible(const char *nqn);

/*
 * dlp_decode() - decode a whole log page of @size bytes (header + entries) into a DLP list,
 * dropping bad entries and unusable traddrs (see above). @ret_genctr (optional) receives the
 * generation counter. Return: number of dropped entries (>= 0), -EBADMSG if @size is smaller
 * than the 1024-byte header, -ENOMEM. Nothing is logged per entry: the caller logs one summary
 * per read (dlp_decode_ex() tells it why).
 */
int dlp_decode(const struct nvmf_discovery_log *log, size_t size, StasKV ***ret, uint64_t *ret_genctr);
/*
 * dlp_decode_ex() - dlp_decode() that also fills @ret_drops (optional) with the reasons. The
 * return value does not count over_cap entries (they were never decoded).
 */
int dlp_decode_ex(
        const struct nvmf_discovery_log *log,
        size_t size,
        StasKV ***ret,
        uint64_t *ret_genctr,
        StasDlpDrops *ret_drops);

/* dlpe_has_usable_traddr() - traddr present and not "", "0.0.0.0" or "::". */
bool dlpe_has_usable_traddr(const StasKV *e);
/* dlpe_is_referral() - subtype is "referral" (another discovery subsystem). */
bool dlpe_is_referral(const StasKV *e);
/* dlpe_is_nvme() - subtype is "nvme" (an I/O subsystem). */
bool dlpe_is_nvme(const StasKV *e);
/* dlpe_is_ncc() - eflags has NCC (4, "not connected to CDC") set. */
bool dlpe_is_ncc(const StasKV *e);

/* dlp_tids_free() - free a NULL-terminated StasTid array. Returns NULL. */
StasTid **dlp_tids_free(StasTid **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasTid **, dlp_tids_free);

/*
 * dlp_referral_tids() - the TIDs of the referral entries of @l (§5.3 step 1): transport=trtype,
 * traddr, trsvcid, subsysnqn=subnqn, with host-traddr, host-iface and host-nqn of the referring
 * DC @dc. Duplicates are removed; order follows @l. *@ret is a NULL-terminated array (possibly
 * empty). Linear time (hash dedup). Return: number of TIDs, or -ENOMEM.
 */
int dlp_referral_tids(StasKV *const *l, const StasTid *dc, StasTid ***ret);
/* dlp_ioc_tids() - the same for subtype "nvme" entries: the I/O controllers stacd connects (§5.8). */
int dlp_ioc_tids(StasKV *const *l, const StasTid *dc, StasTid ***ret);
