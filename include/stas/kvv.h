/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kvv.h - NULL-terminated arrays of owned StasKV dicts, the C form of D-Bus aa{ss} and of JSON
 * arrays of flat objects. The array and its dicts are freed together with kvv_free(). Header
 * only. Nothing here logs.
 */
#pragma once

#include <errno.h>
#include <stdlib.h>

#include "stas/kv.h"
#include "stas/macro.h"

/* kvv_free() - free every dict and the array; NULL-tolerant; returns NULL. */
static inline StasKV **kvv_free(StasKV **l) {
        if (!l)
                return NULL;
        for (StasKV **i = l; *i; i++)
                kv_free(*i);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(StasKV **, kvv_free);

/* kvv_length() - number of dicts in @l (NULL is empty). */
static inline size_t kvv_length(StasKV *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

/* kvv_consume() - append @kv to *@l, taking ownership (freed on failure). Return: 0 or -ENOMEM. */
static inline int kvv_consume(StasKV ***l, StasKV *kv) {
        size_t n = kvv_length(*l);
        StasKV **t;

        t = realloc(*l, sizeof(StasKV *) * (n + 2));
        if (!t) {
                kv_free(kv);
                return -ENOMEM;
        }
        t[n] = kv;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}
