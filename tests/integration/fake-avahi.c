/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake-avahi - an avahi-daemon stand-in for the integration tier (test-only, never installed).
 *
 * Owns org.freedesktop.Avahi on the bus of $DBUS_SYSTEM_BUS_ADDRESS and serves the part of
 * avahi-daemon 0.8's D-Bus API that avahi-client 0.8 (Debian 12) uses for avahi_client_new(),
 * avahi_service_browser_new() and avahi_service_resolver_new(), the way the real daemon serves it:
 *
 *   /  org.freedesktop.DBus.Peer.Ping  answered by sd-bus (avahi_client_new() pings first)
 *   /  org.freedesktop.Avahi.Server    GetAPIVersion (0x0204), GetState (always 2, running: so
 *                                      the StateChanged signal, which avahi-client listens to,
 *                                      is never sent), GetVersionString ("avahi 0.8"),
 *                                      GetHostName, GetHostNameFqdn, GetDomainName ("local"),
 *                                      GetLocalServiceCookie, ServiceBrowserNew (iissu -> o),
 *                                      ServiceResolverNew (iisssiu -> o)
 *   /ClientN/ServiceBrowserM           org.freedesktop.Avahi.ServiceBrowser: Free; signals
 *                                      ItemNew, ItemRemove, CacheExhausted, AllForNow, Failure
 *   /ClientN/ServiceResolverM          org.freedesktop.Avahi.ServiceResolver: Free; signals
 *                                      Found, Failure
 * avahi 0.8's Server2 interface (the *Prepare methods and Start, for avahi-client 0.9) is not
 * served: the 0.8 client library never calls it.
 *
 * As in avahi-daemon, browser and resolver signals are sent to the client that created the
 * object only (unicast: avahi-client has no match rule for them), only that client may Free its
 * objects, and a client's objects are freed when it leaves the bus (avahi-daemon's limits on
 * clients and objects are not enforced). A new browser reports the matching services (ItemNew,
 * flags 4: multicast), then CacheExhausted and AllForNow, all after the reply that gives its
 * path; a new resolver reports Found, or Failure (org.freedesktop.Avahi.TimeoutError) when no
 * such service is published, and Found again whenever the service is published again or
 * updated. Browsers match on interface and protocol (-1: any), type and domain
 * (case-insensitive, "" is "local"); resolvers also on the name and the address protocol. TXT
 * strings are given in record order and travel in avahi-daemon's order, last first
 * (avahi_dbus_append_string_list() walks avahi's string list, which holds a parsed record last
 * string first).
 *
 * The test drives it through io.stas.test.FakeAvahi at /io/stas/test/FakeAvahi on the same
 * connection (see doc/testing.md, tests/integration/harness.py FakeAvahi):
 *   Publish(iisssssqaay)   ifindex, protocol, name, type, domain, host, address, port, TXT: add a
 *                          service (ItemNew to matching browsers, Found to matching resolvers), or
 *                          replace the one with the same (ifindex, protocol, name, type, domain):
 *                          then only the resolvers hear of it (Found), as for a changed TXT
 *                          record, and nobody if nothing changed. The address is "" or an IP
 *                          literal (avahi-client would read an unparsable one as garbage)
 *   Withdraw(iisss)        remove a service (ItemRemove to matching browsers)
 *   Flap(u)                withdraw every service (ItemRemove), then publish them again
 *                          (ItemNew, Found) after that many ms, or at once for 0: an avahi-daemon
 *                          cache flush as a client sees it
 *   Hang(), Resume()       stop / start again answering method calls on every interface but this
 *                          one (Peer and Introspectable included): a call made while hung never
 *                          gets a reply, as from a wedged daemon. The signals of Publish, Withdraw
 *                          and Flap are still sent, so that a test can make a client issue a call
 *                          that never returns
 *   BrowserFailure(s)      a Failure signal with that error name on every browser
 *   CallLog() -> a(susssb) every method call received outside this interface, in order: sender,
 *                          its pid, path, interface, member, swallowed (made while hung)
 *   Objects() -> a(suoss)  live browsers and resolvers: owner, its pid, path, interface, and the
 *                          type (browser) or name (resolver)
 *
 * Usage: fake-avahi [--hang]   (--hang: hung from the first call). Logs one line per event on
 * stderr; exits 0 on SIGTERM/SIGINT, 1 when the name cannot be had or the bus goes away.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "stas/macro.h"

