/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stas/dlp.h"
#include "stas/json-util.h"
#include "stas/log-pages.h"
#include "stas/wire.h"

/**
 * log_pages_to_json() - see log-pages.h.
 * @dlpes: NULL-terminated, NULL for []
 */
json_object *log_pages_to_json(StasKV *const *dlpes) {
        return json_from_kvv(dlpes);
}

/**
 * log_pages_add_element() - see log-pages.h.
 * @array: the get_all_log_pages array
 * @dc: the discovery controller's dict
 * @dlpes: its entries (NULL: none)
 */
int log_pages_add_element(json_object *array, const StasKV *dc, StasKV *const *dlpes) {
        _cleanup_json_ json_object *e = json_object_new_object();
        json_object *dco, *pages;

        if (!e)
                return -ENOMEM;
        dco = json_from_kv(dc);
        if (!dco || json_object_object_add(e, "discovery-controller", dco) < 0) {
                json_object_put(dco);
                return -ENOMEM;
        }
        pages = log_pages_to_json(dlpes);
        if (!pages || json_object_object_add(e, "log-pages", pages) < 0) {
                json_object_put(pages);
                return -ENOMEM;
        }
        if (json_object_array_add(array, e) < 0)
                return -ENOMEM;
        TAKE_PTR(e);
        return 0;
}

/**
 * log_pages_parse() - see log-pages.h.
 * @text: the text (hostile; NULL is -EINVAL)
 * @ret: the array
 */
int log_pages_parse(const char *text, json_object **ret) {
        json_object *o = NULL;
        int r;

        r = json_parse(text, &o);
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_array)) {
                json_object_put(o);
                return -EINVAL;
        }
        *ret = o;
        return 0;
}

/**
 * log_pages_dict_from_json() - see log-pages.h.
 * @o: the JSON value
 * @ret: the dict
 */
int log_pages_dict_from_json(json_object *o, StasKV **ret) {
        _cleanup_(kv_freep) StasKV *kv = NULL;

        if (!json_object_is_type(o, json_type_object))
                return -EINVAL;
        kv = kv_new();
        if (!kv)
                return -ENOMEM;
        json_object_object_foreach(o, key, val) {
                if (!json_object_is_type(val, json_type_string) || stas_check_wire_field(key) < 0 ||
                    strlen(json_object_get_string(val)) > STAS_WIRE_VALUE_MAX)
                        return -EINVAL;
                if (kv_set(kv, key, json_object_get_string(val)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(kv);
        return 0;
}

/**
 * log_pages_element_from_json() - see log-pages.h.
 * @e: the element
 * @ret_dc: its DC
 * @ret_pages: its "log-pages" array, or NULL
 */
int log_pages_element_from_json(json_object *e, StasKV **ret_dc, json_object **ret_pages) {
        json_object *dco, *pages = NULL;
        int r;

        if (!json_object_is_type(e, json_type_object) ||
            !json_object_object_get_ex(e, "discovery-controller", &dco))
                return -ENOENT;
        r = log_pages_dict_from_json(dco, ret_dc);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(e, "log-pages", &pages) ||
            !json_object_is_type(pages, json_type_array))
                pages = NULL;
        *ret_pages = pages;
        return 0;
}

/* The checks of @rd on one decoded entry. Return: true to keep it. */
static bool entry_passes(LogPagesRead *rd, const StasKV *e) {
        const char *field = NULL;

        if (rd->check && dlpe_check(e, &field) < 0) {
                rd->n_refused++;
                if (rd->refused)
                        rd->refused(rd->userdata, e, field);
                return false;
        }
        if (rd->usable_traddr && !dlpe_has_usable_traddr(e)) {
                rd->n_refused++;
                if (rd->refused)
                        rd->refused(rd->userdata, e, NULL);
                return false;
        }
        return true;
}

/**
 * log_pages_from_json() - see log-pages.h.
 * @pages: the "log-pages" array
 * @rd: the rules in, the counts out
 * @ret: the entries
 */
int log_pages_from_json(json_object *pages, LogPagesRead *rd, StasKV ***ret) {
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        size_t len, n = 0, cap = 0;
        int r;

        if (!json_object_is_type(pages, json_type_array))
                return -EINVAL;
        len = json_object_array_length(pages);
        if (rd->max_entries > 0 && len > rd->max_entries)
                len = rd->max_entries;
        for (size_t i = 0; i < len; i++) {
                StasKV *e = NULL;

                r = log_pages_dict_from_json(json_object_array_get_idx(pages, i), &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        rd->malformed++;
                        continue;
                }
                if (!entry_passes(rd, e)) {
                        kv_free(e);
                        continue;
                }
                r = dlp_list_push(&l, &n, &cap, e);
                if (r < 0)
                        return r;
        }
        if (!l) {
                l = new0(StasKV *, 1);
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
