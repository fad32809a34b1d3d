/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "stas/log.h"

static int max_level = LOG_INFO;
static LogTarget target = LOG_TARGET_STDERR;
static char ident[64] = "stas";
static LogSink sink;
static void *sink_userdata;

void log_open(const char *id, LogTarget t) {
        if (id)
                snprintf(ident, sizeof(ident), "%s", id);
        if (target == LOG_TARGET_SYSLOG && t != LOG_TARGET_SYSLOG)
                closelog();
        target = t;
        if (target == LOG_TARGET_SYSLOG)
                openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_close(void) {
        if (target == LOG_TARGET_SYSLOG)
                closelog();
        target = LOG_TARGET_STDERR;
}

void log_set_max_level(int level) {
        max_level = level < LOG_EMERG ? LOG_EMERG : level > LOG_DEBUG ? LOG_DEBUG : level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_sink(LogSink s, void *userdata) {
        sink = s;
        sink_userdata = userdata;
}

const char *log_level_to_string(int level) {
        static const char *const names[] = {
                [LOG_EMERG] = "CRITICAL", [LOG_ALERT] = "CRITICAL",  [LOG_CRIT] = "CRITICAL",
                [LOG_ERR] = "ERROR",      [LOG_WARNING] = "WARNING", [LOG_NOTICE] = "INFO",
                [LOG_INFO] = "INFO",      [LOG_DEBUG] = "DEBUG",
        };
        if (level < 0 || level >= (int) ELEMENTSOF(names))
                return "INFO";
        return names[level];
}

#define SECRET_PREFIX "DHHC-1:"
#define SECRET_PREFIX_LEN (sizeof(SECRET_PREFIX) - 1)
#define SECRET_SHOWN "(secret)"

/* The length (2 to 4) of the well-formed UTF-8 sequence at @s (at most @n bytes), else 0. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *ret_cp) {
        size_t len;
        uint32_t cp, min;

        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1f, min = 0x80;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, cp = s[0] & 0x0f, min = 0x800;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07, min = 0x10000;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0; /* overlong, out of range, surrogate */
        *ret_cp = cp;
        return len;
}

static bool secret_at(const char *s, size_t n) {
        return n >= SECRET_PREFIX_LEN && strncasecmp(s, SECRET_PREFIX, SECRET_PREFIX_LEN) == 0;
}

/* Where a secret-shaped token ends: at white space, a control character, a quote, ',' or ';'. */
static size_t secret_len(const char *s, size_t n) {
        size_t i = SECRET_PREFIX_LEN;

        while (i < n && (unsigned char) s[i] > ' ' && s[i] != 0x7f && !strchr("'\",;", s[i]))
                i++;
        return i;
}

/**
 * log_is_plain() - see log.h.
 * @s: the text
 * @n: its length
 */
bool log_is_plain(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                uint32_t cp;
                size_t l;

                if (c < 0x20 || c == 0x7f)
                        return false;
                if ((c == 'D' || c == 'd') && secret_at(s + i, n - i))
                        return false;
                if (c < 0x80)
                        continue;
                l = utf8_len((const unsigned char *) s + i, n - i, &cp);
                if (l == 0 || cp < 0xa0) /* not UTF-8, or a C1 control character */
                        return false;
                i += l - 1;
        }
        return true;
}

/* Append @n bytes at offset @o of @out, as far as they fit before its last byte. */
static size_t put(char *out, size_t size, size_t o, const char *s, size_t n) {
        if (o + 1 < size)
                memcpy(out + o, s, n < size - 1 - o ? n : size - 1 - o);
        return o + n;
}

/**
 * log_escape() - see log.h.
 * @s: the text
 * @n: its length
 * @out: where the escaped text goes (NUL-terminated, truncated to @size - 1)
 * @size: its size (> 0)
 *
 * Return: the length of the full escaped text (as snprintf()).
 */
size_t log_escape(const char *s, size_t n, char *out, size_t size) {
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) s[i];
                uint32_t cp = 0;
                size_t l = 1;

                if ((c == 'D' || c == 'd') && secret_at(s + i, n - i)) {
                        o = put(out, size, o, SECRET_SHOWN, strlen(SECRET_SHOWN));
                        i += secret_len(s + i, n - i);
                        continue;
                }
                if (c >= 0x80)
                        l = utf8_len((const unsigned char *) s + i, n - i, &cp);
                if (c >= 0x20 && c != 0x7f && (c < 0x80 || (l > 0 && cp >= 0xa0))) {
                        o = put(out, size, o, s + i, l);
                        i += l;
                        continue;
                }
                /* a control character (C0, DEL, C1) or a byte that is not UTF-8: each byte escaped */
                for (size_t k = 0; k < (l ? l : 1); k++) {
                        unsigned char b = (unsigned char) s[i + k];
                        char e[4] = { '\\', 'x', hex[b >> 4], hex[b & 15] };

                        if (b == '\n' || b == '\r' || b == '\t')
                                o = put(out, size, o, b == '\n' ? "\\n" : b == '\r' ? "\\r" : "\\t", 2);
                        else
                                o = put(out, size, o, e, 4);
                }
                i += l ? l : 1;
        }
        out[o < size ? o : size - 1] = '\0';
        return o;
}

/* Write one line to the configured target; @msg is already escaped. */
static void emit(int level, const char *msg, const char *file, int line, const char *func) {
        if (sink)
                sink(level, msg, sink_userdata);
        else if (target == LOG_TARGET_SYSLOG)
                syslog(level, "%s", msg);
        else if (max_level >= LOG_DEBUG && level >= LOG_DEBUG)
                fprintf(stderr, "<%d>%s: %s (%s:%d %s)\n", level, ident, msg, file, line, func);
        else
                fprintf(stderr, "<%d>%s: %s\n", level, ident, msg);
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        char buf[LOG_LINE_MAX];
        int saved = errno, k;
        va_list ap;
        size_t n;

        if (error)
                errno = abs(error);
        va_start(ap, fmt);
        k = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        n = k < 0 ? 0 : (size_t) k < sizeof(buf) ? (size_t) k : sizeof(buf) - 1;
        while (n > 0 && buf[n - 1] == '\n') /* the writer ends the line */
                n--;
        buf[n] = '\0';

        if (log_is_plain(buf, n))
                emit(level, buf, file, line, func);
        else {
                /* every byte escapes to at most 4: never truncated */
                char esc[4 * LOG_LINE_MAX];

                log_escape(buf, n, esc, sizeof(esc));
                emit(level, esc, file, line, func);
        }

        errno = saved;
        return -abs(error);
}
