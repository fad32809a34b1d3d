/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <avahi-client/client.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>

#include "avahi-thread.h"
#include "avahi.h"
#include "stas/log.h"
#include "stas/strv.h"
#include "stas/tid.h"
#include "stas/wire.h"

#define ZC_KICK_USEC (60 * UINT64_C(1000000))
#define ZC_PROBE_TIMEOUT_USEC (5 * UINT64_C(1000000))

typedef struct ZcService ZcService;

struct ZcService {
        StasZeroconf *zc;
        uint64_t browser; /* the id of its service type */
        AvahiIfIndex ifindex;
        AvahiProtocol protocol;
        char *name, *type, *domain;
        char ifname[IF_NAMESIZE];
        StasKV *record; /* NULL until resolved with a valid TXT */
        bool reachable;
        unsigned failures;
        int probe_fd;
        sd_event_source *probe_io, *probe_timeout, *retry;
        ZcService *next;
};

struct StasZeroconf {
        sd_event *event;
        bool discovery_supported;
        StasZeroconfChanged cb;
        void *userdata;
        ZcThread *thread;        /* avahi-client runs there (avahi-thread.h) */
        sd_event_source *events; /* its events */
        int client_state;        /* the AvahiClientState it last reported, -1 none */
        int available;           /* -1 unknown, 0 no, 1 yes: only changes are logged */
        char **stypes;
        uint64_t *ids;           /* parallel to stypes: each type's id for the avahi thread */
        uint64_t last_id, epoch; /* epoch: bumped when zeroconf is disabled */
        ZcService *services;     /* newest first; reported oldest first */
        sd_event_source *kick;   /* re-create the client */
        uint64_t kick_period;
};

/* ---- pure helpers ---------------------------------------------------------------------- */

/**
 * zc_retry_delay_usec() - re-probe delay: 5, 10, 30, 60, 300, 600 s, then 600 s.
 * @failures: number of failed probes so far (0 is treated as 1)
 */
uint64_t zc_retry_delay_usec(unsigned failures) {
        static const unsigned secs[] = { 5, 10, 30, 60, 300, 600 };
        unsigned i = failures ? failures - 1 : 0;

        if (i >= ELEMENTSOF(secs))
                i = ELEMENTSOF(secs) - 1;
        return secs[i] * UINT64_C(1000000);
}

/**
 * zc_txt_parse() - decode a TXT record into a dict.
 * @txt: avahi's string list (entries are byte strings, not NUL-terminated)
 * @ret: the dict (caller frees)
 */
