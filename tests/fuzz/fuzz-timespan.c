/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-timespan.c - time spans (timespan.c), as zeroconf-connections-persistence= takes them.
 * Input: the text. Accepted: timespan_parse() succeeds. Invariants: the result is finite and within
 * +-TIMESPAN_MAX_SEC (a longer span is reported with -ERANGE and clamped to the maximum, which the
 * daemon turns into microseconds), and an accepted span survives a
 * round trip through its plain-seconds form ("%.17g" is read back as the same number; subnormal
 * results, far below a microsecond, are left out: the plain form refuses them as out of range).
 */
#include <errno.h>
#include <float.h>
#include <math.h>

#include "fuzz.h"
#include "stas/timespan.h"

bool fuzz_one(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size);
        double v = NAN, back = NAN;
        char plain[64];
        int r;

        r = timespan_parse(s, &v);
        if (r == -ERANGE) {
                if (fabs(v) != TIMESPAN_MAX_SEC)
                        fuzz_fail(
                                "timespan_parse(\"%s\") out of range gave %g, not +-%g",
                                s,
                                v,
                                TIMESPAN_MAX_SEC);
                return true;
        }
        if (r < 0) {
                fuzz_assert(r == -EINVAL);
                return false;
        }
        if (!isfinite(v) || fabs(v) > TIMESPAN_MAX_SEC)
                fuzz_fail("timespan_parse(\"%s\") gave %g, not a finite number", s, v);
        if (v != 0 && fabs(v) < DBL_MIN)
                return true;
        snprintf(plain, sizeof(plain), "%.17g", v);
        if (timespan_parse(plain, &back) < 0 || back != v)
                fuzz_fail("timespan_parse(\"%s\") gave %.17g, but \"%s\" reads as %.17g", s, v, plain, back);
        return true;
}
