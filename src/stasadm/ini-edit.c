/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stas/ini.h"
#include "ini-edit.h"
#include "stas/log.h"

#define INI_MAX_FILE_SIZE (16u * 1024u * 1024u)

typedef struct Line {
        IniLine l;      /* the shared grammar's view of the line (ini.h) */
        bool in_target; /* inside an instance of the section being edited */
        bool matches;   /* option (or its continuation) named like the key being edited */
        bool drop;
} Line;

typedef struct Buf {
        char *p;
        size_t n, cap;
} Buf;

static int buf_add(Buf *b, const char *s, size_t n) {
        if (b->n + n + 1 > b->cap) {
                size_t cap = (b->n + n + 1) * 2;
                char *t = realloc(b->p, cap);
                if (!t)
                        return -ENOMEM;
                b->p = t;
                b->cap = cap;
        }
        memcpy(b->p + b->n, s, n);
        b->n += n;
        b->p[b->n] = '\0';
        return 0;
}

static int buf_adds(Buf *b, const char *s) {
        return buf_add(b, s, strlen(s));
}

static bool line_terminated(const Line *l) {
        return l->l.len > l->l.content_len;
}

static char ascii_lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

/* @l's name is @name: exactly, or with ASCII letters compared case-insensitively (as the
 * reader lower-cases option names), whatever the locale. */
static bool name_is(const IniLine *l, const char *name, bool nocase) {
        size_t n = strlen(name);

        if (l->name_len != n)
                return false;
        if (!nocase)
                return strneq(l->name, name, n);
        for (size_t i = 0; i < n; i++)
                if (ascii_lower(l->name[i]) != ascii_lower(name[i]))
                        return false;
        return true;
}

/* Split and classify @text with the readers' grammar (ini_lex_line()). Lines inside an instance
 * of @section whose option name is @key (ASCII case-insensitive) get matches=true, as do their
 * continuation lines. A line the reader rejects makes the whole text uneditable: -EBADMSG. */
static int classify(const char *text, const char *section, const char *key, Line **ret, size_t *ret_n) {
        _cleanup_free_ Line *lines = NULL;
        size_t n = 0, cap = 0;
        bool in_target = false, opt_matches = false;
        IniLexer lx;
        IniLine l;

        ini_lexer_init(&lx, text);
        while (ini_lex_line(&lx, &l)) {
                Line *x;

                if (l.kind == INI_LINE_INVALID)
                        return -EBADMSG;
                if (n == cap) {
                        size_t c = cap ? cap * 2 : 32;
                        Line *t = reallocarray(lines, c, sizeof(Line));
                        if (!t)
                                return -ENOMEM;
                        lines = t;
                        cap = c;
                }
                x = &lines[n++];
                *x = (Line){ .l = l };
                if (l.kind == INI_LINE_SECTION)
                        in_target = name_is(&l, section, false);
                else if (l.kind == INI_LINE_OPTION)
                        opt_matches = in_target && name_is(&l, key, true);
                x->matches = (l.kind == INI_LINE_OPTION || l.kind == INI_LINE_CONTINUATION) && opt_matches;
                x->in_target = in_target;
        }

        *ret = TAKE_PTR(lines);
        *ret_n = n;
        return 0;
}

/* The option line for @key and @value, without indentation and terminator. A value starting
 * with '#' is written "key=#..." (after a blank, '#' would start an inline comment). */
static int format_option(Buf *b, const char *key, const char *value) {
        const char *sep = isempty(value) ? " =" : value[0] == '#' ? "=" : " = ";

        if (buf_adds(b, key) < 0 || buf_adds(b, sep) < 0 || buf_adds(b, value) < 0)
                return -ENOMEM;
        return 0;
}

/* Whether the grammar reads @text as exactly one line of @kind with @name (and @value). */
static bool reads_back(const char *text, IniLineKind kind, const char *name, const char *value) {
        IniLexer lx;
        IniLine l;

        ini_lexer_init(&lx, kind == INI_LINE_OPTION ? "[s]\n" : "");
        if (kind == INI_LINE_OPTION && (!ini_lex_line(&lx, &l) || l.kind != INI_LINE_SECTION))
                return false;
        lx.p = text;
        if (!ini_lex_line(&lx, &l) || l.kind != kind || l.len != strlen(text) || !name_is(&l, name, false))
                return false;
        if (!value)
                return true;
        return l.value && l.value_len == strlen(value) && strneq(l.value, value, l.value_len);
}

static bool valid_section(const char *s) {
        _cleanup_free_ char *line = NULL;

        if (isempty(s) || strpbrk(s, "]\n\r") || asprintf(&line, "[%s]", s) < 0)
                return false;
        return reads_back(line, INI_LINE_SECTION, s, NULL);
}