int zc_txt_parse(AvahiStringList *txt, StasKV **ret) {
        _cleanup_(kv_freep) StasKV *kv = kv_new();
        AvahiStringList *copy;
        int r = 0;

        if (!kv)
                return -ENOMEM;
        /* avahi's lists run last-added first: walk a reversed copy to keep the record's order */
        copy = avahi_string_list_reverse(avahi_string_list_copy(txt));
        if (txt && !copy)
                return -ENOMEM;
        for (AvahiStringList *l = copy; l && r >= 0; l = l->next) {
                _cleanup_free_ char *key = NULL, *val = NULL;
                size_t eq = SIZE_MAX;
                bool ok = true;

                for (size_t i = 0; i < l->size && ok; i++) {
                        if (l->text[i] < 0x20 || l->text[i] > 0x7e)
                                ok = false; /* not printable ASCII (NUL included) */
                        else if (l->text[i] == '=')
                                ok = eq == SIZE_MAX ? (eq = i, true) : false; /* exactly one '=' */
                }
                if (!ok || eq == SIZE_MAX || eq == 0)
                        continue;
                key = strndup((const char *) l->text, eq);
                val = strndup((const char *) l->text + eq + 1, l->size - eq - 1);
                if (!key || !val) {
                        r = -ENOMEM;
                        break;
                }
                for (char *c = key; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
                r = kv_set(kv, key, val);
        }
        avahi_string_list_free(copy);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(kv);
        return 0;
}

/* Trimmed copy of @s (ASCII whitespace). */
static char *strdup_trim(const char *s) {
        size_t n;

        while (isspace((unsigned char) *s))
                s++;
        n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                n--;
        return strndup(s, n);
}

/**
 * zc_proto_to_transport() - map the TXT p= value to a transport.
 * @p: the value, NULL-tolerant
 */
const char *zc_proto_to_transport(const char *p) {
        _cleanup_free_ char *t = NULL;

        if (!p)
                return NULL;
        t = strdup_trim(p);
        if (!t)
                return NULL;
        for (char *c = t; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        if (streq(t, "tcp"))
                return "tcp";
        if (streq(t, "roce") || streq(t, "iwarp") || streq(t, "rdma"))
                return "rdma";
        return NULL;
}

/**
 * zc_record_new() - build the controller record of a resolved service.
 * @txt: the parsed TXT record
 * @address: the service's address as text
 * @port: the service's port
 * @ifname: name of the interface the service was seen on
 * @discovery_supported: the kernel supports the TP8013 "discovery" option
 * @ret: the record (caller frees)
 */
int zc_record_new(
        const StasKV *txt,
        const char *address,
        uint16_t port,
        const char *ifname,
        bool discovery_supported,
        StasKV **ret) {
        return zc_record_new_ex(txt, address, port, ifname, discovery_supported, ret, NULL);
}

/* The fields of a record that reach the connect string, by validate.h: NULL or the bad key. */
static const char *record_bad_field(const StasKV *kv) {
        const char *transport = kv_get(kv, "transport");

        if (!stas_is_ip_literal(kv_get(kv, "traddr")))
                return "traddr";
        if (streq(kv_get(kv, "trsvcid"), "0"))
                return "trsvcid";
        if (!isempty(kv_get(kv, "host-iface")) && stas_check_ifname(kv_get(kv, "host-iface")) < 0)
                return "host-iface";
        if (stas_check_nqn(kv_get(kv, "subsysnqn")) < 0)
                return "subsysnqn";
        return streq_ptr(transport, "tcp") || streq_ptr(transport, "rdma") ? NULL : "transport";
}

int zc_record_new_ex(
        const StasKV *txt,
        const char *address,
        uint16_t port,
        const char *ifname,
        bool discovery_supported,
        StasKV **ret,
        const char **ret_field) {
        _cleanup_(kv_freep) StasKV *kv = NULL;
        _cleanup_free_ char *nqn = NULL, *traddr = NULL;
        const char *transport = zc_proto_to_transport(kv_get(txt, "p")), *bad;
        char trsvcid[8];

        if (ret_field)
                *ret_field = NULL;
        if (!transport)
                return -EPROTO;
        kv = kv_new();
        traddr = strdup_trim(strempty(address));
        if (discovery_supported && kv_get(txt, "nqn"))
                nqn = strdup_trim(kv_get(txt, "nqn"));
        else
                nqn = strdup(NVME_DISC_WKNQN);
        if (!kv || !traddr || !nqn)
                return -ENOMEM;
        snprintf(trsvcid, sizeof(trsvcid), "%u", port);
        if (kv_set(kv, "transport", transport) < 0 || kv_set(kv, "traddr", traddr) < 0 ||
            kv_set(kv, "trsvcid", trsvcid) < 0 ||
            kv_set(kv, "host-iface", streq(transport, "tcp") ? strempty(ifname) : "") < 0 ||
            kv_set(kv, "subsysnqn", nqn) < 0)
                return -ENOMEM;
        bad = record_bad_field(kv);
        if (ret_field)
                *ret_field = bad;
        if (bad)
                return -EINVAL;
        *ret = TAKE_PTR(kv);
        return 0;
}

/* ---- services ---------------------------------------------------------------------------- */

static void zc_notify(StasZeroconf *z) {
        if (z->cb)
                z->cb(z, z->userdata);
}

static void probe_stop(ZcService *s) {
        s->probe_io = sd_event_source_disable_unref(s->probe_io);
        s->probe_timeout = sd_event_source_disable_unref(s->probe_timeout);
        if (s->probe_fd >= 0) {
                close(s->probe_fd);
                s->probe_fd = -1;
        }
}

static void service_free(ZcService *s) {
        probe_stop(s);
        sd_event_source_disable_unref(s->retry);
        kv_free(s->record);
        free(s->name);
        free(s->type);
        free(s->domain);
        free(s);
}

/* Unlink and free the services for which @pred is true; returns true if a reachable one went. */
static bool services_drop(StasZeroconf *z, bool (*pred)(ZcService *s, const void *arg), const void *arg) {
        bool changed = false;

        for (ZcService **p = &z->services; *p;) {
                ZcService *s = *p;

                if (pred && !pred(s, arg)) {
                        p = &s->next;
                        continue;
                }
                *p = s->next;
                changed |= s->reachable;
                service_free(s);
        }
        return changed;
}

static bool service_has_browser(ZcService *s, const void *id) {
        return s->browser == *(const uint64_t *) id;
}

static void service_set_reachable(ZcService *s, bool reachable) {
        bool changed = s->reachable != reachable;

        s->reachable = reachable;
        if (changed)
                zc_notify(s->zc);
}

static void probe_start(ZcService *s);

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata) {
        ZcService *s = userdata;

        s->retry = sd_event_source_disable_unref(s->retry);
        probe_start(s);
        return 0;
}

static void probe_done(ZcService *s, int error) {
        const char *traddr = kv_get(s->record, "traddr"), *port = kv_get(s->record, "trsvcid");
        uint64_t now = 0, delay;
        int r;

        probe_stop(s);
        if (error == 0) {
                log_debug("zeroconf: %s:%s reachable via %s", traddr, port, s->ifname);
                s->failures = 0;
                service_set_reachable(s, true);
                return;
        }
        s->failures++;
        delay = zc_retry_delay_usec(s->failures);
        if (s->failures == 1)
                log_info(
                        "Unable to verify TCP connectivity with %s:%s on %s (%s); retrying in %" PRIu64
                        " s.",
                        traddr,
                        port,
                        s->ifname,
                        strerror(abs(error)),
                        delay / UINT64_C(1000000));
        else
                log_debug("zeroconf: %s:%s still unreachable (%s)", traddr, port, strerror(abs(error)));
        service_set_reachable(s, false);

        (void) sd_event_now(s->zc->event, CLOCK_MONOTONIC, &now);
        s->retry = sd_event_source_disable_unref(s->retry);
        r = sd_event_add_time(s->zc->event, &s->retry, CLOCK_MONOTONIC, now + delay, 0, on_retry, s);
        if (r < 0)
                log_debug_errno(r, "zeroconf: cannot arm retry timer: %m");
}

static int on_probe_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        ZcService *s = userdata;
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        else if (err == 0 && (revents & (EPOLLERR | EPOLLHUP)))
                err = ECONNREFUSED;
        probe_done(s, -err);
        return 0;
}

