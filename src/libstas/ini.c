/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "stas/ini.h"
#include "stas/hash.h"
#include "stas/log.h"

/* ---- the grammar ---- */

bool ini_is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1f);
}

void ini_lexer_init(IniLexer *lx, const char *text) {
        *lx = (IniLexer){ .p = strempty(text) };
}

/* Cut the next line (up to "\n", "\r\n" or "\r") off the text. */
static void lex_split(IniLexer *lx, IniLine *l) {
        const char *p = lx->p;
        size_t n = strcspn(p, "\r\n");

        l->start = p;
        l->content_len = n;
        if (p[n] == '\r' && p[n + 1] == '\n')
                n += 2;
        else if (p[n])
                n++;
        l->len = n;
        l->number = ++lx->line;
        lx->p = p + n;
}

/* The end of [@b, @e) without an inline comment (a blank, then '#') and trailing blanks. */
static const char *content_end(const char *b, const char *e) {
        for (const char *q = b + 1; q < e; q++)
                if (*q == '#' && ini_is_blank(q[-1])) {
                        e = q;
                        break;
                }
        while (e > b && ini_is_blank(e[-1]))
                e--;
        return e;
}

static void lex_invalid(IniLine *l, const char *why) {
        l->kind = INI_LINE_INVALID;
        l->error = why;
}

/* An option line [@b, @e): "name = value" or "name". */
static void lex_option(IniLexer *lx, IniLine *l, const char *b, const char *e) {
        const char *eq = memchr(b, '=', (size_t) (e - b)), *ke = eq ?: e;

        while (ke > b && ini_is_blank(ke[-1]))
                ke--;
        if (!lx->in_section) {
                lex_invalid(l, "text before the first [section] header");
                return;
        }
        if (ke == b) {
                lex_invalid(l, "'=' without an option name");
                return;
        }
        l->kind = INI_LINE_OPTION;
        l->name = b;
        l->name_len = (size_t) (ke - b);
        if (eq) {
                const char *v = eq + 1;

                while (v < e && ini_is_blank(*v))
                        v++;
                l->value = v;
                l->value_len = (size_t) (e - v);
        }
        lx->have_option = true;
        lx->option_has_value = eq != NULL;
}

/* A line that is not blank nor a comment: [@b, @e) without its indentation. */
static void lex_content(IniLexer *lx, IniLine *l, const char *b, const char *e) {
        e = content_end(b, e);
        if (lx->have_option && l->indent > lx->option_indent) {
                if (!lx->option_has_value)
                        lex_invalid(l, "continuation line after a key without '='");
                else {
                        l->kind = INI_LINE_CONTINUATION;
                        l->value = b;
                        l->value_len = (size_t) (e - b);
                }
                return;
        }
        lx->have_option = false;
        lx->option_indent = l->indent;
        if (*b != '[')
                lex_option(lx, l, b, e);
        else if (e - b < 3 || e[-1] != ']')
                lex_invalid(l, "invalid section header");
        else {
                l->kind = INI_LINE_SECTION;
                l->name = b + 1;
                l->name_len = (size_t) (e - b - 2);
                lx->in_section = true;
        }
}

bool ini_lex_line(IniLexer *lx, IniLine *ret) {
        IniLine l = {};
        const char *b, *e;

        if (!lx || !lx->p || !*lx->p)
                return false;
        lex_split(lx, &l);
        b = l.start;
        e = l.start + l.content_len;
        while (b < e && ini_is_blank(*b))
                b++;
        l.indent = (size_t) (b - l.start);

        if (b == e)
                l.kind = INI_LINE_BLANK; /* does not end a continuation (empty_lines_in_values) */
        else if (*b == '#' || *b == ';')
                l.kind = INI_LINE_COMMENT; /* full-line comments, even indented ones */
        else
                lex_content(lx, &l, b, e);
        *ret = l;
        return true;
}

unsigned ini_check_syntax(const char *text, const char **ret_error) {
        IniLexer lx;
        IniLine l;

        ini_lexer_init(&lx, text);
        while (ini_lex_line(&lx, &l))
                if (l.kind == INI_LINE_INVALID) {
                        if (ret_error)
                                *ret_error = l.error;
                        return l.number;
                }
        return 0;
}

const char *ini_redact(const char *text) {
        static const char marker[] = "dhhc-1:";

        for (const char *p = strempty(text); *p; p++)
                if (strncasecmp(p, marker, sizeof(marker) - 1) == 0)
                        return "(secret)";
        return strempty(text);
}

int ini_log_level(IniLogBudget *b, int level) {
        if (!b)
                return level;
        if (b->used < INI_MAX_MESSAGES) {
                b->used++;
                return level;
        }
        b->suppressed++;
        return LOG_DEBUG;
}

/* ---- hash indexes: SipHash-1-3, keyed per StasIni, so no file can aim at one slot ---- */

