/* SPDX-License-Identifier: Apache-2.0 */
/*
 * avahi-thread.c - avahi-client on its own thread (see avahi-thread.h). The functions before
 * "---- the loop's side" run on the avahi thread only (they are the threaded poll's callbacks and
 * what they call); the ones after it on the loop only. They meet in ZcThread's shared fields.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/thread-watch.h>

#include "avahi-thread.h"
#include "stas/log.h"
#include "stas/macro.h"
#include "stas/strv.h"

typedef struct ZcBrowser ZcBrowser;
typedef struct ZcResolver ZcResolver;

/* A browsed service type (the avahi thread's). */
struct ZcBrowser {
        ZcThread *t;
        uint64_t id;
        char *stype;
        AvahiServiceBrowser *browser; /* NULL while the client does not run */
        ZcBrowser *next;
};

/* A service being resolved (the avahi thread's). */
struct ZcResolver {
        ZcThread *t;
        uint64_t browser;
        AvahiIfIndex ifindex;
        AvahiProtocol protocol;
        char *name, *stype, *domain;
        AvahiServiceResolver *resolver;
        ZcResolver *next;
};

struct ZcThread {
        /* set before the thread starts, read-only afterwards */
        AvahiThreadedPoll *tp;
        AvahiWatch *cmd_watch;
        int cmd_fd; /* loop -> avahi thread: commands are waiting */
        int ev_fd;  /* avahi thread -> loop: events are waiting */

        /* shared, under lock (never held across anything that can block) */
        pthread_mutex_t lock;
        pthread_cond_t done_cond;
        bool want_set, want_kick, want_quit;
        char **want_types;
        uint64_t *want_ids;
        uint64_t want_epoch;
        ZcEvent *events, **events_tail;
        unsigned lost; /* events that could not be queued (out of memory) */
        bool done;     /* the avahi thread freed its objects and ends */
        bool thread_known;
        pthread_t thread;

        /* the avahi thread's */
        AvahiClient *client;
        uint64_t epoch;
        ZcBrowser *browsers;
        ZcResolver *resolvers;

        /* the loop's */
        ZcThread *abandoned_next;
};

/* Threads left behind by zc_thread_free(): kept (and reachable) until the process ends. */
static ZcThread *abandoned;

void zc_events_free(ZcEvent *e) {
        while (e) {
                ZcEvent *next = e->next;

                free(e->name);
                free(e->stype);
                free(e->domain);
                avahi_string_list_free(e->txt);
                free(e);
                e = next;
        }
}

/* ---- the avahi thread's side ----------------------------------------------------------- */

static ZcEvent *event_new(ZcThread *t, ZcEventType type, uint64_t browser) {
        ZcEvent *e = new0(ZcEvent, 1);

        if (e) {
                e->type = type;
                e->epoch = t->epoch;
                e->browser = browser;
        }
        return e;
}

/* An event about one service (@name, @stype, @domain copied). */
static ZcEvent *event_key(
        ZcThread *t,
        ZcEventType type,
        uint64_t browser,
        AvahiIfIndex ifindex,
        AvahiProtocol protocol,
        const char *name,
        const char *stype,
        const char *domain) {
        ZcEvent *e = event_new(t, type, browser);

        if (!e)
                return NULL;
        e->ifindex = ifindex;
        e->protocol = protocol;
        e->name = strdup(name);
        e->stype = strdup(stype);
        e->domain = strdup(domain);
        if (!e->name || !e->stype || !e->domain) {
                zc_events_free(e);
                return NULL;
        }
        return e;
}

static ZcEvent *event_resolver(ZcThread *t, ZcEventType type, const ZcResolver *r) {
        return event_key(t, type, r->browser, r->ifindex, r->protocol, r->name, r->stype, r->domain);
}

/* Queue @e (NULL: an event lost to ENOMEM, counted) and wake the loop. */
static void event_push(ZcThread *t, ZcEvent *e) {
        pthread_mutex_lock(&t->lock);
        if (e) {
                *t->events_tail = e;
                t->events_tail = &e->next;
        } else
                t->lost++;
        pthread_mutex_unlock(&t->lock);
        (void) eventfd_write(t->ev_fd, 1);
}

