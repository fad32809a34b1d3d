/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event.c - re-armable one-shot timers, bounded exponential backoff with jitter, and the signal
 * set-up shared by the daemons. See event.h for the contracts.
 */
#include <errno.h>
#include <math.h> /* isfinite(), a macro: no libm needed */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "stas/event.h"
#include "stas/log.h"

/* Timers may fire up to this late; small enough that tests using short periods stay fast. */
#define TIMER_ACCURACY_USEC USEC_PER_MSEC

struct StasTimer {
        sd_event *event;
        sd_event_source *source; /* one source for the timer's whole life, re-armed in place */
        StasTimerCallback cb;
        void *userdata;
        uint64_t period;
};

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        StasTimer *t = userdata;

        /*
         * SD_EVENT_ONESHOT: sd-event has already switched the source off. The callback may
         * re-arm the timer or free it; we must not touch @t after it returns.
         */
        if (t->cb)
                t->cb(t, t->userdata);
        return 0;
}

/**
 * timer_new() - create a disarmed timer on @event.
 * @event: the loop (a reference is taken)
 * @cb: called on expiry (may be NULL)
 * @userdata: passed to @cb
 * @ret: the new timer
 *
 * Return: 0 or -errno.
 */
int timer_new(sd_event *event, StasTimerCallback cb, void *userdata, StasTimer **ret) {
        _cleanup_(timer_freep) StasTimer *t = NULL;
        int r;

        if (!event || !ret)
                return -EINVAL;

        t = new0(StasTimer, 1);
        if (!t)
                return -ENOMEM;
        t->event = sd_event_ref(event);
        t->cb = cb;
        t->userdata = userdata;

        r = sd_event_add_time(event, &t->source, CLOCK_MONOTONIC, 0, TIMER_ACCURACY_USEC, on_timer, t);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(t->source, "stas-timer");

        *ret = TAKE_PTR(t);
        return 0;
}

/**
 * timer_free() - disarm and free @t (NULL-tolerant). Safe from inside @t's own callback,
 * because sd-event defers freeing a source that is being dispatched.
 *
 * Return: NULL.
 */
StasTimer *timer_free(StasTimer *t) {
        if (!t)
                return NULL;
        t->source = sd_event_source_disable_unref(t->source);
        sd_event_unref(t->event);
        free(t);
        return NULL;
}

/**
 * timer_start() - arm @t to fire once, @usec from now. Re-arming an armed timer reschedules it
 * from now (nvme-stas's GTimer.start()). Also records @usec as the period. @usec is capped at
 * STAS_TIMER_MAX_USEC, so no delay makes sd-event's absolute time overflow.
 *
 * Return: 0 or -errno.
 */
int timer_start(StasTimer *t, uint64_t usec) {
        int r;

        if (!t)
                return -EINVAL;
        if (usec > STAS_TIMER_MAX_USEC)
                usec = STAS_TIMER_MAX_USEC; /* sd-event refuses now + usec beyond 2^64 */
        r = sd_event_source_set_time_relative(t->source, usec);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(t->source, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        t->period = usec;
        return 0;
}

/**
 * usec_from_sec() - see event.h.
 */
uint64_t usec_from_sec(double sec) {
        if (!(sec > 0)) /* also NaN */
                return 0;
        if (sec >= (double) (STAS_TIMER_MAX_USEC / USEC_PER_SEC))
                return STAS_TIMER_MAX_USEC;
        return (uint64_t) (sec * (double) USEC_PER_SEC);
}

/**
 * timer_stop() - disarm @t (NULL-tolerant); the period is kept.
 */
void timer_stop(StasTimer *t) {
        if (t && t->source)
                (void) sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
}

/**
 * timer_is_armed() - true while @t is scheduled to fire.
 */
bool timer_is_armed(const StasTimer *t) {
        int enabled = SD_EVENT_OFF;

        if (!t || !t->source)
                return false;
        if (sd_event_source_get_enabled(t->source, &enabled) < 0)
                return false;
        return enabled != SD_EVENT_OFF;
}

/**
 * timer_remaining() - microseconds until @t fires, relative to the loop's current iteration
 * time; 0 when disarmed or already due.
 */
uint64_t timer_remaining(const StasTimer *t) {
        uint64_t when = 0, now = 0;

        if (!timer_is_armed(t))
                return 0;
        if (sd_event_source_get_time(t->source, &when) < 0)
                return 0;
        if (sd_event_now(t->event, CLOCK_MONOTONIC, &now) < 0)
                return 0;
        return when > now ? when - now : 0;
}

/**
 * timer_period() - the value given to the last timer_start() (0 if never started).
 */
uint64_t timer_period(const StasTimer *t) {
        return t ? t->period : 0;
}

/* Seconds with at least one decimal and no trailing zeros beyond it: 60.0, 1.5, 0.25. */
static void format_seconds(uint64_t usec, char *buf, size_t size) {
        char frac[8];
        size_t n;

        snprintf(frac, sizeof(frac), "%06u", (unsigned) (usec % USEC_PER_SEC));
        n = strlen(frac);
        while (n > 1 && frac[n - 1] == '0')
                frac[--n] = '\0';
        snprintf(buf, size, "%llu.%s", (unsigned long long) (usec / USEC_PER_SEC), frac);
}

/**
 * timer_to_string() - "60.0s [off]" when disarmed, "60.0s [12.3s]" when armed: the period,
 * then the time remaining with one decimal.
 * @t: the timer (NULL prints as a disarmed 0.0s timer)
 * @buf: output buffer
 * @size: its size
 *
 * Return: @buf.
 */
const char *timer_to_string(const StasTimer *t, char *buf, size_t size) {
        char period[32];

        if (!buf || size == 0)
                return buf;
        format_seconds(timer_period(t), period, sizeof(period));
        if (timer_is_armed(t))
                snprintf(buf, size, "%ss [%.1fs]", period, (double) timer_remaining(t) / USEC_PER_SEC);
        else
                snprintf(buf, size, "%ss [off]", period);
        return buf;
}

/*
 * Backoff jitter source: splitmix64. Not cryptographic; it only has to spread retries of many
 * hosts apart. Used from the loop thread only.
 */
static uint64_t rng_state;
static bool rng_seeded;

static void rng_seed_once(void) {
        const char *e;
        uint64_t seed = 0;

        if (rng_seeded)
                return;
        rng_seeded = true;

        e = getenv("STAS_TEST_SEED");
        if (!isempty(e)) {
                char *end = NULL;
                unsigned long long v;

                errno = 0;
                v = strtoull(e, &end, 0);
                if (errno == 0 && end && *end == '\0') {
                        rng_state = v;
                        return;
                }
                log_debug("Ignoring invalid $STAS_TEST_SEED '%s'", e);
        }

        if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t) sizeof(seed)) {
                struct timespec ts = {};

                (void) clock_gettime(CLOCK_MONOTONIC, &ts);
                seed = ((uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec) ^
                        ((uint64_t) getpid() << 32);
        }
        rng_state = seed;
}

