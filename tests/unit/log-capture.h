/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log-capture.h - header-only helper for unit tests, the one log sink they use: collect every log
 * line in a buffer via log_set_sink(), then count and search it. One capture at a time (the sink
 * is process-global); lines may come from worker threads (a mutex guards the buffer).
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stas/log.h"

typedef struct LogCapture {
        char *text; /* all lines, each as "<level>line\n" */
        size_t len;
        unsigned n_lines;
        pthread_mutex_t lock;    /* taken by the sink (zeroed: a default mutex) */
        char last[LOG_LINE_MAX]; /* log_capture_last()'s answer */
        char *fields;            /* per line with fields: "line\x1fNAME=value\x1f...\n" */
        size_t fields_len;
} LogCapture;

static inline void log_capture_sink(int level, const char *line, void *userdata) {
        LogCapture *c = userdata;
        size_t l = strlen(line) + 16;
        char *t;

        pthread_mutex_lock(&c->lock);
        t = realloc(c->text, c->len + l + 1);
        if (!t)
                abort();
        c->text = t;
        c->len += (size_t) snprintf(c->text + c->len, l + 1, "<%d>%s\n", level, line);
        c->n_lines++;
        pthread_mutex_unlock(&c->lock);
}

/* the field sink: the line as log_capture_sink(), and the fields (if any) in c->fields */
static inline void log_capture_field_sink(
        int level, const char *line, const LogField *f, size_t n, void *userdata) {
        LogCapture *c = userdata;

        log_capture_sink(level, line, userdata);
        if (n == 0)
                return;
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i <= n; i++) {
                const char *a = i == 0 ? line : f[i - 1].name, *b = i == 0 ? "" : f[i - 1].value;
                size_t l = strlen(a) + strlen(b) + 3;
                char *t = realloc(c->fields, c->fields_len + l + 1);

                if (!t)
                        abort();
                c->fields = t;
                c->fields_len += (size_t) snprintf(
                        t + c->fields_len, l + 1, "%s%s%s%s", a, i ? "=" : "", b, i == n ? "\n" : "\x1f");
        }
        pthread_mutex_unlock(&c->lock);
}

/*
 * log_capture_field() - the value of field @name of the last line containing @needle that has
 * fields (NULL if none, or if that line lacks the field). Valid until the next call.
 */
static inline const char *log_capture_field(LogCapture *c, const char *needle, const char *name) {
        const char *ret = NULL;
        size_t nl = strlen(name);

        pthread_mutex_lock(&c->lock);
        for (const char *p = c->fields; p && *p;) {
                const char *eol = strchr(p, '\n'), *sep = strchr(p, '\x1f');
                size_t n = eol ? (size_t) (eol - p) : strlen(p);
                char *rec = strndup(p, n);

                if (!rec)
                        abort();
                if (sep && sep < p + n && memmem(p, (size_t) (sep - p), needle, strlen(needle))) {
                        ret = NULL;
                        for (char *q = strchr(rec, '\x1f'); q; q = strchr(q + 1, '\x1f'))
                                if (strncmp(q + 1, name, nl) == 0 && q[1 + nl] == '=') {
                                        char *e = strchr(q + 1, '\x1f');

                                        snprintf(
                                                c->last,
                                                sizeof(c->last),
                                                "%.*s",
                                                (int) ((e ? (size_t) (e - q - 2 - nl) : strlen(q + 2 + nl))),
                                                q + 2 + nl);
                                        ret = c->last;
                                }
                }
                free(rec);
                p = eol ? eol + 1 : NULL;
        }
        pthread_mutex_unlock(&c->lock);
        return ret;
}

/* log_capture_start_at() - capture every line from now on, with the log level set to @level. */
static inline void log_capture_start_at(LogCapture *c, int level) {
        *c = (LogCapture){ .text = strdup("") };
        if (!c->text)
                abort();
        log_set_max_level(level);
        log_set_field_sink(log_capture_field_sink, c);
}

/* log_capture_start() - the same at debug level (every line). */
static inline void log_capture_start(LogCapture *c) {
        log_capture_start_at(c, LOG_DEBUG);
}