#define AVAHI_NAME "org.freedesktop.Avahi"
#define IF_SERVER "org.freedesktop.Avahi.Server"
#define IF_BROWSER "org.freedesktop.Avahi.ServiceBrowser"
#define IF_RESOLVER "org.freedesktop.Avahi.ServiceResolver"
#define CTL_PATH "/io/stas/test/FakeAvahi"
#define CTL_IFACE "io.stas.test.FakeAvahi"

#define API_VERSION UINT32_C(0x0204)
#define VERSION_STRING "avahi 0.8"
#define HOST_NAME "stas-fake"
#define DOMAIN_NAME "local"
#define SERVICE_COOKIE UINT32_C(0x5a5a0001)
#define CALL_LOG_MAX 100000

#define ERR_TIMEOUT "org.freedesktop.Avahi.TimeoutError"
#define ERR_INVALID_INTERFACE "org.freedesktop.Avahi.InvalidInterfaceError"
#define ERR_INVALID_PROTOCOL "org.freedesktop.Avahi.InvalidInterfaceProtocolError"
#define ERR_INVALID_SERVICE_TYPE "org.freedesktop.Avahi.InvalidServiceTypeError"
#define ERR_CTL_INVALID CTL_IFACE ".InvalidArgument"
#define ERR_CTL_NOT_FOUND CTL_IFACE ".NotFound"

/* avahi's values (avahi-common/defs.h, address.h) */
#define PROTO_INET 0
#define PROTO_INET6 1
#define PROTO_UNSPEC (-1)
#define IF_UNSPEC (-1)
#define LOOKUP_RESULT_MULTICAST UINT32_C(4)
#define SERVER_STATE_RUNNING 2

typedef struct Txt {
        uint8_t *data;
        size_t size;
} Txt;

typedef struct Service Service;
struct Service {
        int32_t ifindex, protocol, aprotocol;
        char *name, *type, *domain, *host, *address;
        uint16_t port;
        Txt *txt; /* record order */
        size_t n_txt;
        bool hidden; /* withdrawn by Flap(), published again when its timer fires */
        Service *next;
};

typedef struct Client Client;
struct Client {
        char *name; /* unique bus name */
        uint32_t pid;
        unsigned id, last_object_id, n_objects;
        Client *next;
};

typedef struct Fake Fake;

typedef struct Object Object;
struct Object {
        Fake *f;
        bool resolver; /* else a service browser */
        Client *client;
        char *path;
        sd_bus_slot *slot;
        int32_t ifindex, protocol, aprotocol;
        uint32_t flags;
        char *name, *type, *domain; /* name: resolvers only */
        Object *next;
};

typedef struct CallRecord {
        char *sender, *path, *iface, *member;
        uint32_t pid;
        bool swallowed;
} CallRecord;

struct Fake {
        sd_event *event;
        sd_bus *bus;
        Service *services; /* publish order */
        Client *clients;
        unsigned last_client_id;
        Object *objects;
        CallRecord *calls;
        size_t n_calls;
        bool hung;
        sd_event_source *flap_timer;
};

#define log_line(...) (fprintf(stderr, "fake-avahi: " __VA_ARGS__), fputc('\n', stderr))

/* ---- services ---------------------------------------------------------------------------- */

static void service_free(Service *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_txt; i++)
                free(s->txt[i].data);
        free(s->txt);
        free(s->name);
        free(s->type);
        free(s->domain);
        free(s->host);
        free(s->address);
        free(s);
}

/* Domain names compare case-insensitively, "" is the default domain, a final dot is optional. */
static bool domain_eq(const char *a, const char *b) {
        size_t la, lb;

        a = isempty(a) ? DOMAIN_NAME : a;
        b = isempty(b) ? DOMAIN_NAME : b;
        la = strlen(a);
        lb = strlen(b);
        if (la > 1 && a[la - 1] == '.')
                la--;
        if (lb > 1 && b[lb - 1] == '.')
                lb--;
        return la == lb && strncasecmp(a, b, la) == 0;
}

static bool service_key_eq(
        const Service *s,
        int32_t ifindex,
        int32_t protocol,
        const char *name,
        const char *type,
        const char *domain) {
        return s->ifindex == ifindex && s->protocol == protocol && streq(s->name, name) &&
                domain_eq(s->type, type) && domain_eq(s->domain, domain);
}

