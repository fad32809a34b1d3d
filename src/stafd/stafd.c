/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd.c - the STorage Appliance Finder daemon: main() (command line and start-up checks from
 * stas/daemon.h), signals, the zeroconf browser, reloads, tron and the orderly stop. The DC
 * logic lives in stafd-manager.c, the D-Bus object in stafd-bus.c, the zeroconf glue in
 * stafd-zeroconf.c, the interop with nvme-cli (§5.11) in stafd-nvmecli.c.
 *
 * Test hooks (environment): STAS_NVMF_DEV (fabrics device path), STAS_UDEV_RULES_DIR (instead of
 * /run/udev/rules.d), STAS_UDEV_RULE_TEMPLATE (instead of the installed template),
 * STAS_SYSTEMCTL (instead of the configured systemctl), STAS_SYS_CONF (instead of
 * /etc/stas/sys.conf), RUNTIME_DIRECTORY (the last-known-config directory).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "config.h"
#include "stafd-bus.h"
#include "stafd-conf.h"
#include "stafd-manager.h"
#include "stafd-nvmecli.h"
#include "stafd-zeroconf.h"
#include "stas/bus-util.h"
#include "stas/daemon.h"
#include "stas/kernel.h"
#include "stas/lkc.h"
#include "stas/log.h"
#include "stas/nvme.h"
#include "stas/sysconf.h"
#include "stas/udev.h"

/*
 * Worker pools (task.h, ctrl.h). Connects get their own pool: a connect to a dead DC can block
 * its worker in the kernel for the transport's connect timeout. 16 connects at once cover the
 * DCs of a usual fabric (a CDC, some DDCs and their referrals, the mDNS ones) in one round, and
 * a dead fabric costs at most 16 threads; further connects wait in the queue (and only ever
 * behind other connects). The short operations (Get Log Page, supported log pages, DIM,
 * disconnect, host name lookups) take a few round trips each: 4 workers keep a burst, such as
 * every DC re-reading its log page after a fabric change, parallel enough.
 */
#define STAFD_CONNECT_WORKERS 16
#define STAFD_SHORT_WORKERS 4

typedef struct Stafd {
        sd_event *event;
        sd_bus *bus;
        StafBus *sbus;
        StafManager *m;
        StasUdev *udev;
        StasNvme *nvme;
        StasTaskPool *connect_pool, *short_pool;
        StasZeroconf *zc;
        StasCtrlNvmeCtx ctx;
        const char *conf_path;
        bool tron_flag;
        char *rule_path; /* the override we installed */
        StasKernelOptions kopts;
        bool stopping;
} Stafd;

/* libnvme's own level follows tron: LOG_DEBUG with tron, else errors only */
static int nvme_log_level(bool tron) {
        return tron ? LOG_DEBUG : LOG_ERR;
}

/* ---- hooks */

static void foreign_dc_event(StafManager *m, const StasUevent *ev, void *userdata) {
        Stafd *d = userdata;

        nvmecli_foreign_dc(d->event, ev);
}

static void hook_log_pages_changed(StafManager *m, StafDc *dc, void *userdata) {
        Stafd *d = userdata;
        int r = staf_bus_emit_log_pages_changed(d->sbus, dc);
        if (r < 0)
                log_debug_errno(r, "Cannot emit log_pages_changed: %m");
}

static void hook_dc_removed(StafManager *m, void *userdata) {
        Stafd *d = userdata;
        int r = staf_bus_emit_dc_removed(d->sbus);
        if (r < 0)
                log_debug_errno(r, "Cannot emit dc_removed: %m");
}

static void on_uevent(const StasUevent *ev, void *userdata) {
        Stafd *d = userdata;

        /* also while stopping: disposals follow remove events */
        if (d->m)
                staf_manager_uevent(d->m, ev);
}

static void set_host(StasNvmeHost *h, const StasSysConf *s) {
        *h = (StasNvmeHost){
                .hostnqn = s->hostnqn, .hostid = s->hostid, .hostkey = s->hostkey, .symname = s->symname
        };
}

static void on_stopped(void *userdata) {
        Stafd *d = userdata;
        (void) sd_event_exit(d->event, 0);
}

static void on_stop(void *userdata) {
        Stafd *d = userdata;

        if (d->stopping)
                return;
        d->stopping = true;
        daemon_notify_stopping();
        log_info("Stopping.");
        if (staf_manager_stop(d->m, on_stopped, d) < 0)
                (void) sd_event_exit(d->event, 0);
}

