/* SPDX-License-Identifier: Apache-2.0 */
/*
 * udev.h - the kernel's nvme controller events and the nvme controllers already present.
 *
 * 1. The event parser uevent_parse() is a pure function over a property list ("KEY=VALUE"
 *    strings). It keeps only events of SUBSYSTEM=nvme for controller devices nvmeN, with
 *    ACTION add, remove or change. It extracts NVME_AEN (hex, as the kernel prints it with
 *    "%#08x"; 0x70f002 = discovery log page changed), NVME_EVENT (connected, rediscover) and the
 *    connection properties NVME_TRTYPE, NVME_TRADDR, NVME_TRSVCID, NVME_HOST_TRADDR,
 *    NVME_HOST_IFACE, where the kernel's "none" and "(efault)" mean "" (as do missing keys).
 *    The device name comes from SYSNAME=nvmeN, else the last component of DEVNAME=/dev/nvmeN,
 *    else of DEVPATH.
 *
 * 2. StasUdev, a monitor on an sd-event loop: a libudev netlink monitor (source "udev")
 *    filtered on subsystem nvme. Each event is turned into a property list (the device
 *    properties plus SYSNAME) and parsed as above; the handler gets the parsed event.
 *    Malformed or unexpected events are logged at debug level and dropped, never fatal.
 *
 *    Lost events: the monitor socket gets a large receive buffer (STAS_UDEV_RCVBUF bytes:
 *    SO_RCVBUFFORCE, which needs CAP_NET_ADMIN, else SO_RCVBUF, which the kernel caps at
 *    net.core.rmem_max). When the kernel still drops events for us, the next receive fails with
 *    ENOBUFS (libudev 252: udev_monitor_receive_device() returns NULL with errno ENOBUFS). The
 *    monitor then logs one warning and calls the handler once with an STAS_UEVENT_OVERFLOW event
 *    on a later loop iteration (overflows seen before that are merged into it): the owner must
 *    check what it holds against sysfs, since any add, remove or change may have been lost.
 *
 *    TEST HOOK: when the environment variable STAS_UEVENT_SOCKET is set to a path when the
 *    monitor is created, the monitor also binds an AF_UNIX SOCK_DGRAM socket at that path
 *    (removing a stale socket file first, and again when freed). Each datagram is one uevent:
 *    KEY=VALUE pairs separated by NUL bytes or newlines (empty pieces ignored; a trailing
 *    separator optional), at most 8191 bytes, parsed by the same parser. It must contain
 *    ACTION=add|remove|change, SUBSYSTEM=nvme and SYSNAME=nvmeN or DEVNAME=/dev/nvmeN, e.g.
 *      "ACTION=change\0SUBSYSTEM=nvme\0SYSNAME=nvme0\0NVME_AEN=0x70f002\0"
 *      "ACTION=change\nSUBSYSTEM=nvme\nDEVNAME=/dev/nvme3\nNVME_EVENT=rediscover\n"
 *    A datagram that is exactly "ENOBUFS" (a trailing NUL or newline allowed) stands for an
 *    overflow of the monitor socket and is handled exactly like one (above).
 *    With the hook set, failure to open the netlink monitor is tolerated (debug log).
 *
 * 3. Enumeration of existing controllers straight from sysfs, under an optional root prefix
 *    (NULL or "" = "/"): <root>/sys/class/nvme/nvmeN/{uevent, address, transport, subsysnqn,
 *    hostnqn, hostid, cntrltype, dctype, state, model, serial, firmware_rev, cntlid} and whether the
 *    controller has namespace children (nvmeXnY or nvmeXcYnZ entries). Connection fields come
 *    from the uevent file's NVME_* keys, else from "transport" and "address"
 *    (traddr=..,trsvcid=..,host_traddr=..,host_iface=..,src_addr=..). Missing attributes
 *    read as "". Nothing here logs above debug level.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "stas/macro.h"
#include "stas/match.h"

#define STAS_AEN_DLP_CHANGED 0x70f002u
/* The receive buffer asked for on the monitor socket (as systemd's PID 1 does for its own). */
#define STAS_UDEV_RCVBUF (128 * 1024 * 1024)

typedef enum StasUeventAction {
        STAS_UEVENT_ADD,
        STAS_UEVENT_REMOVE,
        STAS_UEVENT_CHANGE,
        /*
         * Not a kernel event: events were lost (see StasUdev below). Made only by the monitor,
         * never by uevent_parse(); sysname is NULL, instance -1, the connection fields "".
         */
        STAS_UEVENT_OVERFLOW,
} StasUeventAction;

typedef enum StasNvmeEvent {
        STAS_NVME_EVENT_NONE,       /* no NVME_EVENT key */
        STAS_NVME_EVENT_CONNECTED,  /* NVME_EVENT=connected */
        STAS_NVME_EVENT_REDISCOVER, /* NVME_EVENT=rediscover */
        STAS_NVME_EVENT_OTHER,      /* any other value (e.g. the legacy "discovery") */
} StasNvmeEvent;

typedef struct StasUevent {
        StasUeventAction action;
        char *sysname; /* "nvmeN" (NULL for STAS_UEVENT_OVERFLOW) */
        int instance;  /* N (-1 for STAS_UEVENT_OVERFLOW) */
        bool has_aen;
        uint32_t aen;
        StasNvmeEvent nvme_event;
        /* never NULL; "" when absent, "none" or "(efault)" */
        char *trtype;
        char *traddr;
        char *trsvcid;
        char *host_traddr;
        char *host_iface;
} StasUevent;

