/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "stas/daemon.h"
#include "stas/kernel.h"
#include "stas/log.h"
#include "stas/nvme.h"

static void help(const char *name, const char *summary, const char *default_conf) {
        printf("Usage: %s [-f FILE] [-s] [--tron]\n"
               "       %s -v | -h\n\n"
               "%s\n\n"
               "  -f, --conf-file FILE  Configuration file (default %s)\n"
               "  -s, --syslog          Log to syslog/the journal instead of standard error\n"
               "      --tron            Trace on (debug logging)\n"
               "  -v, --version         Print the versions and exit\n"
               "  -h, --help            Print this help and exit\n",
               name,
               name,
               summary,
               default_conf);
}

static int usage_error(const char *name, const char *what, const char *arg) {
        fprintf(stderr, "%s: %s%s%s\nTry '%s --help'.\n", name, what, arg ? " " : "", arg ? arg : "", name);
        return 2;
}

/**
 * daemon_parse_args() - the daemons' command line.
 * @name: program name for messages
 * @summary: one-line description for --help
 * @default_conf: the configuration file without -f
 * @argc: argument count
 * @argv: arguments
 * @ret: the options
 */
int daemon_parse_args(
        const char *name,
        const char *summary,
        const char *default_conf,
        int argc,
        char **argv,
        DaemonArgs *ret) {
        static const struct option opts[] = {
                { "conf-file", required_argument, NULL, 'f' },
                { "syslog", no_argument, NULL, 's' },
                { "tron", no_argument, NULL, 'T' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        DaemonArgs a = { .conf_path = default_conf };
        int c;

        opterr = 0;
        optind = 0; /* full re-initialisation (tests parse several command lines) */
        while ((c = getopt_long(argc, argv, ":f:svh", opts, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (isempty(optarg))
                                return usage_error(name, "empty configuration file name", NULL);
                        a.conf_path = optarg;
                        break;
                case 's':
                        a.syslog = true;
                        break;
                case 'T':
                        a.tron = true;
                        break;
                case 'v':
                        printf("stas %s\nlibnvme %s\n", STAS_VERSION, stas_nvme_version());
                        return 0;
                case 'h':
                        help(name, summary, default_conf);
                        return 0;
                case ':':
                        return usage_error(name, "option requires an argument:", argv[optind - 1]);
                default:
                        return usage_error(name, "unknown option", argv[optind - 1]);
                }
        if (optind < argc)
                return usage_error(name, "unexpected argument", argv[optind]);
        *ret = a;
        return -1;
}

/**
 * daemon_log_open() - open the log for the daemon.
 * @name: syslog identifier
 * @args: the parsed command line
 */
void daemon_log_open(const char *name, const DaemonArgs *args) {
        /* --syslog is "the system log": the journal natively where it runs (the units pass it),
         * so that entries keep their fields; syslog(3) elsewhere */
        bool journal = args->syslog ? access(DAEMON_JOURNAL_SOCKET, W_OK) == 0 : log_stderr_is_journal();

        log_open(name, journal ? LOG_TARGET_JOURNAL : args->syslog ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR);
        log_set_max_level(args->syslog && !args->tron ? LOG_INFO : LOG_DEBUG);
}

/**
 * daemon_log_level() - LOG_DEBUG if tracing is on from the command line or the configuration.
 * @tron_flag: --tron
 * @conf_tron: [Global] tron=
 */
int daemon_log_level(bool tron_flag, bool conf_tron) {
        return tron_flag || conf_tron ? LOG_DEBUG : LOG_INFO;
}

/**
 * daemon_check_startup() - refuse to run without root or without NVMe-oF support.
 * @name: the daemon, for the message
 * @euid: the effective user id
 * @fabrics_path: the fabrics device (NULL: kernel_fabrics_path())
 */
int daemon_check_startup(const char *name, uid_t euid, const char *fabrics_path) {
        if (!fabrics_path)
                fabrics_path = kernel_fabrics_path();
        if (euid != 0) {
                log_error("Permission denied. You need root privileges to run %s.", name);
                return -EPERM;
        }
        if (!kernel_fabrics_present(fabrics_path)) {
                log_error("Fatal error: missing nvme-tcp kernel module (%s not found).", fabrics_path);
                return -ENOENT;
        }
        return 0;
}

/**
 * daemon_conf_reload() - see daemon.h.
 */
int daemon_conf_reload(const StasConfSchema *schema, const char *path, StasConf **ret) {
        int r;

        if (!schema || !path || !ret)
                return -EINVAL;
        if (access(path, F_OK) < 0) {
                r = -errno;
                if (r == -ENOENT) {
                        log_warning("%s is missing; keeping the running configuration.", path);
                        return r;
                }
                /* anything else (EACCES, ...) is reported by the loader below */
        }
        r = stas_conf_load(schema, path, ret);
        if (r < 0)
                return log_warning_errno(r, "Cannot reload %s, keeping the running configuration: %m", path);
        return 0;
}

/**
 * daemon_reload_confs() - see daemon.h.
 */
int daemon_reload_confs(
        const StasConfSchema *schema,
        const char *conf_path,
        const char *sys_path,
        StasConf **ret_conf,
        StasSysConf **ret_sys) {
        _cleanup_(stas_conf_freep) StasConf *conf = NULL;
        _cleanup_(sysconf_freep) StasSysConf *sys = NULL;
        int r;

        if (!ret_conf || !ret_sys)
                return -EINVAL;
        r = daemon_conf_reload(schema, conf_path, &conf);
        if (r < 0)
                return r; /* logged; sys.conf is not even read, so neither file changes anything */
        r = sysconf_load(sys_path, NULL, &sys);
        if (r < 0)
                return log_warning_errno(
                        r,
                        "Cannot reload %s, keeping the running configuration of both files: %m",
                        sys_path ?: sysconf_default_path());
        *ret_conf = TAKE_PTR(conf);
        *ret_sys = TAKE_PTR(sys);
        return 0;
}

/**
 * daemon_sysconf_path() - where sys.conf is read from.
 */
const char *daemon_sysconf_path(void) {
        const char *p = getenv("STAS_SYS_CONF");

        return isempty(p) ? NULL : p;
}

/* The STATUS= systemd has now: what daemon_notify_status() compares with. */
static char status_last[DAEMON_STATUS_MAX];

static void notify(const char *state, const char *status) {
        (void) sd_notifyf(false, "%sSTATUS=%s", state, status);
        snprintf(status_last, sizeof(status_last), "%s", status);
}

/**
 * daemon_notify_ready() - tell systemd the daemon is (again) running.
 */
void daemon_notify_ready(void) {
        notify("READY=1\n", "Running");
}

/**
 * daemon_notify_reloading() - tell systemd a reload started.
 */
void daemon_notify_reloading(void) {
        notify("RELOADING=1\n", "Reloading the configuration");
}

/**
 * daemon_notify_stopping() - tell systemd the daemon is stopping.
 */
void daemon_notify_stopping(void) {
        notify("STOPPING=1\n", "Stopping");
}

bool daemon_status_differs(const char *text) {
        return strncmp(text, status_last, sizeof(status_last) - 1) != 0;
}

void daemon_notify_status(const char *text) {
        notify("", text);
}

/**
 * daemon_loop_status() - see daemon.h.
 * @name: the daemon's name
 * @r: what sd_event_loop() returned
 */
int daemon_loop_status(const char *name, int r) {
        if (r < 0) {
                log_error_errno(r, "%s: event loop failed: %m", name);
                return EXIT_FAILURE;
        }
        if (r > 0) {
                /* only sd-bus ends our loops with a non-zero code: exit-on-disconnect (bus_open()) */
                log_error(
                        "%s: lost the connection to the D-Bus system bus (dbus-daemon restarted?): exiting with "
                        "failure, to be restarted on the new bus.",
                        name);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
