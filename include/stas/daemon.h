/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon.h - the start-up and service-manager plumbing stafd and stacd share (§2.1): the common
 * command line (-f/--conf-file FILE, -s/--syslog, --tron, -v/--version, -h/--help; exit status 2
 * on usage errors), the initial logging target and level, the fatal start-up checks (root, the
 * NVMe-oF fabrics device), the sys.conf path and the sd_notify state messages. Usage errors go
 * to stderr and the checks log at error level (they end the daemon); nothing else logs.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "stas/event.h"

/*
 * The bounded stop both daemons share (issue 9, failure 6). At SIGTERM a daemon writes its state
 * file, then waits at most STAS_STOP_WAIT_USEC for the disconnects (and, for stafd, the DIM
 * deregistrations) it already started; what is still pending then is left as it is, and kept in
 * the state file, so the next start deals with it. After the loop ends, operations still
 * running on worker threads (a connect blocked in the kernel) get STAS_STOP_WORKERS_USEC, then
 * the daemon exits without them (task_pool_free_within()). At most 12 s in all, well inside
 * systemd's stop timeout.
 */
#define STAS_STOP_WAIT_USEC (10 * USEC_PER_SEC)
#define STAS_STOP_WORKERS_USEC (2 * USEC_PER_SEC)

#include "stas/conf.h"
#include "stas/sysconf.h"

typedef struct DaemonArgs {
        const char *conf_path; /* -f (default: the daemon's) */
        bool syslog;           /* -s */
        bool tron;             /* --tron */
} DaemonArgs;

/*
 * daemon_parse_args() - parse the daemon command line. @name ("stafd"), @summary (one line for
 * --help) and @default_conf describe the daemon. Return: -1 to go on with *@ret filled, else the
 * exit status to return at once (0 after --help/--version, 2 after a usage error).
 */
int daemon_parse_args(
        const char *name,
        const char *summary,
        const char *default_conf,
        int argc,
        char **argv,
        DaemonArgs *ret);

/*
 * daemon_log_open() - log to the system log (-s: the native journal where journald runs, else
 * syslog), or to stderr (natively to the journal when stderr is its stream); debug level with
 * --tron or on stderr, info on the system log (until the configuration's tron= is known).
 */
void daemon_log_open(const char *name, const DaemonArgs *args);
/* The native journal's socket: with --syslog, stas logs there when it exists. */
#define DAEMON_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* daemon_log_level() - the log level for --tron @tron_flag and the configuration's tron=. */
int daemon_log_level(bool tron_flag, bool conf_tron);

/*
 * daemon_check_startup() - the fatal start-up checks: @euid must be 0 and @fabrics_path (NULL:
 * kernel_fabrics_path()) must exist. Logs the reason. Return: 0, -EPERM or -ENOENT.
 */
int daemon_check_startup(const char *name, uid_t euid, const char *fabrics_path);

/*
 * daemon_conf_reload() - the configuration file of @schema at a reload (SIGHUP). Unlike at start, where a
 * missing file means the defaults, a file missing at a reload keeps the running configuration:
 * that is logged as a warning and -ENOENT returned. Every other failure of stas_conf_load() is
 * logged too ("Cannot reload ..., keeping the running configuration"). Return: 0 with *@ret, or
 * -errno (nothing to apply).
 */
int daemon_conf_reload(const StasConfSchema *schema, const char *path, StasConf **ret);

/*
 * daemon_reload_confs() - a reload (SIGHUP) of the pair: the daemon's configuration file of
 * @schema at @conf_path (see daemon_conf_reload()) and sys.conf at @sys_path (NULL: the default).
 * Both load or neither does: if either file is missing or bad, one warning names it and nothing
 * is returned, so the daemon keeps running with both of its current files (never the new
 * sys.conf with the old daemon configuration, or the other way round). Return: 0 with *@ret_conf
 * and *@ret_sys, or -errno (nothing to apply).
 */
int daemon_reload_confs(
        const StasConfSchema *schema,
        const char *conf_path,
        const char *sys_path,
        StasConf **ret_conf,
        StasSysConf **ret_sys);

/* daemon_sysconf_path() - $STAS_SYS_CONF if set and non-empty (tests), else NULL (the default). */
const char *daemon_sysconf_path(void);

/* sd_notify(): READY=1 / RELOADING=1 / STOPPING=1 with a matching STATUS=. No-ops outside systemd. */
void daemon_notify_ready(void);
void daemon_notify_reloading(void);
void daemon_notify_stopping(void);
/* The longest STATUS= text of daemon_notify_status(). */
#define DAEMON_STATUS_MAX 128
/* daemon_status_differs() - @text is not the STATUS= last sent (by any daemon_notify_*()). */
bool daemon_status_differs(const char *text);
/* daemon_notify_status() - STATUS=@text, without a state change (ctrl_set_notify_status()). */
void daemon_notify_status(const char *text);

/*
 * daemon_loop_status() - the exit status after sd_event_loop() returned @r. A positive @r is a
 * lost bus connection: bus_open() makes sd-bus end the loop with EXIT_FAILURE on disconnect
 * (e.g. a dbus-daemon restart), and the daemons never end it with a non-zero code otherwise. It
 * logs an error naming @name and gives 1, so that the unit's Restart=on-failure starts the
 * daemon again on the new bus. A loop failure (@r < 0) logs and gives 1; a clean stop 0.
 */
int daemon_loop_status(const char *name, int r);
