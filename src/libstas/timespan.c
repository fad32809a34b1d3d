/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stas/timespan.h"

enum { UNIT_WEEKS, UNIT_DAYS, UNIT_HOURS, UNIT_MINS, UNIT_SECS, _UNIT_MAX };

static const struct {
        const char *name;
        int unit;
} unit_names[] = {
        { "w", UNIT_WEEKS },      { "wk", UNIT_WEEKS },   { "wks", UNIT_WEEKS },   { "week", UNIT_WEEKS },
        { "weeks", UNIT_WEEKS },  { "d", UNIT_DAYS },     { "dy", UNIT_DAYS },     { "dys", UNIT_DAYS },
        { "day", UNIT_DAYS },     { "days", UNIT_DAYS },  { "h", UNIT_HOURS },     { "hr", UNIT_HOURS },
        { "hrs", UNIT_HOURS },    { "hour", UNIT_HOURS }, { "hours", UNIT_HOURS }, { "m", UNIT_MINS },
        { "min", UNIT_MINS },     { "mins", UNIT_MINS },  { "minute", UNIT_MINS }, { "minutes", UNIT_MINS },
        { "s", UNIT_SECS },       { "sec", UNIT_SECS },   { "secs", UNIT_SECS },   { "second", UNIT_SECS },
        { "seconds", UNIT_SECS },
};

static const double unit_seconds[_UNIT_MAX] = {
        [UNIT_WEEKS] = 7 * 86400.0, [UNIT_DAYS] = 86400.0, [UNIT_HOURS] = 3600.0,
        [UNIT_MINS] = 60.0,         [UNIT_SECS] = 1.0,
};

static const char *skip_space(const char *p) {
        while (*p && isspace((unsigned char) *p))
                p++;
        return p;
}

/* A plain decimal number as Python's float() takes it (no hex, no inf/nan). One too large for a
 * double gives +-HUGE_VAL (clamped by the caller), one too small 0 or a denormal. */
static bool parse_plain(const char *s, double *ret) {
        const char *b = skip_space(s), *e;
        char *end;
        double v;
        bool digit = false;

        for (e = b; *e && !isspace((unsigned char) *e); e++) {
                if (isdigit((unsigned char) *e))
                        digit = true;
                else if (!strchr("+-.eE", *e))
                        return false;
        }
        if (!digit || *skip_space(e))
                return false;
        errno = 0;
        v = strtod(b, &end);
        if (end != e || (errno != 0 && errno != ERANGE) || isnan(v))
                return false;
        *ret = v;
        return true;
}

/* [\d.]+ that is a valid decimal number: digits with at most one '.', at least one digit. A
 * number with more than 40 integer digits is larger than any span (INFINITY, clamped later);
 * fraction digits that do not fit the buffer do not change a double. */
static const char *parse_number(const char *p, double *ret) {
        const char *b = p, *dot = NULL;
        bool digit = false;
        char buf[64];
        size_t n;

        for (; *p; p++) {
                if (isdigit((unsigned char) *p))
                        digit = true;
                else if (*p == '.' && !dot)
                        dot = p;
                else
                        break;
        }
        if (!digit)
                return NULL;
        while (*b == '0' && isdigit((unsigned char) b[1]))
                b++; /* leading zeros */
        if ((dot ?: p) - b > 40) {
                *ret = INFINITY;
                return p;
        }
        n = (size_t) (p - b) < sizeof(buf) ? (size_t) (p - b) : sizeof(buf) - 1;
        memcpy(buf, b, n);
        buf[n] = 0;
        *ret = strtod(buf, NULL);
        return p;
}

/* Exactly @n digits (n > 0) or, with n == 0, one or more digits. Returns the end or NULL. */
static const char *parse_digits(const char *p, size_t n, double *ret) {
        const char *b = p;
        double v = 0;

        while (isdigit((unsigned char) *p) && (n == 0 || (size_t) (p - b) < n))
                v = v * 10 + (*p++ - '0');
        if (p == b || (n > 0 && (size_t) (p - b) != n) || isdigit((unsigned char) *p))
                return NULL;
        *ret = v;
        return p;
}

/* The seconds field of a clock: two digits and an optional fraction. */
static const char *parse_clock_secs(const char *p, double *ret) {
        double whole;
        const char *e = parse_digits(p, 2, &whole);

        if (!e)
                return NULL;
        if (*e == '.') {
                if (!isdigit((unsigned char) e[1]))
                        return NULL;
                for (e++; isdigit((unsigned char) *e); e++)
                        ;
        }
        *ret = whole + (e > p + 2 ? strtod(p + 2, NULL) : 0);
        return e;
}

