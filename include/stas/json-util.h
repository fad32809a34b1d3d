/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json-util.h - json-c helpers for the JSON strings the daemons put on the bus
 * (get_all_log_pages through its codec log-pages.h, process_info, controller_info) and the CLIs
 * print. Dicts become JSON
 * objects with their keys in StasKV order (insertion order, so output is stable). Decoding is
 * strict: the text comes from another process and is hostile, so anything but the expected
 * shape (an object of strings, an array of such objects) is -EINVAL, never a crash. Nothing here
 * logs above debug level.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "stas/kv.h"
#include "stas/kvv.h"
#include "stas/macro.h"

static inline void json_object_putp(json_object **o) {
        if (*o)
                (void) json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

typedef enum JsonFormat {
        JSON_FORMAT_COMPACT, /* one line, no spaces: what goes over D-Bus */
        JSON_FORMAT_PRETTY,  /* indented by 4, for humans */
} JsonFormat;

/* json_from_kv() - a new object with the keys/values of @kv (NULL = {}). NULL on ENOMEM. */
json_object *json_from_kv(const StasKV *kv);

/* json_from_kvv() - a new array of objects from the NULL-terminated @list. NULL on ENOMEM. */
json_object *json_from_kvv(StasKV *const *list);

/*
 * json_to_string_dup() - serialise @o (NULL is "null") without escaping '/'.
 * Return: 0 or -ENOMEM; *@ret is malloc'ed.
 */
int json_to_string_dup(json_object *o, JsonFormat format, char **ret);

/* json_parse() - parse a complete JSON text (trailing garbage rejected). Return: 0 or -EINVAL. */
int json_parse(const char *text, json_object **ret);

/* json_to_kv() - an object whose values are all strings -> dict. Return: 0, -EINVAL or -ENOMEM. */
int json_to_kv(json_object *o, StasKV **ret);

/* json_to_kvv() - an array of such objects -> list. Return: 0, -EINVAL or -ENOMEM. */
int json_to_kvv(json_object *o, StasKV ***ret);
