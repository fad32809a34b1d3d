/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stas/json-util.h"
#include "stas/log.h"

/**
 * json_from_kv() - convert a dict to a JSON object, keeping its key order.
 * @kv: the dict, NULL for {}
 */
json_object *json_from_kv(const StasKV *kv) {
        _cleanup_json_ json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        KV_FOREACH(i, kv) {
                json_object *s = json_object_new_string(kv->values[i]);

                if (!s)
                        return NULL;
                if (json_object_object_add(o, kv->keys[i], s) < 0) {
                        json_object_put(s);
                        return NULL;
                }
        }
        return TAKE_PTR(o);
}

/**
 * json_from_kvv() - convert a list of dicts to a JSON array of objects.
 * @list: NULL-terminated, NULL for []
 */
json_object *json_from_kvv(StasKV *const *list) {
        _cleanup_json_ json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; list && list[i]; i++) {
                json_object *o = json_from_kv(list[i]);

                if (!o)
                        return NULL;
                if (json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        return NULL;
                }
        }
        return TAKE_PTR(a);
}

/**
 * json_to_string_dup() - serialise a JSON value into a new string.
 * @o: the value (NULL prints "null")
 * @format: compact (bus) or pretty (humans)
 * @ret: the text, caller frees
 */
int json_to_string_dup(json_object *o, JsonFormat format, char **ret) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
        const char *s;
        char *d;

        flags |= format == JSON_FORMAT_PRETTY ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                              : JSON_C_TO_STRING_PLAIN;
        s = json_object_to_json_string_ext(o, flags);
        if (!s)
                return -ENOMEM;
        d = strdup(s);
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

/**
 * json_parse() - parse one complete JSON text.
 * @text: the text, NUL-terminated (NULL is invalid)
 * @ret: the value (caller puts)
 */
int json_parse(const char *text, json_object **ret) {
        json_tokener *tok;
        json_object *o;
        size_t len;

        if (!text)
                return -EINVAL;
        len = strlen(text);
        if (len > INT32_MAX)
                return -EINVAL;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int) len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
            text[json_tokener_get_parse_end(tok) +
                 strspn(text + json_tokener_get_parse_end(tok), " \t\r\n")]) {
                /* a bare "null" parses to NULL successfully; it is not what we want either */
                log_debug("Invalid JSON text: %s", json_tokener_error_desc(json_tokener_get_error(tok)));
                json_object_put(o);
                json_tokener_free(tok);
                return -EINVAL;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}

/**
 * json_to_kv() - convert a JSON object of strings to a dict.
 * @o: the object; anything else, or a non-string member, is -EINVAL
 * @ret: the dict (caller frees)
 */
int json_to_kv(json_object *o, StasKV **ret) {
        _cleanup_(kv_freep) StasKV *kv = NULL;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return -EINVAL;
        kv = kv_new();
        if (!kv)
                return -ENOMEM;
        json_object_object_foreach(o, key, val) {
                if (!json_object_is_type(val, json_type_string))
                        return log_debug_errno(
                                SYNTHETIC_ERRNO(EINVAL), "JSON member '%s' is not a string", key);
                r = kv_set(kv, key, json_object_get_string(val));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(kv);
        return 0;
}

/**
 * json_to_kvv() - convert a JSON array of string objects to a list of dicts.
 * @o: the array; anything else, or a bad element, is -EINVAL
 * @ret: NULL-terminated list, never NULL on success (caller frees with kvv_free())
 */
int json_to_kvv(json_object *o, StasKV ***ret) {
        _cleanup_(kvv_freep) StasKV **list = NULL;
        size_t n;
        int r;

        if (!json_object_is_type(o, json_type_array))
                return -EINVAL;
        list = new0(StasKV *, 1);
        if (!list)
                return -ENOMEM;
        n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++) {
                StasKV *kv = NULL;

                r = json_to_kv(json_object_array_get_idx(o, i), &kv);
                if (r < 0)
                        return r;
                r = kvv_consume(&list, kv);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(list);
        return 0;
}
