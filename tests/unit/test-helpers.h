/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-helpers.h - what the unit tests share: RUN_UNTIL() for tests on a real sd-event loop, and
 * (log-capture.h) the one log sink. Header-only.
 */
#pragma once

#include <systemd/sd-event.h>

#include "log-capture.h"
#include "stas/event.h"

/* Bounds of RUN_UNTIL(): against a hang, never a timing assertion (meson's timeout ends it first). */
#define RUN_UNTIL_MAX_ITERATIONS 10000
#define RUN_UNTIL_ITERATION_USEC (5 * USEC_PER_SEC)

/* RUN_UNTIL() - run loop iterations of @e until @cond holds (at most the bounds above), then assert it. */
#define RUN_UNTIL(e, cond)                                                             \
        do {                                                                           \
                for (unsigned _i = 0; !(cond) && _i < RUN_UNTIL_MAX_ITERATIONS; _i++)  \
                        assert_true(sd_event_run((e), RUN_UNTIL_ITERATION_USEC) >= 0); \
                assert_true(cond);                                                     \
        } while (0)
