/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stas/dlp.h"
#include "stas/log.h"

StasKV **dlp_list_free(StasKV **l) {
        for (StasKV **p = l; p && *p; p++)
                kv_free(*p);
        free(l);
        return NULL;
}

size_t dlp_list_length(StasKV *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

int dlp_list_append(StasKV ***l, StasKV *e) {
        size_t n = dlp_list_length(*l);
        StasKV **nl;

        nl = reallocarray(*l, n + 2, sizeof(StasKV *));
        if (!nl) {
                kv_free(e);
                return -ENOMEM;
        }
        nl[n] = e;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

/**
 * dlp_list_push() - amortised append with a length and capacity the caller keeps.
 * @l: the list (*@l NULL or allocated by an earlier push with the same @n / @cap)
 * @n: its length
 * @cap: its allocated slots (0 to start)
 * @e: the entry (ownership taken, also on failure)
 */
int dlp_list_push(StasKV ***l, size_t *n, size_t *cap, StasKV *e) {
        if (*n + 2 > *cap || !*l) {
                size_t c = *cap < 8 ? 8 : *cap * 2;
                StasKV **nl;

                while (c < *n + 2)
                        c *= 2;
                nl = reallocarray(*l, c, sizeof(StasKV *));
                if (!nl) {
                        kv_free(e);
                        return -ENOMEM;
                }
                *l = nl;
                *cap = c;
        }
        (*l)[(*n)++] = e;
        (*l)[*n] = NULL;
        return 0;
}

StasKV **dlp_list_copy(StasKV *const *l) {
        size_t n = dlp_list_length(l);
        StasKV **c = new0(StasKV *, n + 1);

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = kv_copy(l[i]);
                if (!c[i])
                        return dlp_list_free(c);
        }
        return c;
}

bool dlp_list_equal(StasKV *const *a, StasKV *const *b) {
        size_t n = dlp_list_length(a);
        _cleanup_free_ bool *used = NULL;

        if (n != dlp_list_length(b))
                return false;
        if (n == 0)
                return true;
        used = new0(bool, n);
        if (!used)
                return false; /* cannot tell: report a change, the safe side */

        for (size_t i = 0; i < n; i++) {
                bool found = false;

                /* fast path: same position */
                if (!used[i] && kv_equal(a[i], b[i])) {
                        used[i] = true;
                        continue;
                }
                for (size_t j = 0; j < n && !found; j++)
                        if (!used[j] && kv_equal(a[i], b[j]))
                                used[j] = found = true;
                if (!found)
                        return false;
        }
        return true;
}

/* Bounded copy of a fixed-width field, trimmed. Return: 0, -EBADMSG (non-printable), -ENOMEM. */
static int field_to_string(const char *field, size_t width, char **ret) {
        size_t len = strnlen(field, width), start = 0;
        char *s;

        while (start < len && (field[start] == ' ' || field[start] == '\t'))
                start++;
        while (len > start && (field[len - 1] == ' ' || field[len - 1] == '\t'))
                len--;
        for (size_t i = start; i < len; i++)
                if ((unsigned char) field[i] < 0x20 || (unsigned char) field[i] > 0x7e)
                        return -EBADMSG;
        s = strndup(field + start, len - start);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static const char *code_name(unsigned code, const char *const *names, size_t n, char *buf, size_t size) {
        if (code < n && names[code])
                return names[code];
        snprintf(buf, size, "%u", code);
        return buf;
}

static const char *trtype_str(unsigned v, char *buf, size_t size) {
        static const char *const names[] = {
                [STAS_TRTYPE_UNSPECIFIED] = "unspecified",
                [STAS_TRTYPE_RDMA] = "rdma",
                [STAS_TRTYPE_FC] = "fc",
                [STAS_TRTYPE_TCP] = "tcp",
                [STAS_TRTYPE_LOOP] = "loop",
        };
        return code_name(v, names, ELEMENTSOF(names), buf, size);
}

static const char *adrfam_str(unsigned v, char *buf, size_t size) {
        static const char *const names[] = {
                [STAS_ADRFAM_PCI] = "pci",       [STAS_ADRFAM_IP4] = "ipv4", [STAS_ADRFAM_IP6] = "ipv6",
                [STAS_ADRFAM_IB] = "infiniband", [STAS_ADRFAM_FC] = "fc",
        };
        return code_name(v, names, ELEMENTSOF(names), buf, size);
}

static const char *subtype_str(unsigned v, char *buf, size_t size) {
        static const char *const names[] = {
                [STAS_SUBTYPE_REFERRAL] = "referral",
                [STAS_SUBTYPE_NVME] = "nvme",
                [STAS_SUBTYPE_DISCOVERY] = "discovery",
        };
        return code_name(v, names, ELEMENTSOF(names), buf, size);
}

static const char *treq_str(unsigned v, char *buf, size_t size) {
        static const char *const names[] = {
                [STAS_TREQ_NOT_SPECIFIED] = "not specified",
                [STAS_TREQ_REQUIRED] = "required",
                [STAS_TREQ_NOT_REQUIRED] = "not required",
                [STAS_TREQ_DISABLE_SQFLOW] = "disable sqflow",
        };
        return code_name(v, names, ELEMENTSOF(names), buf, size);
}

/**
 * dlp_nqn_is_plausible() - stas_check_nqn() accepts it.
 * @nqn: the NQN (NULL: false)
 */
bool dlp_nqn_is_plausible(const char *nqn) {
        return stas_check_nqn(nqn) == 0;
}

static bool traddr_unusable(const char *t) {
        return isempty(t) || streq(t, "0.0.0.0") || streq(t, "::");
}

/**
 * dlpe_check() - see dlp.h.
 * @e: the DLPE
 * @ret_field: the bad field's key (optional)
 */
int dlpe_check(const StasKV *e, const char **ret_field) {
        const char *trtype = kv_get(e, "trtype"), *adrfam = kv_get(e, "adrfam");
        const char *traddr = kv_get(e, "traddr"), *bad = NULL;
        unsigned flags = streq_ptr(adrfam, "ipv4") ? STAS_VALID_IPV4
                : streq_ptr(adrfam, "ipv6")        ? STAS_VALID_IPV6
                                                   : 0;

        if (!traddr_unusable(traddr) && stas_check_traddr(trtype, traddr, flags) < 0)
                bad = "traddr";
        else if (stas_check_trsvcid(trtype, kv_get(e, "trsvcid")) < 0)
                bad = "trsvcid";
        else if (stas_check_nqn(kv_get(e, "subnqn")) < 0)
                bad = "subnqn";
        if (ret_field)
                *ret_field = bad;
        return bad ? -EINVAL : 0;
}

/* Decode the three text fields; on -EBADMSG *@ret_field names the one with a non-printable byte. */
static int entry_texts(
        const StasDlpEntry *e, char **traddr, char **trsvcid, char **subnqn, const char **ret_field) {
        int r;

        *ret_field = "traddr";
        r = field_to_string(e->traddr, sizeof(e->traddr), traddr);
        if (r < 0)
                return r;
        *ret_field = "trsvcid";
        r = field_to_string(e->trsvcid, sizeof(e->trsvcid), trsvcid);
        if (r < 0)
                return r;
        *ret_field = "subnqn";
        r = field_to_string(e->subnqn, sizeof(e->subnqn), subnqn);
        if (r < 0)
                return r;
        *ret_field = NULL;
        return 0;
}

int dlpe_from_entry_ex(const StasDlpEntry *e, StasKV **ret, const char **ret_field) {
        _cleanup_free_ char *traddr = NULL, *trsvcid = NULL, *subnqn = NULL;
        _cleanup_(kv_freep) StasKV *kv = NULL;
        char b1[8], b2[8], b3[8], b4[8], portid[8], cntlid[8], asqsz[8], eflags[8];
        const char *field = NULL;
        int r;

        if (ret_field)
                *ret_field = NULL;
        r = entry_texts(e, &traddr, &trsvcid, &subnqn, &field);
        if (r < 0) {
                if (ret_field && r == -EBADMSG)
                        *ret_field = field;
                return r;
        }

        snprintf(portid, sizeof(portid), "%u", (unsigned) le16toh(e->portid));
        snprintf(cntlid, sizeof(cntlid), "%u", (unsigned) le16toh(e->cntlid));
        snprintf(asqsz, sizeof(asqsz), "%u", (unsigned) le16toh(e->asqsz));
        snprintf(eflags, sizeof(eflags), "%u", (unsigned) le16toh(e->eflags));

        kv = kv_new();
        if (!kv)
                return -ENOMEM;
        if (kv_set(kv, "trtype", trtype_str(e->trtype, b1, sizeof(b1))) < 0 ||
            kv_set(kv, "adrfam", adrfam_str(e->adrfam, b2, sizeof(b2))) < 0 ||
            kv_set(kv, "traddr", traddr) < 0 || kv_set(kv, "trsvcid", trsvcid) < 0 ||
            kv_set(kv, "subnqn", subnqn) < 0 ||
            kv_set(kv, "subtype", subtype_str(e->subtype, b3, sizeof(b3))) < 0 ||
            kv_set(kv, "treq", treq_str(e->treq, b4, sizeof(b4))) < 0 || kv_set(kv, "portid", portid) < 0 ||
            kv_set(kv, "cntlid", cntlid) < 0 || kv_set(kv, "asqsz", asqsz) < 0 ||
            kv_set(kv, "eflags", eflags) < 0)
                return -ENOMEM;
        r = dlpe_check(kv, ret_field);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(kv);
        return 0;
}

int dlpe_from_entry(const StasDlpEntry *e, StasKV **ret) {
        return dlpe_from_entry_ex(e, ret, NULL);
}

bool dlpe_has_usable_traddr(const StasKV *e) {
        return !traddr_unusable(kv_get(e, "traddr"));
}

unsigned dlp_drops_refused(const StasDlpDrops *d) {
        return d->bad_text + d->bad_nqn + d->bad_addr + d->bad_trsvcid;
}

/* The raw text of @field of @e, for the excerpt of the first refused entry. */
static void note_first(StasDlpDrops *d, uint64_t index, const StasDlpEntry *e, const char *field) {
        char raw[257];
        const char *src = streq_ptr(field, "traddr") ? e->traddr
                : streq_ptr(field, "trsvcid")        ? e->trsvcid
                                                     : e->subnqn;
        size_t width = streq_ptr(field, "traddr") ? sizeof(e->traddr)
                : streq_ptr(field, "trsvcid")     ? sizeof(e->trsvcid)
                                                  : sizeof(e->subnqn);
        size_t n = strnlen(src, width), start = 0;

        if (d->first_field)
                return;
        /* trimmed like the value itself */
        while (start < n && (src[start] == ' ' || src[start] == '\t'))
                start++;
        while (n > start && (src[n - 1] == ' ' || src[n - 1] == '\t'))
                n--;
        memcpy(raw, src + start, n - start);
        raw[n - start] = 0;
        d->first_index = index;
        d->first_field = field ? field : "subnqn";
        stas_excerpt(raw, d->first_value, sizeof(d->first_value));
}

static void count_drop(StasDlpDrops *d, int r, const char *field, uint64_t index, const StasDlpEntry *e) {
        if (r == -EBADMSG)
                d->bad_text++;
        else if (streq_ptr(field, "traddr"))
                d->bad_addr++;
        else if (streq_ptr(field, "trsvcid"))
                d->bad_trsvcid++;
        else
                d->bad_nqn++;
        note_first(d, index, e, field);
}

/**
 * dlp_decode_ex() - see dlp.h.
 * @log: the page
 * @size: its size in bytes
 * @ret: the entries
 * @ret_genctr: the generation counter (optional)
 * @ret_drops: why entries were dropped (optional)
 */
int dlp_decode_ex(
        const StasDlpHeader *log,
        size_t size,
        StasKV ***ret,
        uint64_t *ret_genctr,
        StasDlpDrops *ret_drops) {
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        StasDlpDrops drops = {};
        uint64_t numrec, avail;
        size_t n = 0, cap = 0;
        int r;

        if (!log || size < sizeof(StasDlpHeader))
                return -EBADMSG;

        /* never more records than the buffer holds, whatever the header says */
        numrec = le64toh(log->numrec);
        avail = (size - sizeof(StasDlpHeader)) / sizeof(StasDlpEntry);
        if (numrec > avail)
                numrec = avail;
        if (numrec > STAS_DLP_MAX_ENTRIES) {
                drops.over_cap = numrec - STAS_DLP_MAX_ENTRIES;
                numrec = STAS_DLP_MAX_ENTRIES;
        }

        /* one allocation for the whole page; dlp_list_push() never has to grow it */
        cap = (size_t) numrec + 1;
        l = new0(StasKV *, cap);
        if (!l)
                return -ENOMEM;

        /* no per-entry logging: a hostile page would flood the log; callers log the summary */
        for (uint64_t i = 0; i < numrec; i++) {
                const char *field = NULL;
                StasKV *e = NULL;

                r = dlpe_from_entry_ex(&log->entries[i], &e, &field);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        count_drop(&drops, r, field, i, &log->entries[i]);
                        continue;
                }
                if (!dlpe_has_usable_traddr(e)) {
                        kv_free(e);
                        drops.bad_traddr++;
                        continue;
                }
                r = dlp_list_push(&l, &n, &cap, e);
                if (r < 0)
                        return r;
        }

        if (ret_genctr)
                *ret_genctr = le64toh(log->genctr);
        if (ret_drops)
                *ret_drops = drops;
        *ret = TAKE_PTR(l);
        return (int) (dlp_drops_refused(&drops) + drops.bad_traddr);
}

bool dlp_report_describe(const StasDlpReport *rep, char *buf, size_t size) {
        const StasDlpDrops *d = &rep->drops;
        unsigned refused = dlp_drops_refused(d);
        size_t n = 0;

        if (size == 0)
                return false;
        buf[0] = 0;
        if (refused > 0) {
                static const char *const what[] = {
                        "a non-printable byte", "a bad subnqn", "a bad traddr", "a bad trsvcid"
                };
                const unsigned counts[] = { d->bad_text, d->bad_nqn, d->bad_addr, d->bad_trsvcid };
                const char *sep = "";

                n += (size_t) snprintf(
                        buf + n, size - n, "skipped %u of %" PRIu64 " entries (", refused, rep->read);
                for (size_t i = 0; i < ELEMENTSOF(counts) && n < size; i++) {
                        if (counts[i] == 0)
                                continue;
                        n += (size_t) snprintf(buf + n, size - n, "%s%u with %s", sep, counts[i], what[i]);
                        sep = ", ";
                }
                if (n < size)
                        n += (size_t) snprintf(
                                buf + n,
                                size - n,
                                "; first: entry %" PRIu64 ", %s '%s')",
                                d->first_index,
                                strempty(d->first_field),
                                d->first_value);
        }
        if (d->over_cap > 0 && n < size)
                n += (size_t) snprintf(
                        buf + n,
                        size - n,
                        "%sread only the first %" PRIu64 " of %" PRIu64 " records (at most %d are accepted)",
                        n > 0 ? "; " : "",
                        rep->read,
                        rep->numrec,
                        STAS_DLP_MAX_ENTRIES);
        return n > 0;
}

uint64_t dlp_report_signature(const StasDlpReport *rep) {
        const StasDlpDrops *d = &rep->drops;
        uint64_t h = 1469598103934665603ULL;
        const uint64_t v[] = { d->bad_text, d->bad_nqn,     d->bad_addr, d->bad_trsvcid,
                               d->over_cap, d->first_index, rep->numrec };

        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                h = (h ^ v[i]) * 1099511628211ULL;
        for (const char *p = strempty(d->first_field); *p; p++)
                h = (h ^ (unsigned char) *p) * 1099511628211ULL;
        for (const char *p = d->first_value; *p; p++)
                h = (h ^ (unsigned char) *p) * 1099511628211ULL;
        return h;
}

/* One command, counted in @rep. */
static int read_chunk(
        StasDlpGetLog get,
        void *userdata,
        uint64_t off,
        void *buf,
        uint32_t len,
        bool rae,
        StasDlpReport *rep) {
        rep->commands++;
        rep->bytes += len;
        return get(userdata, off, buf, len, rae);
}

/*
 * One pass: header (RAE set), entries (RAE set), header again (RAE cleared). Return: 1 and the
 * raw page in *@ret_page (header + n entries, *@ret_size bytes) when both headers agree, 0 when the
 * page changed meanwhile, -errno.
 */
static int read_pass(
        StasDlpGetLog get, void *userdata, StasDlpReport *rep, uint8_t **ret_page, size_t *ret_size) {
        StasDlpHeader hdr = {}, again = {};
        _cleanup_free_ uint8_t *page = NULL;
        uint64_t numrec, n, bytes, off;
        int r;

        r = read_chunk(get, userdata, 0, &hdr, STAS_DLP_HEADER_SIZE, true, rep);
        if (r < 0)
                return r;
        numrec = le64toh(hdr.numrec);
        rep->numrec = numrec;
        rep->genctr = le64toh(hdr.genctr);
        n = numrec < STAS_DLP_MAX_ENTRIES ? numrec : STAS_DLP_MAX_ENTRIES;

        /* n <= STAS_DLP_MAX_ENTRIES: bytes is at most 4 MiB + 1 KiB, far from any overflow */
        bytes = STAS_DLP_HEADER_SIZE + n * STAS_DLP_ENTRY_SIZE;
        if (bytes > SIZE_MAX)
                return -E2BIG;
        page = malloc((size_t) bytes);
        if (!page)
                return -ENOMEM;
        for (off = STAS_DLP_HEADER_SIZE; off < bytes; off += STAS_DLP_CHUNK) {
                uint64_t len = bytes - off < STAS_DLP_CHUNK ? bytes - off : STAS_DLP_CHUNK;

                r = read_chunk(get, userdata, off, page + off, (uint32_t) len, true, rep);
                if (r < 0)
                        return r;
        }
        rep->read = n;

        /* the command that completes the page: RAE cleared, so the target re-arms its AEN */
        r = read_chunk(get, userdata, 0, &again, STAS_DLP_HEADER_SIZE, false, rep);
        if (r < 0)
                return r;
        if (again.genctr != hdr.genctr || again.numrec != hdr.numrec) {
                rep->numrec = le64toh(again.numrec);
                rep->genctr = le64toh(again.genctr);
                return 0;
        }

        /* the decoder sees exactly the entries read */
        hdr.numrec = htole64(n);
        memcpy(page, &hdr, STAS_DLP_HEADER_SIZE);
        *ret_size = (size_t) bytes;
        *ret_page = TAKE_PTR(page);
        return 1;
}

/**
 * dlp_read() - see dlp.h.
 * @get: one Get Log Page command
 * @userdata: for @get
 * @max_retries: passes at most (< 1 means 1)
 * @ret: the entries
 * @rep: what was done (optional)
 */
int dlp_read(StasDlpGetLog get, void *userdata, int max_retries, StasKV ***ret, StasDlpReport *rep) {
        StasDlpReport local = {};
        int passes = max_retries < 1 ? 1 : max_retries, r = 0;

        if (!rep)
                rep = &local;
        *rep = (StasDlpReport){};
        if (!get || !ret)
                return -EINVAL;
        for (int i = 0; i < passes; i++) {
                _cleanup_free_ uint8_t *page = NULL;
                size_t size = 0;

                rep->attempts++;
                r = read_pass(get, userdata, rep, &page, &size);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                r = dlp_decode_ex((const StasDlpHeader *) page, size, ret, NULL, &rep->drops);
                if (r < 0)
                        return r;
                if (rep->numrec > rep->read)
                        rep->drops.over_cap = rep->numrec - rep->read;
                return 0;
        }
        return -EAGAIN;
}

int dlp_decode(const StasDlpHeader *log, size_t size, StasKV ***ret, uint64_t *ret_genctr) {
        return dlp_decode_ex(log, size, ret, ret_genctr, NULL);
}

static bool subtype_is(const StasKV *e, const char *s) {
        return streq_ptr(kv_get(e, "subtype"), s);
}

bool dlpe_is_referral(const StasKV *e) {
        return subtype_is(e, "referral");
}

bool dlpe_is_nvme(const StasKV *e) {
        return subtype_is(e, "nvme");
}

bool dlpe_is_ncc(const StasKV *e) {
        const char *s = kv_get(e, "eflags");
        char *end;
        unsigned long v;

        if (isempty(s))
                return false;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end)
                return false;
        return v & STAS_EFLAGS_NCC;
}

