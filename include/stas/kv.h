/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv.h - an ordered string-to-string dictionary (StasKV). Used for controller= entries, DLPE
 * dicts and D-Bus a{ss} output. Keys are unique; kv_set() replaces in place and keeps the
 * original position. Small by design (linear lookups over tens of keys). Nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stas/macro.h"

typedef struct StasKV {
        size_t n, allocated;
        char **keys;
        char **values;
} StasKV;

#define KV_FOREACH(i, kv) for (size_t i = 0; (kv) && i < (kv)->n; i++)

StasKV *kv_new(void);
/* kv_free() - NULL-tolerant; returns NULL. */
StasKV *kv_free(StasKV *kv);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasKV *, kv_free);

/* kv_set() - set @key to a copy of @value (NULL stored as ""). Return: 0 or -ENOMEM. */
int kv_set(StasKV *kv, const char *key, const char *value);
/* kv_get() - the value of @key or NULL. */
const char *kv_get(const StasKV *kv, const char *key);
/* kv_remove() - remove @key; true if it was present. */
bool kv_remove(StasKV *kv, const char *key);
/* kv_copy() - deep copy, NULL on allocation failure. */
StasKV *kv_copy(const StasKV *kv);
/* kv_equal() - same keys with the same values, in any order. */
bool kv_equal(const StasKV *a, const StasKV *b);
