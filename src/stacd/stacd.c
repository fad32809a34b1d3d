/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd.c - the STorage Appliance Connector daemon: command line (§2.1), start-up checks, the
 * sd-event loop with signals (TERM/INT stop, HUP reload) and sd_notify. Everything else is in
 * stacd-manager.c (state), stacd-staf.c (stafd client) and stacd-bus.c (D-Bus object).
 * Exit status: 0 clean stop, 1 fatal error, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"
#include "stacd-manager.h"
#include "stas/kernel.h"
#include "stas/log.h"
#include "stas/nvme.h"

#define DEFAULT_CONF STAS_ETC_STAS "/stacd.conf"

static void help(void) {
        printf("Usage: stacd [-f FILE] [-s] [--tron]\n"
               "       stacd -v | -h\n\n"
               "STorage Appliance Connector: connects to NVMe over Fabrics I/O controllers.\n\n"
               "  -f, --conf-file FILE  Configuration file (default " DEFAULT_CONF ")\n"
               "  -s, --syslog          Log to syslog/the journal instead of standard error\n"
               "      --tron            Trace on (debug logging)\n"
               "  -v, --version         Print the versions and exit\n"
               "  -h, --help            Print this help and exit\n");
}

static int usage_error(const char *what, const char *arg) {
        fprintf(stderr, "stacd: %s%s%s\nTry 'stacd --help'.\n", what, arg ? " " : "", arg ? arg : "");
        return 2;
}

static void on_stop(void *userdata) {
        manager_stop(userdata);
}

static void on_reload(void *userdata) {
        manager_reload(userdata);
}

int main(int argc, char *argv[]) {
        static const struct option opts[] = {
                { "conf-file", required_argument, NULL, 'f' },
                { "syslog", no_argument, NULL, 's' },
                { "tron", no_argument, NULL, 'T' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(manager_freep) StacdManager *m = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        const char *conf = DEFAULT_CONF;
        bool syslog_target = false, tron = false;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":f:svh", opts, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (isempty(optarg))
                                return usage_error("empty configuration file name", NULL);
                        conf = optarg;
                        break;
                case 's':
                        syslog_target = true;
                        break;
                case 'T':
                        tron = true;
                        break;
                case 'v':
                        printf("stas %s\nlibnvme %s\n", STAS_VERSION, stas_nvme_version());
                        return 0;
                case 'h':
                        help();
                        return 0;
                case ':':
                        return usage_error("option requires an argument:", argv[optind - 1]);
                default:
                        return usage_error("unknown option", argv[optind - 1]);
                }
        if (optind < argc)
                return usage_error("unexpected argument", argv[optind]);

        log_open("stacd", syslog_target ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR);
        log_set_max_level(tron ? LOG_DEBUG : (syslog_target ? LOG_INFO : LOG_DEBUG));

        if (geteuid() != 0) {
                log_error("Permission denied. You need root privileges to run stacd.");
                return 1;
        }
        if (!kernel_fabrics_present(kernel_fabrics_path())) {
                log_error(
                        "Fatal error: missing nvme-tcp kernel module (%s not found).",
                        kernel_fabrics_path());
                return 1;
        }

        r = sd_event_default(&event);
        if (r < 0) {
                log_error_errno(r, "Cannot create the event loop: %m");
                return 1;
        }
        r = manager_new(event, conf, tron, &m);
        if (r < 0) {
                log_error_errno(r, "Cannot start: %m");
                return 1;
        }
        r = manager_load(m);
        if (r < 0)
                return 1;
        r = event_setup_signals(event, on_stop, on_reload, m);
        if (r < 0) {
                log_error_errno(r, "Cannot set up signal handling: %m");
                return 1;
        }
        /* state first (lkc, udev), then the bus: clients see the name only with the IOCs known */
        r = manager_start(m);
        if (r < 0)
                return 1;
        r = stacd_bus_setup(m);
        if (r < 0)
                return 1;

        log_info("stacd %s started.", STAS_VERSION);
        (void) sd_notify(false, "READY=1\nSTATUS=Running");
        r = sd_event_loop(event);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                return 1;
        }
        return 0;
}
