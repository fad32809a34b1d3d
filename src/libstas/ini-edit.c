/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stas/ini-edit.h"
#include "stas/log.h"

#define INI_MAX_FILE_SIZE (16u * 1024u * 1024u)

typedef enum LineKind {
        LINE_BLANK,
        LINE_COMMENT,
        LINE_SECTION,
        LINE_OPTION,
        LINE_CONTINUATION,
} LineKind;

typedef struct Line {
        const char *start; /* first byte of the line */
        size_t len;        /* bytes including the line terminator, if any */
        size_t indent;     /* leading blanks */
        LineKind kind;
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

/* Length of the line content without its "\n" or "\r\n" terminator. */
static size_t line_content_len(const Line *l) {
        size_t n = l->len;

        if (n > 0 && l->start[n - 1] == '\n')
                n--;
        if (n > 0 && l->start[n - 1] == '\r')
                n--;
        return n;
}

static bool line_terminated(const Line *l) {
        return l->len > 0 && l->start[l->len - 1] == '\n';
}

/* The ']' that closes a section header starting at @rest, or NULL. */
static const char *section_close(const char *rest, size_t rlen) {
        for (size_t i = rlen; i > 1; i--)
                if (rest[i - 1] == ']')
                        return rest + i - 1;
        return NULL;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* Split and classify @text. Lines inside an instance of @section whose option name is @key
 * (case-insensitive) get matches=true, as do their continuation lines. */
static int classify(const char *text, const char *section, const char *key, Line **ret, size_t *ret_n) {
        _cleanup_free_ Line *lines = NULL;
        size_t n = 0, cap = 0, opt_indent = 0;
        bool in_target = false, have_option = false, opt_matches = false;

        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) + 1 : strlen(p);
                Line *l;

                if (n == cap) {
                        size_t c = cap ? cap * 2 : 32;
                        Line *t = realloc(lines, c * sizeof(Line));
                        if (!t)
                                return -ENOMEM;
                        lines = t;
                        cap = c;
                }
                l = &lines[n++];
                *l = (Line){ .start = p, .len = len };
                p += len;

                size_t clen = line_content_len(l);
                while (l->indent < clen && is_blank(l->start[l->indent]))
                        l->indent++;
                const char *rest = l->start + l->indent;
                size_t rlen = clen - l->indent;

                if (rlen == 0) {
                        l->kind = LINE_BLANK;
                        have_option = false;
                } else if (rest[0] == '#' || rest[0] == ';') {
                        l->kind = LINE_COMMENT;
                } else if (have_option && l->indent > opt_indent) {
                        l->kind = LINE_CONTINUATION;
                        l->matches = opt_matches;
                } else if (rest[0] == '[' && section_close(rest, rlen)) {
                        const char *close = section_close(rest, rlen);
                        size_t nlen = (size_t) (close - rest) - 1;

                        l->kind = LINE_SECTION;
                        in_target = strlen(section) == nlen && strneq(rest + 1, section, nlen);
                        have_option = false;
                } else {
                        const char *eq = memchr(rest, '=', rlen);
                        size_t klen = eq ? (size_t) (eq - rest) : rlen;

                        while (klen > 0 && is_blank(rest[klen - 1]))
                                klen--;
                        l->kind = LINE_OPTION;
                        l->matches = in_target && strlen(key) == klen && strncasecmp(rest, key, klen) == 0;
                        have_option = true;
                        opt_indent = l->indent;
                        opt_matches = l->matches;
                }
                l->in_target = in_target;
        }

        *ret = TAKE_PTR(lines);
        *ret_n = n;
        return 0;
}

static bool valid_section(const char *s) {
        return !isempty(s) && !strpbrk(s, "]\n\r");
}

static bool valid_key(const char *s) {
        return !isempty(s) && !strpbrk(s, "=\n\r") && !strchr("[#;", s[0]) && !is_blank(s[0]) &&
                !is_blank(s[strlen(s) - 1]);
}

static bool valid_value(const char *s) {
        size_t n;

        if (!s || strpbrk(s, "\n\r"))
                return false;
        n = strlen(s);
        if (n > 0 && (is_blank(s[0]) || is_blank(s[n - 1])))
                return false; /* readers trim: the value would silently change */
        for (size_t i = 1; i < n; i++)
                if (s[i] == '#' && is_blank(s[i - 1]))
                        return false; /* readers strip inline comments */
        return true;
}