static void event_push_error(ZcThread *t, ZcEventType type, uint64_t browser, const char *stype, int error) {
        ZcEvent *e = event_new(t, type, browser);

        if (e) {
                e->error = error;
                if (stype && !(e->stype = strdup(stype))) {
                        zc_events_free(e);
                        e = NULL;
                }
        }
        event_push(t, e);
}

static void resolver_free(ZcResolver *r) {
        if (r->resolver)
                avahi_service_resolver_free(r->resolver);
        free(r->name);
        free(r->stype);
        free(r->domain);
        free(r);
}

/* Free the resolvers of @browser (0: all of them). */
static void resolvers_free(ZcThread *t, uint64_t browser) {
        for (ZcResolver **p = &t->resolvers; *p;) {
                ZcResolver *r = *p;

                if (browser && r->browser != browser) {
                        p = &r->next;
                        continue;
                }
                *p = r->next;
                resolver_free(r);
        }
}

static ZcResolver **resolver_find(
        ZcThread *t,
        uint64_t browser,
        AvahiIfIndex i,
        AvahiProtocol p,
        const char *name,
        const char *stype,
        const char *domain) {
        for (ZcResolver **r = &t->resolvers; *r; r = &(*r)->next)
                if ((*r)->browser == browser && (*r)->ifindex == i && (*r)->protocol == p &&
                    streq((*r)->name, name) && streq((*r)->stype, stype) && streq((*r)->domain, domain))
                        return r;
        return NULL;
}

static void on_resolved(
        AvahiServiceResolver *sr,
        AvahiIfIndex ifindex,
        AvahiProtocol protocol,
        AvahiResolverEvent event,
        const char *name,
        const char *type,
        const char *domain,
        const char *host_name,
        const AvahiAddress *a,
        uint16_t port,
        AvahiStringList *txt,
        AvahiLookupResultFlags flags,
        void *userdata) {
        ZcResolver *r = userdata;
        ZcEvent *e;

        if (event != AVAHI_RESOLVER_FOUND) {
                e = event_resolver(r->t, ZC_EV_SERVICE_RESOLVE_FAIL, r);
                if (e)
                        e->error = avahi_client_errno(avahi_service_resolver_get_client(sr));
                event_push(r->t, e);
                return;
        }
        e = event_resolver(r->t, ZC_EV_SERVICE_FOUND, r);
        if (e) {
                if (a)
                        avahi_address_snprint(e->address, sizeof(e->address), a);
                e->port = port;
                e->txt = avahi_string_list_copy(txt);
                if (txt && !e->txt) {
                        zc_events_free(e);
                        e = NULL;
                }
        }
        event_push(r->t, e);
}

/* A new service of @b: name its interface, start resolving it, tell the loop. */
static void browse_new(
        ZcBrowser *b,
        AvahiIfIndex ifindex,
        AvahiProtocol protocol,
        const char *name,
        const char *type,
        const char *domain) {
        ZcThread *t = b->t;
        ZcResolver *r;
        ZcEvent *e;
        char ifname[IF_NAMESIZE];

        if (resolver_find(t, b->id, ifindex, protocol, name, type, domain))
                return;
        if (!if_indextoname((unsigned) ifindex, ifname)) {
                /* never a number as host-iface: skip the service until it is announced again */
                e = event_key(t, ZC_EV_SERVICE_UNNAMED, b->id, ifindex, protocol, name, type, domain);
                if (e)
                        e->error = errno;
                event_push(t, e);
                return;
        }
        r = new0(ZcResolver, 1);
        if (!r || !(r->name = strdup(name)) || !(r->stype = strdup(type)) || !(r->domain = strdup(domain))) {
                if (r)
                        resolver_free(r);
                event_push(t, NULL);
                return;
        }
        r->t = t;
        r->browser = b->id;
        r->ifindex = ifindex;
        r->protocol = protocol;
        r->resolver = avahi_service_resolver_new(
                t->client, ifindex, protocol, name, type, domain, AVAHI_PROTO_UNSPEC, 0, on_resolved, r);
        e = event_resolver(t, r->resolver ? ZC_EV_SERVICE_NEW : ZC_EV_SERVICE_NO_RESOLVER, r);
        if (e) {
                memcpy(e->ifname, ifname, sizeof(ifname));
                if (!r->resolver)
                        e->error = avahi_client_errno(t->client);
        }
        if (r->resolver) {
                r->next = t->resolvers;
                t->resolvers = r;
        } else
                resolver_free(r);
        event_push(t, e);
}