static void on_reload(void *userdata) {
        Stafd *d = userdata;
        _cleanup_(stas_conf_freep) StasConf *conf = NULL;
        _cleanup_(sysconf_freep) StasSysConf *sys = NULL;
        StasNvmeHost host;
        int r;

        if (d->stopping)
                return;
        daemon_notify_reloading();
        r = daemon_reload_confs(&stafd_conf_schema, d->conf_path, daemon_sysconf_path(), &conf, &sys);
        if (r >= 0) {
                log_set_max_level(daemon_log_level(d->tron_flag, conf->tron));
                stas_nvme_set_log_level(d->nvme, nvme_log_level(d->tron_flag || conf->tron));
                set_host(&host, sys);
                if (stas_nvme_set_host(d->nvme, &host) < 0)
                        log_warning("Cannot apply the new host identity.");
                (void) staf_manager_reload(d->m, TAKE_PTR(conf), TAKE_PTR(sys));
                r = staf_zeroconf_apply_conf(d->zc, staf_manager_conf(d->m));
                if (r < 0)
                        log_warning_errno(r, "Cannot change the zeroconf service types: %m");
                log_info("Configuration reloaded.");
        }
        /* SIGHUP also reconnects to avahi and re-probes unreachable services now */
        if (d->zc)
                zc_kick(d->zc);
        daemon_notify_ready();
}

static void tron_changed(void *userdata, bool tron) {
        Stafd *d = userdata;

        stas_nvme_set_log_level(d->nvme, nvme_log_level(tron));
}

static void on_zeroconf_changed(StasZeroconf *z, void *userdata) {
        Stafd *d = userdata;
        int r;

        if (d->stopping || !d->m)
                return;
        r = staf_zeroconf_sync(d->m, z);
        if (r < 0)
                log_warning_errno(r, "Cannot take the zeroconf services: %m");
}

/* stafd.conf, then the state file's random host UUID (if any), then sys.conf */
static int load_config(Stafd *d, StasConf **conf, StasSysConf **sys, char **lkc) {
        int r;

        r = stas_conf_load(&stafd_conf_schema, d->conf_path, conf);
        if (r < 0)
                return log_error_errno(r, "Cannot load %s: %m", d->conf_path);
        log_set_max_level(daemon_log_level(d->tron_flag, (*conf)->tron));
        r = lkc_default_path("stafd", lkc);
        if (r < 0)
                log_warning_errno(r, "No last-known-config file: %m");
        lkc_host_uuid_restore(*lkc, "stafd"); /* a random host NQN survives a restart */
        r = sysconf_load(daemon_sysconf_path(), NULL, sys);
        if (r < 0)
                return log_error_errno(r, "Cannot load sys.conf: %m");
        return 0;
}

/* the loop and its signals, the kernel's options, the NVMe context and the worker pools */
static int setup_loop_and_kernel(Stafd *d, const StasConf *conf, const StasSysConf *sys) {
        StasNvmeKernel kernel;
        StasNvmeHost host;
        sigset_t ss;
        int r;

        /* children are reaped through sd-event */
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &ss, NULL);

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop: %m");
        r = event_setup_signals(d->event, on_stop, on_reload, d);
        if (r < 0)
                return log_error_errno(r, "Cannot set up signals: %m");
        (void) kernel_options_probe(NULL, kernel_fabrics_path(), &d->kopts);
        kernel = (StasNvmeKernel){ .host_iface = d->kopts.host_iface,
                                   .discovery = d->kopts.discovery,
                                   .dhchap_secret = d->kopts.dhchap_secret,
                                   .dhchap_ctrl_secret = d->kopts.dhchap_ctrl_secret };
        set_host(&host, sys);
        r = stas_nvme_new(&host, &kernel, nvme_log_level(d->tron_flag || conf->tron), &d->nvme);
        if (r < 0)
                return log_error_errno(r, "Cannot create the NVMe context: %m");
        r = task_pool_new(d->event, STAFD_CONNECT_WORKERS, &d->connect_pool);
        if (r >= 0)
                r = task_pool_new(d->event, STAFD_SHORT_WORKERS, &d->short_pool);
        if (r < 0)
                return log_error_errno(r, "Cannot create the worker pools: %m");
        d->ctx = (StasCtrlNvmeCtx){ .nvme = d->nvme,
                                    .connect_pool = d->connect_pool,
                                    .short_pool = d->short_pool };
        return 0;
}

