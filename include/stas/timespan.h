/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timespan.h - parse the human time spans nvme-stas accepts for
 * zeroconf-connections-persistence= (§3.6). Pure function: no allocation, no logging.
 *
 * Accepted forms (case-insensitive units, optional leading '+' or '-' then optional space):
 *   - a plain decimal number of seconds: "0.5", "-1", "1e3" (inf/nan are rejected);
 *   - unit parts in decreasing order, each at most once, separated by optional whitespace and
 *     an optional ',' or '/': weeks (w wk wks week weeks), days (d dy dys day days), hours
 *     (h hr hrs hour hours), minutes (m min mins minute minutes), seconds (s sec secs second
 *     seconds); numbers may carry a fraction: "3 days 5 hours", "1h30m", "1.2 minutes";
 *   - clock forms ":SS", "M:SS", "H:MM:SS" (optionally preceded by a days part),
 *     "D:HH:MM:SS"; only the seconds field may carry a fraction.
 * Spans longer than TIMESPAN_MAX_SEC either way (even "1e999" or 400-digit fields) are taken
 * as +-TIMESPAN_MAX_SEC and reported with -ERANGE, so no caller ever sees an infinite or
 * absurd number of seconds.
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <time.h>

/* The longest span: 10 years of 365 days (315360000 s), documented in stafd.conf(5). */
#define TIMESPAN_MAX_SEC (3650.0 * 86400.0)

/*
 * timespan_parse() - parse @s into seconds.
 * Return: 0 and *@ret set; -ERANGE and *@ret = TIMESPAN_MAX_SEC (or -TIMESPAN_MAX_SEC) for a
 * longer span; -EINVAL (*@ret untouched) if @s is NULL, empty or not a time span.
 */
int timespan_parse(const char *s, double *ret);

/* The size of a buffer for rfc3339_utc(): "2026-12-02T20:41:03Z" and its NUL. */
#define STAS_RFC3339_MAX 32

/* rfc3339_utc() - @t as UTC RFC 3339 ("2026-12-02T20:41:03Z") in @buf; "" if it cannot. Returns @buf. */
char *rfc3339_utc(time_t t, char *buf, size_t size);
