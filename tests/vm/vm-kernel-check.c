/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vm-kernel-check - the libstas kernel boundary against a real kernel, run inside the vm guest
 * (tests/vm/init has built an nvmet-tcp target on loopback and exported STAS_VM_*).
 *
 * Prints one "VMCHECK <name> PASS|FAIL <detail>" line per check, then "VMCHECK-DONE", and exits
 * 0 only if every check passed. Checks, in order (later ones need earlier ones):
 *   kernel-probe     the /dev/nvme-fabrics option probe offers host_iface and discovery
 *   dc-connect       a persistent discovery controller to 127.0.0.1:8009 via the nvme adapter
 *   dlp-read         its discovery log lists the target's subsystem
 *   aen-uevent       linking a new subsystem to the discovery port gives AEN 0x70f002 on the
 *                    libstas udev monitor (events re-broadcast by systemd-udevd)
 *   dlp-changed      the log read again lists the new subsystem
 *   ioc-connect      an I/O controller with host-iface=lo
 *   ioc-match        sysfs enumeration finds it and §5.10 matching (with src_addr) accepts the
 *                    candidate TID and rejects one with another host-traddr; it is classified
 *                    as an I/O controller and not as a DC, even before its namespaces appear.
 *   dim-unsupported  DIM registration on nvmet's DC (no TP8010) fails cleanly
 *   disconnect       both controllers go away
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "stas/dlp.h"
#include "stas/ifaddr.h"
#include "stas/kernel.h"
#include "stas/log.h"
#include "stas/macro.h"
#include "stas/match.h"
#include "stas/nvme.h"
#include "stas/strv.h"
#include "stas/tid.h"
#include "stas/udev.h"

#define SUB2 "nqn.2024-01.io.stas.test:kernel-check-sub2"

static int failures;

static void report(const char *name, bool ok, const char *fmt, ...) _printf_(3, 4);
static void report(const char *name, bool ok, const char *fmt, ...) {
        va_list ap;

        printf("VMCHECK %s %s ", name, ok ? "PASS" : "FAIL");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        if (!ok)
                failures++;
}

static const char *env_or(const char *name, const char *def) {
        const char *v = getenv(name);
        return isempty(v) ? def : v;
}

static char *read_line(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char buf[512];

        if (!f || !fgets(buf, sizeof(buf), f))
                return NULL;
        buf[strcspn(buf, "\n")] = 0;
        return strdup(buf);
}

/* (a) the option probe, forced to read the fabrics device, and as the daemons call it */
static void check_kernel_probe(StasNvmeKernel *kernel) {
        StasKernelOptions forced = {}, dflt = {};
        int r1, r2;
        bool ok;

        /* an old release settles nothing from uname, so the probe must read the device */
        r1 = kernel_options_probe("4.0.0", NULL, &forced);
        r2 = kernel_options_probe_default(&dflt);
        ok = r1 >= 0 && r2 >= 0 && forced.options && strv_contains(forced.options, "host_iface") &&
                strv_contains(forced.options, "discovery") && forced.host_iface && forced.discovery &&
                dflt.host_iface && dflt.discovery;
        report("kernel-probe",
               ok,
               "read=%s host_iface=%d discovery=%d default: host_iface=%d discovery=%d (r=%d/%d)",
               forced.options ? "yes" : "no",
               forced.host_iface,
               forced.discovery,
               dflt.host_iface,
               dflt.discovery,
               r1,
               r2);
        *kernel = (StasNvmeKernel){
                .host_iface = dflt.host_iface,
                .discovery = dflt.discovery,
                .dhchap_secret = dflt.dhchap_secret,
                .dhchap_ctrl_secret = dflt.dhchap_ctrl_secret,
        };
        kernel_options_done(&forced);
        kernel_options_done(&dflt);
}

/* --- nvme adapter ---------------------------------------------------------------------------- */

static bool dlp_has_subnqn(StasKV *const *l, const char *nqn) {
        for (size_t i = 0; l && l[i]; i++)
                if (streq(kv_get(l[i], "subnqn"), nqn))
                        return true;
        return false;
}

static char *dlp_subnqns(StasKV *const *l) {
        _cleanup_strv_free_ char **v = NULL;

        for (size_t i = 0; l && l[i]; i++)
                if (strv_extend(&v, strempty(kv_get(l[i], "subnqn"))) < 0)
                        return NULL;
        return v ? strv_join(v, " ") : strdup("(none)");
}

