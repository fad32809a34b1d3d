/* SPDX-License-Identifier: Apache-2.0 */
/*
 * match.h - does an existing kernel connection satisfy a candidate controller (§5.10)?
 *
 * A StasConnId describes one kernel controller as sysfs/udev report it (all fields borrowed,
 * NULL treated as ""; the caller maps the kernel's "none"/"(efault)" to "" before, see
 * udev.h). match_cid_tid() is a pure function of the connection id, the candidate TID and an
 * interface map (ifaddr.h), so it is tested with synthetic maps. Rules:
 *  - transport, trsvcid and host-nqn must be equal (exact strings);
 *  - subsysnqn must be equal unless the candidate asks for the well-known discovery NQN
 *    (TP8013: a DC contacted with the well-known NQN may answer with a unique one);
 *  - traddr: as IP addresses (IPv4-mapped IPv6 normalised) for tcp and rdma, case-insensitive
 *    strings otherwise; for tcp/rdma an address that does not parse falls back to a
 *    case-insensitive string compare;
 *  - tcp with a candidate host-traddr or host-iface: with a known src_addr (kernel >= 6.1),
 *    host-traddr must equal src_addr and host-iface must be the interface owning src_addr;
 *    without it (legacy), compare with the connection's host-traddr/host-iface, or derive one
 *    from the other through the interface map; when the connection has neither, assume a
 *    match (logged at debug);
 *  - fc: host-traddr equal, case-insensitive;
 *  - rdma: host-traddr, if the candidate has one, equal as IP address.
 */
#pragma once

#include <stdbool.h>

#include "stas/ifaddr.h"
#include "stas/tid.h"

typedef struct StasConnId {
        const char *transport;
        const char *traddr;
        const char *trsvcid;
        const char *subsysnqn;
        const char *host_traddr;
        const char *host_iface;
        const char *host_nqn;
        const char *src_addr; /* from sysfs "address" src_addr= (kernel >= 6.1), or "" */
} StasConnId;

/* match_traddr() - @a and @b are the same transport address of @transport (the traddr rule above). */
bool match_traddr(const char *transport, const char *a, const char *b);
/* match_cid_tid() - true if the connection @cid can be reused for the candidate @tid. */
bool match_cid_tid(const StasConnId *cid, const StasTid *tid, const StasIfMap *ifaces);