static bool object_matches(const Object *o, const Service *s) {
        if (s->hidden || (o->ifindex != IF_UNSPEC && o->ifindex != s->ifindex) ||
            (o->protocol != PROTO_UNSPEC && o->protocol != s->protocol) || !domain_eq(o->type, s->type) ||
            !domain_eq(o->domain, s->domain))
                return false;
        if (!o->resolver)
                return true;
        return streq(o->name, s->name) && (o->aprotocol == PROTO_UNSPEC || o->aprotocol == s->aprotocol);
}

/* ---- signals ------------------------------------------------------------------------------ */

/* A signal of object @o, addressed to its owner only (as avahi-daemon sends them). */
static int object_signal_new(Object *o, const char *member, sd_bus_message **ret) {
        sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_signal(
                o->f->bus, &m, o->path, o->resolver ? IF_RESOLVER : IF_BROWSER, member);
        if (r < 0)
                return r;
        r = sd_bus_message_set_destination(m, o->client->name);
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        *ret = m;
        return 0;
}

static void object_send(Object *o, sd_bus_message *m, const char *member, int r) {
        if (r >= 0)
                r = sd_bus_send(o->f->bus, m, NULL);
        if (r < 0)
                log_line("cannot send %s on %s: %s", member, o->path, strerror(-r));
        sd_bus_message_unref(m);
}

static void browser_item(Object *b, const Service *s, const char *member) {
        sd_bus_message *m = NULL;
        int r;

        r = object_signal_new(b, member, &m);
        if (r < 0) {
                log_line("cannot make %s: %s", member, strerror(-r));
                return;
        }
        r = sd_bus_message_append(
                m, "iisssu", s->ifindex, s->protocol, s->name, s->type, s->domain, LOOKUP_RESULT_MULTICAST);
        object_send(b, m, member, r);
}

/* AllForNow, CacheExhausted (no arguments), or Failure with @error. */
static void object_event(Object *o, const char *member, const char *error) {
        sd_bus_message *m = NULL;
        int r;

        r = object_signal_new(o, member, &m);
        if (r < 0) {
                log_line("cannot make %s: %s", member, strerror(-r));
                return;
        }
        if (error)
                r = sd_bus_message_append(m, "s", error);
        object_send(o, m, member, r);
}

static void resolver_found(Object *o, const Service *s) {
        sd_bus_message *m = NULL;
        int r;

        r = object_signal_new(o, "Found", &m);
        if (r < 0) {
                log_line("cannot make Found: %s", strerror(-r));
                return;
        }
        r = sd_bus_message_append(
                m,
                "iissssisq",
                s->ifindex,
                s->protocol,
                s->name,
                s->type,
                s->domain,
                s->host,
                s->aprotocol,
                s->address,
                s->port);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "ay");
        for (size_t i = s->n_txt; r >= 0 && i > 0; i--) /* avahi-daemon's order: last first */
                r = sd_bus_message_append_array(m, 'y', s->txt[i - 1].data, s->txt[i - 1].size);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "u", LOOKUP_RESULT_MULTICAST);
        object_send(o, m, "Found", r);
}

/* A service appeared (@is_new: browsers hear ItemNew) or changed: resolvers hear Found. */
static void service_announce(Fake *f, const Service *s, bool is_new) {
        for (Object *o = f->objects; o; o = o->next) {
                if (!object_matches(o, s))
                        continue;
                if (o->resolver)
                        resolver_found(o, s);
                else if (is_new)
                        browser_item(o, s, "ItemNew");
        }
}

static void service_retract(Fake *f, const Service *s) {
        for (Object *o = f->objects; o; o = o->next)
                if (!o->resolver && object_matches(o, s))
                        browser_item(o, s, "ItemRemove");
}

/* What a new object reports at once (avahi-daemon: from its cache). */
static void object_start(Object *o) {
        const Service *found = NULL;

        for (const Service *s = o->f->services; s; s = s->next) {
                if (!object_matches(o, s))
                        continue;
                if (o->resolver) {
                        found = s;
                        break;
                }
                browser_item(o, s, "ItemNew");
        }
        if (!o->resolver) {
                object_event(o, "CacheExhausted", NULL);
                object_event(o, "AllForNow", NULL);
        } else if (found)
                resolver_found(o, found);
        else
                object_event(o, "Failure", ERR_TIMEOUT);
}

/* ---- clients and objects ------------------------------------------------------------------ */

