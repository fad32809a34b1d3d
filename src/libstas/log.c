/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "stas/log.h"
#include "stas/tid.h"

static int max_level = LOG_INFO;
static LogTarget target = LOG_TARGET_STDERR;
static char ident[64] = "stas";
static LogSink sink;
static void *sink_userdata;
static LogFieldSink field_sink;

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
        field_sink = NULL;
        sink_userdata = userdata;
}

void log_set_field_sink(LogFieldSink s, void *userdata) {
        field_sink = s;
        sink = NULL;
        sink_userdata = userdata;
}

bool log_stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
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

/* One entry through the native journal protocol. Return: < 0 if the journal did not take it. */
static int emit_journal(
        int level,
        const char *msg,
        const LogField *f,
        size_t n,
        const char *file,
        int line,
        const char *func) {
        char pri[32], id[96], cline[32], *cfile = NULL, *cfunc = NULL, *m = NULL;
        struct iovec iov[6 + LOG_FIELDS_MAX];
        char *fv[LOG_FIELDS_MAX] = {};
        size_t k = 0;
        int r;

        snprintf(pri, sizeof(pri), "PRIORITY=%d", level);
        snprintf(id, sizeof(id), "SYSLOG_IDENTIFIER=%s", ident);
        snprintf(cline, sizeof(cline), "CODE_LINE=%d", line);
        if (asprintf(&m, "MESSAGE=%s", msg) < 0 || asprintf(&cfile, "CODE_FILE=%s", file) < 0 ||
            asprintf(&cfunc, "CODE_FUNC=%s", func) < 0) {
                free(m);
                free(cfile);
                return -ENOMEM;
        }
        iov[k++] = (struct iovec){ pri, strlen(pri) };
        iov[k++] = (struct iovec){ m, strlen(m) };
        iov[k++] = (struct iovec){ id, strlen(id) };
        iov[k++] = (struct iovec){ cfile, strlen(cfile) };
        iov[k++] = (struct iovec){ cline, strlen(cline) };
        iov[k++] = (struct iovec){ cfunc, strlen(cfunc) };
        for (size_t i = 0; i < n; i++)
                if (asprintf(&fv[i], "%s=%s", f[i].name, f[i].value) >= 0)
                        iov[k++] = (struct iovec){ fv[i], strlen(fv[i]) };
        r = sd_journal_sendv(iov, (int) k);
        for (size_t i = 0; i < n; i++)
                free(fv[i]);
        free(m);
        free(cfile);
        free(cfunc);
        return r;
}

/* Write one line to the configured target; @msg and the @f values are already escaped. */
static void emit(
        int level,
        const char *msg,
        const LogField *f,
        size_t n,
        const char *file,
        int line,
        const char *func) {
        if (field_sink)
                field_sink(level, msg, f, n, sink_userdata);
        else if (sink)
                sink(level, msg, sink_userdata);
        else if (target == LOG_TARGET_SYSLOG)
                syslog(level, "%s", msg);
        else if (target == LOG_TARGET_JOURNAL && emit_journal(level, msg, f, n, file, line, func) >= 0)
                return;
        else if (max_level >= LOG_DEBUG && level >= LOG_DEBUG)
                fprintf(stderr, "<%d>%s: %s (%s:%d %s)\n", level, ident, msg, file, line, func);
        else
                fprintf(stderr, "<%d>%s: %s\n", level, ident, msg);
}

/* Escape the values of @in into @store (LOG_FIELDS_MAX slots), skipping empty ones. Return: count. */
static size_t fields_escape(
        const LogField *in, size_t n, LogField *out, char (*store)[4 * LOG_FIELD_VALUE_MAX + 1]) {
        size_t k = 0;

        for (size_t i = 0; i < n && k < LOG_FIELDS_MAX; i++) {
                size_t l;

                if (!in[i].name || !in[i].value || !in[i].value[0])
                        continue;
                l = strnlen(in[i].value, LOG_FIELD_VALUE_MAX);
                log_escape(in[i].value, l, store[k], sizeof(store[k]));
                out[k] = (LogField){ in[i].name, store[k] };
                k++;
        }
        return k;
}

static int log_va(
        int level,
        int error,
        const LogField *fields,
        size_t nf,
        const char *file,
        int line,
        const char *func,
        const char *fmt,
        va_list ap) {
        static _Thread_local char store[LOG_FIELDS_MAX][4 * LOG_FIELD_VALUE_MAX + 1];
        LogField f[LOG_FIELDS_MAX];
        char buf[LOG_LINE_MAX];
        int saved = errno, k;
        size_t n;

        if (error)
                errno = abs(error);
        k = vsnprintf(buf, sizeof(buf), fmt, ap);
        n = k < 0 ? 0 : (size_t) k < sizeof(buf) ? (size_t) k : sizeof(buf) - 1;
        while (n > 0 && buf[n - 1] == '\n') /* the writer ends the line */
                n--;
        buf[n] = '\0';
        nf = fields_escape(fields, nf, f, store);

        if (log_is_plain(buf, n))
                emit(level, buf, f, nf, file, line, func);
        else {
                /* every byte escapes to at most 4: never truncated */
                char esc[4 * LOG_LINE_MAX];

                log_escape(buf, n, esc, sizeof(esc));
                emit(level, esc, f, nf, file, line, func);
        }

        errno = saved;
        return -abs(error);
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_va(level, error, NULL, 0, file, line, func, fmt, ap);
        va_end(ap);
        return r;
}

int log_fields_internal(
        int level,
        int error,
        const LogField *fields,
        size_t n,
        const char *file,
        int line,
        const char *func,
        const char *fmt,
        ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_va(level, error, fields, n, file, line, func, fmt, ap);
        va_end(ap);
        return r;
}

int log_ctrl_internal(
        int level,
        const char *message_id,
        const StasTid *tid,
        const char *device,
        const char *file,
        int line,
        const char *func,
        const char *fmt,
        ...) {
        LogField f[] = {
                { "MESSAGE_ID", message_id },
                { "NVME_TRTYPE", tid ? tid->transport : NULL },
                { "NVME_TRADDR", tid ? tid->traddr : NULL },
                { "NVME_TRSVCID", tid ? tid->trsvcid : NULL },
                { "NVME_SUBSYSNQN", tid ? tid->subsysnqn : NULL },
                { "NVME_HOST_IFACE", tid ? tid->host_iface : NULL },
                { "NVME_DEVICE", device },
        };
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_va(level, 0, f, ELEMENTSOF(f), file, line, func, fmt, ap);
        va_end(ap);
        return r;
}
