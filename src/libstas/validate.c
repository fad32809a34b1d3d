/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "stas/macro.h"
#include "stas/wire.h"

#define UUID_NQN_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"

/* Printable ASCII, no blank, no ',' and (unless allowed) no '='. */
static bool token_chars_ok(const char *s, bool allow_equals) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p <= 0x20 || *p >= 0x7f || *p == ',')
                        return false;
                if (*p == '=' && !allow_equals)
                        return false;
        }
        return true;
}

bool stas_option_value_is_safe(const char *s, bool allow_equals) {
        return !s || token_chars_ok(s, allow_equals);
}

static bool safe_token(const char *s) {
        return strnlen(s, STAS_TRADDR_MAX + 1) <= STAS_TRADDR_MAX && token_chars_ok(s, false);
}

/**
 * stas_check_ifname() - see validate.h.
 * @ifname: the name (NULL = "")
 */
int stas_check_ifname(const char *ifname) {
        size_t n = ifname ? strnlen(ifname, STAS_IFNAME_MAX + 1) : 0;

        if (n == 0 || n > STAS_IFNAME_MAX || streq(ifname, ".") || streq(ifname, ".."))
                return -EINVAL;
        if (strpbrk(ifname, "/:") || !token_chars_ok(ifname, false))
                return -EINVAL;
        return 0;
}

static bool ipv4_literal(const char *s) {
        struct in_addr a;

        return inet_pton(AF_INET, s, &a) == 1;
}

/* An IPv6 literal, with an optional %zone (an interface name or number). */
static bool ipv6_literal(const char *s) {
        char buf[INET6_ADDRSTRLEN];
        const char *pct = strchr(s, '%');
        struct in6_addr a;
        size_t n = pct ? (size_t) (pct - s) : strlen(s);

        if (n == 0 || n >= sizeof(buf))
                return false;
        memcpy(buf, s, n);
        buf[n] = 0;
        if (inet_pton(AF_INET6, buf, &a) != 1)
                return false;
        return !pct || stas_check_ifname(pct + 1) == 0;
}

bool stas_is_ip_literal(const char *s) {
        return s && (ipv4_literal(s) || ipv6_literal(s));
}

bool stas_is_hostname(const char *s) {
        size_t n = s ? strnlen(s, 254) : 0, label = 0;

        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_'))
                        return false;
                if (c == '-' && label == 0)
                        return false;
                if (++label > 63)
                        return false;
        }
        return s[n - 1] != '-';
}

static bool hex_run(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                      (s[i] >= 'A' && s[i] <= 'F')))
                        return false;
        return true;
}

/* "nn-0x<16 hex>:pn-0x<16 hex>", the FC form of traddr and host_traddr. */
static bool fc_address(const char *s) {
        return strlen(s) == 43 && strncasecmp(s, "nn-0x", 5) == 0 && hex_run(s + 5, 16) &&
                strncasecmp(s + 21, ":pn-0x", 6) == 0 && hex_run(s + 27, 16);
}

static bool is_ip_transport(const char *t) {
        return streq_ptr(t, "tcp") || streq_ptr(t, "rdma");
}

/**
 * stas_check_traddr() - see validate.h.
 * @transport: "tcp", "rdma", "fc", "loop" or anything else
 * @traddr: the address (NULL = "")
 * @flags: STAS_VALID_*
 */
int stas_check_traddr(const char *transport, const char *traddr, unsigned flags) {
        const char *s = strempty(traddr);

        if (is_ip_transport(transport)) {
                if (flags & STAS_VALID_IPV4)
                        return ipv4_literal(s) ? 0 : -EINVAL;
                if (flags & STAS_VALID_IPV6)
                        return ipv6_literal(s) ? 0 : -EINVAL;
                if (stas_is_ip_literal(s))
                        return 0;
                return (flags & STAS_VALID_HOSTNAME) && stas_is_hostname(s) ? 0 : -EINVAL;
        }
        if (streq_ptr(transport, "fc"))
                return fc_address(s) ? 0 : -EINVAL;
        return safe_token(s) ? 0 : -EINVAL;
}

int stas_check_host_traddr(const char *transport, const char *host_traddr) {
        const char *s = strempty(host_traddr);

        if (!*s)
                return 0;
        if (is_ip_transport(transport))
                return stas_is_ip_literal(s) ? 0 : -EINVAL;
        if (streq_ptr(transport, "fc"))
                return fc_address(s) ? 0 : -EINVAL;
        return safe_token(s) ? 0 : -EINVAL;
}