static int on_probe_timeout(sd_event_source *src, uint64_t usec, void *userdata) {
        probe_done(userdata, -ETIMEDOUT);
        return 0;
}

/* A non-blocking TCP connect to the service, bound to its interface, on the loop. */
static void probe_start(ZcService *s) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } sa = {};
        socklen_t salen;
        const char *traddr = kv_get(s->record, "traddr");
        unsigned long port = strtoul(kv_get(s->record, "trsvcid"), NULL, 10);
        uint64_t now = 0;
        int r;

        probe_stop(s);
        if (inet_pton(AF_INET, traddr, &sa.in.sin_addr) == 1) {
                sa.in.sin_family = AF_INET;
                sa.in.sin_port = htons((uint16_t) port);
                salen = sizeof(sa.in);
        } else if (inet_pton(AF_INET6, traddr, &sa.in6.sin6_addr) == 1) {
                sa.in6.sin6_family = AF_INET6;
                sa.in6.sin6_port = htons((uint16_t) port);
                sa.in6.sin6_scope_id = (uint32_t) s->ifindex; /* needed for link-local addresses */
                salen = sizeof(sa.in6);
        } else {
                probe_done(s, -EINVAL);
                return;
        }

        s->probe_fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->probe_fd < 0) {
                probe_done(s, -errno);
                return;
        }
        if (s->ifname[0] &&
            setsockopt(
                    s->probe_fd, SOL_SOCKET, SO_BINDTODEVICE, s->ifname, (socklen_t) strlen(s->ifname) + 1) <
                    0)
                log_debug_errno(errno, "zeroconf: cannot bind probe to %s: %m", s->ifname);

        if (connect(s->probe_fd, &sa.sa, salen) == 0) {
                probe_done(s, 0);
                return;
        }
        if (errno != EINPROGRESS) {
                probe_done(s, -errno);
                return;
        }
        r = sd_event_add_io(s->zc->event, &s->probe_io, s->probe_fd, EPOLLOUT, on_probe_io, s);
        if (r >= 0) {
                (void) sd_event_now(s->zc->event, CLOCK_MONOTONIC, &now);
                r = sd_event_add_time(
                        s->zc->event,
                        &s->probe_timeout,
                        CLOCK_MONOTONIC,
                        now + ZC_PROBE_TIMEOUT_USEC,
                        0,
                        on_probe_timeout,
                        s);
        }
        if (r < 0)
                probe_done(s, r);
}

