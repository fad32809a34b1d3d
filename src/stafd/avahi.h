/* SPDX-License-Identifier: Apache-2.0 */
/*
 * avahi.h - stafd's zeroconf (mDNS/DNS-SD) discovery of discovery controllers (inventory §5.2).
 * Browses the configured service types (normally _nvme-disc._tcp and _nvme-disc._udp; none =
 * disabled), resolves each service, turns its address, port and TXT record into a controller
 * record {transport, traddr, trsvcid, host-iface, subsysnqn}, and, for tcp, only reports it once a
 * TCP connection to it succeeds (bound to the interface it was seen on), retrying after 5, 10, 30,
 * 60, 300, 600, 600... s.
 * Threads: avahi-client's calls are synchronous D-Bus round trips (up to 25 s each), so they all
 * run on an avahi thread of their own (avahi-thread.h: AvahiThreadedPoll), which hands what it
 * sees to the sd-event loop through an eventfd and a mutex-protected queue; the loop sends it
 * the service types, SIGHUP's kick and the shutdown the same way. A hung avahi-daemon therefore
 * never stalls the loop. Everything in this header is called on the loop and works on the loop's
 * state (the services, their probes, the "changed" callback): none of it waits for avahi.
 * The client is created with AVAHI_CLIENT_NO_FAIL and re-created after a failure, so stafd
 * survives avahi-daemon restarts; every service is dropped while avahi is away.
 * Function prefix zc_ (zeroconf) keeps clear of avahi's own avahi_ namespace.
 * Logs (all on the loop): avahi availability changes (warning/info), bad TXT protocols and
 * duplicate IPs (error), the first failed reachability probe of a service (info); everything else
 * at debug.
 */
#pragma once

#include <avahi-common/strlst.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "stas/kv.h"
#include "stas/kvv.h"
#include "stas/macro.h"

#define ZC_STYPE_TCP "_nvme-disc._tcp"
#define ZC_STYPE_UDP "_nvme-disc._udp"

typedef struct StasZeroconf StasZeroconf;

/* Called on the loop whenever the set of reachable services changed. */
typedef void (*StasZeroconfChanged)(StasZeroconf *z, void *userdata);

/*
 * zc_new() - a zeroconf browser on @event. Nothing is browsed until zc_set_service_types().
 * @discovery_supported: the kernel knows the "discovery" option (TP8013), so a TXT nqn= is used.
 * Return: 0 or -errno.
 */
int zc_new(
        sd_event *event,
        bool discovery_supported,
        StasZeroconfChanged cb,
        void *userdata,
        StasZeroconf **ret);

/*
 * zc_free() - stop browsing, free everything; NULL-tolerant; returns NULL. Waits for the avahi
 * thread at most ZC_THREAD_STOP_USEC (1 s): one stuck in a call to a hung avahi-daemon is left
 * behind (detached, with its avahi objects; logged at debug), as the daemon is exiting.
 */
StasZeroconf *zc_free(StasZeroconf *z);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasZeroconf *, zc_free);

/*
 * zc_set_service_types() - browse exactly @stypes (NULL-terminated; NULL or empty disables
 * zeroconf and drops every service). Services of removed types are dropped. Return: 0 or -errno.
 */
int zc_set_service_types(StasZeroconf *z, char *const *stypes);

/*
 * zc_kick() - SIGHUP: reconnect to avahi now if it is away (asks the avahi thread, does not wait),
 * re-probe unreachable services now.
 */
void zc_kick(StasZeroconf *z);

/* zc_is_available() - avahi-daemon is connected and running, as the avahi thread last reported. */
bool zc_is_available(const StasZeroconf *z);

/*
 * zc_get_controllers() - the reachable services as records (transport, traddr, trsvcid,
 * host-iface, subsysnqn), in discovery order. Return: 0 or -ENOMEM; list never NULL.
 */
int zc_get_controllers(const StasZeroconf *z, StasKV ***ret);

/*
 * zc_info() - the "avahi" member of process_info: {"avahi wake up timer": "60.0s [off]",
 * "service types": [...], "services": {"(iface, IPv4, name.domain, stype)": {record...,
 * "reachable": "True"|"False"}}}. Return: a new object, NULL on ENOMEM.
 */
json_object *zc_info(const StasZeroconf *z);

/* Pure helpers, exposed for tests. */

/*
 * zc_txt_parse() - decode a TXT record: each entry must be printable ASCII and contain exactly
 * one '='; keys are lower-cased; entries with an empty key or that fail the rules are skipped
 * (the last of duplicate keys wins). Return: 0 or -ENOMEM.
 */
int zc_txt_parse(AvahiStringList *txt, StasKV **ret);

/*
 * zc_proto_to_transport() - the TXT p= value (trimmed, any case) to a transport: "tcp" -> tcp;
 * "roce", "iwarp", "rdma" -> rdma; anything else (or NULL) -> NULL.
 */
const char *zc_proto_to_transport(const char *p);

/*
 * zc_record_new() - the controller record of a resolved service: transport from p=, traddr
 * @address, trsvcid @port, host-iface @ifname for tcp ("" for rdma), subsysnqn from nqn= (trimmed)
 * when @discovery_supported, else (or when absent) the well-known discovery NQN. The fields are
 * hostile (anyone on the link can announce): traddr must be an IP literal, the port non-zero,
 * host-iface an interface name and subsysnqn an NQN (validate.h).
 * Return: 0, -EPROTO if p= is missing or unknown, -EINVAL if a field breaks those rules (*@ret_field
 * names it: "traddr", "trsvcid", "host-iface" or "subsysnqn"), or -ENOMEM.
 */
int zc_record_new(
        const StasKV *txt,
        const char *address,
        uint16_t port,
        const char *ifname,
        bool discovery_supported,
        StasKV **ret);
int zc_record_new_ex(
        const StasKV *txt,
        const char *address,
        uint16_t port,
        const char *ifname,
        bool discovery_supported,
        StasKV **ret,
        const char **ret_field);

/* zc_retry_delay_usec() - delay before re-probing after @failures (>= 1) failed probes. */
uint64_t zc_retry_delay_usec(unsigned failures);