static uint32_t section_hash(const StasIni *ini, const char *name, size_t n) {
        return (uint32_t) stas_siphash13(ini->hash_key, 0, name, n);
}

static uint32_t key_hash(const StasIni *ini, size_t section, const char *key, size_t n) {
        return (uint32_t) stas_siphash13(ini->hash_key, (section + 1) * 0x9e3779b97f4a7c15ULL, key, n);
}

/* Double the table @slots (of mask+1 entries) when it is half full. The slots keep their hash,
 * so neither growing nor probing past another entry touches the entries themselves. */
static int index_grow(StasIniSlot **slots, size_t *mask, size_t n) {
        size_t size;
        StasIniSlot *t;

        if (*slots && (n + 1) * 2 <= *mask + 1)
                return 0;
        size = *slots ? (*mask + 1) * 2 : 64;
        t = new0(StasIniSlot, size);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; *slots && i <= *mask; i++)
                if ((*slots)[i].index) {
                        size_t j = (*slots)[i].hash & (size - 1);

                        while (t[j].index)
                                j = (j + 1) & (size - 1);
                        t[j] = (*slots)[i];
                }
        free(*slots);
        *slots = t;
        *mask = size - 1;
        return 0;
}

/* The slot of section @name (the empty one to fill if absent, its hash in *@ret_hash), or NULL
 * without a table. */
static StasIniSlot *section_slot(const StasIni *ini, const char *name, size_t n, uint32_t *ret_hash) {
        uint32_t h;
        size_t i;

        if (!ini->section_slots)
                return NULL;
        h = *ret_hash = section_hash(ini, name, n);
        for (i = h & ini->section_mask; ini->section_slots[i].index; i = (i + 1) & ini->section_mask) {
                const char *s;

                if (ini->section_slots[i].hash != h)
                        continue;
                s = ini->sections[ini->section_slots[i].index - 1].name;
                if (strneq(s, name, n) && s[n] == '\0')
                        break;
        }
        return &ini->section_slots[i];
}

static StasIniSlot *key_slot(
        const StasIni *ini, size_t section, const char *key, size_t n, uint32_t *ret_hash) {
        uint32_t h;
        size_t i;

        if (!ini->key_slots)
                return NULL;
        h = *ret_hash = key_hash(ini, section, key, n);
        for (i = h & ini->key_mask; ini->key_slots[i].index; i = (i + 1) & ini->key_mask) {
                const StasIniKey *k;

                if (ini->key_slots[i].hash != h)
                        continue;
                k = &ini->keys[ini->key_slots[i].index - 1];
                if (k->section_index == section && strneq(k->key, key, n) && k->key[n] == '\0')
                        break;
        }
        return &ini->key_slots[i];
}

/* ---- the reader ---- */

StasIni *ini_free(StasIni *ini) {
        if (!ini)
                return NULL;
        for (size_t i = 0; i < ini->n_sections; i++)
                free(ini->sections[i].name);
        free(ini->sections);
        for (size_t i = 0; i < ini->n_keys; i++) {
                StasIniKey *k = &ini->keys[i];

                free(k->key); /* k->section is borrowed from ini->sections */
                for (size_t j = 0; j < k->n_values; j++)
                        free(k->values[j].value);
                free(k->values);
        }
        free(ini->keys);
        free(ini->section_slots);
        free(ini->key_slots);
        free(ini->name);
        free(ini);
        return NULL;
}

const StasIniKey *ini_find(const StasIni *ini, const char *section, const char *key) {
        const StasIniSlot *s, *k;
        uint32_t h;

        if (!ini || !section || !key)
                return NULL;
        s = section_slot(ini, section, strlen(section), &h);
        if (!s || !s->index)
                return NULL;
        k = key_slot(ini, s->index - 1, key, strlen(key), &h);
        return k && k->index ? &ini->keys[k->index - 1] : NULL;
}

