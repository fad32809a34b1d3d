/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - the one logging path of stas. Targets: stderr with syslog "<N>" level prefixes (which
 * journald understands when stderr is a journal stream), or syslog(3) (--syslog). The maximum
 * level is changed at run time (tron). Tests can install a sink that receives every line.
 * Secrets never go through here: use LOG_SECRET() to print a secret-bearing value.
 *
 * Whatever a message contains (a field from a state file, a config key, a D-Bus argument, a
 * discovery log entry), the writer emits exactly one line: before any target (the test sink
 * too) sees the formatted message, trailing newlines are dropped, control characters (C0 0x00-
 * 0x1f, DEL 0x7f, C1 U+0080-U+009F) and bytes that are not well-formed UTF-8 are escaped
 * ("\n", "\r", "\t", else "\xNN" per byte), and, as a safety net, every token shaped like a
 * DH-HMAC-CHAP secret (starting with "DHHC-1:" in any letter case, up to white space, a
 * control character, a quote, ',' or ';') is replaced by "(secret)". So a "\n<1>" inside a value
 * cannot forge a journal line. A message that needs none of this is written as formatted,
 * without a copy. Messages are truncated to LOG_LINE_MAX - 1 bytes before escaping.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "stas/macro.h"

typedef enum LogTarget {
        LOG_TARGET_STDERR,
        LOG_TARGET_SYSLOG,
        /*
         * the native journal protocol (sd_journal_sendv()): PRIORITY, MESSAGE, SYSLOG_IDENTIFIER,
         * CODE_FILE, CODE_LINE, CODE_FUNC and the fields of the call (log_fields(), log_ctrl()).
         * If the journal cannot take an entry, the line goes to stderr as with LOG_TARGET_STDERR.
         */
        LOG_TARGET_JOURNAL,
} LogTarget;

/* LogField - one extra journal field: @name is upper case ASCII, @value any text (escaped). */
typedef struct LogField {
        const char *name;
        const char *value;
} LogField;

/* the most fields one call may add (more are dropped) */
#define LOG_FIELDS_MAX 16
/* a field value is cut to this many bytes before escaping */
#define LOG_FIELD_VALUE_MAX 512

#define LOG_LINE_MAX 2048

typedef void (*LogSink)(int level, const char *line, void *userdata);

/* log_open() - set identity and target; may be called again (e.g. after option parsing). */
void log_open(const char *ident, LogTarget target);
void log_close(void);
void log_set_max_level(int level);
int log_get_max_level(void);
/* log_set_sink() - tests: receive each formatted line (without prefix). NULL restores output. */
void log_set_sink(LogSink sink, void *userdata);
/*
 * LogFieldSink - like LogSink, and also the extra fields of the call (log_fields(), log_ctrl();
 * n_fields 0 for the others), values escaped like the message, empty values left out.
 */
typedef void (*LogFieldSink)(
        int level, const char *line, const LogField *fields, size_t n_fields, void *userdata);
/* log_set_field_sink() - tests: as log_set_sink() (it replaces any LogSink); NULL restores output. */
void log_set_field_sink(LogFieldSink sink, void *userdata);
/*
 * log_stderr_is_journal() - is stderr a journal stream? $JOURNAL_STREAM ("dev:ino", set by
 * systemd) names the device and inode of stderr (fstat(2)), as systemd.exec(5) documents.
 */
bool log_stderr_is_journal(void);

/*
 * log_internal() - format and emit. If @error is non-zero, errno is set to |error| while
 * formatting so "%m" prints it. Return: -|error| (so callers can 'return log_error_errno(r, ...)').
 */
int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
        _printf_(6, 7);

/*
 * log_fields_internal() - log_internal() with @n extra journal fields (see LogField; those with
 * an empty or NULL value are left out). Only the journal target and the field sink see them.
 */
int log_fields_internal(
        int level,
        int error,
        const LogField *fields,
        size_t n,
        const char *file,
        int line,
        const char *func,
        const char *fmt,
        ...) _printf_(8, 9);

/*
 * log_ctrl_internal() - a controller event: MESSAGE_ID=@message_id (see stas/message-ids.h) and
 * NVME_TRTYPE, NVME_TRADDR, NVME_TRSVCID, NVME_SUBSYSNQN, NVME_HOST_IFACE from @tid (may be
 * NULL) and NVME_DEVICE=@device (may be NULL); empty ones are left out.
 */
struct StasTid;
int log_ctrl_internal(
        int level,
        const char *message_id,
        const struct StasTid *tid,
        const char *device,
        const char *file,
        int line,
        const char *func,
        const char *fmt,
        ...) _printf_(8, 9);

#define log_fields(level, fields, n, ...)                                                          \
        ({                                                                                         \
                int _l = (level);                                                                  \
                (_l <= log_get_max_level())                                                        \
                        ? (void) log_fields_internal(                                              \
                                  _l, 0, (fields), (n), __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : (void) 0;                                                                \
        })
#define log_ctrl(level, message_id, tid, device, ...)                   \
        ({                                                              \
                int _l = (level);                                       \
                (_l <= log_get_max_level()) ? (void) log_ctrl_internal( \
                                                      _l,               \
                                                      (message_id),     \
                                                      (tid),            \
                                                      (device),         \
                                                      __FILE__,         \
                                                      __LINE__,         \
                                                      __func__,         \
                                                      __VA_ARGS__)      \
                                            : (void) 0;                 \
        })

#define log_full_errno(level, error, ...)                                                 \
        ({                                                                                \
                int _l = (level), _e = (error);                                           \
                (_l <= log_get_max_level())                                               \
                        ? log_internal(_l, _e, __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : -abs(_e);                                                       \
        })
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)

/* log_oom() - "Out of memory." at error level; returns -ENOMEM. */
#define log_oom() log_full_errno(LOG_ERR, ENOMEM, "Out of memory.")

/* LOG_SECRET() - what to print (or publish) in place of a secret: "(set)" or "". */
#define LOG_SECRET(s) (isempty(s) ? "" : "(set)")

/* log_is_plain() - @n bytes at @s need no escaping or redaction (see the top of this file). */
bool log_is_plain(const char *s, size_t n);
/*
 * log_escape() - the escaped and redacted form of the @n bytes at @s into @out (NUL-terminated,
 * truncated to @size - 1; @size > 0). 4 * @n + 1 bytes always suffice. Return: the length of the
 * whole escaped text, as snprintf().
 */
size_t log_escape(const char *s, size_t n, char *out, size_t size);

/* log_level_to_string() - "DEBUG", "INFO", ... as nvme-stas's log_level property shows them. */
const char *log_level_to_string(int level);
