/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <sys/socket.h>

#include "stas/ifaddr.h"

int ifaddr_ip_parse(const char *s, StasIpAddr *ret) {
        char buf[INET6_ADDRSTRLEN + 1];
        const char *pct;
        size_t len;

        if (isempty(s))
                return -EINVAL;

        /* Drop an IPv6 zone ("fe80::1%eth0"): the comparison is on the address only. */
        pct = strchr(s, '%');
        len = pct ? (size_t) (pct - s) : strlen(s);
        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;

        if (inet_pton(AF_INET, buf, &ret->v4) == 1) {
                if (pct)
                        return -EINVAL;
                ret->family = AF_INET;
                return 0;
        }
        if (inet_pton(AF_INET6, buf, &ret->v6) == 1) {
                if (IN6_IS_ADDR_V4MAPPED(&ret->v6)) {
                        struct in_addr v4;

                        memcpy(&v4, &ret->v6.s6_addr[12], sizeof(v4));
                        ret->v4 = v4;
                        ret->family = AF_INET;
                } else
                        ret->family = AF_INET6;
                return 0;
        }
        return -EINVAL;
}

bool ifaddr_ip_equal(const StasIpAddr *a, const StasIpAddr *b) {
        if (!a || !b || a->family != b->family)
                return false;
        if (a->family == AF_INET)
                return a->v4.s_addr == b->v4.s_addr;
        return memcmp(&a->v6, &b->v6, sizeof(a->v6)) == 0;
}

bool ifaddr_ip_str_equal(const char *a, const char *b) {
        StasIpAddr x, y;

        if (ifaddr_ip_parse(a, &x) < 0 || ifaddr_ip_parse(b, &y) < 0)
                return false;
        return ifaddr_ip_equal(&x, &y);
}

StasIfMap *ifaddr_map_new(void) {
        return new0(StasIfMap, 1);
}

StasIfMap *ifaddr_map_free(StasIfMap *m) {
        if (!m)
                return NULL;
        free(m->entries);
        free(m);
        return NULL;
}

static int map_append(StasIfMap *m, const char *ifname, const StasIpAddr *a) {
        if (isempty(ifname) || strlen(ifname) >= IF_NAMESIZE)
                return -EINVAL;
        if (m->n == m->allocated) {
                size_t na = m->allocated ? m->allocated * 2 : 8;
                StasIfAddr *e = reallocarray(m->entries, na, sizeof(*e));

                if (!e)
                        return -ENOMEM;
                m->entries = e;
                m->allocated = na;
        }
        memset(&m->entries[m->n], 0, sizeof(m->entries[m->n]));
        strcpy(m->entries[m->n].ifname, ifname);
        m->entries[m->n].addr = *a;
        m->n++;
        return 0;
}

int ifaddr_map_add(StasIfMap *m, const char *ifname, const char *address) {
        StasIpAddr a;
        int r;

        r = ifaddr_ip_parse(address, &a);
        if (r < 0)
                return r;
        return map_append(m, ifname, &a);
}

int ifaddr_map_from_system(StasIfMap **ret) {
        _cleanup_(ifaddr_map_freep) StasIfMap *m = NULL;
        struct ifaddrs *ifa_list = NULL;
        int r = 0;

        m = ifaddr_map_new();
        if (!m)
                return -ENOMEM;
        if (getifaddrs(&ifa_list) < 0)
                return -errno;

        for (struct ifaddrs *ifa = ifa_list; ifa; ifa = ifa->ifa_next) {
                StasIpAddr a = {};

                if (!ifa->ifa_addr || !ifa->ifa_name)
                        continue;
                if (ifa->ifa_addr->sa_family == AF_INET) {
                        a.family = AF_INET;
                        a.v4 = ((const struct sockaddr_in *) (const void *) ifa->ifa_addr)->sin_addr;
                } else if (ifa->ifa_addr->sa_family == AF_INET6) {
                        a.family = AF_INET6;
                        a.v6 = ((const struct sockaddr_in6 *) (const void *) ifa->ifa_addr)->sin6_addr;
                } else
                        continue;
                r = map_append(m, ifa->ifa_name, &a);
                if (r == -ENOMEM)
                        break;
                r = 0;
        }
        freeifaddrs(ifa_list);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

const char *ifaddr_map_iface_of(const StasIfMap *m, const StasIpAddr *addr) {
        for (size_t i = 0; m && addr && i < m->n; i++)
                if (ifaddr_ip_equal(&m->entries[i].addr, addr))
                        return m->entries[i].ifname;
        return NULL;
}

const StasIpAddr *ifaddr_map_primary(const StasIfMap *m, const char *ifname, int family) {
        for (size_t i = 0; m && ifname && i < m->n; i++)
                if (streq(m->entries[i].ifname, ifname) && m->entries[i].addr.family == family)
                        return &m->entries[i].addr;
        return NULL;
}
