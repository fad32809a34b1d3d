/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd.c - the STorage Appliance Connector daemon: command line (§2.1), start-up checks, the
 * sd-event loop with signals (TERM/INT stop, HUP reload) and sd_notify. Everything else is in
 * stacd-manager.c (state), stacd-staf.c (stafd client) and stacd-bus.c (D-Bus object).
 * Exit status: 0 clean stop, 1 fatal error (including a lost D-Bus connection), 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "stacd-manager.h"
#include "stas/daemon.h"
#include "stas/log.h"
#include "stas/nvme.h"

#define DEFAULT_CONF STAS_ETC_STAS "/stacd.conf"

static void on_stop(void *userdata) {
        manager_stop(userdata);
}

static void on_reload(void *userdata) {
        manager_reload(userdata);
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) StacdManager *m = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        DaemonArgs args;
        int r;

        r = daemon_parse_args(
                "stacd",
                "STorage Appliance Connector: connects to NVMe over Fabrics I/O controllers.",
                DEFAULT_CONF,
                argc,
                argv,
                &args);
        if (r >= 0)
                return r;
        daemon_log_open("stacd", &args);
        if (daemon_check_startup("stacd", geteuid(), NULL) < 0)
                return 1;

        r = sd_event_default(&event);
        if (r < 0) {
                log_error_errno(r, "Cannot create the event loop: %m");
                return 1;
        }
        r = manager_new(event, args.conf_path, args.tron, &m);
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
        daemon_notify_ready();
        r = sd_event_loop(event);
        /* a lost bus ends the loop (bus_open()): exit 1, the unit restarts stacd; connections stay */
        return daemon_loop_status("stacd", r);
}
