/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log-pages.h - the one codec of the log-pages JSON: stafd's get_all_log_pages answer (§4.2), an
 * array of {"discovery-controller": {..}, "log-pages": [{..}, ..]} with string values only, and
 * the "log-pages" arrays of the state files (stafd's per DC, stacd's "discovered" set, which is a
 * get_all_log_pages array). stafd encodes with it, stacd decodes (and encodes its state file)
 * with it, the CLIs decode with it. The text is a compatibility contract: the encoder writes
 * the keys of each dict in its order, "discovery-controller" before "log-pages", and nothing else.
 *
 * The text comes from another process (or a file) and is hostile: the decoder reads element by
 * element and entry by entry, so one bad part never hides the others, and takes only what is
 * within the wire limits (wire.h): a dict is a JSON object whose values are all strings, whose keys
 * are printable (no control characters) and at most STAS_WIRE_FIELD_MAX bytes, and whose values
 * are at most STAS_WIRE_VALUE_MAX bytes. What to do with the parts it skips is the caller's
 * decision (counted in LogPagesRead). Nothing here logs.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "stas/kv.h"

/* ---- encoder ---- */

/* log_pages_to_json() - a "log-pages" array: one object per entry of @dlpes (NULL: []). NULL on ENOMEM. */
json_object *log_pages_to_json(StasKV *const *dlpes);

/*
 * log_pages_add_element() - append one get_all_log_pages element to @array:
 * {"discovery-controller": @dc, "log-pages": @dlpes}. Return: 0 or -ENOMEM (@array unchanged).
 */
int log_pages_add_element(json_object *array, const StasKV *dc, StasKV *const *dlpes);

/* ---- decoder ---- */

/*
 * log_pages_parse() - parse a get_all_log_pages text: complete JSON (trailing garbage refused)
 * whose top level is an array. Return: 0 and *@ret (put it), -EINVAL, -ENOMEM.
 */
int log_pages_parse(const char *text, json_object **ret);

/*
 * log_pages_dict_from_json() - one dict within the wire limits (see above).
 * Return: 0 and *@ret, -EINVAL (anything else), -ENOMEM.
 */
int log_pages_dict_from_json(json_object *o, StasKV **ret);

/*
 * log_pages_element_from_json() - one element of a get_all_log_pages array: *@ret_dc is its
 * "discovery-controller" dict, *@ret_pages its "log-pages" array (borrowed from @e), NULL when it
 * is missing or not an array. Return: 0; -ENOENT when @e is not an object or has no
 * "discovery-controller"; -EINVAL when that is not a dict within the limits; -ENOMEM.
 */
int log_pages_element_from_json(json_object *e, StasKV **ret_dc, json_object **ret_pages);

/* How to read a "log-pages" array (log_pages_from_json()), and what was skipped. */
typedef struct LogPagesRead {
        /* ---- in ---- */
        bool check;         /* an entry must pass dlpe_check() (it may reach a connect string) */
        bool usable_traddr; /* ... and have a usable traddr (dlpe_has_usable_traddr()) */
        size_t max_entries; /* read at most this many array elements (0: all) */
        /* called for each entry the checks refuse, before it is freed: @field names the bad field
         * (dlpe_check()), NULL for an unusable traddr (optional) */
        void (*refused)(void *userdata, const StasKV *entry, const char *field);
        void *userdata;
        /* ---- out ---- */
        size_t malformed; /* elements that are not a dict within the limits */
        size_t n_refused; /* entries the checks refused */
} LogPagesRead;

/*
 * log_pages_from_json() - the entries of a "log-pages" array, read as @rd says, in order.
 * *@ret is NULL-terminated, never NULL on success (maybe empty); free it with dlp_list_free().
 * Return: 0, -EINVAL (@pages is not an array), -ENOMEM.
 */
int log_pages_from_json(json_object *pages, LogPagesRead *rd, StasKV ***ret);
