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
 * (0x20..0x7e) is DROPPED, never repaired: a mangled subnqn or traddr must not be turned into a
 * different, plausible identity. So is an entry whose traddr, trsvcid or subnqn breaks the rules
 * of validate.h for its transport (trtype and adrfam): such a field would reach a connect string
 * (an injected ",host_iface=..." in a trsvcid) or name an identity the peers refuse. Entries whose
 * trimmed traddr is empty, "0.0.0.0" or "::" are dropped too (a CDC quirk, §5.5). Each dropped
 * entry is counted by reason (StasDlpDrops), and the first one is described (index, field and a
 * short excerpt of the value) so that the caller can log ONE line per page that names the field.
 *
 * Reading (dlp_read()): the page is read with plain Get Log Page commands through a callback, never
 * with libnvme's nvmf_get_discovery_wargs(), whose size arithmetic wraps (numrec >= 2^22 - 1 makes
 * it walk past its buffer) and whose chunked reads keep the Retain Asynchronous Event bit set on the
 * last command (libnvme < 1.5), so the target never sends another discovery-change AEN. The header
 * is read first, then at most STAS_DLP_MAX_ENTRIES entries in STAS_DLP_CHUNK-byte commands, then the
 * header again with RAE cleared: that command completes the page and re-arms the AEN. If genctr or
 * numrec changed in between, the whole read is repeated, at most max_retries times. A numrec above
 * the cap reads and decodes the first STAS_DLP_MAX_ENTRIES entries (the rest is counted as
 * over_cap). Sizes are computed in 64 bits and checked. All list operations are linear (dedup by
 * hash), never quadratic.
 *
 * A DLP list is a NULL-terminated array of owned DLPEs (StasKV **). Nothing here logs above
 * debug level.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stas/kv.h"
#include "stas/macro.h"
#include "stas/tid.h"
#include "stas/wire.h"

/* STAS_DLP_MAX_ENTRIES (wire.h): most entries decoded from one log page; the rest is dropped. */
/* Passes of dlp_read() before it gives up on a page that keeps changing. */
#define STAS_DLP_MAX_RETRIES 6
/* Bytes per Get Log Page command (the smallest transfer any controller accepts: no MDTS check). */
#define STAS_DLP_CHUNK 4096
/* The log page header (genctr, numrec, recfmt), and one entry. */
#define STAS_DLP_HEADER_SIZE 1024
#define STAS_DLP_ENTRY_SIZE 1024

/*
 * ---- The raw discovery log page (Get Log Page, LID 0x70) ----
 * stas's own copy of the wire layout and codes (NVMe base specification), so that no module but
 * the nvme adapter needs libnvme's headers: nvme.c checks with static assertions that these
 * match libnvme's struct nvmf_discovery_log, struct nvmf_disc_log_entry and its enums. Every
 * multi-byte field is little-endian (le16toh() / le64toh()).
 */

/* Log page identifiers */
#define STAS_LID_SUPPORTED_LOG_PAGES 0x00
#define STAS_LID_DISCOVERY 0x70

/* TRTYPE: transport type */
#define STAS_TRTYPE_UNSPECIFIED 0
#define STAS_TRTYPE_RDMA 1
#define STAS_TRTYPE_FC 2
#define STAS_TRTYPE_TCP 3
#define STAS_TRTYPE_LOOP 254

/* ADRFAM: address family */
#define STAS_ADRFAM_PCI 0
#define STAS_ADRFAM_IP4 1
#define STAS_ADRFAM_IP6 2
#define STAS_ADRFAM_IB 3
#define STAS_ADRFAM_FC 4

/* SUBTYPE: what the entry describes */
#define STAS_SUBTYPE_REFERRAL 1  /* another discovery subsystem */
#define STAS_SUBTYPE_NVME 2      /* an I/O (NVM) subsystem */
#define STAS_SUBTYPE_DISCOVERY 3 /* this discovery subsystem */

/* TREQ: transport requirements */
#define STAS_TREQ_NOT_SPECIFIED 0
#define STAS_TREQ_REQUIRED 1
#define STAS_TREQ_NOT_REQUIRED 2
#define STAS_TREQ_DISABLE_SQFLOW 4

/* EFLAGS: entry flags */
#define STAS_EFLAGS_DUPRETINFO (1 << 0)
#define STAS_EFLAGS_EPCSD (1 << 1)
#define STAS_EFLAGS_NCC (1 << 2) /* not connected to the CDC */

/* One entry: 1024 bytes. Text fields are fixed-width, NUL- or space-padded, maybe unterminated. */
typedef struct StasDlpEntry {
        uint8_t trtype;
        uint8_t adrfam;
        uint8_t subtype;
        uint8_t treq;
        uint16_t portid;
        uint16_t cntlid;
        uint16_t asqsz;
        uint16_t eflags;
        uint8_t rsvd12[20];
        char trsvcid[32];
        uint8_t rsvd64[192];
        char subnqn[256];
        char traddr[256];
        uint8_t tsas[256]; /* transport specific address subtype (not decoded) */
} StasDlpEntry;

/* The header (1024 bytes), followed by the entries. */
typedef struct StasDlpHeader {
        uint64_t genctr;
        uint64_t numrec;
        uint16_t recfmt;
        uint8_t rsvd14[1006];
        StasDlpEntry entries[];
} StasDlpHeader;

