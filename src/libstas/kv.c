/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stas/kv.h"

StasKV *kv_new(void) {
        return new0(StasKV, 1);
}

StasKV *kv_free(StasKV *kv) {
        if (!kv)
                return NULL;
        for (size_t i = 0; i < kv->n; i++) {
                free(kv->keys[i]);
                free(kv->values[i]);
        }
        free(kv->keys);
        free(kv->values);
        free(kv);
        return NULL;
}

static ssize_t kv_index(const StasKV *kv, const char *key) {
        for (size_t i = 0; kv && i < kv->n; i++)
                if (streq(kv->keys[i], key))
                        return (ssize_t) i;
        return -1;
}

int kv_set(StasKV *kv, const char *key, const char *value) {
        _cleanup_free_ char *v = strdup(strempty(value));
        ssize_t i;

        if (!v)
                return -ENOMEM;
        i = kv_index(kv, key);
        if (i >= 0) {
                free(kv->values[i]);
                kv->values[i] = TAKE_PTR(v);
                return 0;
        }
        if (kv->n == kv->allocated) {
                size_t na = kv->allocated ? kv->allocated * 2 : 8;
                char **nk = realloc(kv->keys, na * sizeof(char *));
                if (!nk)
                        return -ENOMEM;
                kv->keys = nk;
                char **nv = realloc(kv->values, na * sizeof(char *));
                if (!nv)
                        return -ENOMEM;
                kv->values = nv;
                kv->allocated = na;
        }
        kv->keys[kv->n] = strdup(key);
        if (!kv->keys[kv->n])
                return -ENOMEM;
        kv->values[kv->n++] = TAKE_PTR(v);
        return 0;
}

const char *kv_get(const StasKV *kv, const char *key) {
        ssize_t i = kv_index(kv, key);
        return i >= 0 ? kv->values[i] : NULL;
}

bool kv_remove(StasKV *kv, const char *key) {
        ssize_t i = kv_index(kv, key);

        if (i < 0)
                return false;
        free(kv->keys[i]);
        free(kv->values[i]);
        memmove(kv->keys + i, kv->keys + i + 1, (kv->n - i - 1) * sizeof(char *));
        memmove(kv->values + i, kv->values + i + 1, (kv->n - i - 1) * sizeof(char *));
        kv->n--;
        return true;
}

StasKV *kv_copy(const StasKV *kv) {
        _cleanup_(kv_freep) StasKV *c = kv_new();

        if (!c)
                return NULL;
        KV_FOREACH(i, kv)
                if (kv_set(c, kv->keys[i], kv->values[i]) < 0)
                        return NULL;
        return TAKE_PTR(c);
}

bool kv_equal(const StasKV *a, const StasKV *b) {
        size_t na = a ? a->n : 0, nb = b ? b->n : 0;

        if (na != nb)
                return false;
        KV_FOREACH(i, a) {
                const char *v = kv_get(b, a->keys[i]);
                if (!v || !streq(v, a->values[i]))
                        return false;
        }
        return true;
}
