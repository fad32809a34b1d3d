/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/time.h>

#include "avahi-poll.h"
#include "stas/log.h"

/*
 * A watch or timeout freed from inside its own callback cannot be released at once: the
 * dispatcher still holds it. It is marked dead (source disabled) and released when the
 * callback returns.
 */
struct AvahiWatch {
        StasAvahiPoll *poll;
        sd_event_source *source;
        int fd;
        AvahiWatchEvent revents; /* valid only while dispatching */
        AvahiWatchCallback callback;
        void *userdata;
        bool dispatching, dead;
        AvahiWatch *prev, *next;
};

struct AvahiTimeout {
        StasAvahiPoll *poll;
        sd_event_source *source;
        AvahiTimeoutCallback callback;
        void *userdata;
        bool dispatching, dead;
        AvahiTimeout *prev, *next;
};

struct StasAvahiPoll {
        AvahiPoll api; /* api.userdata points back to us */
        sd_event *event;
        AvahiWatch *watches;
        AvahiTimeout *timeouts;
};

static uint32_t avahi_to_epoll(AvahiWatchEvent e) {
        return (e & AVAHI_WATCH_IN ? EPOLLIN : 0) | (e & AVAHI_WATCH_OUT ? EPOLLOUT : 0) |
                (e & AVAHI_WATCH_ERR ? EPOLLERR : 0) | (e & AVAHI_WATCH_HUP ? EPOLLHUP : 0);
}

static AvahiWatchEvent epoll_to_avahi(uint32_t e) {
        return (e & EPOLLIN ? AVAHI_WATCH_IN : 0) | (e & EPOLLOUT ? AVAHI_WATCH_OUT : 0) |
                (e & EPOLLERR ? AVAHI_WATCH_ERR : 0) | (e & EPOLLHUP ? AVAHI_WATCH_HUP : 0);
}

static void watch_release(AvahiWatch *w) {
        StasAvahiPoll *p = w->poll;

        if (w->prev)
                w->prev->next = w->next;
        else
                p->watches = w->next;
        if (w->next)
                w->next->prev = w->prev;
        sd_event_source_disable_unref(w->source);
        free(w);
}

static int watch_dispatch(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        AvahiWatch *w = userdata;

        w->revents = epoll_to_avahi(revents);
        w->dispatching = true;
        w->callback(w, fd, w->revents, w->userdata);
        w->dispatching = false;
        w->revents = 0;
        if (w->dead)
                watch_release(w);
        return 0;
}

static AvahiWatch *watch_new(
        const AvahiPoll *api, int fd, AvahiWatchEvent event, AvahiWatchCallback callback, void *userdata) {
        StasAvahiPoll *p = api->userdata;
        AvahiWatch *w;
        int r;

        w = new0(AvahiWatch, 1);
        if (!w)
                return NULL;
        w->poll = p;
        w->fd = fd;
        w->callback = callback;
        w->userdata = userdata;
        r = sd_event_add_io(p->event, &w->source, fd, avahi_to_epoll(event), watch_dispatch, w);
        if (r < 0) {
                log_debug_errno(r, "avahi-poll: cannot watch fd %d: %m", fd);
                free(w);
                return NULL;
        }
        (void) sd_event_source_set_description(w->source, "avahi-watch");
        w->next = p->watches;
        if (w->next)
                w->next->prev = w;
        p->watches = w;
        return w;
}

static void watch_update(AvahiWatch *w, AvahiWatchEvent event) {
        int r;

        if (w->dead)
                return;
        r = sd_event_source_set_io_events(w->source, avahi_to_epoll(event));
        if (r < 0)
                log_debug_errno(r, "avahi-poll: cannot update fd %d: %m", w->fd);
}

static AvahiWatchEvent watch_get_events(AvahiWatch *w) {
        return w->dispatching ? w->revents : 0;
}

static void watch_free(AvahiWatch *w) {
        if (!w)
                return;
        if (w->dispatching) {
                w->dead = true;
                (void) sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
                return;
        }
        watch_release(w);
}

static void timeout_release(AvahiTimeout *t) {
        StasAvahiPoll *p = t->poll;

        if (t->prev)
                t->prev->next = t->next;
        else
                p->timeouts = t->next;
        if (t->next)
                t->next->prev = t->prev;
        sd_event_source_disable_unref(t->source);
        free(t);
}

