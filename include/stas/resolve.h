/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resolve.h - host names in the traddr of tcp/rdma controller= entries (§5.1 NameResolver).
 * A traddr that is not an IP literal is looked up with getaddrinfo() on a worker task
 * (task.h), never on the loop. The address kept is the first IPv4 result when IPv4 is enabled
 * by ip-family, else the first IPv6 result; with ip-family=ipv6+ipv4 the first IPv6 result is
 * preferred. Results are kept for one reconcile pass: the daemon asks, gets -EINPROGRESS, is
 * called back once every name is answered, reconciles with the results and calls
 * resolver_reset() so the next pass asks DNS again. Exclusions are the caller's job before (on
 * the name, through @excluded) and after (on the address, its normal filters). Nothing here logs
 * above debug level, except resolver_resolve_conf(), which reports a configured name that does not
 * resolve as an error (bad user input, like a parser).
 */
#pragma once

#include <netdb.h>
#include <stdbool.h>

#include "stas/kv.h"
#include "stas/conf.h"
#include "stas/task.h"
#include "stas/types.h"

/* resolve_needed() - @traddr of @transport is a host name to resolve (tcp/rdma, not an IP literal). */
bool resolve_needed(const char *transport, const char *traddr);

/*
 * resolve_pick() - choose the address from getaddrinfo() results @ai (see the header comment).
 * Return: 0 with *@ret (malloc'ed numeric address), -EADDRNOTAVAIL if no result has an enabled
 * family, -ENOMEM.
 */
int resolve_pick(const struct addrinfo *ai, StasIpFamily families, bool ipv6_first, char **ret);

typedef struct StasResolver StasResolver;
typedef void (*StasResolverDone)(StasResolver *r, void *userdata);

/*
 * resolver_new() - a resolver running lookups on @pool (NULL: every name fails with -ENOSYS).
 * @done runs on the loop when the last outstanding lookup is answered. Return: 0 or -ENOMEM.
 */
int resolver_new(StasTaskPool *pool, StasResolverDone done, void *userdata, StasResolver **ret);
/* resolver_free() - cancel outstanding lookups (done is never called); NULL-tolerant. */
StasResolver *resolver_free(StasResolver *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasResolver *, resolver_free);

/* resolver_reset() - forget the answers (outstanding lookups go on). */
void resolver_reset(StasResolver *r);

/* resolver_pending() - lookups outstanding. */
unsigned resolver_pending(const StasResolver *r);

/*
 * resolver_resolve_entries() - @entries (dicts with transport and traddr keys) with host names
 * replaced by addresses: entries without a host name are copied unchanged; an entry for which
 * @excluded (optional) is true is dropped before resolution; a name without an answer yet is
 * looked up and the call returns -EINPROGRESS (call again after done); a name whose lookup failed
 * or gave no address of an enabled family is dropped and passed to @failed (optional) with the
 * error (-EADDRNOTAVAIL: none of an enabled family; -ENOSYS: @r is NULL). Return: 0 with *@ret
 * (NULL-terminated, possibly empty), -EINPROGRESS or -ENOMEM.
 */
int resolver_resolve_entries(
        StasResolver *r,
        StasKV *const *entries,
        size_t n,
        StasIpFamily families,
        bool ipv6_first,
        bool (*excluded)(const StasKV *entry, void *userdata),
        void (*failed)(const StasKV *entry, int error, void *userdata),
        void *userdata,
        StasKV ***ret);

/*
 * resolver_resolve_conf() - resolver_resolve_entries() over the controller= entries of @conf with
 * its ip-family; each entry dropped because its name did not resolve is logged as an error.
 */
int resolver_resolve_conf(
        StasResolver *r,
        const StasConf *conf,
        bool (*excluded)(const StasKV *entry, void *userdata),
        void *userdata,
        StasKV ***ret);

/* resolve_strerror() - text for a resolver error (getaddrinfo's or errno's). */
const char *resolve_strerror(int error);