StasTid **dlp_tids_free(StasTid **l) {
        for (StasTid **p = l; p && *p; p++)
                tid_free(*p);
        free(l);
        return NULL;
}

static int extract_tids(StasKV *const *l, const StasTid *dc, bool (*want)(const StasKV *), StasTid ***ret) {
        int r;

        _cleanup_(dlp_tids_freep) StasTid **out = NULL;
        _cleanup_(tid_set_done) StasTidSet seen = {};
        size_t n = 0;

        out = new0(StasTid *, dlp_list_length(l) + 1);
        if (!out)
                return -ENOMEM;

        for (size_t i = 0; l && l[i]; i++) {
                StasTid *t;

                if (!want(l[i]))
                        continue;
                t =
                        tid_new(kv_get(l[i], "trtype"),
                                kv_get(l[i], "traddr"),
                                kv_get(l[i], "trsvcid"),
                                kv_get(l[i], "subnqn"),
                                dc ? dc->host_traddr : NULL,
                                dc ? dc->host_iface : NULL,
                                dc ? dc->host_nqn : NULL);
                if (!t)
                        return -ENOMEM;
                r = tid_set_add(&seen, t);
                if (r <= 0) {
                        tid_free(t);
                        if (r < 0)
                                return r;
                        continue;
                }
                out[n++] = t;
        }
        *ret = TAKE_PTR(out);
        return (int) n;
}

int dlp_referral_tids(StasKV *const *l, const StasTid *dc, StasTid ***ret) {
        return extract_tids(l, dc, dlpe_is_referral, ret);
}

int dlp_ioc_tids(StasKV *const *l, const StasTid *dc, StasTid ***ret) {
        return extract_tids(l, dc, dlpe_is_nvme, ret);
}