static int timeout_dispatch(sd_event_source *s, uint64_t usec, void *userdata) {
        AvahiTimeout *t = userdata;

        /* sd-event has already turned the one-shot source off, as avahi expects */
        t->dispatching = true;
        t->callback(t, t->userdata);
        t->dispatching = false;
        if (t->dead)
                timeout_release(t);
        return 0;
}

/* An absolute CLOCK_REALTIME time in usec, saturating: a time beyond 2^64 usec (year 586000)
 * must not wrap around to the past and fire at once. */
static uint64_t timeval_to_usec(const struct timeval *tv) {
        const uint64_t never = UINT64_MAX - 1, m = UINT64_C(1000000);
        uint64_t usec;

        if (tv->tv_sec < 0)
                return 1; /* long past: fire now (0 would mean "no time" to some callers) */
        if ((uint64_t) tv->tv_sec > never / m - 1)
                return never;
        usec = (uint64_t) tv->tv_sec * m;
        if (tv->tv_usec < 0) { /* not normalised: still the time it means */
                uint64_t back = -(uint64_t) tv->tv_usec;

                return usec > back ? usec - back : 1;
        }
        return (uint64_t) tv->tv_usec > never - usec ? never : usec + (uint64_t) tv->tv_usec;
}

static void timeout_arm(AvahiTimeout *t, const struct timeval *tv) {
        int r;

        if (!tv) {
                (void) sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
                return;
        }
        r = sd_event_source_set_time(t->source, timeval_to_usec(tv));
        if (r >= 0)
                r = sd_event_source_set_enabled(t->source, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "avahi-poll: cannot arm timeout: %m");
}

static AvahiTimeout *timeout_new(
        const AvahiPoll *api, const struct timeval *tv, AvahiTimeoutCallback callback, void *userdata) {
        StasAvahiPoll *p = api->userdata;
        AvahiTimeout *t;
        int r;

        t = new0(AvahiTimeout, 1);
        if (!t)
                return NULL;
        t->poll = p;
        t->callback = callback;
        t->userdata = userdata;
        /* accuracy 1 us: 0 would select sd-event's default slack of 250 ms */
        r = sd_event_add_time(
                p->event, &t->source, CLOCK_REALTIME, tv ? timeval_to_usec(tv) : 0, 1, timeout_dispatch, t);
        if (r < 0) {
                log_debug_errno(r, "avahi-poll: cannot add timeout: %m");
                free(t);
                return NULL;
        }
        (void) sd_event_source_set_description(t->source, "avahi-timeout");
        if (!tv)
                (void) sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
        t->next = p->timeouts;
        if (t->next)
                t->next->prev = t;
        p->timeouts = t;
        return t;
}

static void timeout_update(AvahiTimeout *t, const struct timeval *tv) {
        if (t->dead)
                return;
        timeout_arm(t, tv);
}

static void timeout_free(AvahiTimeout *t) {
        if (!t)
                return;
        if (t->dispatching) {
                t->dead = true;
                (void) sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
                return;
        }
        timeout_release(t);
}

/**
 * stas_avahi_poll_new() - create the adapter.
 * @event: the loop that will dispatch avahi's watches and timeouts
 * @ret: the adapter (free with stas_avahi_poll_free())
 */
int stas_avahi_poll_new(sd_event *event, StasAvahiPoll **ret) {
        StasAvahiPoll *p;

        if (!event || !ret)
                return -EINVAL;
        p = new0(StasAvahiPoll, 1);
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(event);
        p->api = (AvahiPoll){
                .userdata = p,
                .watch_new = watch_new,
                .watch_update = watch_update,
                .watch_get_events = watch_get_events,
                .watch_free = watch_free,
                .timeout_new = timeout_new,
                .timeout_update = timeout_update,
                .timeout_free = timeout_free,
        };
        *ret = p;
        return 0;
}

/**
 * stas_avahi_poll_free() - free the adapter and any watch or timeout left registered.
 * @p: NULL-tolerant
 */
StasAvahiPoll *stas_avahi_poll_free(StasAvahiPoll *p) {
        if (!p)
                return NULL;
        while (p->watches)
                watch_release(p->watches);
        while (p->timeouts)
                timeout_release(p->timeouts);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}

/**
 * stas_avahi_poll_get() - the AvahiPoll table for avahi_client_new().
 * @p: the adapter
 */
const AvahiPoll *stas_avahi_poll_get(StasAvahiPoll *p) {
        return &p->api;
}
