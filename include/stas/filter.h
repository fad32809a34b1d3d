/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filter.h - pure selection functions applied to candidate controllers: exclude= matching
 * (§3.5) and the transport / address-family check (§5.1 remove_invalid_addresses), plus the IP
 * literal helpers other modules share. Nothing here allocates except filter_candidate(), and
 * nothing logs: callers log the returned reason.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stas/kv.h"
#include "stas/tid.h"
#include "stas/types.h"

/*
 * filter_entry_matches() - true when every key of @exclude equals (exact string comparison)
 * the value of the same key in @candidate. Key "nqn" in @exclude stands for "subsysnqn". A key
 * missing from @candidate never matches. An empty @exclude matches nothing (nvme-stas would
 * match everything: deliberate difference, so one stray "exclude=" cannot drop every controller).
 */
bool filter_entry_matches(const StasKV *exclude, const StasKV *candidate);

/* filter_excluded() - true when any of the @n entries of @excludes matches @candidate. */
bool filter_excluded(StasKV *const *excludes, size_t n, const StasKV *candidate);

/*
 * filter_candidate() - the dict exclusion runs against: tid_to_kv(@tid), plus each key of
 * @extra (a controller's config keys, may be NULL) that the TID does not already define.
 * Return: a new dict, or NULL on allocation failure.
 */
StasKV *filter_candidate(const StasTid *tid, const StasKV *extra);

/*
 * filter_tid_excluded() - filter_excluded() over filter_candidate(@tid, @extra).
 * Return: 1 excluded, 0 not excluded, -ENOMEM.
 */
int filter_tid_excluded(StasKV *const *excludes, size_t n, const StasTid *tid, const StasKV *extra);

/*
 * filter_address_valid() - §5.1: tcp and rdma need a traddr that is an IPv4 or IPv6 literal of a
 * family enabled in @families; fc and loop always pass; any other transport is rejected. The
 * family is that of the literal as written (an IPv4-mapped IPv6 address counts as IPv6, as in
 * nvme-stas). On rejection *@ret_reason (optional) points to a static English reason suitable
 * for "<tid> ignored: <reason>" ("IP address is not valid", "IPv4 is disabled by ip-family",
 * "IPv6 is disabled by ip-family", "invalid transport").
 */
bool filter_address_valid(
        const char *transport, const char *traddr, StasIpFamily families, const char **ret_reason);

/*
 * ip_parse() - parse an IPv4 or IPv6 literal (an IPv6 "%zone" suffix is accepted and ignored).
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is normalised to AF_INET. @family and @addr are optional;
 * @addr receives 4 (AF_INET) or 16 (AF_INET6) bytes in network order.
 * Return: false if @s is not an IP literal.
 */
bool ip_parse(const char *s, int *family, unsigned char addr[16]);

/* ip_equal() - both are IP literals naming the same address (after ip_parse normalisation). */
bool ip_equal(const char *a, const char *b);
