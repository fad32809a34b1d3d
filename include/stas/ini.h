/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ini.h - the INI grammar of stafd.conf, stacd.conf and sys.conf, and the reader the daemons
 * use. The grammar (ini_lex_line()) is shared with stasadm's line-preserving editor
 * (ini-edit.h), so both see every line the same way. It reproduces the Python configparser
 * setup of nvme-stas (§3.1): section names are case-sensitive, option names are lower-cased
 * (ASCII letters only), '=' is the only delimiter and the blanks around it are dropped,
 * full-line comments start with '#' or ';', a repeated key keeps every value (callers of
 * single-valued options take the last one), a line indented deeper than the option line above
 * it continues that option with one more value (blank lines and comment lines in between do not
 * end the option), a key without '=' has a NULL value, and a missing file reads as empty.
 * Lines end at "\n", "\r\n" or a lone "\r" (Python's universal newlines), so no '\r' is ever part
 * of a name or value. Blanks are space, tab, '\v', '\f' and the ASCII separators 0x1c..0x1f
 * (the ASCII characters Python's str.strip() removes); other bytes, non-ASCII whitespace
 * included, are data.
 * Deliberate deviations: an inline comment (a blank, then '#', then anything) is stripped, and
 * text that is none of the above (e.g. a key before any section header, "[Global] junk",
 * "[Global", "[]", "=value", an indented line after a key without '=') makes the whole parse
 * fail with -EINVAL and an error naming file:line, so a reload can keep the running
 * configuration. Files (and texts) are limited to INI_MAX_SIZE bytes.
 * Every value keeps its line number so later warnings can name file and line. This module logs
 * only syntax and I/O errors; it knows nothing about which keys are valid. Reading is linear in
 * the size of the text (hash indexes of sections and keys, SipHash-1-3 with a random key).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stas/macro.h"

/* The largest file (or text) the reader accepts, and the editor writes: 1 MiB. */
#define INI_MAX_SIZE (1024 * 1024)

/* ---- the grammar (shared by the reader below and by stasadm's src/stasadm/ini-edit.c) ---- */

typedef enum IniLineKind {
        INI_LINE_BLANK,        /* nothing but blanks */
        INI_LINE_COMMENT,      /* first non-blank character '#' or ';' */
        INI_LINE_SECTION,      /* "[name]", optionally followed by an inline comment */
        INI_LINE_OPTION,       /* "name = value" or "name" */
        INI_LINE_CONTINUATION, /* deeper indented than the option line above: one more value */
        INI_LINE_INVALID,      /* anything else: the reader rejects the whole text */
} IniLineKind;

typedef struct IniLine {
        IniLineKind kind;
        unsigned number;    /* 1-based */
        const char *start;  /* first byte of the line, in the lexed text */
        size_t len;         /* bytes, terminator included */
        size_t content_len; /* bytes without the terminator ("\n", "\r\n" or "\r") */
        size_t indent;      /* leading blanks */
        /* SECTION: the name between the brackets; OPTION: the name before '=', trimmed, as
         * written (not lower-cased). Not NUL-terminated. */
        const char *name;
        size_t name_len;
        /* OPTION with '=' and CONTINUATION: the value, trimmed, inline comment removed (not
         * NUL-terminated); NULL for an OPTION without '='. */
        const char *value;
        size_t value_len;
        const char *error; /* INVALID: why, e.g. "invalid section header" (never quotes the line) */
} IniLine;

/* The state the classification of a line depends on. Initialise with ini_lexer_init(). */
typedef struct IniLexer {
        const char *p; /* next line */
        unsigned line; /* lines consumed */
        bool in_section;
        bool have_option;      /* an option continuation lines attach to */
        bool option_has_value; /* ... which had a '=' */
        size_t option_indent;  /* indent of the last option or section line */
} IniLexer;

/* ini_lexer_init() - start lexing the NUL-terminated @text (NULL: empty). */
void ini_lexer_init(IniLexer *lx, const char *text);

/*
 * ini_lex_line() - classify the next line of the text into *@ret.
 * Return: true, or false at the end of the text (*@ret untouched).
 */
bool ini_lex_line(IniLexer *lx, IniLine *ret);

/* ini_is_blank() - the blanks of the grammar (see above); never '\n' or '\r'. */
bool ini_is_blank(char c);

/*
 * ini_check_syntax() - the number of the first line the reader rejects in @text, with its
 * reason in *@ret_error (optional), or 0 when the whole text is valid. Does not log.
 */
unsigned ini_check_syntax(const char *text, const char **ret_error);

/*
 * ini_redact() - @text, or "(secret)" when it contains anything shaped like a DH-HMAC-CHAP
 * secret ("DHHC-1:" in any case). Every configuration message that quotes file content (a
 * section or option name, a value, a path, an item) passes it through this.
 */
const char *ini_redact(const char *text);

/*
 * IniLogBudget - a cap on the messages of one kind about one file, so that a hostile file
 * cannot flood the journal: the first INI_MAX_MESSAGES keep their level, later ones are
 * demoted to debug and counted in .suppressed (the caller then logs one summary line).
 * ini_log_level() - the level to log the next message at (@b NULL: @level).
 */
#define INI_MAX_MESSAGES 20
typedef struct IniLogBudget {
        unsigned used;
        unsigned long suppressed;
} IniLogBudget;
int ini_log_level(IniLogBudget *b, int level);

/* ---- the reader ---- */

typedef struct StasIniValue {
        char *value;       /* NULL: the key was given without '=' */
        unsigned line;     /* 1-based line of this value */
        bool continuation; /* an indented continuation line of the previous value */
} StasIniValue;

typedef struct StasIniKey {
        char *section; /* as written, case-sensitive (the name of ini->sections[section_index]) */
        char *key;     /* lower-cased */
        StasIniValue *values;
        size_t n_values;
        /* private */
        size_t values_allocated;
        size_t section_index;
} StasIniKey;

typedef struct StasIniSection {
        char *name;
        unsigned line; /* first header line */
} StasIniSection;

/* private: one slot of the hash indexes of StasIni */
typedef struct StasIniSlot {
        uint32_t index; /* + 1; 0: empty */
        uint32_t hash;
} StasIniSlot;

typedef struct StasIni {
        char *name;               /* file name used in messages */
        StasIniSection *sections; /* unique, in order of first appearance */
        size_t n_sections;
        StasIniKey *keys; /* unique (section, key), in order of first appearance */
        size_t n_keys;
        /* private: allocated sizes and the hash indexes (open addressing, linear probing) */
        size_t sections_allocated, keys_allocated;
        StasIniSlot *section_slots, *key_slots;
        size_t section_mask, key_mask;
        uint64_t hash_key[2];
} StasIni;

/*
 * ini_parse_string() - parse @text; @name is the file name used in messages (NULL: "<string>").
 * This is "the daemons' reader" for a differential test against the editor (ini_edit_set()):
 * the daemons read every file through it (ini_parse_file() only adds the file checks).
 * Return: 0 and *@ret, -EINVAL on a syntax error (logged as "name:line: syntax error: ..."),
 * -EFBIG when @text is longer than INI_MAX_SIZE (logged), -ENOMEM.
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

/* ini_find() - the key @key (lower-case) in @section, or NULL. Constant time on average. */
const StasIniKey *ini_find(const StasIni *ini, const char *section, const char *key);

/* ini_has_section() - whether a [@section] header appeared. */
bool ini_has_section(const StasIni *ini, const char *section);

/*
 * ini_last() - for a single-valued key: the value that counts, i.e. the last one not being a
 * continuation line. NULL when @k is NULL or has no values. *@ret_multiline (optional) is set
 * when continuation lines follow it (Python would join them into one multi-line value).
 */
const StasIniValue *ini_last(const StasIniKey *k, bool *ret_multiline);
