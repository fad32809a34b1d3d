/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event.h - helpers on sd-event shared by the daemons: a re-armable one-shot timer, bounded
 * exponential backoff with jitter, and the standard signal set-up (TERM, INT, HUP).
 * Timers use CLOCK_MONOTONIC. Nothing here logs above debug level.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "stas/macro.h"

#define USEC_PER_SEC ((uint64_t) 1000000ULL)
#define USEC_PER_MSEC ((uint64_t) 1000ULL)

/* The longest timer stas arms: 100 years. Far beyond any configurable span (TIMESPAN_MAX_SEC
 * is 10 years), far below the overflow of "now + usec" in sd-event. */
#define STAS_TIMER_MAX_USEC ((uint64_t) 100 * 366 * 86400 * USEC_PER_SEC)

/*
 * usec_from_sec() - @sec seconds as microseconds for a timer, saturating: NaN and values <= 0
 * give 0, values beyond STAS_TIMER_MAX_USEC (inf included) give STAS_TIMER_MAX_USEC. Every
 * seconds-as-double to timer conversion goes through this (a plain cast of an out-of-range
 * double is undefined behaviour).
 */
uint64_t usec_from_sec(double sec);

typedef struct StasTimer StasTimer;
typedef void (*StasTimerCallback)(StasTimer *t, void *userdata);

/* timer_new() - a disarmed timer on @event. Return: 0 or -errno. */
int timer_new(sd_event *event, StasTimerCallback cb, void *userdata, StasTimer **ret);
/* timer_free() - disarm and free; safe from inside its own callback. Returns NULL. */
StasTimer *timer_free(StasTimer *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasTimer *, timer_free);
/* timer_start() - (re)arm to fire once, @usec from now (re-arming reschedules from now); @usec
 * is capped at STAS_TIMER_MAX_USEC. */
int timer_start(StasTimer *t, uint64_t usec);
void timer_stop(StasTimer *t);
bool timer_is_armed(const StasTimer *t);
/* timer_remaining() - usec until it fires, 0 if disarmed or due. */
uint64_t timer_remaining(const StasTimer *t);
/* timer_period() - the value of the last timer_start(). */
uint64_t timer_period(const StasTimer *t);
/*
 * timer_to_string() - nvme-stas's form: "60.0s [off]" when disarmed, "60.0s [12.3s]" when
 * armed (period, then remaining). Writes into @buf. Returns @buf.
 */
const char *timer_to_string(const StasTimer *t, char *buf, size_t size);

/*
 * Backoff: delay(n) = min(max, initial * factor^(n-1)), then jitter: a uniformly random value
 * in [delay * (1 - jitter), delay]. jitter 0 disables it. The random source is seeded from
 * getrandom() unless backoff_set_seed() (tests) or $STAS_TEST_SEED sets a fixed seed.
 */
typedef struct StasBackoff {
        uint64_t initial_usec;
        uint64_t max_usec;
        double factor;
        double jitter; /* 0.0 .. 1.0 */
        unsigned attempt;
} StasBackoff;

/* backoff_next() - the delay before the next attempt; increments attempt. */
uint64_t backoff_next(StasBackoff *b);
void backoff_reset(StasBackoff *b);
void backoff_set_seed(uint64_t seed);

/*
 * event_setup_signals() - block SIGTERM, SIGINT and SIGHUP and add sd-event signal sources for
 * them. @on_stop is called for TERM and INT, @on_reload for HUP. Return: 0 or -errno.
 */
int event_setup_signals(sd_event *event, void (*on_stop)(void *), void (*on_reload)(void *), void *userdata);