static void check_duplicate_ips(StasZeroconf *z, ZcService *s) {
        const char *ip = kv_get(s->record, "traddr");

        for (ZcService *o = z->services; o; o = o->next)
                if (o != s && o->record && o->ifindex != s->ifindex &&
                    streq(kv_get(o->record, "traddr"), ip)) {
                        log_error(
                                "IP address %s was found on multiple interfaces: %s and %s.",
                                ip,
                                o->ifname,
                                s->ifname);
                        return;
                }
}

/* A resolved service (ZC_EV_SERVICE_FOUND): its record, then a probe or a change. */
static void service_found(ZcService *s, const ZcEvent *ev) {
        _cleanup_(kv_freep) StasKV *parsed = NULL, *record = NULL;
        const char *addr = ev->address, *field = NULL;
        int k;

        if (zc_txt_parse(ev->txt, &parsed) < 0) {
                log_oom();
                return;
        }
        k = zc_record_new_ex(parsed, addr, ev->port, s->ifname, s->zc->discovery_supported, &record, &field);
        if (k == -EPROTO) {
                log_error(
                        "Received invalid/undefined protocol in mDNS TXT field: address=%s, iface=%s, p=%s",
                        addr,
                        s->ifname,
                        kv_get(parsed, "p") ?: "(none)");
                record = NULL;
        } else if (k == -EINVAL) {
                char shown[48];
                const char *v = streq_ptr(field, "subsysnqn") ? kv_get(parsed, "nqn")
                        : streq_ptr(field, "trsvcid")         ? "0"
                        : streq_ptr(field, "host-iface")      ? s->ifname
                                                              : addr;

                log_warning(
                        "zeroconf: service %s (%s) on %s: invalid %s '%s', ignoring it.",
                        s->name,
                        s->type,
                        s->ifname,
                        field,
                        stas_excerpt(v, shown, sizeof(shown)));
                record = NULL;
        } else if (k < 0) {
                log_oom();
                return;
        }
        log_debug(
                "zeroconf: resolved %s (%s) on %s: %s port %u", s->name, s->type, s->ifname, addr, ev->port);

        if (s->record && record && kv_equal(s->record, record))
                return; /* same data again (a TXT refresh): keep the probe state */
        probe_stop(s);
        s->retry = sd_event_source_disable_unref(s->retry);
        s->failures = 0;
        kv_free(s->record);
        s->record = TAKE_PTR(record);
        if (!s->record) {
                service_set_reachable(s, false);
                return;
        }
        check_duplicate_ips(s->zc, s);
        if (streq(kv_get(s->record, "transport"), "tcp")) {
                /* a changed record of a reachable service is a change too */
                if (s->reachable) {
                        s->reachable = false;
                        zc_notify(s->zc);
                }
                probe_start(s);
        } else {
                s->reachable = false;
                service_set_reachable(s, true);
        }
}