static uint64_t rng_next(void) {
        uint64_t z;

        rng_seed_once();
        z = (rng_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static double rng_unit(void) {
        return (double) (rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/**
 * backoff_set_seed() - make the jitter sequence deterministic (tests). Overrides
 * $STAS_TEST_SEED and getrandom().
 */
void backoff_set_seed(uint64_t seed) {
        rng_state = seed;
        rng_seeded = true;
}

/**
 * backoff_next() - the delay before the next attempt, then attempt++.
 *
 * delay(n) = min(max_usec, initial_usec * factor^(n-1)) for the n-th call since the last reset,
 * then, when jitter > 0, a uniform value in [delay * (1 - jitter), delay]. A factor below 1 (or
 * NaN) counts as 1, jitter is clamped to [0, 1], max_usec 0 means "no cap".
 *
 * Return: the delay in microseconds.
 */
uint64_t backoff_next(StasBackoff *b) {
        double factor, jitter, delay, cap;
        unsigned n;

        if (!b)
                return 0;

        n = b->attempt;
        if (b->attempt < UINT32_MAX)
                b->attempt++;

        factor = isfinite(b->factor) && b->factor > 1.0 ? b->factor : 1.0;
        jitter = b->jitter > 0.0 ? (b->jitter < 1.0 ? b->jitter : 1.0) : 0.0;  /* NaN -> 0 */
        cap = b->max_usec > 0 ? (double) b->max_usec : 18446744073709549568.0; /* < 2^64 */

        delay = (double) b->initial_usec;
        if (factor > 1.0)
                for (unsigned i = 0; i < n && delay <= cap; i++)
                        delay *= factor;
        if (!(delay <= cap)) /* also catches inf */
                delay = cap;
        if (jitter > 0.0)
                delay -= delay * jitter * rng_unit();
        if (delay < 0.0)
                delay = 0.0;
        return (uint64_t) delay;
}

/**
 * backoff_reset() - start again from initial_usec (attempt = 0).
 */
void backoff_reset(StasBackoff *b) {
        if (b)
                b->attempt = 0;
}

typedef struct SignalHandler {
        void (*cb)(void *);
        void *userdata;
} SignalHandler;

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        SignalHandler *h = userdata;

        log_debug("Received signal %s.", strsignal((int) si->ssi_signo));
        if (h->cb)
                h->cb(h->userdata);
        else if (si->ssi_signo != SIGHUP)
                /* No stop handler: leave the loop, the way a NULL sd-event signal handler does. */
                return sd_event_exit(sd_event_source_get_event(s), 0);
        return 0;
}

static int add_signal(sd_event *event, int sig, void (*cb)(void *), void *userdata) {
        sd_event_source *s = NULL;
        SignalHandler *h;
        int r;

        h = new0(SignalHandler, 1);
        if (!h)
                return -ENOMEM;
        h->cb = cb;
        h->userdata = userdata;

        r = sd_event_add_signal(event, &s, sig, on_signal, h);
        if (r < 0) {
                free(h);
                return r;
        }
        /* The source is floating (owned by the loop); @h goes away with it. */
        r = sd_event_source_set_destroy_callback(s, free);
        if (r < 0) {
                free(h);
                sd_event_source_unref(s);
                return r;
        }
        r = sd_event_source_set_floating(s, true);
        sd_event_source_unref(s);
        return r < 0 ? r : 0;
}

/**
 * event_setup_signals() - block SIGTERM, SIGINT and SIGHUP in the calling thread and handle them
 * on @event: @on_stop for TERM and INT, @on_reload for HUP, both with @userdata. A NULL @on_stop
 * makes TERM/INT exit the loop; a NULL @on_reload makes HUP a no-op. The sources are owned by
 * @event. Call before starting any thread so that threads inherit the mask.
 *
 * Return: 0 or -errno.
 */
int event_setup_signals(
        sd_event *event, void (*on_stop)(void *), void (*on_reload)(void *), void *userdata) {
        sigset_t mask;
        int r;

        if (!event)
                return -EINVAL;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        r = add_signal(event, SIGTERM, on_stop, userdata);
        if (r < 0)
                return r;
        r = add_signal(event, SIGINT, on_stop, userdata);
        if (r < 0)
                return r;
        return add_signal(event, SIGHUP, on_reload, userdata);
}