int stas_check_trsvcid(const char *transport, const char *trsvcid) {
        const char *s = strempty(trsvcid);
        unsigned long v = 0;

        if (!*s)
                return 0;
        if (streq_ptr(transport, "fc") || streq_ptr(transport, "loop"))
                return streq(s, "none") ? 0 : -EINVAL; /* how FC log page entries say "none" */
        if (!is_ip_transport(transport))
                return safe_token(s) ? 0 : -EINVAL;
        if (strlen(s) > 5 || s[0] == '0')
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned long) (*p - '0');
        }
        return v >= 1 && v <= 65535 ? 0 : -EINVAL;
}

/* 8-4-4-4-12 hex digits. */
static bool uuid_string(const char *s) {
        static const size_t groups[] = { 8, 4, 4, 4, 12 };

        for (size_t g = 0; g < ELEMENTSOF(groups); g++) {
                if (!hex_run(s, groups[g]) || strnlen(s, groups[g]) != groups[g])
                        return false;
                s += groups[g];
                if (g + 1 < ELEMENTSOF(groups) && *s++ != '-')
                        return false;
        }
        return *s == 0;
}

int stas_check_nqn(const char *nqn) {
        size_t n = nqn ? strnlen(nqn, STAS_NQN_MAX + 1) : 0;

        if (n <= 4 || n > STAS_NQN_MAX || strncmp(nqn, "nqn.", 4) != 0 || !token_chars_ok(nqn, false))
                return -EINVAL;
        if (strncmp(nqn, UUID_NQN_PREFIX, strlen(UUID_NQN_PREFIX)) == 0 &&
            !uuid_string(nqn + strlen(UUID_NQN_PREFIX)))
                return -EINVAL;
        return 0;
}

int stas_check_tid(const StasTid *tid, unsigned flags, const char **ret_field) {
        const char *bad = NULL;

        if (!tid)
                return -EINVAL;
        if (isempty(tid->transport) || !safe_token(tid->transport))
                bad = "transport";
        else if (stas_check_traddr(tid->transport, tid->traddr, flags) < 0)
                bad = "traddr";
        else if (stas_check_trsvcid(tid->transport, tid->trsvcid) < 0)
                bad = "trsvcid";
        else if (!isempty(tid->subsysnqn) && stas_check_nqn(tid->subsysnqn) < 0)
                bad = "subsysnqn";
        else if (stas_check_host_traddr(tid->transport, tid->host_traddr) < 0)
                bad = "host-traddr";
        else if (!isempty(tid->host_iface) && stas_check_ifname(tid->host_iface) < 0)
                bad = "host-iface";
        else if (!isempty(tid->host_nqn) && stas_check_nqn(tid->host_nqn) < 0)
                bad = "host-nqn";
        if (ret_field)
                *ret_field = bad;
        return bad ? -EINVAL : 0;
}

int stas_check_entry(const StasKV *entry, const char **ret_field) {
        static const char *const secrets[] = { "dhchap-secret", "dhchap-ctrl-secret" };
        _cleanup_(tid_freep) StasTid *tid = NULL;
        const char *bad = NULL;

        if (!entry)
                return -EINVAL;
        tid = tid_from_kv(entry);
        if (!tid)
                return -ENOMEM;
        if (stas_check_tid(tid, STAS_VALID_HOSTNAME, &bad) == 0)
                for (size_t i = 0; i < ELEMENTSOF(secrets) && !bad; i++)
                        if (!stas_option_value_is_safe(kv_get(entry, secrets[i]), true))
                                bad = secrets[i];
        if (ret_field)
                *ret_field = bad;
        return bad ? -EINVAL : 0;
}

int stas_check_wire_field(const char *s) {
        size_t n = 0;

        for (s = strempty(s); s[n]; n++)
                if ((unsigned char) s[n] < 0x20 || s[n] == 0x7f)
                        return -EINVAL;
        return n <= STAS_WIRE_FIELD_MAX ? 0 : -EINVAL;
}

char *stas_excerpt(const char *s, char *buf, size_t size) {
        size_t n = 0, len;

        if (size == 0)
                return buf;
        s = strempty(s);
        len = strlen(s);
        for (; n < len && n + 1 < size; n++)
                buf[n] = ((unsigned char) s[n] < 0x20 || (unsigned char) s[n] >= 0x7f) ? '?' : s[n];
        buf[n] = 0;
        if (n < len && size > 4)
                memcpy(buf + size - 4, "...", 4);
        return buf;
}