/* The service of @ev's key, as a link of the list (NULL: unknown). */
static ZcService **service_find(StasZeroconf *z, const ZcEvent *ev) {
        for (ZcService **p = &z->services; *p; p = &(*p)->next)
                if ((*p)->browser == ev->browser && (*p)->ifindex == ev->ifindex &&
                    (*p)->protocol == ev->protocol && streq((*p)->name, ev->name) &&
                    streq((*p)->type, ev->stype) && streq((*p)->domain, ev->domain))
                        return p;
        return NULL;
}

/* The service type the avahi thread's @browser id stands for, NULL if it is browsed no more. */
static const char *browser_type(const StasZeroconf *z, uint64_t browser) {
        for (size_t i = 0; z->stypes && z->stypes[i]; i++)
                if (z->ids[i] == browser)
                        return z->stypes[i];
        return NULL;
}

/* ZC_EV_SERVICE_NEW: the avahi thread resolves a new service. */
static void service_new(StasZeroconf *z, const ZcEvent *ev) {
        ZcService *s;

        if (service_find(z, ev))
                return;
        s = new0(ZcService, 1);
        if (!s) {
                log_oom();
                return;
        }
        s->zc = z;
        s->probe_fd = -1;
        s->browser = ev->browser;
        s->ifindex = ev->ifindex;
        s->protocol = ev->protocol;
        s->name = strdup(ev->name);
        s->type = strdup(ev->stype);
        s->domain = strdup(ev->domain);
        if (!s->name || !s->type || !s->domain) {
                service_free(s);
                log_oom();
                return;
        }
        memcpy(s->ifname, ev->ifname, sizeof(s->ifname));
        log_debug("zeroconf: new service %s (%s) on %s", s->name, s->type, s->ifname);
        s->next = z->services;
        z->services = s;
}

static void service_event(StasZeroconf *z, const ZcEvent *ev) {
        ZcService **p = NULL, *s;
        bool was;

        if (!browser_type(z, ev->browser))
                return; /* a type browsed no more (or again since): its events are old */
        if (ev->type != ZC_EV_SERVICE_NEW && !(p = service_find(z, ev)))
                return;
        switch (ev->type) {
        case ZC_EV_SERVICE_NEW:
                service_new(z, ev);
                return;
        case ZC_EV_SERVICE_FOUND:
                service_found(*p, ev);
                return;
        case ZC_EV_SERVICE_RESOLVE_FAIL:
                if (ev->error != AVAHI_ERR_TIMEOUT)
                        log_error(
                                "zeroconf: cannot resolve service %s (%s, %s): %s",
                                ev->name,
                                ev->stype,
                                (*p)->ifname,
                                avahi_strerror(ev->error));
                return;
        case ZC_EV_SERVICE_REMOVE:
                s = *p;
                was = s->reachable;
                log_debug("zeroconf: service %s (%s) on %s removed", s->name, s->type, s->ifname);
                *p = s->next;
                service_free(s);
                if (was)
                        zc_notify(z);
                return;
        default:
                return;
        }
}

/* ---- the avahi client ---------------------------------------------------------------------- */

static void set_available(StasZeroconf *z, bool available) {
        if (z->available == (int) available)
                return;
        z->available = available;
        if (available)
                log_info("avahi-daemon service available, zeroconf supported.");
        else
                log_warning("avahi-daemon not available, zeroconf not supported.");
}

static void drop_everything(StasZeroconf *z) {
        if (services_drop(z, NULL, NULL))
                zc_notify(z);
}