StasUevent *uevent_free(StasUevent *ev);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasUevent *, uevent_free);

/*
 * uevent_parse() - parse a NULL-terminated list of "KEY=VALUE" strings.
 * Return: 0; -EOPNOTSUPP for events that are valid but not for us (other subsystem, other
 * action, not a controller device); -EBADMSG for malformed events (no ACTION, bad NVME_AEN,
 * entries without '='...); -ENOMEM.
 */
int uevent_parse(char *const *props, StasUevent **ret);
/* uevent_parse_datagram() - split @buf (@len bytes) on NUL/newline, then uevent_parse(). */
int uevent_parse_datagram(const char *buf, size_t len, StasUevent **ret);
/* uevent_is_dlp_changed() - a change event carrying AEN 0x70f002. */
bool uevent_is_dlp_changed(const StasUevent *ev);
/* uevent_datagram_is_overflow() - @buf (@len bytes) is the hook's overflow datagram "ENOBUFS". */
bool uevent_datagram_is_overflow(const char *buf, size_t len);

typedef struct StasUdev StasUdev;
/* The handler runs on the loop; @ev is valid only during the call. */
typedef void (*StasUeventHandler)(const StasUevent *ev, void *userdata);

/* stas_udev_new() - start monitoring (see above). Return: 0 or -errno. */
int stas_udev_new(sd_event *event, StasUeventHandler handler, void *userdata, StasUdev **ret);
/* stas_udev_free() - stop, close, remove the hook socket. NULL-tolerant; returns NULL. */
StasUdev *stas_udev_free(StasUdev *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasUdev *, stas_udev_free);

typedef struct StasNvmeDevice {
        char *sysname; /* nvmeN */
        int instance;
        /* connection (NVME_* of the uevent file, else transport/address); never NULL */
        char *transport;
        char *traddr;
        char *trsvcid;
        char *host_traddr;
        char *host_iface;
        char *src_addr;
        /* attributes; never NULL, "" when missing */
        char *address;
        char *subsysnqn;
        char *hostnqn;
        char *hostid;
        char *cntrltype;
        char *dctype;
        char *state;
        char *model;
        char *serial;
        char *firmware_rev;
        char *cntlid; /* the controller ID of the current association, decimal */
        bool has_children;
} StasNvmeDevice;

StasNvmeDevice *nvmedev_free(StasNvmeDevice *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasNvmeDevice *, nvmedev_free);
StasNvmeDevice **nvmedev_list_free(StasNvmeDevice **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasNvmeDevice **, nvmedev_list_free);

/*
 * nvmedev_read() - read controller @sysname ("nvmeN") under @root.
 * Return: 0; -EINVAL for a bad name; -ENOENT if it does not exist; -ENOMEM.
 */
int nvmedev_read(const char *root, const char *sysname, StasNvmeDevice **ret);
/*
 * nvmedev_enumerate() - every controller under @root, sorted by instance, as a
 * NULL-terminated array (empty if /sys/class/nvme does not exist). Unreadable controllers
 * are skipped. Return: number of controllers, or -errno.
 */
int nvmedev_enumerate(const char *root, StasNvmeDevice ***ret);
/*
 * nvmedev_is_dc() - cntrltype "discovery" when the kernel reports cntrltype (>= 5.18); on older
 * kernels nvme-stas's rule (§5.10): subsysnqn well-known, or no children.
 */
bool nvmedev_is_dc(const StasNvmeDevice *d);
/* nvmedev_is_ioc() - cntrltype "io" when reported; on older kernels: has children (§5.10). */
bool nvmedev_is_ioc(const StasNvmeDevice *d);
/* nvmedev_conn_id() - a StasConnId view of @d (borrows @d's strings) for match_cid_tid(). */
void nvmedev_conn_id(const StasNvmeDevice *d, StasConnId *ret);

/*
 * Device identity. The kernel reuses a free nvmeN name for the next controller, so a name alone
 * does not say that a device is still the one a controller object connected to.
 *
 * nvmedev_same_connection() - @a and @b (both read from sysfs) are the same kernel controller as
 * far as its connection goes: same instance, transport, traddr, trsvcid, host_traddr, host_iface
 * and subsysnqn. src_addr is left out: the kernel shows it only while the admin queue's socket
 * is up, so it comes and goes across the kernel's own reconnects. NULL: false.
 */
bool nvmedev_same_connection(const StasNvmeDevice *a, const StasNvmeDevice *b);
/*
 * nvmedev_same_identity() - nvmedev_same_connection() and the same cntlid: the same association.
 * A controller created under a reused name, or the same target connected anew (the target hands
 * out a new cntlid), differs. NULL: false.
 */
bool nvmedev_same_identity(const StasNvmeDevice *a, const StasNvmeDevice *b);

/*
 * address_parse_field() - the value of @key ("traddr", "src_addr"...) in a sysfs address
 * string "k=v,k=v" (newline-terminated or not). Return: malloc'ed value ("" if absent), NULL
 * on ENOMEM. "none" and "(efault)" become "".
 */
char *address_parse_field(const char *address, const char *key);
