/* SPDX-License-Identifier: Apache-2.0 */
/*
 * avahi-thread.h - avahi-client on its own thread (avahi-common's AvahiThreadedPoll), for avahi.c.
 * Every avahi-client call (the client, the service browsers and resolvers) is made on that
 * thread: they are synchronous D-Bus round trips of up to 25 s each, and a hung avahi-daemon
 * must not freeze stafd's loop. The two threads share one mutex-protected block and nothing else:
 *   loop -> avahi thread: the wanted service types, a kick and quit (zc_thread_set_types(),
 *     zc_thread_kick(), zc_thread_free()), woken through an eventfd watched by the threaded poll;
 *   avahi thread -> loop: a FIFO of ZcEvent, woken through an eventfd the loop watches
 *     (zc_thread_event_fd(), zc_thread_take_events()).
 * The loop never calls avahi_threaded_poll_lock(): the avahi thread holds that lock while it runs
 * its callbacks, blocking calls included. The avahi thread never logs (log.c is the loop's): what
 * is worth a log line travels as an event. Its service table is only the resolvers it owns; the
 * services themselves (records, probes, reachability) live on the loop, in avahi.c.
 */
#pragma once

#include <avahi-common/address.h>
#include <avahi-common/strlst.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

/* How long zc_thread_free() waits for the avahi thread before it leaves it behind. */
#define ZC_THREAD_STOP_USEC (1 * UINT64_C(1000000))

typedef enum ZcEventType {
        ZC_EV_CLIENT_STATE,         /* state: the AvahiClientState; error: avahi's, on failure */
        ZC_EV_CLIENT_NEW_FAILED,    /* avahi_client_new() failed (no system bus): error */
        ZC_EV_BROWSER_NEW_FAILED,   /* browser, stype, error */
        ZC_EV_BROWSER_FAILURE,      /* browser, stype, error */
        ZC_EV_SERVICE_UNNAMED,      /* key; error: the errno of if_indextoname() */
        ZC_EV_SERVICE_NO_RESOLVER,  /* key, ifname; error: the resolver could not be made */
        ZC_EV_SERVICE_NEW,          /* key, ifname: resolving */
        ZC_EV_SERVICE_REMOVE,       /* key */
        ZC_EV_SERVICE_FOUND,        /* key, address, port, txt */
        ZC_EV_SERVICE_RESOLVE_FAIL, /* key, error */
} ZcEventType;

typedef struct ZcEvent ZcEvent;

struct ZcEvent {
        ZcEventType type;
        uint64_t epoch;   /* of the last command the avahi thread had read (zc_thread_set_types()) */
        uint64_t browser; /* the id of the service type (zc_thread_set_types()), 0 for client events */
        int state;
        int error;
        /* the service's key: browser, ifindex, protocol, name, stype, domain */
        int ifindex;
        int protocol;
        char *name, *stype, *domain;
        char ifname[IF_NAMESIZE];
        char address[AVAHI_ADDRESS_STR_MAX];
        uint16_t port;
        AvahiStringList *txt;
        ZcEvent *next;
};

typedef struct ZcThread ZcThread;

/* zc_thread_new() - make the shared block and start the avahi thread (idle). Return: 0 or -errno. */
int zc_thread_new(ZcThread **ret);

/*
 * zc_thread_free() - ask the avahi thread to free its objects and end; wait at most @timeout_usec.
 * If it ended, free everything and return true; if it is stuck in a call, detach it, leave it
 * its objects (the daemon is exiting) and return false. NULL-tolerant (true).
 */
bool zc_thread_free(ZcThread *t, uint64_t timeout_usec);

/* zc_thread_event_fd() - readable while events are queued (the loop watches it for EPOLLIN). */
int zc_thread_event_fd(const ZcThread *t);

/* zc_thread_take_events() - the queued events, oldest first (free with zc_events_free()). */
ZcEvent *zc_thread_take_events(ZcThread *t);
void zc_events_free(ZcEvent *e);

/*
 * zc_thread_set_types() - browse exactly @stypes, whose ids are @ids (parallel; an id names one
 * service type for as long as it is browsed, so that events of a type browsed no more, or browsed
 * again since, can be told apart). None: free the client too. @epoch tags every later event.
 * Return: 0 or -ENOMEM.
 */
int zc_thread_set_types(ZcThread *t, char *const *stypes, const uint64_t *ids, uint64_t epoch);

/* zc_thread_kick() - re-create the avahi client if there is none or it failed. */
void zc_thread_kick(ZcThread *t);
