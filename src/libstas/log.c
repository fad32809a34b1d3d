/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        char buf[2048];
        int saved = errno;
        va_list ap;

        if (error)
                errno = abs(error);
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);

        if (sink)
                sink(level, buf, sink_userdata);
        else if (target == LOG_TARGET_SYSLOG)
                syslog(level, "%s", buf);
        else if (max_level >= LOG_DEBUG && level >= LOG_DEBUG)
                fprintf(stderr, "<%d>%s: %s (%s:%d %s)\n", level, ident, buf, file, line, func);
        else
                fprintf(stderr, "<%d>%s: %s\n", level, ident, buf);

        errno = saved;
        return -abs(error);
}
