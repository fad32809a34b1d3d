/* SPDX-License-Identifier: Apache-2.0 */
/*
 * avahi-poll.h - an AvahiPoll (the 7-callback loop abstraction avahi-client needs) on top of
 * sd-event, so avahi-client runs single-threaded in the daemon's one loop (style.md §3.6).
 * Watches map AVAHI_WATCH_* to EPOLL* explicitly; watch_get_events() answers the events of the
 * dispatch in progress (0 outside it). Timeouts are absolute gettimeofday() times, armed as
 * CLOCK_REALTIME one-shot sources; a NULL time disables them. Watches and timeouts may be freed
 * from inside their own callbacks. Whatever avahi leaves behind is freed with the poll object.
 * Nothing here logs above debug level.
 */
#pragma once

#include <avahi-common/watch.h>
#include <systemd/sd-event.h>

#include "stas/macro.h"

typedef struct StasAvahiPoll StasAvahiPoll;

/* stas_avahi_poll_new() - an AvahiPoll dispatching on @event. Return: 0 or -errno. */
int stas_avahi_poll_new(sd_event *event, StasAvahiPoll **ret);

/*
 * stas_avahi_poll_free() - free the adapter and every watch/timeout still registered. Free the
 * AvahiClient first. NULL-tolerant; returns NULL.
 */
StasAvahiPoll *stas_avahi_poll_free(StasAvahiPoll *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasAvahiPoll *, stas_avahi_poll_free);

/* stas_avahi_poll_get() - the table to pass to avahi_client_new(). */
const AvahiPoll *stas_avahi_poll_get(StasAvahiPoll *p);