/* @key = @value must read back as exactly that key and value. */
static int valid_option(const char *key, const char *value) {
        Buf b = {};
        bool ok;

        if (isempty(key) || !value || strpbrk(key, "\n\r") || strpbrk(value, "\n\r"))
                return -EINVAL;
        if (format_option(&b, key, value) < 0)
                return -ENOMEM;
        ok = reads_back(b.p, INI_LINE_OPTION, key, value);
        free(b.p);
        return ok ? 0 : -EINVAL;
}

static int emit_kept(Buf *b, const Line *lines, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (lines[i].drop)
                        continue;
                if (buf_add(b, lines[i].l.start, lines[i].l.len) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Mark the option at @i and its continuation lines (blank and comment lines between them stay)
 * for removal. Returns the next index. */
static size_t drop_option(Line *lines, size_t n, size_t i) {
        lines[i].drop = true;
        for (i++; i < n; i++) {
                if (lines[i].l.kind == INI_LINE_CONTINUATION)
                        lines[i].drop = true;
                else if (lines[i].l.kind != INI_LINE_COMMENT && lines[i].l.kind != INI_LINE_BLANK)
                        break;
        }
        return i;
}

/* Replace the first match in place: its indentation and terminator are kept. */
static int emit_replaced(
        Buf *b, const Line *lines, size_t n, size_t first, const char *key, const char *value) {
        const IniLine *f = &lines[first].l;

        for (size_t i = 0; i < n; i++) {
                if (i == first) {
                        if (buf_add(b, f->start, f->indent) < 0 || format_option(b, key, value) < 0 ||
                            (line_terminated(&lines[i])
                                     ? buf_add(b, f->start + f->content_len, f->len - f->content_len)
                                     : buf_adds(b, "\n")) < 0)
                                return -ENOMEM;
                } else if (!lines[i].drop && buf_add(b, lines[i].l.start, lines[i].l.len) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/*
 * Append after the last non-blank line of the last instance of the section (at @last_section).
 * Only blank lines can follow that line before the next section header, so the new line takes
 * the header's indentation: an indented header then stays a header instead of becoming a
 * continuation of the new option (and the new line, never deeper than the option above it,
 * is not a continuation either).
 */
static int emit_appended(
        Buf *b, const Line *lines, size_t n, size_t last_section, const char *key, const char *value) {
        size_t insert_after = last_section, next = n;

        for (size_t i = last_section + 1; i < n; i++) {
                if (lines[i].l.kind == INI_LINE_SECTION) {
                        next = i;
                        break;
                }
                if (lines[i].l.kind != INI_LINE_BLANK)
                        insert_after = i;
        }
        for (size_t i = 0; i < n; i++) {
                if (buf_add(b, lines[i].l.start, lines[i].l.len) < 0)
                        return -ENOMEM;
                if (i != insert_after)
                        continue;
                if (!line_terminated(&lines[i]) && buf_adds(b, "\n") < 0)
                        return -ENOMEM;
                if ((next < n && buf_add(b, lines[next].l.start, lines[next].l.indent) < 0) ||
                    format_option(b, key, value) < 0 || buf_adds(b, "\n") < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* A new section at the end, after a blank line if there is content before it. */
static int emit_new_section(
        Buf *b, const Line *lines, size_t n, const char *section, const char *key, const char *value) {
        bool content = false;

        for (size_t i = 0; i < n; i++)
                if (lines[i].l.kind != INI_LINE_BLANK)
                        content = true;
        if (emit_kept(b, lines, n) < 0)
                return -ENOMEM;
        if (n > 0 && !line_terminated(&lines[n - 1]) && buf_adds(b, "\n") < 0)
                return -ENOMEM;
        if (content && lines[n - 1].l.kind != INI_LINE_BLANK && buf_adds(b, "\n") < 0)
                return -ENOMEM;
        if (buf_adds(b, "[") < 0 || buf_adds(b, section) < 0 || buf_adds(b, "]\n") < 0 ||
            format_option(b, key, value) < 0 || buf_adds(b, "\n") < 0)
                return -ENOMEM;
        return 0;
}

static int check_text(const char *text) {
        return strnlen(text, INI_MAX_SIZE + 1) > INI_MAX_SIZE ? -EFBIG : 0;
}

int ini_edit_set(const char *text, const char *section, const char *key, const char *value, char **ret) {
        _cleanup_free_ Line *lines = NULL;
        Buf b = {};
        size_t n = 0, first = SIZE_MAX, last_section = SIZE_MAX;
        int r;

        if (!valid_section(section) || !ret)
                return -EINVAL;
        r = valid_option(key, value);
        if (r < 0)
                return r;
        text = strempty(text);
        r = check_text(text);
        if (r < 0)
                return r;
        r = classify(text, section, key, &lines, &n);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n;) {
                if (lines[i].l.kind == INI_LINE_SECTION && lines[i].in_target)
                        last_section = i;
                if (lines[i].l.kind == INI_LINE_OPTION && lines[i].matches) {
                        if (first == SIZE_MAX)
                                first = i;
                        i = drop_option(lines, n, i);
                        continue;
                }
                i++;
        }

        if (first != SIZE_MAX)
                r = emit_replaced(&b, lines, n, first, key, value);
        else if (last_section != SIZE_MAX)
                r = emit_appended(&b, lines, n, last_section, key, value);
        else
                r = emit_new_section(&b, lines, n, section, key, value);
        if (r >= 0 && !b.p)
                r = buf_adds(&b, "");
        if (r >= 0 && b.n > INI_MAX_SIZE)
                r = -EFBIG;
        if (r < 0) {
                free(b.p);
                return r;
        }
        r = !streq(b.p, text);
        *ret = b.p;
        return r;
}

int ini_edit_remove(const char *text, const char *section, const char *key, char **ret) {
        _cleanup_free_ Line *lines = NULL;
        Buf b = {};
        size_t n = 0;
        int r, removed = 0;

        if (!valid_section(section) || !ret)
                return -EINVAL;
        r = valid_option(key, "");
        if (r < 0)
                return r;
        text = strempty(text);
        r = check_text(text);
        if (r < 0)
                return r;
        r = classify(text, section, key, &lines, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n;) {
                if (lines[i].l.kind == INI_LINE_OPTION && lines[i].matches) {
                        i = drop_option(lines, n, i);
                        removed++;
                } else
                        i++;
        }
        if (emit_kept(&b, lines, n) < 0 || (!b.p && buf_adds(&b, "") < 0)) {
                free(b.p);
                return -ENOMEM;
        }
        *ret = b.p;
        return removed;
}

int read_text_file(const char *path, char **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        Buf b = {};
        char chunk[4096];
        size_t k;

        struct stat st;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (fstat(fileno(f), &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                if (memchr(chunk, '\0', k) || b.n + k > INI_MAX_FILE_SIZE) {
                        free(b.p);
                        return -EINVAL;
                }
                if (buf_add(&b, chunk, k) < 0) {
                        free(b.p);
                        return -ENOMEM;
                }
        }
        if (ferror(f)) {
                free(b.p);
                return -EIO;
        }
        if (!b.p && buf_adds(&b, "") < 0)
                return -ENOMEM;
        *ret = b.p;
        return 0;
}

static int mkdir_parents(const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode) {
        _cleanup_free_ char *target = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        bool exists = false;
        int r;

        if (isempty(path))
                return -EINVAL;
        if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
                target = realpath(path, NULL);
                if (!target)
                        return -errno;
        } else {
                target = strdup(path);
                if (!target)
                        return -ENOMEM;
        }
        if (stat(target, &st) == 0) {
                if (!S_ISREG(st.st_mode))
                        return -EISDIR;
                exists = true;
                mode = st.st_mode & 07777;
        } else if (errno != ENOENT)
                return -errno;
        else {
                r = mkdir_parents(target);
                if (r < 0)
                        return r;
        }

        if (asprintf(&tmp, "%s.XXXXXX", target) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, mode) < 0)
                goto fail_errno;
        if (exists && fchown(fd, st.st_uid, st.st_gid) < 0)
                log_debug("Cannot keep the owner of %s: %m", target);
        for (size_t off = 0; off < len;) {
                ssize_t k = write(fd, data + off, len - off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        goto fail_errno;
                }
                off += (size_t) k;
        }
        if (fsync(fd) < 0)
                goto fail_errno;
        if (close(TAKE_FD(fd)) < 0)
                goto fail_errno;
        if (rename(tmp, target) < 0)
                goto fail_errno;
        return 0;

fail_errno:
        r = -errno;
        (void) unlink(tmp);
        return r;
}

int ini_edit_file_set(const char *path, const char *section, const char *key, const char *value) {
        _cleanup_free_ char *old = NULL, *new = NULL;
        int r;

        r = read_text_file(path, &old);
        if (r < 0 && r != -ENOENT)
                return r;
        r = ini_edit_set(old, section, key, value, &new);
        if (r < 0)
                return r;
        if (r == 0 && old)
                return 0;
        return write_file_atomic(path, new, strlen(new), 0644);
}

int ini_edit_file_remove(const char *path, const char *section, const char *key) {
        _cleanup_free_ char *old = NULL, *new = NULL;
        int r, removed;

        r = read_text_file(path, &old);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        removed = ini_edit_remove(old, section, key, &new);
        if (removed <= 0)
                return removed;
        r = write_file_atomic(path, new, strlen(new), 0644);
        return r < 0 ? r : removed;
}
