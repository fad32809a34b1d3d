/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stas/timespan.h"

static void check(const char *s, double expected) {
        double v = NAN;
        int r = timespan_parse(s, &v);

        if (r != 0 || fabs(v - expected) > 1e-9)
                fail_msg("timespan_parse(\"%s\") = %d, %g; expected %g", s, r, v, expected);
}

static void check_invalid(const char *s) {
        double v = 12345;
        int r = timespan_parse(s, &v);

        if (r != -EINVAL || v != 12345)
                fail_msg("timespan_parse(\"%s\") = %d, %g; expected -EINVAL", s, r, v);
}

/* The examples of the inventory (§3.6). */
static void test_timespan_inventory_examples(void **state) {
        check("72hours", 259200);
        check("3 days 5 hours", 277200);
        check("1h30m", 5400);
        check("1:01", 61);
        check("1.2 minutes", 72);
        check("- 1 minute", -60);
        check_invalid("blah");
}

/* The vectors of upstream's test-timeparse. */
static void test_timespan_upstream_vectors(void **state) {
        check("1", 1);
        check("1s", 1);
        check("1 sec", 1);
        check("1 second", 1);
        check("1 seconds", 1);
        check("1:01", 61);
        check("1 day", 86400);
        check("1 hour", 3600);
        check("1 min", 60);
        check("0.5", 0.5);
        check("-1", -1);
        check(":22", 22);
        check("1 minute, 24 secs", 84);
        check("1.2 minutes", 72);
        check("1.2 seconds", 1.2);
        check("- 1 minute", -60);
        check("+ 1 minute", 60);
        check_invalid("blah");
        /* the docstring examples */
        check("1:24", 84);
        check("1m24s", 84);
}

static void test_timespan_plain_numbers(void **state) {
        check("0", 0);
        check("  42  ", 42);
        check("+3.5", 3.5);
        check("1e3", 1000);
        check_invalid("inf");
        check_invalid("nan");
        check_invalid("0x10");
        check_invalid("1e");
        check_invalid("- 1"); /* a sign then a bare number is not a span */
}

static void test_timespan_unit_spellings(void **state) {
        const char *days[] = { "d", "dy", "dys", "day", "days", "DAYS" };
        const char *hours[] = { "h", "hr", "hrs", "hour", "hours", "Hours" };
        const char *mins[] = { "m", "min", "mins", "minute", "minutes", "MIN" };
        const char *secs[] = { "s", "sec", "secs", "second", "seconds", "Sec" };
        const char *weeks[] = { "w", "wk", "wks", "week", "weeks" };
        char buf[64];

        for (size_t i = 0; i < 6; i++) {
                snprintf(buf, sizeof(buf), "2%s", days[i]);
                check(buf, 2 * 86400);
                snprintf(buf, sizeof(buf), "2 %s", hours[i]);
                check(buf, 2 * 3600);
                snprintf(buf, sizeof(buf), "2%s", mins[i]);
                check(buf, 120);
                snprintf(buf, sizeof(buf), "2 %s", secs[i]);
                check(buf, 2);
        }
        for (size_t i = 0; i < 5; i++) {
                snprintf(buf, sizeof(buf), "1 %s", weeks[i]);
                check(buf, 7 * 86400);
        }
        check_invalid("1 fortnight");
        check_invalid("1 hs");
        check_invalid("1 dayss");
}

static void test_timespan_combinations_and_separators(void **state) {
        check("1d,2h/3m 4s", 86400 + 7200 + 180 + 4);
        check("1 day , 2 hours", 86400 + 7200);
        check("1 week 1 day", 8 * 86400);
        check("1.5h", 5400);
        check("2 hours,", 7200);         /* a trailing separator after a non-seconds part */
        check_invalid("1 hour 1 day");   /* units must decrease */
        check_invalid("1 hour 2 hours"); /* each unit once */
        check_invalid("1 sec, ");        /* no separator after seconds */
        check_invalid("1 min,, 2 s");    /* one separator */
        check_invalid(", 1 min");        /* not before the first part */
        check_invalid("1.2.3 minutes");
        check_invalid(". minutes");
        check_invalid("minutes");
        check_invalid("");
        check_invalid("   ");
        check_invalid("-");
        check_invalid(NULL);
}

static void test_timespan_clock_forms(void **state) {
        check(":05", 5);
        check(":05.5", 5.5);
        check("1:02:03", 3723);
        check("100:00:00", 360000);
        check("1:02:03:04", 93784);
        check("12:34", 754);
        check("1 day 1:00:00", 90000);
        check("1d, 1:00:00", 90000);
        check("-1:00", -60);
        check("1:02:03.25", 3723.25);
        check_invalid("1:2");    /* seconds need two digits */
        check_invalid("123:45"); /* M has at most two digits */
        check_invalid("1:2:03"); /* MM needs two digits */
        check_invalid("1:02:03:04:05");
        check_invalid("1 hour 1:00:00"); /* only a days part may precede H:MM:SS */
        check_invalid("1 day 1:00");
        check_invalid("1:00 junk");
        check_invalid(":5");
        check_invalid("1.5:00");
}

static void check_clamped(const char *s, double expected) {
        double v = NAN;
        int r = timespan_parse(s, &v);

        if (r != -ERANGE || v != expected)
                fail_msg("timespan_parse(\"%.40s...\") = %d, %g; expected -ERANGE, %g", s, r, v, expected);
}

/* Spans longer than TIMESPAN_MAX_SEC are taken as the maximum (-ERANGE), never inf or 1e300. */
static void test_timespan_clamped_to_max(void **state) {
        char nines[512], buf[600];

        memset(nines, '9', 400);
        nines[400] = '\0';
        check_clamped("1e300", TIMESPAN_MAX_SEC);
        check_clamped("1e999", TIMESPAN_MAX_SEC); /* beyond a double */
        check_clamped("-1e300", -TIMESPAN_MAX_SEC);
        check_clamped("1000000000000000 weeks", TIMESPAN_MAX_SEC);
        snprintf(buf, sizeof(buf), "%s:00:00", nines);
        check_clamped(buf, TIMESPAN_MAX_SEC);
        snprintf(buf, sizeof(buf), "-%s:00:00", nines);
        check_clamped(buf, -TIMESPAN_MAX_SEC);
        snprintf(buf, sizeof(buf), "%s weeks", nines); /* a 400-digit unit part */
        check_clamped(buf, TIMESPAN_MAX_SEC);
        snprintf(buf, sizeof(buf), "%s", nines);
        check_clamped(buf, TIMESPAN_MAX_SEC);
        check_clamped("3651 days", TIMESPAN_MAX_SEC);
        /* the maximum itself and anything shorter are exact */
        check("3650 days", TIMESPAN_MAX_SEC);
        check("315360000", TIMESPAN_MAX_SEC);
        check("1e-999", 0); /* too small for a double: 0 */
        /* long numbers that are short spans */
        check("00000000000000000000000000000000000000000000000000000000000000000000001 min", 60);
        check("1.0000000000000000000000000000000000000000000000000000000000000000000000000001 h", 3600);
        check_invalid("inf");
        check_invalid("1e999e");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_timespan_inventory_examples),
                cmocka_unit_test(test_timespan_upstream_vectors),
                cmocka_unit_test(test_timespan_plain_numbers),
                cmocka_unit_test(test_timespan_unit_spellings),
                cmocka_unit_test(test_timespan_combinations_and_separators),
                cmocka_unit_test(test_timespan_clock_forms),
                cmocka_unit_test(test_timespan_clamped_to_max),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