static void on_browse(
        AvahiServiceBrowser *sb,
        AvahiIfIndex ifindex,
        AvahiProtocol protocol,
        AvahiBrowserEvent event,
        const char *name,
        const char *type,
        const char *domain,
        AvahiLookupResultFlags flags,
        void *userdata) {
        ZcBrowser *b = userdata;
        ZcResolver **p, *r;

        switch (event) {
        case AVAHI_BROWSER_NEW:
                if (name && type && domain)
                        browse_new(b, ifindex, protocol, name, type, domain);
                return;
        case AVAHI_BROWSER_REMOVE:
                p = name && type && domain
                        ? resolver_find(b->t, b->id, ifindex, protocol, name, type, domain)
                        : NULL;
                if (!p)
                        return;
                r = *p;
                *p = r->next;
                event_push(b->t, event_resolver(b->t, ZC_EV_SERVICE_REMOVE, r));
                resolver_free(r);
                return;
        case AVAHI_BROWSER_FAILURE:
                event_push_error(
                        b->t,
                        ZC_EV_BROWSER_FAILURE,
                        b->id,
                        b->stype,
                        avahi_client_errno(avahi_service_browser_get_client(sb)));
                return;
        case AVAHI_BROWSER_ALL_FOR_NOW:
        case AVAHI_BROWSER_CACHE_EXHAUSTED:
                return;
        }
}

/* Free the avahi browsers (the types stay) and every resolver. */
static void browsers_stop(ZcThread *t) {
        resolvers_free(t, 0);
        for (ZcBrowser *b = t->browsers; b; b = b->next)
                if (b->browser) {
                        avahi_service_browser_free(b->browser);
                        b->browser = NULL;
                }
}

/* Create the browsers that are missing (client running). */
static void browsers_start(ZcThread *t) {
        for (ZcBrowser *b = t->browsers; b; b = b->next) {
                if (b->browser)
                        continue;
                b->browser = avahi_service_browser_new(
                        t->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, b->stype, "local", 0, on_browse, b);
                if (!b->browser)
                        event_push_error(
                                t, ZC_EV_BROWSER_NEW_FAILED, b->id, b->stype, avahi_client_errno(t->client));
        }
}

static void on_client_state(AvahiClient *c, AvahiClientState state, void *userdata) {
        ZcThread *t = userdata;
        ZcEvent *e;

        t->client = c; /* also called from inside avahi_client_new(), before it returns */
        if (state != AVAHI_CLIENT_S_RUNNING && state != AVAHI_CLIENT_CONNECTING &&
            state != AVAHI_CLIENT_FAILURE)
                return;
        e = event_new(t, ZC_EV_CLIENT_STATE, 0);
        if (e) {
                e->state = state;
                e->error = state == AVAHI_CLIENT_FAILURE ? avahi_client_errno(c) : 0;
        }
        event_push(t, e);
        if (state == AVAHI_CLIENT_S_RUNNING)
                browsers_start(t);
        else if (state == AVAHI_CLIENT_FAILURE)
                browsers_stop(t); /* avahi-daemon (or the bus) went away: the loop kicks */
}

static void client_create(ZcThread *t) {
        AvahiClient *c;
        int error = 0;

        if (t->client || !t->browsers)
                return;
        c = avahi_client_new(
                avahi_threaded_poll_get(t->tp), AVAHI_CLIENT_NO_FAIL, on_client_state, t, &error);
        t->client = c;
        if (!c)
                event_push_error(t, ZC_EV_CLIENT_NEW_FAILED, 0, NULL, error); /* no system bus */
}

static void client_free(ZcThread *t) {
        browsers_stop(t);
        if (t->client) {
                avahi_client_free(t->client);
                t->client = NULL;
        }
}

static void browser_free(ZcBrowser *b) {
        resolvers_free(b->t, b->id);
        if (b->browser)
                avahi_service_browser_free(b->browser);
        free(b->stype);
        free(b);
}