static int on_kick(sd_event_source *s, uint64_t usec, void *userdata) {
        StasZeroconf *z = userdata;

        z->kick = sd_event_source_disable_unref(z->kick);
        zc_thread_kick(z->thread);
        return 0;
}

static int kick_arm(StasZeroconf *z, uint64_t usec) {
        uint64_t now = 0;
        int r;

        z->kick = sd_event_source_disable_unref(z->kick);
        z->kick_period = usec;
        (void) sd_event_now(z->event, CLOCK_MONOTONIC, &now);
        r = sd_event_add_time(z->event, &z->kick, CLOCK_MONOTONIC, now + usec, 0, on_kick, z);
        if (r < 0)
                return log_debug_errno(r, "zeroconf: cannot arm kick timer: %m");
        return 0;
}

static void client_event(StasZeroconf *z, const ZcEvent *ev) {
        if (ev->type == ZC_EV_CLIENT_NEW_FAILED) {
                /* no system bus at all: try again later */
                z->client_state = -1;
                log_debug("zeroconf: cannot create avahi client: %s", avahi_strerror(ev->error));
                set_available(z, false);
                (void) kick_arm(z, ZC_KICK_USEC);
                return;
        }
        z->client_state = ev->state;
        if (ev->state == AVAHI_CLIENT_S_RUNNING)
                set_available(z, true);
        else if (ev->state == AVAHI_CLIENT_CONNECTING)
                set_available(z, false);
        else if (ev->state == AVAHI_CLIENT_FAILURE) {
                /* avahi-daemon went away (or the bus did): drop all, reconnect from the loop */
                log_debug("zeroconf: avahi client failure: %s", avahi_strerror(ev->error));
                set_available(z, false);
                drop_everything(z);
                (void) kick_arm(z, 0);
        }
}

/* One event of the avahi thread, on the loop. */
static void zc_event(StasZeroconf *z, const ZcEvent *ev) {
        if (ev->epoch != z->epoch || strv_length(z->stypes) == 0)
                return; /* from before zeroconf was disabled */
        switch (ev->type) {
        case ZC_EV_CLIENT_STATE:
        case ZC_EV_CLIENT_NEW_FAILED:
                client_event(z, ev);
                return;
        case ZC_EV_BROWSER_NEW_FAILED:
                log_error("zeroconf: cannot browse %s: %s", strempty(ev->stype), avahi_strerror(ev->error));
                return;
        case ZC_EV_BROWSER_FAILURE:
                log_error(
                        "zeroconf: browsing %s failed: %s", strempty(ev->stype), avahi_strerror(ev->error));
                return;
        case ZC_EV_SERVICE_UNNAMED:
                errno = ev->error;
                log_warning(
                        "zeroconf: service %s (%s): cannot name interface %d (%m), ignoring it.",
                        ev->name,
                        ev->stype,
                        ev->ifindex);
                return;
        case ZC_EV_SERVICE_NO_RESOLVER:
                log_error(
                        "zeroconf: cannot resolve service %s (%s): %s",
                        ev->name,
                        ev->stype,
                        avahi_strerror(ev->error));
                return;
        default:
                service_event(z, ev);
                return;
        }
}

static int on_events(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        StasZeroconf *z = userdata;
        ZcEvent *list = zc_thread_take_events(z->thread);

        for (ZcEvent *e = list; e; e = e->next)
                zc_event(z, e);
        zc_events_free(list);
        return 0;
}

/* ---- public API ----------------------------------------------------------------------------- */

/**
 * zc_new() - create the zeroconf browser (idle until service types are set).
 * @event: the loop
 * @discovery_supported: use TXT nqn= as the subsystem NQN (kernel supports "discovery")
 * @cb: called when the reachable set changes (may be NULL)
 * @userdata: passed to @cb
 * @ret: the object
 */
