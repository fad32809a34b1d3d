/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <inttypes.h>

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
                [NVMF_TRTYPE_UNSPECIFIED] = "unspecified",
                [NVMF_TRTYPE_RDMA] = "rdma",
                [NVMF_TRTYPE_FC] = "fc",
                [NVMF_TRTYPE_TCP] = "tcp",
                [NVMF_TRTYPE_LOOP] = "loop",
        };
        return code_name(v, names, ELEMENTSOF(names), buf, size);
}

static const char *adrfam_str(unsigned v, char *buf, size_t size) {
        static const char *const names[] = {
                [NVMF_ADDR_FAMILY_PCI] = "pci",  [NVMF_ADDR_FAMILY_IP4] = "ipv4",
                [NVMF_ADDR_FAMILY_IP6] = "ipv6", [NVMF_ADDR_FAMILY_IB] = "infiniband",
                [NVMF_ADDR_FAMILY_FC] = "fc",
        };
        return code_name(v, names, ELEMENTSOF(names), buf, size);
}

static const char *subtype_str(unsigned v, char *buf, size_t size) {
        static const char *const names[] = {
                [NVME_NQN_DISC] = "referral",
                [NVME_NQN_NVME] = "nvme",
                [NVME_NQN_CURR] = "discovery",
        };
        return code_name(v, names, ELEMENTSOF(names), buf, size);
}

static const char *treq_str(unsigned v, char *buf, size_t size) {
        static const char *const names[] = {
                [NVMF_TREQ_NOT_SPECIFIED] = "not specified",
                [NVMF_TREQ_REQUIRED] = "required",
                [NVMF_TREQ_NOT_REQUIRED] = "not required",
                [NVMF_TREQ_DISABLE_SQFLOW] = "disable sqflow",
        };
        return code_name(v, names, ELEMENTSOF(names), buf, size);
}

/**
 * dlp_nqn_is_plausible() - "nqn." prefix and at most STAS_NQN_MAX characters.
 * @nqn: the NQN (NULL: false)
 */
bool dlp_nqn_is_plausible(const char *nqn) {
        return nqn && strncmp(nqn, "nqn.", 4) == 0 && strlen(nqn) <= STAS_NQN_MAX;
}

int dlpe_from_entry(const struct nvmf_disc_log_entry *e, StasKV **ret) {
        _cleanup_free_ char *traddr = NULL, *trsvcid = NULL, *subnqn = NULL;
        _cleanup_(kv_freep) StasKV *kv = NULL;
        char b1[8], b2[8], b3[8], b4[8], portid[8], cntlid[8], asqsz[8], eflags[8];
        int r;

        r = field_to_string(e->traddr, sizeof(e->traddr), &traddr);
        if (r < 0)
                return r;
        r = field_to_string(e->trsvcid, sizeof(e->trsvcid), &trsvcid);
        if (r < 0)
                return r;
        r = field_to_string(e->subnqn, sizeof(e->subnqn), &subnqn);
        if (r < 0)
                return r;
        if (!dlp_nqn_is_plausible(subnqn))
                return -EINVAL;

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

        *ret = TAKE_PTR(kv);
        return 0;
}

bool dlpe_has_usable_traddr(const StasKV *e) {
        const char *t = kv_get(e, "traddr");

        return !isempty(t) && !streq(t, "0.0.0.0") && !streq(t, "::");
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
        const struct nvmf_discovery_log *log,
        size_t size,
        StasKV ***ret,
        uint64_t *ret_genctr,
        StasDlpDrops *ret_drops) {
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        StasDlpDrops drops = {};
        uint64_t numrec, avail;
        size_t n = 0, cap = 0;
        int r;

        if (!log || size < sizeof(struct nvmf_discovery_log))
                return -EBADMSG;

        numrec = le64toh(log->numrec);
        avail = (size - sizeof(struct nvmf_discovery_log)) / sizeof(struct nvmf_disc_log_entry);
        if (numrec > avail) {
                log_debug(
                        "Discovery log page claims %" PRIu64 " records, only %" PRIu64 " present",
                        numrec,
                        avail);
                numrec = avail;
        }
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
                StasKV *e = NULL;

                r = dlpe_from_entry(&log->entries[i], &e);
                if (r == -ENOMEM)
                        return r;
                if (r == -EINVAL) {
                        drops.bad_nqn++;
                        continue;
                }
                if (r < 0) {
                        drops.bad_text++;
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
        return (int) (drops.bad_text + drops.bad_nqn + drops.bad_traddr);
}

int dlp_decode(const struct nvmf_discovery_log *log, size_t size, StasKV ***ret, uint64_t *ret_genctr) {
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
        return v & NVMF_DISC_EFLAGS_NCC;
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