/* Browse @types (ids @ids) from now on, in that order; keep the browsers of kept ids. */
static void apply_types(ZcThread *t, char **types, const uint64_t *ids) {
        ZcBrowser *list = NULL, **tail = &list;
        size_t n = strv_length(types);

        for (size_t i = 0; i < n; i++) {
                ZcBrowser *b = NULL;

                for (ZcBrowser **p = &t->browsers; *p; p = &(*p)->next)
                        if ((*p)->id == ids[i]) {
                                b = *p;
                                *p = b->next;
                                break;
                        }
                if (!b && (b = new0(ZcBrowser, 1))) {
                        b->t = t;
                        b->id = ids[i];
                        b->stype = strdup(types[i]);
                }
                if (!b || !b->stype) {
                        event_push_error(t, ZC_EV_BROWSER_NEW_FAILED, ids[i], types[i], AVAHI_ERR_NO_MEMORY);
                        if (b)
                                browser_free(b);
                        continue;
                }
                b->next = NULL;
                *tail = b;
                tail = &b->next;
        }
        while (t->browsers) {
                ZcBrowser *b = t->browsers;

                t->browsers = b->next;
                browser_free(b);
        }
        t->browsers = list;
        if (!t->browsers)
                client_free(t);
        else if (!t->client)
                client_create(t);
        else if (avahi_client_get_state(t->client) == AVAHI_CLIENT_S_RUNNING)
                browsers_start(t);
}

/* The avahi thread's last act: free every avahi object, tell the loop, end the poll loop. */
static void quit(ZcThread *t) {
        client_free(t);
        while (t->browsers) {
                ZcBrowser *b = t->browsers;

                t->browsers = b->next;
                browser_free(b);
        }
        pthread_mutex_lock(&t->lock);
        t->done = true;
        pthread_cond_broadcast(&t->done_cond);
        pthread_mutex_unlock(&t->lock);
        avahi_threaded_poll_quit(t->tp);
}

/* The loop wrote to cmd_fd: take the commands, then act on them (without the shared lock). */
static void on_command(AvahiWatch *w, int fd, AvahiWatchEvent events, void *userdata) {
        ZcThread *t = userdata;
        _cleanup_strv_free_ char **types = NULL;
        _cleanup_free_ uint64_t *ids = NULL;
        bool set, kick, stop;
        uint64_t epoch;
        eventfd_t v;

        (void) eventfd_read(fd, &v);
        pthread_mutex_lock(&t->lock);
        t->thread = pthread_self();
        t->thread_known = true;
        set = t->want_set;
        kick = t->want_kick;
        stop = t->want_quit;
        types = TAKE_PTR(t->want_types);
        ids = TAKE_PTR(t->want_ids);
        epoch = t->want_epoch;
        t->want_set = t->want_kick = false;
        pthread_mutex_unlock(&t->lock);

        if (stop) {
                quit(t);
                return;
        }
        if (set) {
                if (epoch != t->epoch)
                        client_free(t); /* zeroconf was disabled in between: a new client */
                t->epoch = epoch;
                apply_types(t, types, ids);
        }
        if (kick) {
                if (t->client && avahi_client_get_state(t->client) == AVAHI_CLIENT_FAILURE)
                        client_free(t);
                client_create(t);
        }
}

/* ---- the loop's side ----------------------------------------------------------------------- */

static void thread_destroy(ZcThread *t) {
        if (t->tp)
                avahi_threaded_poll_free(t->tp); /* joins the thread; frees cmd_watch */
        zc_events_free(t->events);
        strv_free(t->want_types);
        free(t->want_ids);
        if (t->cmd_fd >= 0)
                close(t->cmd_fd);
        if (t->ev_fd >= 0)
                close(t->ev_fd);
        pthread_cond_destroy(&t->done_cond);
        pthread_mutex_destroy(&t->lock);
        free(t);
}

/**
 * zc_thread_new() - make the shared block and start the avahi thread.
 * @ret: the thread
 */
