/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stas/conf.h"
#include "stas/log.h"

#define INI_MAX_SIZE (1024 * 1024)

StasIni *ini_free(StasIni *ini) {
        if (!ini)
                return NULL;
        for (size_t i = 0; i < ini->n_sections; i++)
                free(ini->sections[i].name);
        free(ini->sections);
        for (size_t i = 0; i < ini->n_keys; i++) {
                StasIniKey *k = &ini->keys[i];

                free(k->section);
                free(k->key);
                for (size_t j = 0; j < k->n_values; j++)
                        free(k->values[j].value);
                free(k->values);
        }
        free(ini->keys);
        free(ini->name);
        free(ini);
        return NULL;
}

static StasIniKey *find_key(const StasIni *ini, const char *section, const char *key) {
        for (size_t i = 0; i < ini->n_keys; i++)
                if (streq(ini->keys[i].section, section) && streq(ini->keys[i].key, key))
                        return &ini->keys[i];
        return NULL;
}

const StasIniKey *ini_find(const StasIni *ini, const char *section, const char *key) {
        if (!ini || !section || !key)
                return NULL;
        return find_key(ini, section, key);
}

bool ini_has_section(const StasIni *ini, const char *section) {
        for (size_t i = 0; ini && section && i < ini->n_sections; i++)
                if (streq(ini->sections[i].name, section))
                        return true;
        return false;
}

const StasIniValue *ini_last(const StasIniKey *k, bool *ret_multiline) {
        bool multiline = false;

        if (ret_multiline)
                *ret_multiline = false;
        if (!k)
                return NULL;
        for (size_t i = k->n_values; i > 0; i--) {
                if (!k->values[i - 1].continuation) {
                        if (ret_multiline)
                                *ret_multiline = multiline;
                        return &k->values[i - 1];
                }
                multiline = true;
        }
        return NULL;
}

static int add_section(StasIni *ini, const char *name, size_t len, unsigned line) {
        StasIniSection *t;
        char *n;

        n = strndup(name, len);
        if (!n)
                return -ENOMEM;
        for (size_t i = 0; i < ini->n_sections; i++)
                if (streq(ini->sections[i].name, n)) {
                        free(n); /* strict=False: a repeated section merges into the first */
                        return 0;
                }
        t = realloc(ini->sections, sizeof(*t) * (ini->n_sections + 1));
        if (!t) {
                free(n);
                return -ENOMEM;
        }
        ini->sections = t;
        ini->sections[ini->n_sections++] = (StasIniSection){ .name = n, .line = line };
        return 0;
}

static int add_value(StasIniKey *k, const char *v, size_t len, unsigned line, bool continuation) {
        StasIniValue *t;
        char *copy = NULL;

        if (v) {
                copy = strndup(v, len);
                if (!copy)
                        return -ENOMEM;
        }
        t = realloc(k->values, sizeof(*t) * (k->n_values + 1));
        if (!t) {
                free(copy);
                return -ENOMEM;
        }
        k->values = t;
        k->values[k->n_values++] =
                (StasIniValue){ .value = copy, .line = line, .continuation = continuation };
        return 0;
}