static Object *object_free(Object *o) {
        if (!o)
                return NULL;
        sd_bus_slot_unref(o->slot);
        if (o->client)
                o->client->n_objects--;
        free(o->path);
        free(o->name);
        free(o->type);
        free(o->domain);
        free(o);
        return NULL;
}

static void object_unlink_free(Fake *f, Object *o) {
        for (Object **p = &f->objects; *p; p = &(*p)->next)
                if (*p == o) {
                        *p = o->next;
                        break;
                }
        object_free(o);
}

/* The client record of the sender of @m, made on its first call (NULL only on OOM). */
static Client *client_get(Fake *f, sd_bus_message *m) {
        const char *sender = sd_bus_message_get_sender(m);
        sd_bus_creds *creds = NULL;
        pid_t pid = 0;
        Client *c;

        for (c = f->clients; c; c = c->next)
                if (streq_ptr(c->name, sender))
                        return c;
        c = new0(Client, 1);
        if (!c || !(c->name = strdup(strempty(sender)))) {
                free(c);
                return NULL;
        }
        if (sd_bus_query_sender_creds(m, SD_BUS_CREDS_PID, &creds) >= 0 &&
            sd_bus_creds_get_pid(creds, &pid) >= 0)
                c->pid = (uint32_t) pid;
        sd_bus_creds_unref(creds);
        c->id = ++f->last_client_id;
        c->next = f->clients;
        f->clients = c;
        return c;
}

/* A client left the bus: its objects go, as in avahi-daemon. */
static void client_drop(Fake *f, const char *name) {
        Client *c = NULL;

        for (Client **p = &f->clients; *p; p = &(*p)->next)
                if (streq((*p)->name, name)) {
                        c = *p;
                        *p = c->next;
                        break;
                }
        if (!c)
                return;
        if (c->n_objects > 0)
                log_line(
                        "client %s (pid %" PRIu32 ") left: its %u object(s) go",
                        c->name,
                        c->pid,
                        c->n_objects);
        for (Object **p = &f->objects; *p;) {
                Object *o = *p;

                if (o->client != c) {
                        p = &o->next;
                        continue;
                }
                *p = o->next;
                object_free(o);
        }
        free(c->name);
        free(c);
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] == ':' && isempty(new_owner))
                client_drop(userdata, name);
        return 0;
}

/* ---- org.freedesktop.Avahi.ServiceBrowser / ServiceResolver -------------------------------- */

static int object_check_owner(Object *o, sd_bus_message *m, sd_bus_error *error) {
        if (!streq_ptr(sd_bus_message_get_sender(m), o->client->name))
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Not the owner of this object");
        return 0;
}

static int method_object_free(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Object *o = userdata;
        int r;

        r = object_check_owner(o, m, error);
        if (r < 0)
                return r;
        r = sd_bus_reply_method_return(m, NULL);
        object_unlink_free(o->f, o);
        return r;
}

static const sd_bus_vtable browser_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Free", "", "", method_object_free, 0),
        SD_BUS_SIGNAL("ItemNew", "iisssu", 0),
        SD_BUS_SIGNAL("ItemRemove", "iisssu", 0),
        SD_BUS_SIGNAL("Failure", "s", 0),
        SD_BUS_SIGNAL("AllForNow", "", 0),
        SD_BUS_SIGNAL("CacheExhausted", "", 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable resolver_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Free", "", "", method_object_free, 0),
        SD_BUS_SIGNAL("Found", "iissssisqaayu", 0),
        SD_BUS_SIGNAL("Failure", "s", 0),
        SD_BUS_VTABLE_END,
};

/* ---- org.freedesktop.Avahi.Server -------------------------------------------------------- */

static int check_if_proto(int32_t ifindex, int32_t protocol, sd_bus_error *error) {
        if (ifindex < IF_UNSPEC)
                return sd_bus_error_set(error, ERR_INVALID_INTERFACE, "Invalid interface index");
        if (protocol < PROTO_UNSPEC || protocol > PROTO_INET6)
                return sd_bus_error_set(error, ERR_INVALID_PROTOCOL, "Invalid protocol");
        return 0;
}

