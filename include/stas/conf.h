/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf.h - the INI reader behind stafd.conf, stacd.conf and sys.conf. It reproduces the Python
 * configparser setup of nvme-stas (§3.1): section names are case-sensitive, option names are
 * lower-cased, '=' is the only delimiter and the whitespace around it is dropped, full-line
 * comments start with '#' or ';', a repeated key keeps every value (callers of single-valued
 * options take the last one), indented lines continue the previous key with extra values, a key
 * without '=' has a NULL value, and a missing file reads as empty.
 * Deliberate deviations: an inline comment (whitespace, then '#', then anything) is stripped, and
 * text that is none of the above (e.g. a key before any section header, "[Global] junk",
 * "=value") makes the whole parse fail with -EINVAL and an error naming file:line, so a reload
 * can keep the running configuration.
 * Every value keeps its line number so later warnings can name file and line. This module logs
 * only syntax and I/O errors; it knows nothing about which keys are valid.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stas/macro.h"

typedef struct StasIniValue {
        char *value;       /* NULL: the key was given without '=' */
        unsigned line;     /* 1-based line of this value */
        bool continuation; /* an indented continuation line of the previous value */
} StasIniValue;

typedef struct StasIniKey {
        char *section; /* as written, case-sensitive */
        char *key;     /* lower-cased */
        StasIniValue *values;
        size_t n_values;
} StasIniKey;

typedef struct StasIniSection {
        char *name;
        unsigned line; /* first header line */
} StasIniSection;

typedef struct StasIni {
        char *name;               /* file name used in messages */
        StasIniSection *sections; /* unique, in order of first appearance */
        size_t n_sections;
        StasIniKey *keys; /* unique (section, key), in order of first appearance */
        size_t n_keys;
} StasIni;

/*
 * ini_parse_string() - parse @text; @name is the file name used in messages (NULL: "<string>").
 * Return: 0 and *@ret, -EINVAL on a syntax error (logged as "name:line: ..."), -ENOMEM.
 */
int ini_parse_string(const char *text, const char *name, StasIni **ret);

/*
 * ini_parse_file() - read and parse @path. A missing file (ENOENT) gives an empty StasIni.
 * Other read errors, a file larger than 1 MiB or one containing a NUL byte are errors (logged).
 * Return: 0 and *@ret, or -errno.
 */
int ini_parse_file(const char *path, StasIni **ret);

/* ini_free() - NULL-tolerant; returns NULL. */
StasIni *ini_free(StasIni *ini);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasIni *, ini_free);

/* ini_find() - the key @key (lower-case) in @section, or NULL. */
const StasIniKey *ini_find(const StasIni *ini, const char *section, const char *key);

/* ini_has_section() - whether a [@section] header appeared. */
bool ini_has_section(const StasIni *ini, const char *section);

/*
 * ini_last() - for a single-valued key: the value that counts, i.e. the last one not being a
 * continuation line. NULL when @k is NULL or has no values. *@ret_multiline (optional) is set
 * when continuation lines follow it (Python would join them into one multi-line value).
 */
const StasIniValue *ini_last(const StasIniKey *k, bool *ret_multiline);