/* log_capture_stop() - back to normal output at the default level (info); the lines are freed. */
static inline void log_capture_stop(LogCapture *c) {
        log_set_sink(NULL, NULL);
        log_set_max_level(LOG_INFO);
        free(c->text);
        free(c->fields);
        *c = (LogCapture){};
}

/* log_capture_clear() - forget the lines captured so far (the capture goes on). */
static inline void log_capture_clear(LogCapture *c) {
        pthread_mutex_lock(&c->lock);
        c->text[0] = 0;
        c->len = 0;
        c->n_lines = 0;
        free(c->fields);
        c->fields = NULL;
        c->fields_len = 0;
        pthread_mutex_unlock(&c->lock);
}

/*
 * log_capture_next() - walk the lines: *@p starts at c->text; each call gives the next line's
 * level, its body in @buf (@size bytes, cut if longer), and advances *@p. Return: false at the end.
 */
static inline bool log_capture_next(const char **p, int *level, char *buf, size_t size) {
        const char *eol, *body;
        size_t n;

        if (!*p || !**p)
                return false;
        eol = strchr(*p, '\n');
        n = eol ? (size_t) (eol - *p) : strlen(*p);
        *level = atoi(*p + 1);
        body = strchr(*p, '>') + 1;
        snprintf(buf, size, "%.*s", (int) (n - (size_t) (body - *p)), body);
        *p = eol ? eol + 1 : NULL;
        return true;
}

/* log_capture_count_upto() - lines at @max_level or more severe (LOG_WARNING: warnings and worse). */
static inline unsigned log_capture_count_upto(LogCapture *c, int max_level) {
        char line[LOG_LINE_MAX];
        const char *p;
        unsigned n = 0;
        int lv;

        pthread_mutex_lock(&c->lock);
        for (p = c->text; log_capture_next(&p, &lv, line, sizeof(line));)
                n += lv <= max_level;
        pthread_mutex_unlock(&c->lock);
        return n;
}

/* log_capture_count_has() - lines at exactly @level (< 0: any) containing @needle. */
static inline unsigned log_capture_count_has(LogCapture *c, int level, const char *needle) {
        char line[LOG_LINE_MAX];
        const char *p;
        unsigned n = 0;
        int lv;

        pthread_mutex_lock(&c->lock);
        for (p = c->text; log_capture_next(&p, &lv, line, sizeof(line));)
                n += (level < 0 || lv == level) && strstr(line, needle);
        pthread_mutex_unlock(&c->lock);
        return n;
}

/*
 * log_capture_last() - the body of the last line with a level in [@min_level, @max_level] ("" if
 * none). Valid until the next call.
 */
static inline const char *log_capture_last(LogCapture *c, int min_level, int max_level) {
        char line[LOG_LINE_MAX];
        const char *p;
        int lv;

        pthread_mutex_lock(&c->lock);
        c->last[0] = 0;
        for (p = c->text; log_capture_next(&p, &lv, line, sizeof(line));)
                if (lv >= min_level && lv <= max_level)
                        snprintf(c->last, sizeof(c->last), "%s", line);
        pthread_mutex_unlock(&c->lock);
        return c->last;
}

/* log_capture_has() - a line at exactly @level containing @needle (level < 0: any level). */
static inline bool log_capture_has(const LogCapture *c, int level, const char *needle) {
        const char *p = c->text;

        while (p && *p) {
                const char *eol = strchr(p, '\n');
                size_t n = eol ? (size_t) (eol - p) : strlen(p);
                int lv = atoi(p + 1);
                const char *body = strchr(p, '>') + 1;

                if (level < 0 || lv == level) {
                        char *line = strndup(body, n - (size_t) (body - p));
                        bool hit = line && strstr(line, needle);

                        free(line);
                        if (hit)
                                return true;
                }
                p = eol ? eol + 1 : NULL;
        }
        return false;
}

/* log_capture_count() - lines at @level (< 0: any). */
static inline unsigned log_capture_count(const LogCapture *c, int level) {
        unsigned n = 0;

        for (const char *p = c->text; p && *p;) {
                const char *eol = strchr(p, '\n');

                if (level < 0 || atoi(p + 1) == level)
                        n++;
                p = eol ? eol + 1 : NULL;
        }
        return n;
}