static StasIniKey *get_key(StasIni *ini, const char *section, const char *key, size_t keylen) {
        _cleanup_free_ char *lower = strndup(key, keylen);
        StasIniKey *k, *t;

        if (!lower)
                return NULL;
        for (char *p = lower; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        k = find_key(ini, section, lower);
        if (k)
                return k;
        t = realloc(ini->keys, sizeof(*t) * (ini->n_keys + 1));
        if (!t)
                return NULL;
        ini->keys = t;
        k = &ini->keys[ini->n_keys];
        *k = (StasIniKey){ .section = strdup(section), .key = TAKE_PTR(lower) };
        if (!k->section) {
                free(k->key);
                return NULL;
        }
        ini->n_keys++;
        return k;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int syntax_error(const StasIni *ini, unsigned line, const char *what) {
        /* The line itself is not quoted: it may hold a secret. */
        return log_error_errno(EINVAL, "%s:%u: syntax error: %s.", ini->name, line, what);
}

int ini_parse_string(const char *text, const char *name, StasIni **ret) {
        _cleanup_(ini_freep) StasIni *ini = NULL;
        const char *section = NULL; /* owned by ini->sections */
        StasIniKey *cur = NULL;     /* the key continuation lines append to */
        size_t cur_indent = 0;
        unsigned line = 0;
        const char *p = strempty(text);
        int r;

        ini = new0(StasIni, 1);
        if (!ini)
                return -ENOMEM;
        ini->name = strdup(name ?: "<string>");
        if (!ini->name)
                return -ENOMEM;

        while (*p) {
                const char *start = p, *eol = strchrnul(p, '\n'), *b = p, *e = eol, *eq;
                size_t indent;

                line++;
                p = *eol ? eol + 1 : eol;

                while (b < e && is_blank(*b))
                        b++;
                indent = (size_t) (b - start);

                /* full-line comments, even indented ones, are skipped */
                if (b < e && (*b == '#' || *b == ';'))
                        continue;
                /* deviation: whitespace followed by '#' starts an inline comment */
                for (const char *q = b + 1; q < e; q++)
                        if (*q == '#' && is_blank(q[-1])) {
                                e = q;
                                break;
                        }
                while (e > b && is_blank(e[-1]))
                        e--;
                /* blank lines do not end a continuation (empty_lines_in_values) */
                if (b == e)
                        continue;

                if (cur && indent > cur_indent) {
                        if (!cur->values[cur->n_values - 1].value)
                                return syntax_error(ini, line, "continuation line after a key without '='");
                        r = add_value(cur, b, (size_t) (e - b), line, true);
                        if (r < 0)
                                return r;
                        continue;
                }
                cur_indent = indent;
                cur = NULL;

                if (*b == '[') {
                        if (e[-1] != ']' || e - b < 3)
                                return syntax_error(ini, line, "invalid section header");
                        r = add_section(ini, b + 1, (size_t) (e - b - 2), line);
                        if (r < 0)
                                return r;
                        for (size_t i = 0; i < ini->n_sections; i++)
                                if (strlen(ini->sections[i].name) == (size_t) (e - b - 2) &&
                                    strneq(ini->sections[i].name, b + 1, (size_t) (e - b - 2)))
                                        section = ini->sections[i].name;
                        continue;
                }
                if (!section)
                        return syntax_error(ini, line, "text before the first [section] header");

                eq = memchr(b, '=', (size_t) (e - b));
                if (eq) {
                        const char *ke = eq, *v = eq + 1;

                        while (ke > b && is_blank(ke[-1]))
                                ke--;
                        if (ke == b)
                                return syntax_error(ini, line, "'=' without an option name");
                        while (v < e && is_blank(*v))
                                v++;
                        cur = get_key(ini, section, b, (size_t) (ke - b));
                        if (!cur)
                                return -ENOMEM;
                        r = add_value(cur, v, (size_t) (e - v), line, false);
                } else {
                        cur = get_key(ini, section, b, (size_t) (e - b));
                        if (!cur)
                                return -ENOMEM;
                        r = add_value(cur, NULL, 0, line, false);
                }
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(ini);
        return 0;
}

int ini_parse_file(const char *path, StasIni **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 0;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT) {
                        log_debug("%s: not found, reading as empty.", path);
                        return ini_parse_string("", path, ret);
                }
                return log_error_errno(errno, "%s: cannot open: %m", path);
        }
        buf = malloc(INI_MAX_SIZE + 1);
        if (!buf)
                return -ENOMEM;
        n = fread(buf, 1, INI_MAX_SIZE + 1, f);
        if (ferror(f))
                return log_error_errno(errno ?: EIO, "%s: cannot read: %m", path);
        if (n > INI_MAX_SIZE)
                return log_error_errno(
                        EFBIG, "%s: larger than %d bytes, refusing to parse.", path, INI_MAX_SIZE);
        if (memchr(buf, 0, n))
                return log_error_errno(EINVAL, "%s: contains a NUL byte, not a text file.", path);
        buf[n] = 0;
        return ini_parse_string(buf, path, ret);
}