int zc_thread_new(ZcThread **ret) {
        ZcThread *t = new0(ZcThread, 1);
        pthread_condattr_t ca;
        const AvahiPoll *api;

        if (!t)
                return -ENOMEM;
        t->cmd_fd = t->ev_fd = -1;
        t->events_tail = &t->events;
        pthread_mutex_init(&t->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&t->done_cond, &ca);
        pthread_condattr_destroy(&ca);
        t->cmd_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        t->ev_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (t->cmd_fd < 0 || t->ev_fd < 0) {
                int r = -errno;

                thread_destroy(t);
                return r;
        }
        t->tp = avahi_threaded_poll_new();
        api = t->tp ? avahi_threaded_poll_get(t->tp) : NULL;
        /* the command watch is made before the thread runs: no lock needed */
        t->cmd_watch = api ? api->watch_new(api, t->cmd_fd, AVAHI_WATCH_IN, on_command, t) : NULL;
        if (!t->cmd_watch || avahi_threaded_poll_start(t->tp) < 0) {
                thread_destroy(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

/**
 * zc_thread_free() - stop the avahi thread within @timeout_usec, or leave it behind.
 * @t: NULL-tolerant
 * @timeout_usec: how long to wait for it
 */
bool zc_thread_free(ZcThread *t, uint64_t timeout_usec) {
        struct timespec deadline;
        uint64_t ns;
        bool done;
        int r = 0;

        if (!t)
                return true;
        pthread_mutex_lock(&t->lock);
        t->want_quit = true;
        pthread_mutex_unlock(&t->lock);
        (void) eventfd_write(t->cmd_fd, 1);

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        ns = (uint64_t) deadline.tv_nsec + timeout_usec * 1000;
        deadline.tv_sec += (time_t) (ns / 1000000000);
        deadline.tv_nsec = (long) (ns % 1000000000);
        pthread_mutex_lock(&t->lock);
        while (!t->done && r != ETIMEDOUT)
                r = pthread_cond_timedwait(&t->done_cond, &t->lock, &deadline);
        done = t->done;
        if (!done && t->thread_known)
                (void) pthread_detach(t->thread);
        pthread_mutex_unlock(&t->lock);
        if (done) {
                thread_destroy(t);
                return true;
        }
        /* stuck in a call to avahi-daemon (up to 25 s): the daemon is exiting, do not wait */
        log_debug(
                "zeroconf: the avahi thread did not stop within %" PRIu64 " ms, leaving it behind.",
                timeout_usec / 1000);
        t->abandoned_next = abandoned;
        abandoned = t;
        return false;
}

/**
 * zc_thread_event_fd() - the fd the loop watches.
 * @t: the thread
 */
int zc_thread_event_fd(const ZcThread *t) {
        return t->ev_fd;
}

/**
 * zc_thread_take_events() - the queued events, oldest first.
 * @t: the thread
 */
ZcEvent *zc_thread_take_events(ZcThread *t) {
        ZcEvent *e;
        unsigned lost;
        eventfd_t v;

        (void) eventfd_read(t->ev_fd, &v);
        pthread_mutex_lock(&t->lock);
        e = TAKE_PTR(t->events);
        t->events_tail = &t->events;
        lost = t->lost;
        t->lost = 0;
        pthread_mutex_unlock(&t->lock);
        if (lost)
                log_error("zeroconf: %u avahi event(s) lost: out of memory.", lost);
        return e;
}

/**
 * zc_thread_set_types() - hand the service types to the avahi thread.
 * @t: the thread
 * @stypes: NULL-terminated
 * @ids: parallel to @stypes
 * @epoch: the loop's epoch
 */
int zc_thread_set_types(ZcThread *t, char *const *stypes, const uint64_t *ids, uint64_t epoch) {
        _cleanup_strv_free_ char **types = strv_copy((char **) stypes);
        size_t n = strv_length((char **) stypes);
        _cleanup_free_ uint64_t *copy = new0(uint64_t, n + 1);

        if (!types || !copy)
                return -ENOMEM;
        if (n)
                memcpy(copy, ids, n * sizeof(*ids));
        pthread_mutex_lock(&t->lock);
        strv_free(t->want_types);
        free(t->want_ids);
        t->want_types = TAKE_PTR(types);
        t->want_ids = TAKE_PTR(copy);
        t->want_epoch = epoch;
        t->want_set = true;
        pthread_mutex_unlock(&t->lock);
        (void) eventfd_write(t->cmd_fd, 1);
        return 0;
}

/**
 * zc_thread_kick() - ask for a new avahi client if there is none or it failed.
 * @t: the thread
 */
void zc_thread_kick(ZcThread *t) {
        pthread_mutex_lock(&t->lock);
        t->want_kick = true;
        pthread_mutex_unlock(&t->lock);
        (void) eventfd_write(t->cmd_fd, 1);
}