int zc_new(
        sd_event *event,
        bool discovery_supported,
        StasZeroconfChanged cb,
        void *userdata,
        StasZeroconf **ret) {
        StasZeroconf *z;
        int r;

        if (!event || !ret)
                return -EINVAL;
        z = new0(StasZeroconf, 1);
        if (!z)
                return -ENOMEM;
        z->event = sd_event_ref(event);
        z->discovery_supported = discovery_supported;
        z->cb = cb;
        z->userdata = userdata;
        z->available = -1;
        z->client_state = -1;
        r = zc_thread_new(&z->thread);
        if (r >= 0)
                r = sd_event_add_io(event, &z->events, zc_thread_event_fd(z->thread), EPOLLIN, on_events, z);
        if (r < 0) {
                zc_free(z);
                return r;
        }
        *ret = z;
        return 0;
}

/**
 * zc_free() - free the browser and its services; stop the avahi thread (bounded wait).
 * @z: NULL-tolerant
 */
StasZeroconf *zc_free(StasZeroconf *z) {
        if (!z)
                return NULL;
        z->cb = NULL; /* no notifications while tearing down */
        drop_everything(z);
        z->kick = sd_event_source_disable_unref(z->kick);
        z->events = sd_event_source_disable_unref(z->events);
        (void) zc_thread_free(z->thread, ZC_THREAD_STOP_USEC);
        strv_free(z->stypes);
        free(z->ids);
        sd_event_unref(z->event);
        free(z);
        return NULL;
}

/* The id of @type: its old one if it was browsed already, else a new one. */
static uint64_t type_id(StasZeroconf *z, const char *type) {
        for (size_t i = 0; z->stypes && z->stypes[i]; i++)
                if (streq(z->stypes[i], type))
                        return z->ids[i];
        return ++z->last_id;
}

/**
 * zc_set_service_types() - choose the service types to browse.
 * @z: the browser
 * @stypes: NULL-terminated list, NULL or empty disables zeroconf
 */
int zc_set_service_types(StasZeroconf *z, char *const *stypes) {
        _cleanup_strv_free_ char **new_types = NULL;
        _cleanup_free_ uint64_t *ids = NULL;
        size_t n_old = strv_length(z->stypes), n;
        bool changed = false;
        int r;

        STRV_FOREACH(t, (char **) stypes)
                if (!strv_contains(new_types, *t) && strv_extend(&new_types, *t) < 0)
                        return -ENOMEM;
        n = strv_length(new_types);
        ids = new0(uint64_t, n + 1);
        if (!ids)
                return -ENOMEM;
        for (size_t j = 0; j < n; j++)
                ids[j] = type_id(z, new_types[j]);
        if (n == 0)
                z->epoch++; /* what the avahi thread sent before it hears of this is old */
        r = zc_thread_set_types(z->thread, new_types, ids, z->epoch);
        if (r < 0)
                return r;

        /* drop the services of the types that go */
        for (size_t i = 0; i < n_old; i++)
                if (!strv_contains(new_types, z->stypes[i]))
                        changed |= services_drop(z, service_has_browser, &z->ids[i]);
        strv_free(z->stypes);
        free(z->ids);
        z->stypes = TAKE_PTR(new_types);
        z->ids = TAKE_PTR(ids);
        if (n == 0) {
                log_debug("zeroconf: disabled");
                z->kick = sd_event_source_disable_unref(z->kick);
                z->available = -1;
                z->client_state = -1;
        }
        if (changed)
                zc_notify(z);
        return 0;
}

/**
 * zc_kick() - reconnect to avahi now if away; re-probe unreachable tcp services now.
 * @z: the browser
 */
void zc_kick(StasZeroconf *z) {
        if (!z || strv_length(z->stypes) == 0)
                return;
        if (z->client_state < 0 || z->client_state == AVAHI_CLIENT_FAILURE)
                (void) kick_arm(z, 0);
        for (ZcService *s = z->services; s; s = s->next)
                if (s->record && !s->reachable && s->retry) {
                        s->retry = sd_event_source_disable_unref(s->retry);
                        probe_start(s);
                }
}

/**
 * zc_is_available() - is avahi-daemon connected and running (as the avahi thread last said)?
 * @z: the browser
 */