static void check_dlp(const char *name, StasNvmeCtrl *dc, const char *want, uint64_t *genctr) {
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        _cleanup_free_ char *nqns = NULL;
        StasDlpReport rep = {};
        uint64_t gen;
        int r;

        r = stas_nvme_ctrl_get_log_pages(dc, 0, STAS_DLP_MAX_RETRIES, &l, &rep);
        gen = rep.genctr;
        if (r < 0) {
                report(name, false, "get log pages: %s", stas_nvme_strerror(r));
                return;
        }
        nqns = dlp_subnqns(l);
        report(name,
               dlp_has_subnqn(l, want) && (!genctr || gen > *genctr),
               "%zu entries, genctr %" PRIu64 " (before: %" PRIu64 "): %s",
               dlp_list_length(l),
               gen,
               genctr ? *genctr : 0,
               nqns ? nqns : "(out of memory)");
        if (genctr)
                *genctr = gen;
}

/* ctrl_state() - replace *@buf by the controller's state (NULL if unreadable). */
static void ctrl_state(StasNvmeCtrl *c, char **buf) {
        free(*buf);
        *buf = NULL;
        if (stas_nvme_ctrl_state(c, buf) < 0)
                *buf = NULL;
}

/* --- udev monitor ---------------------------------------------------------------------------- */

typedef struct Watch {
        char *dc_sysname; /* the persistent DC whose AEN we wait for */
        bool aen_seen;
        unsigned events;
} Watch;

static void on_uevent(const StasUevent *ev, void *userdata) {
        Watch *w = userdata;

        w->events++;
        if (w->dc_sysname && streq_ptr(ev->sysname, w->dc_sysname) && uevent_is_dlp_changed(ev))
                w->aen_seen = true;
}

/* Run @e until @flag is set or @seconds passed. */
static void run_until(sd_event *e, const bool *flag, unsigned seconds) {
        uint64_t now, end;

        (void) sd_event_now(e, CLOCK_MONOTONIC, &now);
        end = now + (uint64_t) seconds * 1000000u;
        while (!*flag) {
                (void) sd_event_now(e, CLOCK_MONOTONIC, &now);
                if (now >= end)
                        break;
                if (sd_event_run(e, end - now) < 0)
                        break;
        }
}

