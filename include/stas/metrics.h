/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h - the daemon's process-wide counters (issue 11): they outlive removed controllers.
 * Shown by process_info as "metrics", an array of families
 * {"name", "type": "counter"|"gauge", "help", "samples": [{"labels": {...}, "value": N}]}.
 * Loop thread only.
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "stas/ctrl-set.h"
#include "stas/ctrl.h"

/*
 * stas_metrics_add() - add @n to the counter @family (one of the stas_*_total families of
 * metrics.c) with up to two labels (@k2 NULL: one; @k1 NULL: none). Out of memory: dropped.
 */
void stas_metrics_add(
        const char *family, const char *k1, const char *v1, const char *k2, const char *v2, uint64_t n);
/* stas_metrics_value() - a counter's value (tests). */
uint64_t stas_metrics_value(
        const char *family, const char *k1, const char *v1, const char *k2, const char *v2);
/* stas_metrics_reset() - forget every counter (tests). */
void stas_metrics_reset(void);
/*
 * stas_metrics_json() - the families: stas_uptime_seconds, stas_controllers{state,transport}
 * from @ctrls (@n of them, the live set), then every known counter family (stafd's only when
 * @stafd). NULL: out of memory.
 */
json_object *stas_metrics_json(StasCtrl *const *ctrls, size_t n, bool stafd);
/* stas_metrics_info_add() - add "metrics" (stas_metrics_json() of @set's live controllers) to @o. */
int stas_metrics_info_add(json_object *o, const StasCtrlSet *set, bool stafd);