/*
 * A clock: ":SS", "M:SS", "H:MM:SS", "D:HH:MM:SS". @had_units: unit parts came first;
 * @days_only: those were only a days part, which the H:MM:SS form allows.
 */
static bool parse_clock(const char *p, bool had_units, bool days_only, double *ret) {
        double f[4], secs;
        size_t n = 0;

        if (*p == ':') {
                if (had_units)
                        return false;
                p = parse_clock_secs(p + 1, &secs);
                if (!p || *skip_space(p))
                        return false;
                *ret = secs;
                return true;
        }
        /* leading fields: the first has any number of digits, the later ones exactly two */
        for (;;) {
                const char *e = parse_digits(p, n == 0 ? 0 : 2, &f[n]);

                if (!e || *e != ':')
                        break;
                n++;
                p = e + 1;
                if (n == 3)
                        break;
        }
        if (n == 0)
                return false;
        p = parse_clock_secs(p, &secs);
        if (!p || *skip_space(p))
                return false;

        switch (n) {
        case 1: /* M:SS, M has one or two digits */
                if (had_units || f[0] >= 100)
                        return false;
                *ret = f[0] * 60 + secs;
                return true;
        case 2: /* H:MM:SS, optionally after a days part */
                if (had_units && !days_only)
                        return false;
                *ret = f[0] * 3600 + f[1] * 60 + secs;
                return true;
        default: /* D:HH:MM:SS */
                if (had_units)
                        return false;
                *ret = f[0] * 86400 + f[1] * 3600 + f[2] * 60 + secs;
                return true;
        }
}

/* @v, or +-TIMESPAN_MAX_SEC (-ERANGE) when longer; inf counts as longer. */
static int clamp(double v, double *ret) {
        if (v > TIMESPAN_MAX_SEC || v < -TIMESPAN_MAX_SEC) {
                *ret = v < 0 ? -TIMESPAN_MAX_SEC : TIMESPAN_MAX_SEC;
                return -ERANGE;
        }
        *ret = v;
        return 0;
}

int timespan_parse(const char *s, double *ret) {
        const char *p;
        double total = 0, sign = 1;
        int last_unit = -1;
        bool had_units = false, days_only = true, sep_ok = false;

        if (!s || !ret)
                return -EINVAL;
        if (parse_plain(s, &total))
                return clamp(total, ret);

        p = skip_space(s);
        if (*p == '+' || *p == '-') {
                sign = *p == '-' ? -1 : 1;
                p = skip_space(p + 1);
        }
        if (!*p)
                return -EINVAL;

        for (;;) {
                const char *e, *w;
                double v, clock;
                char word[16];
                int unit = -1;

                p = skip_space(p);
                if (!*p)
                        break;
                if (sep_ok && (*p == ',' || *p == '/')) {
                        p = skip_space(p + 1);
                        sep_ok = false;
                        if (!*p)
                                break;
                }
                /* a clock can only come last; try it when the next field has a ':' */
                e = p;
                while (isdigit((unsigned char) *e))
                        e++;
                if (*e == ':') {
                        if (!parse_clock(p, had_units, days_only, &clock))
                                return -EINVAL;
                        total += clock;
                        had_units = true;
                        break;
                }

                e = parse_number(p, &v);
                if (!e)
                        return -EINVAL;
                e = skip_space(e);
                for (w = e; isalpha((unsigned char) *w); w++)
                        ;
                if (w == e || (size_t) (w - e) >= sizeof(word))
                        return -EINVAL;
                memcpy(word, e, w - e);
                word[w - e] = 0;
                for (size_t i = 0; i < sizeof(unit_names) / sizeof(unit_names[0]); i++)
                        if (strcasecmp(word, unit_names[i].name) == 0) {
                                unit = unit_names[i].unit;
                                break;
                        }
                if (unit < 0 || unit <= last_unit)
                        return -EINVAL;
                if (unit != UNIT_DAYS)
                        days_only = false;
                last_unit = unit;
                total += v * unit_seconds[unit];
                had_units = true;
                /* a separator may follow any part except seconds */
                sep_ok = unit != UNIT_SECS;
                p = w;
        }

        if (!had_units)
                return -EINVAL;
        return clamp(sign * total, ret);
}

/**
 * rfc3339_utc() - see timespan.h.
 */
char *rfc3339_utc(time_t t, char *buf, size_t size) {
        struct tm tm;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                buf[0] = '\0';
        return buf;
}
