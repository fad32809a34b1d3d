/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-cli-typed.c - what stafctl and stacctl make of a daemon's answer (src/cli/typed.c): the
 * Python dict text of the operation and dlpe values, timers, and process_info's JSON.
 * Input: a key, a newline, then the wire value. Accepted: the value reads as a Python dict.
 * Invariants: every typed result serializes to JSON that json-c reads back; the dict read never
 * gives a key twice; a value that is not a dict for a dict key stays the same string; the value
 * parsed as JSON, when it is an object, goes through the process_info grouping as well.
 */
#include <string.h>

#include "cli.h"
#include "fuzz.h"

static void check_json(json_object *o, const char *what) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        json_object *back = json_tokener_parse(s);

        if (!back && o)
                fuzz_fail("%s: the typed JSON does not read back: %s", what, s);
        json_object_put(back);
}

bool fuzz_one(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size);
        _cleanup_(kv_freep) StasKV *kv = NULL;
        static const char *const keys[] = {
                "connect operation",    "dlpe",  "retry connect timer", "portid", "connected",
                "unresponsive timeout", "device"
        };
        char *value = strchr(s, '\n');
        json_object *o;
        int r;

        if (!value)
                return false;
        *value++ = 0;
        o = cli_typed_value(s, value);
        check_json(o, s);
        json_object_put(o);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                o = cli_typed_value(keys[i], value);
                check_json(o, keys[i]);
                json_object_put(o);
        }
        json_object *in = json_tokener_parse(value);
        if (json_object_is_type(in, json_type_object)) {
                o = cli_typed_process_info(in);
                check_json(o, "process_info");
                json_object_put(o);
        }
        json_object_put(in);
        r = cli_pydict_parse(value, &kv);
        if (r < 0)
                return false;
        KV_FOREACH(i, kv)
                for (size_t j = i + 1; j < kv->n; j++)
                        fuzz_assert(!streq(kv->keys[i], kv->keys[j]));
        return true;
}
