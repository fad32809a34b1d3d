/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ifaddr.h - IP address parsing/comparison and a map of the host's network interfaces to their
 * addresses, as connection matching (§5.10) needs it. Addresses are compared as binary values;
 * an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is normalised to the IPv4 address. The map
 * keeps interface addresses in the order they were added (for "primary address" = first one
 * of a family). ifaddr_map_from_system() reads getifaddrs(); tests build synthetic maps with
 * ifaddr_map_add(). Nothing here logs.
 */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "stas/macro.h"

typedef struct StasIpAddr {
        int family; /* AF_INET or AF_INET6 */
        union {
                struct in_addr v4;
                struct in6_addr v6;
        };
} StasIpAddr;

/*
 * ifaddr_ip_parse() - parse a numeric IPv4/IPv6 address (an IPv6 "%scope" suffix is ignored);
 * IPv4-mapped IPv6 becomes AF_INET. Return: 0, or -EINVAL if @s is not a numeric address.
 */
int ifaddr_ip_parse(const char *s, StasIpAddr *ret);
/* ifaddr_ip_equal() - same family and bytes. */
bool ifaddr_ip_equal(const StasIpAddr *a, const StasIpAddr *b);
/*
 * ifaddr_ip_str_equal() - both parse and are equal. Return: false if either does not parse.
 */
bool ifaddr_ip_str_equal(const char *a, const char *b);

typedef struct StasIfAddr {
        char ifname[IF_NAMESIZE];
        StasIpAddr addr;
} StasIfAddr;

typedef struct StasIfMap {
        size_t n, allocated;
        StasIfAddr *entries;
} StasIfMap;

/* ifaddr_map_new() - an empty map. Return: NULL on allocation failure. */
StasIfMap *ifaddr_map_new(void);
StasIfMap *ifaddr_map_free(StasIfMap *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasIfMap *, ifaddr_map_free);
/*
 * ifaddr_map_add() - append (@ifname, @address). Return: 0, -EINVAL (bad address or name
 * longer than IF_NAMESIZE-1), -ENOMEM.
 */
int ifaddr_map_add(StasIfMap *m, const char *ifname, const char *address);
/*
 * ifaddr_map_from_system() - the IPv4 and IPv6 addresses of all interfaces, from
 * getifaddrs(3). Return: 0 or -errno.
 */
int ifaddr_map_from_system(StasIfMap **ret);
/* ifaddr_map_iface_of() - name of the interface owning @addr, or NULL. */
const char *ifaddr_map_iface_of(const StasIfMap *m, const StasIpAddr *addr);
/*
 * ifaddr_map_primary() - the first address of @family on @ifname (the "primary" address),
 * or NULL if the interface has none (or is unknown).
 */
const StasIpAddr *ifaddr_map_primary(const StasIfMap *m, const char *ifname, int family);
