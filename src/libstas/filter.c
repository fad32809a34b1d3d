/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filter.c - exclude= matching, transport/address-family validation and IP literal helpers.
 * See filter.h for the contracts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "stas/filter.h"

/**
 * filter_entry_matches() - does one exclude= entry match @candidate? See filter.h.
 */
bool filter_entry_matches(const StasKV *exclude, const StasKV *candidate) {
        if (!exclude || exclude->n == 0 || !candidate)
                return false;

        KV_FOREACH(i, exclude) {
                const char *key = exclude->keys[i], *have;

                if (streq(key, "nqn"))
                        key = "subsysnqn";
                have = kv_get(candidate, key);
                if (!have || !streq(have, exclude->values[i]))
                        return false;
        }
        return true;
}

/**
 * filter_excluded() - does any of the @n entries of @excludes match @candidate?
 */
bool filter_excluded(StasKV *const *excludes, size_t n, const StasKV *candidate) {
        if (!excludes)
                return false;
        for (size_t i = 0; i < n; i++)
                if (filter_entry_matches(excludes[i], candidate))
                        return true;
        return false;
}

/**
 * filter_candidate() - the TID's identity dict plus the keys of @extra it does not define.
 *
 * Return: a new StasKV or NULL (allocation failure).
 */
StasKV *filter_candidate(const StasTid *tid, const StasKV *extra) {
        _cleanup_(kv_freep) StasKV *kv = NULL;

        if (!tid)
                return NULL;
        kv = tid_to_kv(tid);
        if (!kv)
                return NULL;
        KV_FOREACH(i, extra) {
                const char *key = streq(extra->keys[i], "nqn") ? "subsysnqn" : extra->keys[i];

                if (kv_get(kv, key))
                        continue;
                if (kv_set(kv, key, extra->values[i]) < 0)
                        return NULL;
        }
        return TAKE_PTR(kv);
}

/**
 * filter_tid_excluded() - is @tid (with its config keys @extra) excluded?
 *
 * Return: 1 excluded, 0 not, -ENOMEM.
 */
int filter_tid_excluded(StasKV *const *excludes, size_t n, const StasTid *tid, const StasKV *extra) {
        _cleanup_(kv_freep) StasKV *candidate = NULL;

        if (!excludes || n == 0)
                return 0;
        candidate = filter_candidate(tid, extra);
        if (!candidate)
                return tid ? -ENOMEM : 0;
        return filter_excluded(excludes, n, candidate);
}

/* Parse without normalisation: the family as written. */
static bool ip_parse_raw(const char *s, int *family, unsigned char addr[16]) {
        unsigned char buf[16];
        char tmp[INET6_ADDRSTRLEN + 1];
        const char *pct;

        if (isempty(s))
                return false;
        if (inet_pton(AF_INET, s, buf) == 1) {
                *family = AF_INET;
                memcpy(addr, buf, 4);
                return true;
        }

        /* Accept an IPv6 zone ("fe80::1%eth0"); the zone is not part of the address. */
        pct = strchr(s, '%');
        if (pct) {
                size_t len = (size_t) (pct - s);

                if (len >= sizeof(tmp) || pct[1] == '\0')
                        return false;
                memcpy(tmp, s, len);
                tmp[len] = '\0';
                s = tmp;
        }
        if (inet_pton(AF_INET6, s, buf) == 1) {
                *family = AF_INET6;
                memcpy(addr, buf, 16);
                return true;
        }
        return false;
}

/**
 * ip_parse() - parse an IP literal, normalising IPv4-mapped IPv6 to IPv4.
 * @s: the literal
 * @family: (optional) AF_INET or AF_INET6
 * @addr: (optional) the address bytes, 4 or 16 of them
 *
 * Return: false if @s is not an IP literal.
 */
bool ip_parse(const char *s, int *family, unsigned char addr[16]) {
        static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        unsigned char buf[16] = {};
        int fam = AF_UNSPEC;

        if (!ip_parse_raw(s, &fam, buf))
                return false;
        if (fam == AF_INET6 && memcmp(buf, v4mapped, sizeof(v4mapped)) == 0) {
                memmove(buf, buf + 12, 4);
                memset(buf + 4, 0, 12);
                fam = AF_INET;
        }
        if (family)
                *family = fam;
        if (addr)
                memcpy(addr, buf, 16);
        return true;
}

/**
 * ip_equal() - true when @a and @b are IP literals of the same address, IPv4-mapped IPv6 being
 * equal to its IPv4 form. Non-literals are never equal.
 */
bool ip_equal(const char *a, const char *b) {
        unsigned char x[16], y[16];
        int fa, fb;

        if (!ip_parse(a, &fa, x) || !ip_parse(b, &fb, y))
                return false;
        return fa == fb && memcmp(x, y, fa == AF_INET ? 4 : 16) == 0;
}

/**
 * filter_address_valid() - §5.1 remove_invalid_addresses for one controller. See filter.h.
 */
bool filter_address_valid(
        const char *transport, const char *traddr, StasIpFamily families, const char **ret_reason) {
        const char *reason = NULL;
        unsigned char buf[16];
        int fam;

        transport = strempty(transport);
        if (streq(transport, "fc") || streq(transport, "loop"))
                ; /* no address check for FC and loop (nvme-stas neither) */
        else if (!streq(transport, "tcp") && !streq(transport, "rdma"))
                reason = "invalid transport";
        else if (!ip_parse_raw(traddr, &fam, buf))
                reason = "IP address is not valid";
        else if (fam == AF_INET && !(families & STAS_IPFAM_V4))
                reason = "IPv4 is disabled by ip-family";
        else if (fam == AF_INET6 && !(families & STAS_IPFAM_V6))
                reason = "IPv6 is disabled by ip-family";

        if (ret_reason)
                *ret_reason = reason;
        return !reason;
}