bool ini_has_section(const StasIni *ini, const char *section) {
        const StasIniSlot *s;
        uint32_t h;

        if (!ini || !section)
                return false;
        s = section_slot(ini, section, strlen(section), &h);
        return s && s->index;
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

/* Room for one more element in *@array of @n, *@allocated elements of @size bytes (doubling:
 * most keys have one value, so the first allocation holds one). */
static int grow(void **array, size_t n, size_t *allocated, size_t size) {
        size_t a;
        void *t;

        if (n < *allocated)
                return 0;
        a = *allocated ? *allocated * 2 : 1;
        t = reallocarray(*array, a, size);
        if (!t)
                return -ENOMEM;
        *array = t;
        *allocated = a;
        return 0;
}

/* The index of section @name (added if new: strict=False merges a repeated section). */
static int add_section(StasIni *ini, const char *name, size_t len, unsigned line, size_t *ret) {
        StasIniSlot *slot;
        uint32_t h;
        char *n;

        if (index_grow(&ini->section_slots, &ini->section_mask, ini->n_sections) < 0 ||
            grow((void **) &ini->sections,
                 ini->n_sections,
                 &ini->sections_allocated,
                 sizeof(StasIniSection)) < 0)
                return -ENOMEM;
        slot = section_slot(ini, name, len, &h);
        if (slot->index) {
                *ret = slot->index - 1;
                return 0;
        }
        n = strndup(name, len);
        if (!n)
                return -ENOMEM;
        ini->sections[ini->n_sections] = (StasIniSection){ .name = n, .line = line };
        *ret = ini->n_sections++;
        *slot = (StasIniSlot){ .index = (uint32_t) ini->n_sections, .hash = h };
        return 0;
}

static int add_value(StasIniKey *k, const char *v, size_t len, unsigned line, bool continuation) {
        char *copy = NULL;

        if (grow((void **) &k->values, k->n_values, &k->values_allocated, sizeof(StasIniValue)) < 0)
                return -ENOMEM;
        if (v) {
                copy = strndup(v, len);
                if (!copy)
                        return -ENOMEM;
        }
        k->values[k->n_values++] =
                (StasIniValue){ .value = copy, .line = line, .continuation = continuation };
        return 0;
}

/* The index of key @key (lower-cased in place) of section @section, added if new. */
static int get_key(StasIni *ini, size_t section, char *key, size_t n, size_t *ret) {
        StasIniSlot *slot;
        StasIniKey *k;
        uint32_t h;

        for (size_t i = 0; i < n; i++)
                if (key[i] >= 'A' && key[i] <= 'Z')
                        key[i] = (char) (key[i] - 'A' + 'a');
        if (index_grow(&ini->key_slots, &ini->key_mask, ini->n_keys) < 0 ||
            grow((void **) &ini->keys, ini->n_keys, &ini->keys_allocated, sizeof(StasIniKey)) < 0)
                return -ENOMEM;
        slot = key_slot(ini, section, key, n, &h);
        if (slot->index) {
                *ret = slot->index - 1;
                return 0;
        }
        k = &ini->keys[ini->n_keys];
        *k = (StasIniKey){
                .section = ini->sections[section].name,
                .key = strndup(key, n),
                .section_index = section,
        };
        if (!k->key)
                return -ENOMEM;
        *ret = ini->n_keys++;
        *slot = (StasIniSlot){ .index = (uint32_t) ini->n_keys, .hash = h };
        return 0;
}

static int syntax_error(const StasIni *ini, unsigned line, const char *what) {
        /* The line itself is not quoted: it may hold a secret. */
        return log_error_errno(EINVAL, "%s:%u: syntax error: %s.", ini->name, line, what);
}

/* One option line: its key (lower-cased through @scratch) gets the value. */
static int read_option(StasIni *ini, size_t section, const IniLine *l, char **scratch, size_t *key) {
        char *t = realloc(*scratch, l->name_len + 1);

        if (!t)
                return -ENOMEM;
        *scratch = t;
        memcpy(t, l->name, l->name_len);
        t[l->name_len] = '\0';
        if (get_key(ini, section, t, l->name_len, key) < 0)
                return -ENOMEM;
        return add_value(&ini->keys[*key], l->value, l->value_len, l->number, false);
}

int ini_parse_string(const char *text, const char *name, StasIni **ret) {
        _cleanup_(ini_freep) StasIni *ini = NULL;
        _cleanup_free_ char *scratch = NULL;
        size_t section = 0, key = 0;
        IniLexer lx;
        IniLine l;
        int r = 0;

        ini = new0(StasIni, 1);
        if (!ini)
                return -ENOMEM;
        ini->name = strdup(name ?: "<string>");
        if (!ini->name)
                return -ENOMEM;
        if (text && strnlen(text, INI_MAX_SIZE + 1) > INI_MAX_SIZE)
                return log_error_errno(
                        EFBIG, "%s: larger than %d bytes, refusing to parse.", ini->name, INI_MAX_SIZE);
        stas_hash_key_init(ini->hash_key);

        ini_lexer_init(&lx, text);
        while (r >= 0 && ini_lex_line(&lx, &l))
                switch (l.kind) {
                case INI_LINE_BLANK:
                case INI_LINE_COMMENT:
                        break;
                case INI_LINE_INVALID:
                        return syntax_error(ini, l.number, l.error);
                case INI_LINE_SECTION:
                        r = add_section(ini, l.name, l.name_len, l.number, &section);
                        break;
                case INI_LINE_OPTION:
                        r = read_option(ini, section, &l, &scratch, &key);
                        break;
                case INI_LINE_CONTINUATION:
                        r = add_value(&ini->keys[key], l.value, l.value_len, l.number, true);
                        break;
                }
        if (r < 0)
                return r;

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