bool zc_is_available(const StasZeroconf *z) {
        return z && z->client_state == AVAHI_CLIENT_S_RUNNING;
}

/**
 * zc_get_controllers() - copies of the records of the reachable services.
 * @z: the browser
 * @ret: NULL-terminated list (caller frees with kvv_free())
 */
int zc_get_controllers(const StasZeroconf *z, StasKV ***ret) {
        _cleanup_(kvv_freep) StasKV **list = new0(StasKV *, 1);
        size_t n = 0;
        ZcService **v;

        if (!list)
                return -ENOMEM;
        for (ZcService *s = z ? z->services : NULL; s; s = s->next)
                n++;
        v = new0(ZcService *, n + 1);
        if (!v)
                return -ENOMEM;
        n = 0;
        for (ZcService *s = z ? z->services : NULL; s; s = s->next)
                v[n++] = s;
        /* the list is newest first; report in discovery order */
        for (size_t i = n; i > 0; i--) {
                StasKV *kv;

                if (!v[i - 1]->reachable || !v[i - 1]->record)
                        continue;
                kv = kv_copy(v[i - 1]->record);
                if (!kv || kvv_consume(&list, kv) < 0) {
                        free(v);
                        return -ENOMEM;
                }
        }
        free(v);
        *ret = TAKE_PTR(list);
        return 0;
}

static int json_add_string(json_object *o, const char *key, const char *value) {
        json_object *s = json_object_new_string(value);

        if (!s)
                return -ENOMEM;
        if (json_object_object_add(o, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

/**
 * zc_info() - the process_info "avahi" member.
 * @z: the browser
 */
json_object *zc_info(const StasZeroconf *z) {
        json_object *o = json_object_new_object(), *types = json_object_new_array(),
                    *services = json_object_new_object();
        char timer[64];

        if (!o || !types || !services)
                goto fail;
        if (z->kick) {
                uint64_t when = 0, now = 0;

                (void) sd_event_source_get_time(z->kick, &when);
                (void) sd_event_now(z->event, CLOCK_MONOTONIC, &now);
                snprintf(
                        timer,
                        sizeof(timer),
                        "%.1fs [%.1fs]",
                        (double) z->kick_period / 1e6,
                        when > now ? (double) (when - now) / 1e6 : 0.0);
        } else
                snprintf(timer, sizeof(timer), "%.1fs [off]", (double) ZC_KICK_USEC / 1e6);
        if (json_add_string(o, "avahi wake up timer", timer) < 0)
                goto fail;
        STRV_FOREACH(t, z->stypes) {
                json_object *s = json_object_new_string(*t);

                if (!s || json_object_array_add(types, s) < 0) {
                        json_object_put(s);
                        goto fail;
                }
        }
        for (ZcService *s = z->services; s; s = s->next) {
                json_object *d = json_object_new_object();
                char key[1024];

                if (!d)
                        goto fail;
                KV_FOREACH(i, s->record)
                        if (json_add_string(d, s->record->keys[i], s->record->values[i]) < 0) {
                                json_object_put(d);
                                goto fail;
                        }
                if (json_add_string(d, "reachable", s->reachable ? "True" : "False") < 0) {
                        json_object_put(d);
                        goto fail;
                }
                snprintf(
                        key,
                        sizeof(key),
                        "(%s, %s, %s.%s, %s)",
                        s->ifname,
                        s->protocol == AVAHI_PROTO_INET            ? "IPv4"
                                : s->protocol == AVAHI_PROTO_INET6 ? "IPv6"
                                                                   : "unspecified",
                        s->name,
                        s->domain,
                        s->type);
                if (json_object_object_add(services, key, d) < 0) {
                        json_object_put(d);
                        goto fail;
                }
        }
        if (json_object_object_add(o, "service types", types) < 0)
                goto fail;
        types = NULL;
        if (json_object_object_add(o, "services", services) < 0)
                goto fail;
        return o;
fail:
        json_object_put(types);
        json_object_put(services);
        json_object_put(o);
        return NULL;
}
