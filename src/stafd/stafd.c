/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd.c - the STorage Appliance Finder daemon: main() (command line and start-up checks from
 * stas/daemon.h), the nvme-cli udev rule override (§5.11), the zeroconf browser, reloads, tron
 * and the orderly stop. The DC logic lives in stafd-manager.c, the D-Bus object in stafd-bus.c,
 * the zeroconf glue in stafd-zeroconf.c.
 *
 * Test hooks (environment): STAS_NVMF_DEV (fabrics device path), STAS_UDEV_RULES_DIR (instead of
 * /run/udev/rules.d), STAS_UDEV_RULE_TEMPLATE (instead of the installed template),
 * STAS_SYSTEMCTL (instead of the configured systemctl), STAS_SYS_CONF (instead of
 * /etc/stas/sys.conf), RUNTIME_DIRECTORY (the last-known-config directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "config.h"
#include "stafd-bus.h"
#include "stafd-conf.h"
#include "stafd-manager.h"
#include "stafd-zeroconf.h"
#include "stas/bus-util.h"
#include "stas/daemon.h"
#include "stas/kernel.h"
#include "stas/lkc.h"
#include "stas/log.h"
#include "stas/nvme.h"
#include "stas/sysconf.h"
#include "stas/udev.h"

#define UDEV_RULE_NAME "70-nvmf-autoconnect.rules"

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

extern char **environ;

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
        bool stopping;
} Stafd;

/* libnvme's own level follows tron: LOG_DEBUG with tron, else errors only */
static int nvme_log_level(bool tron) {
        return tron ? LOG_DEBUG : LOG_ERR;
}

/* ---- nvme-cli udev rule override (§5.11) */