static int emit_kept(Buf *b, const Line *lines, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (lines[i].drop)
                        continue;
                if (buf_add(b, lines[i].start, lines[i].len) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Mark the option at @i and its continuation lines for removal. Returns the next index. */
static size_t drop_option(Line *lines, size_t n, size_t i) {
        lines[i].drop = true;
        for (i++; i < n; i++) {
                if (lines[i].kind == LINE_CONTINUATION)
                        lines[i].drop = true;
                else if (lines[i].kind != LINE_COMMENT)
                        break;
        }
        return i;
}

static int format_option(
        Buf *b, const char *indent, size_t indent_len, const char *key, const char *value, const char *eol) {
        if (buf_add(b, indent, indent_len) < 0 || buf_adds(b, key) < 0 || buf_adds(b, " = ") < 0 ||
            buf_adds(b, value) < 0 || buf_adds(b, eol) < 0)
                return -ENOMEM;
        return 0;
}

int ini_edit_set(const char *text, const char *section, const char *key, const char *value, char **ret) {
        _cleanup_free_ Line *lines = NULL;
        Buf b = {};
        size_t n = 0, first = SIZE_MAX, last_section = SIZE_MAX, insert_after = SIZE_MAX;
        int r;

        if (!valid_section(section) || !valid_key(key) || !valid_value(value) || !ret)
                return -EINVAL;
        text = strempty(text);

        r = classify(text, section, key, &lines, &n);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n;) {
                if (lines[i].kind == LINE_SECTION && lines[i].in_target)
                        last_section = i;
                if (lines[i].kind == LINE_OPTION && lines[i].matches) {
                        if (first == SIZE_MAX)
                                first = i;
                        i = drop_option(lines, n, i);
                        continue;
                }
                i++;
        }

        if (first != SIZE_MAX) {
                /* Replace in place: everything before, the new line, everything after. */
                const Line *f = &lines[first];
                size_t clen = line_content_len(f);
                const char *eol = !line_terminated(f) ? "\n" : clen + 2 == f->len ? "\r\n" : "\n";

                for (size_t i = 0; i < n; i++) {
                        if (i == first)
                                r = format_option(&b, f->start, f->indent, key, value, eol);
                        else if (!lines[i].drop)
                                r = buf_add(&b, lines[i].start, lines[i].len);
                        if (r < 0)
                                goto fail;
                }
        } else if (last_section != SIZE_MAX) {
                /* Append after the last non-blank line of the last instance of the section. */
                insert_after = last_section;
                for (size_t i = last_section + 1; i < n && lines[i].kind != LINE_SECTION; i++)
                        if (lines[i].kind != LINE_BLANK)
                                insert_after = i;
                for (size_t i = 0; i < n; i++) {
                        if (buf_add(&b, lines[i].start, lines[i].len) < 0)
                                goto nomem;
                        if (i != insert_after)
                                continue;
                        if (!line_terminated(&lines[i]) && buf_adds(&b, "\n") < 0)
                                goto nomem;
                        if (format_option(&b, "", 0, key, value, "\n") < 0)
                                goto nomem;
                }
        } else {
                /* New section at the end, after a blank line if there is content before it. */
                bool content = false;

                for (size_t i = 0; i < n; i++)
                        if (lines[i].kind != LINE_BLANK)
                                content = true;
                if (emit_kept(&b, lines, n) < 0)
                        goto nomem;
                if (n > 0 && !line_terminated(&lines[n - 1]) && buf_adds(&b, "\n") < 0)
                        goto nomem;
                if (content && lines[n - 1].kind != LINE_BLANK && buf_adds(&b, "\n") < 0)
                        goto nomem;
                if (buf_adds(&b, "[") < 0 || buf_adds(&b, section) < 0 || buf_adds(&b, "]\n") < 0 ||
                    format_option(&b, "", 0, key, value, "\n") < 0)
                        goto nomem;
        }

        if (!b.p && buf_adds(&b, "") < 0)
                goto nomem;
        r = !streq(b.p, text);
        *ret = b.p;
        return r;

nomem:
        r = -ENOMEM;
fail:
        free(b.p);
        return r;
}

int ini_edit_remove(const char *text, const char *section, const char *key, char **ret) {
        _cleanup_free_ Line *lines = NULL;
        Buf b = {};
        size_t n = 0;
        int r, removed = 0;

        if (!valid_section(section) || !valid_key(key) || !ret)
                return -EINVAL;
        text = strempty(text);

        r = classify(text, section, key, &lines, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n;) {
                if (lines[i].kind == LINE_OPTION && lines[i].matches) {
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