/* the DC manager (it takes @conf and @sys), udev, the restored state, zeroconf */
static int setup_manager(Stafd *d, StasConf *conf, StasSysConf *sys, const char *lkc) {
        const StafHooks hooks = {
                .log_pages_changed = hook_log_pages_changed,
                .dc_removed = hook_dc_removed,
                .foreign_dc_event = foreign_dc_event,
        };
        int r;

        d->rule_path = nvmecli_rule_install();
        r = staf_manager_new(d->event, &stas_ctrl_nvme_ops, &d->ctx, conf, sys, lkc, &hooks, d, &d->m);
        if (r < 0)
                return log_error_errno(r, "Cannot create the manager: %m");
        r = staf_manager_set_task_pool(d->m, d->short_pool);
        if (r < 0)
                return log_error_errno(r, "Cannot create the name resolver: %m");
        r = stas_udev_new(d->event, on_uevent, d, &d->udev);
        if (r < 0)
                return log_error_errno(r, "Cannot monitor udev: %m");
        /* the cached log pages are restored before the bus name appears */
        r = staf_manager_start(d->m);
        if (r < 0)
                return log_error_errno(r, "Cannot start: %m");

        /* zeroconf: a browser that cannot be created only costs the mDNS discovery */
        r = zc_new(d->event, d->kopts.discovery, on_zeroconf_changed, d, &d->zc);
        if (r < 0)
                log_warning_errno(r, "Cannot browse mDNS, zeroconf discovery disabled: %m");
        else {
                r = staf_zeroconf_apply_conf(d->zc, staf_manager_conf(d->m));
                if (r < 0)
                        log_warning_errno(r, "Cannot browse the zeroconf service types: %m");
        }
        return 0;
}

/* the system bus, the D-Bus object, then the name (clients see it with the state restored) */
static int setup_bus(Stafd *d) {
        int r;

        r = bus_open(d->event, "stafd", false, &d->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m");
        const StafBusInfo info = { .tp8013 = d->kopts.discovery,
                                   .host_iface = d->kopts.host_iface,
                                   .zc = d->zc,
                                   .tron_changed = tron_changed,
                                   .userdata = d };
        r = staf_bus_new(d->bus, d->m, &info, &d->sbus);
        if (r < 0)
                return log_error_errno(r, "Cannot register the D-Bus object: %m");
        r = sd_bus_request_name(d->bus, STAF_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Cannot acquire the bus name " STAF_BUS_NAME ": %m");
        return 0;
}

static void stafd_done(Stafd *d) {
        nvmecli_rule_remove(&d->rule_path);
        staf_bus_free(d->sbus);
        zc_free(d->zc);
        if (d->bus)
                sd_bus_flush_close_unref(d->bus);
        stas_udev_free(d->udev);
        staf_manager_free(d->m);
        /* bounded (daemon.h): a connect blocked in the kernel does not hold up the exit */
        (void) task_pool_free_within(d->connect_pool, STAS_STOP_WORKERS_USEC);
        (void) task_pool_free_within(d->short_pool, STAS_STOP_WORKERS_USEC);
        stas_nvme_free(d->nvme);
        kernel_options_done(&d->kopts);
        sd_event_unref(d->event);
}

int main(int argc, char *argv[]) {
        Stafd d = {};
        _cleanup_(stas_conf_freep) StasConf *conf = NULL;
        _cleanup_(sysconf_freep) StasSysConf *sys = NULL;
        _cleanup_free_ char *lkc = NULL;
        DaemonArgs args;
        int r, ret = EXIT_FAILURE;

        r = daemon_parse_args(
                "stafd",
                "STorage Appliance Finder (stafd): finds NVMe-oF discovery controllers.",
                STAS_ETC_STAS "/stafd.conf",
                argc,
                argv,
                &args);
        if (r >= 0)
                return r;
        d.conf_path = args.conf_path;
        d.tron_flag = args.tron;
        daemon_log_open("stafd", &args);
        if (daemon_check_startup("stafd", geteuid(), NULL) < 0)
                return EXIT_FAILURE;
        if (load_config(&d, &conf, &sys, &lkc) < 0)
                return EXIT_FAILURE;

        if (setup_loop_and_kernel(&d, conf, sys) >= 0 &&
            setup_manager(&d, TAKE_PTR(conf), TAKE_PTR(sys), lkc) >= 0 && setup_bus(&d) >= 0) {
                daemon_notify_ready();
                log_info("stafd %s started.", STAS_VERSION);
                /* a lost bus ends the loop (bus_open()): exit 1, the unit restarts stafd; DCs stay */
                r = sd_event_loop(d.event);
                ret = daemon_loop_status("stafd", r);
        }
        stafd_done(&d);
        return ret;
}
