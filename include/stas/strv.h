/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strv.h - NULL-terminated arrays of owned strings. The array and its strings are malloc'ed and
 * freed together with strv_free(). Nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stas/macro.h"

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

/* strv_free() - free the strings and the array; returns NULL. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* strv_length() - number of strings in @l (NULL is empty). */
size_t strv_length(char *const *l);

/* strv_extend() - append a copy of @s to *@l. Return: 0 or -ENOMEM. */
int strv_extend(char ***l, const char *s);

/* strv_consume() - append @s (taking ownership, freed on failure). Return: 0 or -ENOMEM. */
int strv_consume(char ***l, char *s);

/* strv_contains() - true if @s is an element of @l. */
bool strv_contains(char *const *l, const char *s);

/* strv_copy() - deep copy; NULL on allocation failure (a NULL input gives an empty strv). */
char **strv_copy(char *const *l);

/* strv_split() - split @s on any of the characters in @sep, dropping empty pieces. Linear in
 * the length of @s. */
char **strv_split(const char *s, const char *sep);

/* strv_join() - join with @sep; NULL on allocation failure. */
char *strv_join(char *const *l, const char *sep);