/* The arguments of ServiceBrowserNew (iissu) or ServiceResolverNew (iisssiu) into @o. */
static int object_read_args(Object *o, sd_bus_message *m, sd_bus_error *error) {
        const char *name = NULL, *type, *domain;
        int r;

        if (o->resolver)
                r = sd_bus_message_read(
                        m,
                        "iisssiu",
                        &o->ifindex,
                        &o->protocol,
                        &name,
                        &type,
                        &domain,
                        &o->aprotocol,
                        &o->flags);
        else
                r = sd_bus_message_read(m, "iissu", &o->ifindex, &o->protocol, &type, &domain, &o->flags);
        if (r < 0)
                return r;
        r = check_if_proto(o->ifindex, o->protocol, error);
        if (r < 0)
                return r;
        if (o->resolver && (o->aprotocol < PROTO_UNSPEC || o->aprotocol > PROTO_INET6))
                return sd_bus_error_set(error, ERR_INVALID_PROTOCOL, "Invalid address protocol");
        if (isempty(type))
                return sd_bus_error_set(error, ERR_INVALID_SERVICE_TYPE, "Invalid service type");
        o->type = strdup(type);
        o->domain = strdup(domain);
        o->name = strdup(strempty(name));
        if (!o->type || !o->domain || !o->name)
                return -ENOMEM;
        return 0;
}

static int object_new(Fake *f, sd_bus_message *m, bool resolver, sd_bus_error *error) {
        Object *o = NULL;
        Client *c;
        int r;

        c = client_get(f, m);
        if (!c)
                return -ENOMEM;
        o = new0(Object, 1);
        if (!o)
                return -ENOMEM;
        o->f = f;
        o->resolver = resolver;
        r = object_read_args(o, m, error);
        if (r < 0)
                goto fail;
        r = -ENOMEM;
        if (asprintf(
                    &o->path,
                    "/Client%u/%s%u",
                    c->id,
                    resolver ? "ServiceResolver" : "ServiceBrowser",
                    c->last_object_id + 1) < 0) {
                o->path = NULL;
                goto fail;
        }
        r = sd_bus_add_object_vtable(
                f->bus,
                &o->slot,
                o->path,
                resolver ? IF_RESOLVER : IF_BROWSER,
                resolver ? resolver_vtable : browser_vtable,
                o);
        if (r < 0)
                goto fail;
        c->last_object_id++;
        c->n_objects++;
        o->client = c;
        o->next = f->objects;
        f->objects = o;
        log_line(
                "client %s (pid %" PRIu32 "): %s %s (if %" PRIi32 " proto %" PRIi32 ")",
                c->name,
                c->pid,
                o->path,
                o->resolver ? o->name : o->type,
                o->ifindex,
                o->protocol);
        r = sd_bus_reply_method_return(m, "o", o->path);
        object_start(o); /* after the reply: the client learns the path first */
        return r;
fail:
        object_free(o);
        return r;
}

static int method_service_browser_new(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return object_new(userdata, m, false, error);
}

static int method_service_resolver_new(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return object_new(userdata, m, true, error);
}

static int method_get_version_string(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "s", VERSION_STRING);
}

static int method_get_api_version(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "u", API_VERSION);
}

static int method_get_host_name(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "s", HOST_NAME);
}

static int method_get_host_name_fqdn(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "s", HOST_NAME "." DOMAIN_NAME);
}

static int method_get_domain_name(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "s", DOMAIN_NAME);
}

static int method_get_state(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "i", SERVER_STATE_RUNNING);
}

static int method_get_local_service_cookie(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "u", SERVICE_COOKIE);
}

static const sd_bus_vtable server_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("GetVersionString", "", "s", method_get_version_string, 0),
        SD_BUS_METHOD("GetAPIVersion", "", "u", method_get_api_version, 0),
        SD_BUS_METHOD("GetHostName", "", "s", method_get_host_name, 0),
        SD_BUS_METHOD("GetHostNameFqdn", "", "s", method_get_host_name_fqdn, 0),
        SD_BUS_METHOD("GetDomainName", "", "s", method_get_domain_name, 0),
        SD_BUS_METHOD("GetState", "", "i", method_get_state, 0),
        SD_BUS_METHOD("GetLocalServiceCookie", "", "u", method_get_local_service_cookie, 0),
        SD_BUS_METHOD("ServiceBrowserNew", "iissu", "o", method_service_browser_new, 0),
        SD_BUS_METHOD("ServiceResolverNew", "iisssiu", "o", method_service_resolver_new, 0),
        SD_BUS_SIGNAL("StateChanged", "is", 0),
        SD_BUS_VTABLE_END,
};

