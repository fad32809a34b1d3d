/* SPDX-License-Identifier: Apache-2.0 */
#include <strings.h>

#include "stas/log.h"
#include "stas/match.h"

/**
 * match_traddr() - see match.h.
 */
bool match_traddr(const char *transport, const char *a, const char *b) {
        StasIpAddr x, y;

        if (streq(transport, "tcp") || streq(transport, "rdma")) {
                bool px = ifaddr_ip_parse(a, &x) >= 0, py = ifaddr_ip_parse(b, &y) >= 0;

                if (px && py)
                        return ifaddr_ip_equal(&x, &y);
                if (px != py)
                        return false;
        }
        return strcasecmp(a, b) == 0;
}

/* kernel < 6.1: no src_addr, infer what we can from host-traddr/host-iface (see match.h). */
static bool match_tcp_legacy(const StasConnId *cid, const StasTid *tid, const StasIfMap *ifaces) {
        const char *cid_iface = strempty(cid->host_iface);
        StasIpAddr cid_host, tid_host;
        bool have_cid_host = ifaddr_ip_parse(cid->host_traddr, &cid_host) >= 0;

        if (!isempty(tid->host_traddr)) {
                if (ifaddr_ip_parse(tid->host_traddr, &tid_host) < 0)
                        return false;
                if (have_cid_host) {
                        if (!ifaddr_ip_equal(&cid_host, &tid_host))
                                return false;
                } else if (!isempty(cid_iface)) {
                        /* The connection uses the primary address of its interface. */
                        const StasIpAddr *primary = ifaddr_map_primary(ifaces, cid_iface, tid_host.family);

                        if (primary && !ifaddr_ip_equal(primary, &tid_host))
                                return false;
                } else
                        log_debug(
                                "Connection to %s has neither host-traddr nor host-iface, assuming a match",
                                strempty(cid->traddr));
        }

        if (!isempty(tid->host_iface)) {
                if (!isempty(cid_iface)) {
                        if (!streq(tid->host_iface, cid_iface))
                                return false;
                } else if (have_cid_host) {
                        const char *ifname = ifaddr_map_iface_of(ifaces, &cid_host);

                        if (!streq_ptr(tid->host_iface, ifname))
                                return false;
                } else
                        log_debug(
                                "Connection to %s has neither host-traddr nor host-iface, assuming a match",
                                strempty(cid->traddr));
        }
        return true;
}

bool match_cid_tid(const StasConnId *cid, const StasTid *tid, const StasIfMap *ifaces) {
        if (!cid || !tid)
                return false;

        if (!streq(tid->transport, strempty(cid->transport)) ||
            !streq(tid->trsvcid, strempty(cid->trsvcid)) || !streq(tid->host_nqn, strempty(cid->host_nqn)))
                return false;

        if (!streq(tid->subsysnqn, NVME_DISC_WKNQN) && !streq(tid->subsysnqn, strempty(cid->subsysnqn)))
                return false;

        if (!match_traddr(tid->transport, tid->traddr, strempty(cid->traddr)))
                return false;

        if (streq(tid->transport, "tcp")) {
                StasIpAddr src, host;

                if (isempty(tid->host_traddr) && isempty(tid->host_iface))
                        return true;
                if (ifaddr_ip_parse(cid->src_addr, &src) < 0)
                        return match_tcp_legacy(cid, tid, ifaces);
                if (!isempty(tid->host_traddr) &&
                    (ifaddr_ip_parse(tid->host_traddr, &host) < 0 || !ifaddr_ip_equal(&host, &src)))
                        return false;
                if (!isempty(tid->host_iface) &&
                    !streq_ptr(tid->host_iface, ifaddr_map_iface_of(ifaces, &src)))
                        return false;
        } else if (streq(tid->transport, "fc")) {
                if (strcasecmp(tid->host_traddr, strempty(cid->host_traddr)) != 0)
                        return false;
        } else if (streq(tid->transport, "rdma")) {
                if (!isempty(tid->host_traddr) && !ifaddr_ip_str_equal(tid->host_traddr, cid->host_traddr))
                        return false;
        }
        return true;
}