_Static_assert(sizeof(StasDlpEntry) == STAS_DLP_ENTRY_SIZE, "discovery log page entry layout");
_Static_assert(sizeof(StasDlpHeader) == STAS_DLP_HEADER_SIZE, "discovery log page header layout");

/* Why entries of one page were dropped (dlp_decode_ex()). */
typedef struct StasDlpDrops {
        unsigned bad_text;    /* a text field with a non-printable byte */
        unsigned bad_nqn;     /* subnqn not a valid NQN */
        unsigned bad_traddr;  /* traddr empty, 0.0.0.0 or :: (§5.5; not a hostile entry) */
        unsigned bad_addr;    /* traddr not an address of its transport / address family */
        unsigned bad_trsvcid; /* trsvcid not a port of its transport */
        uint64_t over_cap;    /* entries past STAS_DLP_MAX_ENTRIES, never decoded */
        /* The first entry dropped for bad_text, bad_nqn, bad_addr or bad_trsvcid (for the log). */
        uint64_t first_index;
        const char *first_field; /* "traddr", "trsvcid" or "subnqn"; NULL: no such entry */
        char first_value[40];    /* excerpt of the value (stas_excerpt()) */
} StasDlpDrops;

/* dlp_drops_refused() - entries refused as hostile or broken (all but bad_traddr and over_cap). */
unsigned dlp_drops_refused(const StasDlpDrops *d);

/* What one dlp_read() did and saw (filled also when it fails). */
typedef struct StasDlpReport {
        uint64_t genctr;   /* of the page read (the last header seen on failure) */
        uint64_t numrec;   /* records the last header claimed */
        uint64_t read;     /* entries read (at most STAS_DLP_MAX_ENTRIES) */
        unsigned attempts; /* header-to-header passes */
        unsigned commands; /* Get Log Page commands sent */
        uint64_t bytes;    /* bytes requested in total */
        StasDlpDrops drops;
} StasDlpReport;

/*
 * dlp_report_describe() - one log line's worth about the entries of @rep that were refused or not
 * read ("skipped 2 of 5 entries (1 with a bad traddr, 1 with a bad subnqn; first: entry 3, traddr
 * '4420,h...')", "read only the first 4096 of 4194305 records"), written to @buf. Unusable traddrs
 * (§5.5) are not mentioned. Return: false (and "" in @buf) when there is nothing to say.
 */
bool dlp_report_describe(const StasDlpReport *rep, char *buf, size_t size);
/* dlp_report_signature() - equal for reports that dlp_report_describe() describes the same way. */
uint64_t dlp_report_signature(const StasDlpReport *rep);

/*
 * StasDlpGetLog - one Get Log Page command for the discovery log: @len bytes at byte offset
 * @offset into @buf, with the Retain Asynchronous Event bit @rae. Return: 0, or -errno (-EREMOTEIO
 * for an NVMe status, which the callback keeps itself).
 */
typedef int (*StasDlpGetLog)(void *userdata, uint64_t offset, void *buf, uint32_t len, bool rae);

/*
 * dlp_read() - read and decode one discovery log page with @get (see the header comment), at most
 * @max_retries passes (at least one). *@ret receives the entries; @rep (optional) what was done.
 * Return: 0; -EAGAIN if the page changed on every pass; -ENOMEM; or the first error of @get.
 * Never logs (it runs on worker threads).
 */
int dlp_read(StasDlpGetLog get, void *userdata, int max_retries, StasKV ***ret, StasDlpReport *rep);

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
 * Return: 0; -EBADMSG if a text field holds a non-printable byte; -EINVAL if a field breaks the
 * rules of dlpe_check(); -ENOMEM. *@ret_field (optional) names the bad field on -EBADMSG/-EINVAL.
 * The unusable-traddr filter is not applied here (see dlpe_has_usable_traddr()).
 */
int dlpe_from_entry(const StasDlpEntry *e, StasKV **ret);
int dlpe_from_entry_ex(const StasDlpEntry *e, StasKV **ret, const char **ret_field);
/*
 * dlpe_check() - the fields of a DLPE that reach a connect string follow validate.h for its
 * trtype and adrfam: traddr (an empty, "0.0.0.0" or "::" traddr passes: dlpe_has_usable_traddr()
 * filters it), trsvcid and subnqn. Used on decoded pages and on DLPEs that stacd receives from
 * stafd. Return: 0, or -EINVAL with *@ret_field (optional) the bad field's key.
 */
int dlpe_check(const StasKV *e, const char **ret_field);
/* dlp_nqn_is_plausible() - stas_check_nqn() accepts it. */
bool dlp_nqn_is_plausible(const char *nqn);

/*
 * dlp_decode() - decode a whole log page of @size bytes (header + entries) into a DLP list,
 * dropping bad entries and unusable traddrs (see above). @ret_genctr (optional) receives the
 * generation counter. Return: number of dropped entries (>= 0), -EBADMSG if @size is smaller
 * than the 1024-byte header, -ENOMEM. Nothing is logged per entry: the caller logs one summary
 * per read (dlp_decode_ex() tells it why).
 */
int dlp_decode(const StasDlpHeader *log, size_t size, StasKV ***ret, uint64_t *ret_genctr);
/*
 * dlp_decode_ex() - dlp_decode() that also fills @ret_drops (optional) with the reasons. The
 * return value does not count over_cap entries (they were never decoded).
 */
int dlp_decode_ex(
        const StasDlpHeader *log, size_t size, StasKV ***ret, uint64_t *ret_genctr, StasDlpDrops *ret_drops);

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