/* ---- io.stas.test.FakeAvahi: the test's controls ------------------------------------------- */

static int read_txt(sd_bus_message *m, Service *s) {
        const void *p;
        size_t n;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "ay");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read_array(m, 'y', &p, &n)) > 0) {
                Txt *t = realloc(s->txt, (s->n_txt + 1) * sizeof(Txt));

                if (!t)
                        return -ENOMEM;
                s->txt = t;
                t[s->n_txt].data = malloc(n ? n : 1);
                if (!t[s->n_txt].data)
                        return -ENOMEM;
                memcpy(t[s->n_txt].data, p, n);
                t[s->n_txt++].size = n;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* Publish()'s arguments as a service; an address must be "" or an IP literal, as avahi's are. */
static int read_service(sd_bus_message *m, Service **ret, sd_bus_error *error) {
        const char *name, *type, *domain, *host, *address;
        struct in6_addr a6;
        Service *s;
        int r;

        s = new0(Service, 1);
        if (!s)
                return -ENOMEM;
        r = sd_bus_message_read(
                m, "iisssssq", &s->ifindex, &s->protocol, &name, &type, &domain, &host, &address, &s->port);
        if (r >= 0)
                r = read_txt(m, s);
        if (r >= 0 && (s->ifindex <= 0 || (s->protocol != PROTO_INET && s->protocol != PROTO_INET6)))
                r = sd_bus_error_set(error, ERR_CTL_INVALID, "ifindex must be > 0, protocol 0 or 1");
        else if (r >= 0 && (isempty(name) || isempty(type)))
                r = sd_bus_error_set(error, ERR_CTL_INVALID, "name and type must not be empty");
        if (r >= 0) {
                s->aprotocol = PROTO_UNSPEC;
                if (inet_pton(AF_INET, address, &a6) == 1)
                        s->aprotocol = PROTO_INET;
                else if (inet_pton(AF_INET6, address, &a6) == 1)
                        s->aprotocol = PROTO_INET6;
                else if (!isempty(address))
                        r = sd_bus_error_setf(error, ERR_CTL_INVALID, "not an IP address: %s", address);
        }
        if (r >= 0 &&
            (!(s->name = strdup(name)) || !(s->type = strdup(type)) ||
             !(s->domain = strdup(isempty(domain) ? DOMAIN_NAME : domain)) || !(s->host = strdup(host)) ||
             !(s->address = strdup(address))))
                r = -ENOMEM;
        if (r < 0) {
                service_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

static bool service_data_eq(const Service *a, const Service *b) {
        if (!streq(a->host, b->host) || !streq(a->address, b->address) || a->port != b->port ||
            a->n_txt != b->n_txt)
                return false;
        for (size_t i = 0; i < a->n_txt; i++)
                if (a->txt[i].size != b->txt[i].size ||
                    memcmp(a->txt[i].data, b->txt[i].data, a->txt[i].size))
                        return false;
        return true;
}

static Service **service_find(
        Fake *f, int32_t ifindex, int32_t protocol, const char *name, const char *type, const char *domain) {
        for (Service **p = &f->services; *p; p = &(*p)->next)
                if (service_key_eq(*p, ifindex, protocol, name, type, domain))
                        return p;
        return NULL;
}

static int method_publish(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        Service *s = NULL, **p, *old;
        bool was_visible, changed;
        int r;

        r = read_service(m, &s, error);
        if (r < 0)
                return r;
        p = service_find(f, s->ifindex, s->protocol, s->name, s->type, s->domain);
        old = p ? *p : NULL;
        was_visible = old && !old->hidden;
        changed = !old || !service_data_eq(old, s);
        if (old) {
                s->next = old->next;
                *p = s;
                service_free(old);
        } else {
                for (p = &f->services; *p; p = &(*p)->next)
                        ;
                *p = s;
        }
        log_line(
                "publish %s (%s) on if %" PRIi32 " proto %" PRIi32 ": %s port %u%s",
                s->name,
                s->type,
                s->ifindex,
                s->protocol,
                s->address,
                s->port,
                !old              ? ""
                        : changed ? " (update)"
                                  : " (unchanged)");
        if (!was_visible || changed)
                service_announce(f, s, !was_visible);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_withdraw(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        const char *name, *type, *domain;
        int32_t ifindex, protocol;
        Service **p, *s;
        int r;

        r = sd_bus_message_read(m, "iisss", &ifindex, &protocol, &name, &type, &domain);
        if (r < 0)
                return r;
        p = service_find(f, ifindex, protocol, name, type, domain);
        if (!p)
                return sd_bus_error_setf(
                        error, ERR_CTL_NOT_FOUND, "no service %s (%s) published", name, type);
        s = *p;
        *p = s->next;
        log_line(
                "withdraw %s (%s) on if %" PRIi32 " proto %" PRIi32,
                s->name,
                s->type,
                s->ifindex,
                s->protocol);
        if (!s->hidden)
                service_retract(f, s);
        service_free(s);
        return sd_bus_reply_method_return(m, NULL);
}

static void flap_restore(Fake *f) {
        f->flap_timer = sd_event_source_disable_unref(f->flap_timer);
        log_line("flap: publishing again");
        for (Service *s = f->services; s; s = s->next)
                if (s->hidden) {
                        s->hidden = false;
                        service_announce(f, s, true);
                }
}

static int on_flap_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        flap_restore(userdata);
        return 0;
}

static int method_flap(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        uint32_t gap_ms;
        int r;

        r = sd_bus_message_read(m, "u", &gap_ms);
        if (r < 0)
                return r;
        log_line("flap: withdrawing every service for %" PRIu32 " ms", gap_ms);
        for (Service *s = f->services; s; s = s->next)
                if (!s->hidden) {
                        service_retract(f, s);
                        s->hidden = true;
                }
        if (gap_ms == 0)
                flap_restore(f);
        else {
                f->flap_timer = sd_event_source_disable_unref(f->flap_timer);
                r = sd_event_add_time_relative(
                        f->event,
                        &f->flap_timer,
                        CLOCK_MONOTONIC,
                        (uint64_t) gap_ms * 1000,
                        0,
                        on_flap_timer,
                        f);
                if (r < 0) {
                        flap_restore(f);
                        return r;
                }
        }
        return sd_bus_reply_method_return(m, NULL);
}

static int method_hang(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;

        f->hung = true;
        log_line("hung: method calls are no longer answered");
        return sd_bus_reply_method_return(m, NULL);
}

static int method_resume(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;

        f->hung = false;
        log_line("resumed: method calls are answered again");
        return sd_bus_reply_method_return(m, NULL);
}

static int method_browser_failure(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        const char *err;
        int r;

        r = sd_bus_message_read(m, "s", &err);
        if (r < 0)
                return r;
        log_line("browser failure %s", err);
        for (Object *o = f->objects; o; o = o->next)
                if (!o->resolver)
                        object_event(o, "Failure", err);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_call_log(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Fake *f = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(susssb)");
        for (size_t i = 0; r >= 0 && i < f->n_calls; i++) {
                const CallRecord *c = &f->calls[i];

                r = sd_bus_message_append(
                        reply, "(susssb)", c->sender, c->pid, c->path, c->iface, c->member, c->swallowed);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        return r;
}

static int method_objects(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Fake *f = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(suoss)");
        for (Object *o = f->objects; r >= 0 && o; o = o->next)
                r = sd_bus_message_append(
                        reply,
                        "(suoss)",
                        o->client->name,
                        o->client->pid,
                        o->path,
                        o->resolver ? IF_RESOLVER : IF_BROWSER,
                        o->resolver ? o->name : o->type);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        return r;
}

static const sd_bus_vtable ctl_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Publish", "iisssssqaay", "", method_publish, 0),
        SD_BUS_METHOD("Withdraw", "iisss", "", method_withdraw, 0),
        SD_BUS_METHOD("Flap", "u", "", method_flap, 0),
        SD_BUS_METHOD("Hang", "", "", method_hang, 0),
        SD_BUS_METHOD("Resume", "", "", method_resume, 0),
        SD_BUS_METHOD("BrowserFailure", "s", "", method_browser_failure, 0),
        SD_BUS_METHOD("CallLog", "", "a(susssb)", method_call_log, 0),
        SD_BUS_METHOD("Objects", "", "a(suoss)", method_objects, 0),
        SD_BUS_VTABLE_END,
};

/* ---- every incoming call: the log, and hanging ---------------------------------------------- */

static void call_record(Fake *f, sd_bus_message *m, Client *c) {
        CallRecord *rec, *n;

        if (f->n_calls >= CALL_LOG_MAX)
                return;
        n = realloc(f->calls, (f->n_calls + 1) * sizeof(CallRecord));
        if (!n)
                return;
        f->calls = n;
        rec = &f->calls[f->n_calls];
        *rec = (CallRecord){
                .sender = strdup(strempty(sd_bus_message_get_sender(m))),
                .path = strdup(strempty(sd_bus_message_get_path(m))),
                .iface = strdup(strempty(sd_bus_message_get_interface(m))),
                .member = strdup(strempty(sd_bus_message_get_member(m))),
                .pid = c ? c->pid : 0,
                .swallowed = f->hung,
        };
        if (!rec->sender || !rec->path || !rec->iface || !rec->member) {
                free(rec->sender);
                free(rec->path);
                free(rec->iface);
                free(rec->member);
                return;
        }
        f->n_calls++;
}

/* Runs before sd-bus dispatches a message (Peer.Ping and Introspect included). */
static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        uint8_t type = 0;

        if (sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL ||
            streq_ptr(sd_bus_message_get_interface(m), CTL_IFACE))
                return 0;
        call_record(f, m, client_get(f, m));
        if (!f->hung)
                return 0;
        log_line(
                "hung: no reply to %s.%s from %s",
                strempty(sd_bus_message_get_interface(m)),
                strempty(sd_bus_message_get_member(m)),
                strempty(sd_bus_message_get_sender(m)));
        return 1; /* handled: no reply, ever */
}

/* ---- main ------------------------------------------------------------------------------------ */

static void fake_done(Fake *f) {
        while (f->objects) {
                Object *o = f->objects;

                f->objects = o->next;
                object_free(o);
        }
        while (f->clients) {
                Client *c = f->clients;

                f->clients = c->next;
                free(c->name);
                free(c);
        }
        while (f->services) {
                Service *s = f->services;

                f->services = s->next;
                service_free(s);
        }
        for (size_t i = 0; i < f->n_calls; i++) {
                free(f->calls[i].sender);
                free(f->calls[i].path);
                free(f->calls[i].iface);
                free(f->calls[i].member);
        }
        free(f->calls);
        sd_event_source_disable_unref(f->flap_timer);
        sd_bus_flush_close_unref(f->bus);
        sd_event_unref(f->event);
}

static int fake_setup(Fake *f) {
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return -errno;
        r = sd_event_default(&f->event);
        if (r >= 0)
                r = sd_event_add_signal(f->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(f->event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_bus_open_system(&f->bus);
        if (r >= 0)
                r = sd_bus_set_exit_on_disconnect(f->bus, true);
        if (r >= 0)
                r = sd_bus_attach_event(f->bus, f->event, 0);
        if (r >= 0)
                r = sd_bus_add_filter(f->bus, NULL, on_message, f);
        if (r >= 0)
                r = sd_bus_add_object_vtable(f->bus, NULL, "/", IF_SERVER, server_vtable, f);
        if (r >= 0)
                r = sd_bus_add_object_vtable(f->bus, NULL, CTL_PATH, CTL_IFACE, ctl_vtable, f);
        if (r >= 0)
                r = sd_bus_match_signal(
                        f->bus,
                        NULL,
                        "org.freedesktop.DBus",
                        "/org/freedesktop/DBus",
                        "org.freedesktop.DBus",
                        "NameOwnerChanged",
                        on_name_owner_changed,
                        f);
        /* last: once the name is owned, everything above answers */
        if (r >= 0)
                r = sd_bus_request_name(f->bus, AVAHI_NAME, 0);
        return r;
}

int main(int argc, char *argv[]) {
        Fake f = {};
        int r;

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--hang"))
                        f.hung = true;
                else {
                        fprintf(stderr,
                                "usage: %s [--hang]   (see the comment at the top of fake-avahi.c)\n",
                                argv[0]);
                        return 2;
                }
        }
        r = fake_setup(&f);
        if (r < 0) {
                log_line("cannot serve %s on the system bus: %s", AVAHI_NAME, strerror(-r));
                fake_done(&f);
                return 1;
        }
        log_line("serving %s%s", AVAHI_NAME, f.hung ? " (hung: no method call is answered)" : "");
        r = sd_event_loop(f.event);
        if (r < 0)
                log_line("event loop failed: %s", strerror(-r));
        else if (r > 0)
                log_line("lost the bus");
        fake_done(&f);
        return r == 0 ? 0 : 1; /* the loop's exit code: 0 from a signal, 1 when the bus went away */
}