static int configfs_add_subsystem(const char *nvmet, const char *port, const char *nqn) {
        _cleanup_free_ char *dir = NULL, *attr = NULL, *link = NULL;
        _cleanup_fclose_ FILE *f = NULL;

        if (asprintf(&dir, "%s/subsystems/%s", nvmet, nqn) < 0 ||
            asprintf(&attr, "%s/attr_allow_any_host", dir) < 0 ||
            asprintf(&link, "%s/ports/%s/subsystems/%s", nvmet, port, nqn) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        f = fopen(attr, "we");
        if (!f)
                return -errno;
        if (fputs("1\n", f) < 0 || fflush(f) != 0)
                return -EIO;
        if (symlink(dir, link) < 0)
                return -errno;
        return 0;
}

/* --- enumeration and matching ---------------------------------------------------------------- */

static StasNvmeDevice *find_ctrl(const char *subsysnqn, const char *trsvcid) {
        _cleanup_(nvmedev_list_freep) StasNvmeDevice **l = NULL;
        StasNvmeDevice *found = NULL;
        int n;

        n = nvmedev_enumerate(NULL, &l);
        for (int i = 0; n > 0 && l[i]; i++)
                if (streq(l[i]->subsysnqn, subsysnqn) && streq(l[i]->trsvcid, trsvcid)) {
                        found = TAKE_PTR(l[i]);
                        /* keep the array NULL-terminated for the cleanup */
                        for (int j = i; l[j] || l[j + 1]; j++)
                                l[j] = l[j + 1];
                        break;
                }
        return found;
}

static void check_ioc_match(
        const char *traddr, const char *trsvcid, const char *subnqn, const char *hostnqn) {
        _cleanup_(nvmedev_freep) StasNvmeDevice *d = NULL;
        _cleanup_(ifaddr_map_freep) StasIfMap *ifaces = NULL;
        _cleanup_(tid_freep) StasTid *want = NULL, *by_traddr = NULL, *other = NULL;
        StasConnId cid;
        bool m_iface, m_traddr, m_other;
        int r;

        d = find_ctrl(subnqn, trsvcid);
        if (!d) {
                report("ioc-match", false, "enumeration did not find %s on %s", subnqn, trsvcid);
                return;
        }
        r = ifaddr_map_from_system(&ifaces);
        if (r < 0) {
                report("ioc-match", false, "ifaddr_map_from_system: %s", strerror(-r));
                return;
        }
        want = tid_new("tcp", traddr, trsvcid, subnqn, NULL, "lo", hostnqn);
        by_traddr = tid_new("tcp", traddr, trsvcid, subnqn, "127.0.0.1", NULL, hostnqn);
        other = tid_new("tcp", traddr, trsvcid, subnqn, "127.0.0.2", NULL, hostnqn);
        if (!want || !by_traddr || !other) {
                report("ioc-match", false, "out of memory");
                return;
        }
        nvmedev_conn_id(d, &cid);
        m_iface = match_cid_tid(&cid, want, ifaces);
        m_traddr = match_cid_tid(&cid, by_traddr, ifaces);
        m_other = match_cid_tid(&cid, other, ifaces);
        report("ioc-match",
               m_iface && m_traddr && !m_other && streq(d->src_addr, "127.0.0.1") &&
                       streq(d->host_iface, "lo") && nvmedev_is_ioc(d) && !nvmedev_is_dc(d),
               "%s src_addr=%s host_iface=%s cntrltype=%s children=%d io=%d dc=%d: host-iface=lo %d, "
               "host-traddr=127.0.0.1 %d, host-traddr=127.0.0.2 %d (want 1 1 0)",
               d->sysname,
               d->src_addr,
               d->host_iface,
               d->cntrltype,
               d->has_children,
               nvmedev_is_ioc(d),
               nvmedev_is_dc(d),
               m_iface,
               m_traddr,
               m_other);
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(stas_udev_freep) StasUdev *u = NULL;
        _cleanup_free_ char *hostnqn = NULL, *hostid = NULL;
        const char *nvmet = env_or("STAS_VM_NVMET", "/sys/kernel/config/nvmet");
        const char *traddr = env_or("STAS_VM_TRADDR", "127.0.0.1");
        const char *disc_svc = env_or("STAS_VM_DISC_TRSVCID", "8009");
        const char *disc_port = env_or("STAS_VM_DISC_PORT", "1");
        const char *io_svc = env_or("STAS_VM_IO_TRSVCID", "4420");
        const char *sub1 = env_or("STAS_VM_SUB1", "nqn.2024-01.io.stas.test:sub1");
        _cleanup_(stas_nvme_freep) StasNvme *ctx = NULL;
        _cleanup_(stas_nvme_ctrl_freep) StasNvmeCtrl *dc = NULL, *ioc = NULL;
        _cleanup_(tid_freep) StasTid *dc_tid = NULL, *ioc_tid = NULL;
        _cleanup_free_ char *state = NULL;
        StasConnectOptions dc_opts;
        StasNvmeKernel kernel = {};
        StasNvmeHost host = {};
        uint64_t genctr = 0;
        uint32_t dim_result = 0;
        Watch w = {};
        int r, n;

        log_open("vm-kernel-check", LOG_TARGET_STDERR);
        if (getenv("STAS_VM_DEBUG"))
                log_set_max_level(LOG_DEBUG);
        hostnqn = read_line("/etc/nvme/hostnqn");
        hostid = read_line("/etc/nvme/hostid");

        check_kernel_probe(&kernel);

        r = sd_event_default(&e);
        if (r >= 0)
                r = stas_udev_new(e, on_uevent, &w, &u);
        if (r < 0) {
                report("aen-uevent", false, "cannot start the udev monitor: %s", strerror(-r));
                goto done;
        }

        /* (b) a persistent DC (keep-alive on, so it stays and receives AENs) */
        host = (StasNvmeHost){ .hostnqn = hostnqn, .hostid = hostid, .symname = "stas-vm" };
        r = stas_nvme_new(&host, &kernel, LOG_WARNING, &ctx);
        if (r < 0) {
                report("dc-connect", false, "stas_nvme_new: %s", strerror(-r));
                goto done;
        }
        connect_options_init(&dc_opts);
        dc_opts.kato = 30;
        dc_tid = tid_new("tcp", traddr, disc_svc, NVME_DISC_WKNQN, NULL, NULL, hostnqn);
        r = dc_tid ? stas_nvme_ctrl_new(ctx, dc_tid, &dc_opts, true, &dc) : -ENOMEM;
        if (r >= 0)
                r = stas_nvme_ctrl_connect(dc);
        if (r < 0) {
                report("dc-connect", false, "%s:%s: %s", traddr, disc_svc, stas_nvme_strerror(r));
                goto done;
        }
        (void) ctrl_state(dc, &state);
        report("dc-connect",
               !isempty(stas_nvme_ctrl_name(dc)) && streq(strempty(state), "live"),
               "%s state %s",
               strempty(stas_nvme_ctrl_name(dc)),
               state);
        w.dc_sysname = (char *) stas_nvme_ctrl_name(dc);

        /* (c) its discovery log */
        check_dlp("dlp-read", dc, sub1, NULL);
        {
                _cleanup_(dlp_list_freep) StasKV **l = NULL;
                StasDlpReport rep = {};

                (void) stas_nvme_ctrl_get_log_pages(dc, 0, STAS_DLP_MAX_RETRIES, &l, &rep);
                genctr = rep.genctr;
        }

        /* (d) a new subsystem on the discovery port: AEN through systemd-udevd, changed log */

        r = configfs_add_subsystem(nvmet, disc_port, SUB2);
        if (r < 0)
                report("aen-uevent", false, "configfs: cannot link %s: %s", SUB2, strerror(-r));
        else {
                run_until(e, &w.aen_seen, 10);
                report("aen-uevent",
                       w.aen_seen,
                       "%s: AEN 0x70f002 %s (%u nvme events)",
                       strempty(w.dc_sysname),
                       w.aen_seen ? "received" : "not received",
                       w.events);
        }

        check_dlp("dlp-changed", dc, SUB2, &genctr);

        /* (e) an I/O controller bound to lo, found again by enumeration + matching */
        ioc_tid = tid_new("tcp", traddr, io_svc, sub1, NULL, "lo", hostnqn);
        r = ioc_tid ? stas_nvme_ctrl_new(ctx, ioc_tid, NULL, false, &ioc) : -ENOMEM;
        if (r >= 0)
                r = stas_nvme_ctrl_connect(ioc);
        if (r < 0)
                report("ioc-connect", false, "%s:%s %s: %s", traddr, io_svc, sub1, stas_nvme_strerror(r));
        else {
                _cleanup_(nvmedev_freep) StasNvmeDevice *d = NULL;
                (void) nvmedev_read(NULL, stas_nvme_ctrl_name(ioc), &d);
                (void) ctrl_state(ioc, &state);
                report("ioc-connect",
                       d && strstr(d->address, "host_iface=lo") && streq(strempty(state), "live"),
                       "%s state %s address %s",
                       stas_nvme_ctrl_name(ioc),
                       state,
                       d ? d->address : "(unreadable)");
                check_ioc_match(traddr, io_svc, sub1, hostnqn);
        }

        /* (f) nvmet has no TP8010: DIM registration must fail cleanly, the DC stays usable */
        r = stas_nvme_ctrl_is_registration_supported(dc);
        n = stas_nvme_ctrl_register(dc, STAS_DIM_REGISTER, &dim_result);
        {
                _cleanup_(dlp_list_freep) StasKV **l = NULL;
                int r2 = stas_nvme_ctrl_get_log_pages(dc, 0, STAS_DLP_MAX_RETRIES, &l, NULL);
                (void) ctrl_state(dc, &state);
                /* 6.1 has no dctype attribute (-ENODATA): register itself must then refuse */
                _cleanup_(nvmedev_freep) StasNvmeDevice *d = NULL;
                (void) nvmedev_read(NULL, stas_nvme_ctrl_name(dc), &d);
                report("dim-unsupported",
                       (r == 0 || r == -ENODATA) && n < 0 && r2 >= 0 && streq(strempty(state), "live"),
                       "sysfs dctype=\"%s\" cntrltype=\"%s\", is_registration_supported=%d, register: %s "
                       "(status %#x), DC %s, log read after: %s",
                       d ? d->dctype : "?",
                       d ? d->cntrltype : "?",
                       r,
                       n < 0 ? stas_nvme_strerror(n) : "succeeded",
                       n == -EREMOTEIO ? (unsigned) stas_nvme_ctrl_last_status(dc) : 0u,
                       state,
                       r2 < 0 ? stas_nvme_strerror(r2) : "ok");
        }

        /* (g) disconnect both */
        r = stas_nvme_ctrl_disconnect(dc);
        n = ioc ? stas_nvme_ctrl_disconnect(ioc) : 0;
        {
                _cleanup_(nvmedev_list_freep) StasNvmeDevice **l = NULL;
                int left = nvmedev_enumerate(NULL, &l);
                report("disconnect",
                       r >= 0 && n >= 0 && left == 0,
                       "dc: %s, ioc: %s, controllers left: %d",
                       r < 0 ? stas_nvme_strerror(r) : "ok",
                       n < 0 ? stas_nvme_strerror(n) : "ok",
                       left);
        }
done:
        (void) argc;
        (void) argv;
        printf("VMCHECK-DONE\n");
        fflush(stdout);
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