/* read up to @size bytes (short only at end of file); -errno on error */
static ssize_t read_full(int fd, char *buf, size_t size) {
        size_t n = 0;

        while (n < size) {
                ssize_t k = read(fd, buf + n, size - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        return (ssize_t) n;
}

/* 1 when the file at @path has exactly the content of @fd (read from its start), 0 if not, -errno */
static int file_equals_fd(const char *path, int fd) {
        _cleanup_close_ int other = -EBADF;
        char a[4096], b[4096];

        other = open(path, O_RDONLY | O_CLOEXEC);
        if (other < 0)
                return -errno;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        for (;;) {
                ssize_t na = read_full(fd, a, sizeof a), nb = read_full(other, b, sizeof b);

                if (na < 0 || nb < 0)
                        return na < 0 ? (int) na : (int) nb;
                if (na != nb || memcmp(a, b, (size_t) na) != 0)
                        return 0;
                if (na == 0)
                        return 1;
        }
}

static void udev_rule_install(Stafd *d) {
        const char *dir = getenv("STAS_UDEV_RULES_DIR"), *tpl = getenv("STAS_UDEV_RULE_TEMPLATE");
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        char buf[4096];
        ssize_t n;

        if (isempty(dir))
                dir = "/run/udev/rules.d";
        if (isempty(tpl))
                tpl = STAS_DATADIR "/" UDEV_RULE_NAME;
        if (asprintf(&path, "%s/" UDEV_RULE_NAME, dir) < 0 ||
            asprintf(&tmp, "%s/.#" UDEV_RULE_NAME, dir) < 0) {
                log_oom();
                return;
        }
        in = open(tpl, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
                log_warning_errno(errno, "Cannot read the udev rule template %s: %m", tpl);
                return;
        }
        if (access(path, F_OK) == 0) {
                /*
                 * Left by a stafd that did not exit cleanly (its content is the template: ours to
                 * remove at exit), or someone else's file (left alone).
                 */
                if (file_equals_fd(path, in) > 0) {
                        log_debug("%s exists with the template's content; taking it over.", path);
                        d->rule_path = TAKE_PTR(path);
                } else
                        log_notice("%s exists and differs from %s; leaving it alone.", path, tpl);
                return;
        }
        if (lseek(in, 0, SEEK_SET) < 0) {
                log_warning_errno(errno, "Cannot read the udev rule template %s: %m", tpl);
                return;
        }
        (void) mkdir(dir, 0755);
        out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0) {
                log_warning_errno(errno, "Cannot write %s: %m", tmp);
                return;
        }
        while ((n = read(in, buf, sizeof buf)) > 0)
                if (write(out, buf, n) != n) {
                        n = -1;
                        break;
                }
        if (n < 0 || rename(tmp, path) < 0) {
                log_warning_errno(errno, "Cannot install %s: %m", path);
                (void) unlink(tmp);
                return;
        }
        log_debug("Installed %s (masks nvme-cli's autoconnect rule).", path);
        d->rule_path = TAKE_PTR(path);
}

static void udev_rule_remove(Stafd *d) {
        if (!d->rule_path)
                return;
        if (unlink(d->rule_path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove %s: %m", d->rule_path);
        free(d->rule_path);
        d->rule_path = NULL;
}

/* ---- interop with nvme-cli's nvmf-connect@.service (§5.11) */

static int append_opt(char **s, const char *key, const char *value) {
        char *n = NULL;

        if (isempty(value) || streq(value, "none"))
                return 0;
        if (asprintf(&n, "%s%s--%s\\x3d%s", strempty(*s), isempty(*s) ? "" : "\\x09", key, value) < 0)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        sd_event_source_unref(s);
        return 0;
}

static void foreign_dc_event(StafManager *m, const StasUevent *ev, void *userdata) {
        Stafd *d = userdata;
        _cleanup_(nvmedev_freep) StasNvmeDevice *dev = NULL;
        _cleanup_free_ char *opts = NULL, *unit = NULL;
        const char *systemctl = getenv("STAS_SYSTEMCTL");
        pid_t pid;
        int r;

        if (nvmedev_read(NULL, ev->sysname, &dev) < 0 || !nvmedev_is_dc(dev))
                return;
        if (isempty(systemctl))
                systemctl = STAS_SYSTEMCTL;
        if (append_opt(&opts, "device", ev->sysname) < 0 ||
            append_opt(&opts, "host-traddr", ev->host_traddr) < 0 ||
            append_opt(&opts, "host-iface", ev->host_iface) < 0 ||
            asprintf(&unit, "nvmf-connect@%s.service", opts) < 0) {
                log_oom();
                return;
        }
        char *argv[] = {
                (char *) systemctl, (char *) "--quiet", (char *) "--no-block", (char *) "restart", unit, NULL
        };
        /* our blocked signals (SIGTERM, SIGINT, SIGHUP, SIGCHLD) must not reach systemctl */
        posix_spawnattr_t attr;
        sigset_t none, all;

        sigemptyset(&none);
        sigfillset(&all);
        r = posix_spawnattr_init(&attr);
        if (r == 0) {
                r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
                r = r ?: posix_spawnattr_setsigmask(&attr, &none);
                r = r ?: posix_spawnattr_setsigdefault(&attr, &all);
                r = r ?: posix_spawn(&pid, systemctl, NULL, &attr, argv, environ);
                (void) posix_spawnattr_destroy(&attr);
        }
        if (r != 0) {
                log_warning_errno(r, "Cannot run %s restart %s: %m", systemctl, unit);
                return;
        }
        log_info("%s is not managed by stafd: %s restart %s", ev->sysname, systemctl, unit);
        if (sd_event_add_child(d->event, NULL, pid, WEXITED, on_child, NULL) < 0)
                (void) waitpid(pid, NULL, WNOHANG);
}

/* ---- hooks */

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

int main(int argc, char *argv[]) {
        Stafd d = {};
        _cleanup_(stas_conf_freep) StasConf *conf = NULL;
        _cleanup_(sysconf_freep) StasSysConf *sys = NULL;
        _cleanup_free_ char *lkc = NULL;
        StasKernelOptions kopts = {};
        StasNvmeKernel kernel;
        StasNvmeHost host;
        DaemonArgs args;
        sigset_t ss;
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
        r = stas_conf_load(&stafd_conf_schema, d.conf_path, &conf);
        if (r < 0) {
                log_error_errno(r, "Cannot load %s: %m", d.conf_path);
                return EXIT_FAILURE;
        }
        log_set_max_level(daemon_log_level(d.tron_flag, conf->tron));
        r = lkc_default_path("stafd", &lkc);
        if (r < 0)
                log_warning_errno(r, "No last-known-config file: %m");
        lkc_host_uuid_restore(lkc, "stafd"); /* a random host NQN survives a restart */
        r = sysconf_load(daemon_sysconf_path(), NULL, &sys);
        if (r < 0) {
                log_error_errno(r, "Cannot load sys.conf: %m");
                return EXIT_FAILURE;
        }

        /* children are reaped through sd-event */
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &ss, NULL);

        r = sd_event_default(&d.event);
        if (r < 0) {
                log_error_errno(r, "Cannot create the event loop: %m");
                goto finish;
        }
        r = event_setup_signals(d.event, on_stop, on_reload, &d);
        if (r < 0) {
                log_error_errno(r, "Cannot set up signals: %m");
                goto finish;
        }
        (void) kernel_options_probe(NULL, kernel_fabrics_path(), &kopts);
        kernel = (StasNvmeKernel){ .host_iface = kopts.host_iface,
                                   .discovery = kopts.discovery,
                                   .dhchap_secret = kopts.dhchap_secret,
                                   .dhchap_ctrl_secret = kopts.dhchap_ctrl_secret };
        set_host(&host, sys);
        r = stas_nvme_new(&host, &kernel, nvme_log_level(d.tron_flag || conf->tron), &d.nvme);
        if (r < 0) {
                log_error_errno(r, "Cannot create the NVMe context: %m");
                goto finish;
        }
        r = task_pool_new(d.event, STAFD_CONNECT_WORKERS, &d.connect_pool);
        if (r >= 0)
                r = task_pool_new(d.event, STAFD_SHORT_WORKERS, &d.short_pool);
        if (r < 0) {
                log_error_errno(r, "Cannot create the worker pools: %m");
                goto finish;
        }
        d.ctx = (StasCtrlNvmeCtx){
                .nvme = d.nvme, .connect_pool = d.connect_pool, .short_pool = d.short_pool, .event = d.event
        };

        udev_rule_install(&d);

        const StafHooks hooks = {
                .log_pages_changed = hook_log_pages_changed,
                .dc_removed = hook_dc_removed,
                .foreign_dc_event = foreign_dc_event,
        };
        r = staf_manager_new(
                d.event, &stas_ctrl_nvme_ops, &d.ctx, TAKE_PTR(conf), TAKE_PTR(sys), lkc, &hooks, &d, &d.m);
        if (r < 0) {
                log_error_errno(r, "Cannot create the manager: %m");
                goto finish;
        }
        r = staf_manager_set_task_pool(d.m, d.short_pool);
        if (r < 0) {
                log_error_errno(r, "Cannot create the name resolver: %m");
                goto finish;
        }
        r = stas_udev_new(d.event, on_uevent, &d, &d.udev);
        if (r < 0) {
                log_error_errno(r, "Cannot monitor udev: %m");
                goto finish;
        }
        /* the cached log pages are restored before the bus name appears */
        r = staf_manager_start(d.m);
        if (r < 0) {
                log_error_errno(r, "Cannot start: %m");
                goto finish;
        }

        /* zeroconf: a browser that cannot be created only costs the mDNS discovery */
        r = zc_new(d.event, kopts.discovery, on_zeroconf_changed, &d, &d.zc);
        if (r < 0)
                log_warning_errno(r, "Cannot browse mDNS, zeroconf discovery disabled: %m");
        else {
                r = staf_zeroconf_apply_conf(d.zc, staf_manager_conf(d.m));
                if (r < 0)
                        log_warning_errno(r, "Cannot browse the zeroconf service types: %m");
        }

        r = bus_open(d.event, "stafd", false, &d.bus);
        if (r < 0) {
                log_error_errno(r, "Cannot connect to the system bus: %m");
                goto finish;
        }
        const StafBusInfo info = { .tp8013 = kopts.discovery,
                                   .host_iface = kopts.host_iface,
                                   .zc = d.zc,
                                   .tron_changed = tron_changed,
                                   .userdata = &d };
        r = staf_bus_new(d.bus, d.m, &info, &d.sbus);
        if (r < 0) {
                log_error_errno(r, "Cannot register the D-Bus object: %m");
                goto finish;
        }
        r = sd_bus_request_name(d.bus, STAF_BUS_NAME, 0);
        if (r < 0) {
                log_error_errno(r, "Cannot acquire the bus name " STAF_BUS_NAME ": %m");
                goto finish;
        }
        daemon_notify_ready();
        log_info("stafd %s started.", STAS_VERSION);

        /* a lost bus ends the loop (bus_open()): exit 1, the unit restarts stafd; DCs stay */
        r = sd_event_loop(d.event);
        ret = daemon_loop_status("stafd", r);
finish:
        udev_rule_remove(&d);
        staf_bus_free(d.sbus);
        zc_free(d.zc);
        if (d.bus)
                sd_bus_flush_close_unref(d.bus);
        stas_udev_free(d.udev);
        staf_manager_free(d.m);
        stas_ctrl_nvme_ctx_done(&d.ctx);
        /* bounded (daemon.h): a connect blocked in the kernel does not hold up the exit */
        (void) task_pool_free_within(d.connect_pool, STAS_STOP_WORKERS_USEC);
        (void) task_pool_free_within(d.short_pool, STAS_STOP_WORKERS_USEC);
        stas_nvme_free(d.nvme);
        kernel_options_done(&kopts);
        sd_event_unref(d.event);
        return ret;
}
