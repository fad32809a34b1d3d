/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log-capture.h - header-only helper for unit tests: collect every log line in a buffer via
 * log_set_sink(), then search it. One capture at a time (the sink is process-global).
 */
#pragma once

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stas/log.h"

typedef struct LogCapture {
        char *text; /* all lines, each as "<level>line\n" */
        size_t len;
        unsigned n_lines;
} LogCapture;

static inline void log_capture_sink(int level, const char *line, void *userdata) {
        LogCapture *c = userdata;
        size_t l = strlen(line) + 16;
        char *t = realloc(c->text, c->len + l + 1);

        if (!t)
                abort();
        c->text = t;
        c->len += (size_t) snprintf(c->text + c->len, l + 1, "<%d>%s\n", level, line);
        c->n_lines++;
}

static inline void log_capture_start(LogCapture *c) {
        *c = (LogCapture){ .text = strdup("") };
        log_set_max_level(LOG_DEBUG);
        log_set_sink(log_capture_sink, c);
}

static inline void log_capture_stop(LogCapture *c) {
        log_set_sink(NULL, NULL);
        log_set_max_level(LOG_INFO);
        free(c->text);
        *c = (LogCapture){};
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
