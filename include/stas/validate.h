/* SPDX-License-Identifier: Apache-2.0 */
/*
 * validate.h - the syntax of every field that can reach a kernel connect string
 * (/dev/nvme-fabrics takes "key=value,key=value,..."). Fields are checked where they enter stas:
 * discovery log page entries (dlp.c), mDNS records (src/stafd/avahi.c), controller= entries (conf.c) and
 * what stacd decodes from stafd's D-Bus replies (stacd-discovered.c). The nvme adapter checks again,
 * as the last line of defence, that no value it passes to libnvme holds ',', '=' or whitespace
 * (stas_option_value_is_safe()).
 *
 * The rules:
 *  - traddr (stas_check_traddr()): tcp and rdma take an IPv4 literal or an IPv6 literal with an
 *    optional "%zone" (a valid interface name or number); a host name only with
 *    STAS_VALID_HOSTNAME (controller= entries: stas resolves it). fc takes
 *    "nn-0x<16 hex>:pn-0x<16 hex>". loop takes nothing or a safe token. Any other transport
 *    (an unknown trtype code of a log page entry) takes a safe token.
 *  - trsvcid (stas_check_trsvcid()): tcp and rdma: empty (the kernel's default) or a decimal port
 *    1..65535 without sign or leading zero; fc and loop: empty or "none"; any other transport:
 *    empty or a safe token.
 *  - NQN (stas_check_nqn()): 1..STAS_NQN_MAX bytes of printable ASCII without ',', '=' or
 *    blanks, starting with "nqn."; the UUID form "nqn.2014-08.org.nvmexpress:uuid:" must be
 *    followed by exactly one UUID.
 *  - host_iface (stas_check_ifname()): what the kernel accepts as an interface name (1..15
 *    bytes, not "." or "..", no '/', ':' or blank) and printable ASCII without ',' or '='.
 *  - host_traddr (stas_check_host_traddr()): as traddr, never a host name.
 * A "safe token" is at most 255 bytes of printable ASCII without ',', '=' or blanks.
 *
 * All functions return 0 or -EINVAL, never log, and accept NULL as "" (so "empty" rules apply).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stas/kv.h"
#include "stas/tid.h"

/* The limits (STAS_NQN_MAX, STAS_IFNAME_MAX, STAS_TRADDR_MAX) are in wire.h, which includes this. */

/* Flags of stas_check_traddr(). */
enum {
        STAS_VALID_HOSTNAME = 1 << 0, /* tcp/rdma: a DNS host name is accepted too */
        STAS_VALID_IPV4 = 1 << 1,     /* tcp/rdma: only an IPv4 literal */
        STAS_VALID_IPV6 = 1 << 2,     /* tcp/rdma: only an IPv6 literal */
};

int stas_check_traddr(const char *transport, const char *traddr, unsigned flags);
int stas_check_host_traddr(const char *transport, const char *host_traddr);
int stas_check_trsvcid(const char *transport, const char *trsvcid);
int stas_check_nqn(const char *nqn);
int stas_check_ifname(const char *ifname);

/*
 * stas_check_wire_field() - a string another process sent where a TID field or a dict key goes
 * (stafd's answers to stacd, state files): at most STAS_WIRE_FIELD_MAX bytes (wire.h), no control
 * character (below 0x20, or 0x7f). Its content is checked by the rules above where it matters.
 */
int stas_check_wire_field(const char *s);

/* stas_is_ip_literal() - @s is an IPv4 literal, or an IPv6 literal with an optional %zone. */
bool stas_is_ip_literal(const char *s);
/* stas_is_hostname() - @s is a DNS host name (RFC 1123 labels, at most 253 bytes). */
bool stas_is_hostname(const char *s);

/*
 * stas_option_value_is_safe() - @s can be one value of a connect string: printable ASCII without
 * ',' or blanks, and without '=' unless @allow_equals (base64 DH-HMAC-CHAP secrets end in '='
 * padding; the kernel splits "key=value" at the first '=' only, so '=' inside a secret is data).
 * NULL and "" are safe.
 */
bool stas_option_value_is_safe(const char *s, bool allow_equals);

/*
 * stas_check_tid() - every field of @tid by the rules above (@flags as stas_check_traddr(); an
 * empty host-nqn or subsysnqn is accepted: the defaults apply). On -EINVAL *@ret_field
 * (optional) names the first bad field ("traddr", "trsvcid", "subsysnqn", "host-traddr",
 * "host-iface", "host-nqn" or "transport").
 */
int stas_check_tid(const StasTid *tid, unsigned flags, const char **ret_field);

/*
 * stas_check_entry() - a controller= entry (conf.c keys: transport, traddr, trsvcid,
 * subsysnqn, host-traddr, host-iface, host-nqn, dhchap-secret, dhchap-ctrl-secret) by the rules
 * above, a host name allowed in traddr. On -EINVAL *@ret_field (optional) names the first bad key;
 * the value of a secret must never be logged.
 */
int stas_check_entry(const StasKV *entry, const char **ret_field);

/*
 * stas_excerpt() - @s made fit for a log line: at most @size - 1 bytes, non-printable bytes
 * shown as '?', and "..." at the end when it was cut. Returns @buf.
 */
char *stas_excerpt(const char *s, char *buf, size_t size);
