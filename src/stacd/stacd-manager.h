/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-manager.h - the stacd daemon state: configuration (stacd.conf, sys.conf), the IOCs it
 * tracks (each a StasCtrl from ctrl.h plus its controller= entry and DLPE), the discovered set
 * stafd reported (stacd-discovered.h, planned by stacd-plan.h), reconciliation (§5.8) debounced on the loop,
 * the audit of disconnect-scope=all-connections-matching-disconnect-trtypes, udev routing, last-known-config
 * persistence (§5.13), reload and stop. All on the sd-event loop thread.
 *
 * DESIGN 3: the discovered set is replaced only by a successful answer of a live stafd; when
 * stafd is slow, restarting or absent the last known set stays in force (and is persisted), so
 * no IOC is disconnected for that reason. I/O connections are never torn down at exit.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "stacd-plan.h"
#include "stas/resolve.h"
#include "stas/ctrl.h"
#include "stas/event.h"
#include "stas/kernel.h"
#include "stas/lkc-writer.h"
#include "stas/ctrl-set.h"
#include "stas/lkc.h"
#include "stas/conf.h"
#include "stas/sysconf.h"
#include "stas/udev.h"
#include "stas/wire.h"

/* soak of the udev add audit (sysfs attributes lag the add uevent, §5.8) */
#define STACD_AUDIT_SOAK_USEC (1 * USEC_PER_SEC)
/* delay between an audit that tracked new devices and the reconcile that may remove them */
#define STACD_AUDIT_ADOPT_USEC (200 * USEC_PER_MSEC)
/* debounce of stafd signal bursts */
#define STACD_STAF_DEBOUNCE_USEC (150 * USEC_PER_MSEC)
/* retry of a failed read from a live stafd */
#define STACD_STAF_RETRY_USEC (5 * USEC_PER_SEC)

typedef struct StacdManager StacdManager;
typedef struct StacdStaf StacdStaf;
typedef struct BusDebug BusDebug;

/*
 * The list_controllers dicts of an IOC, kept between calls: rebuilt only when the IOC's sources
 * (entry, DLPE) or its controller (stas_ctrl_generation()) changed, or while a retry timer runs
 * (its time left changes by itself). So a flood of read-only D-Bus calls costs the marshalling.
 */
typedef struct StacdIocDicts {
        StasKV *dict[2]; /* [detailed] */
        uint64_t ctrl_gen[2];
        uint64_t source_gen[2];
} StacdIocDicts;

typedef struct StacdIoc {
        StacdManager *m;
        StasCtrl *ctrl;
        StasKV *entry;       /* copy of its controller= entry, or NULL */
        StasKV *dlpe;        /* copy of its DLPE, or NULL */
        uint64_t source_gen; /* changes with entry and dlpe */
        StacdIocDicts dicts;
        bool maybe_discovered;
        bool started;
        bool ncc_stopped; /* retries stopped by connect-attempts-on-ncc */
} StacdIoc;

struct StacdManager {
        sd_event *event;
        sd_bus *bus;
        char *conf_path;
        char *sys_path; /* NULL: default */
        bool tron_flag; /* --tron */

        StasConf *conf;
        StasSysConf *sys;
        StasKernelOptions kopts;
        StasNvme *nvme;
        StasTaskPool *connect_pool; /* connects only (ctrl.h) */
        StasTaskPool *short_pool;   /* disconnects, host name lookups */
        StasResolver *resolver;     /* host names in controller= traddrs */
        StasCtrlNvmeCtx ctrl_ctx;
        bool no_udev; /* manager_new_backend(): uevents come from manager_uevent() only */
        StasUdev *udev;

        StacdIoc **iocs;
        size_t n_iocs;
        /*
         * the IOCs' controllers, live and being removed (ctrl-set.h), on the kernel backend:
         * stas_ctrl_nvme_ops on ctrl_ctx, or a test's (manager_new_backend()); NULL until then
         */
        StasCtrlSet *ctrls;

        StacdDiscovered discovered;
        StasTimer *reconcile_timer;
        StasTimer *audit_timer;
        char *lkc_path;
        LkcStatus lkc_status;  /* the state file's last problem (process_info) */
        LkcWriter *lkc_writer; /* coalesced writes of lkc_path, off the loop */

        StacdStaf *staf;
        BusDebug *debug;
        sd_bus_slot *vtable_slot;
        bool stopping;
};

int manager_new(sd_event *event, const char *conf_path, bool tron, StacdManager **ret);
StacdManager *manager_free(StacdManager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(StacdManager *, manager_free);

/* manager_load() - read stacd.conf and sys.conf, probe the kernel, create the nvme context. */
int manager_load(StacdManager *m);
/*
 * manager_new_backend() - a manager on the backend @ops / @ops_ctx, with @conf and @sys (taken)
 * instead of the files, the kernel probe and the libnvme context, and without udev (uevents go
 * through manager_uevent()): the manager as the unit tests drive it. @conf_path is read by
 * manager_reload(); @lkc_path (NULL: none) is the state file. manager_start() follows.
 * Return: 0 or -errno.
 */
int manager_new_backend(
        sd_event *event,
        const StasCtrlOps *ops,
        void *ops_ctx,
        const char *conf_path,
        StasConf *conf,
        StasSysConf *sys,
        const char *lkc_path,
        StacdManager **ret);
/* manager_uevent() - a uevent of the nvme class (what the udev monitor calls). */
void manager_uevent(StacdManager *m, const StasUevent *ev);

/* manager_start() - restore the lkc, start udev, schedule the first reconcile (and audit). */
int manager_start(StacdManager *m);
/* manager_reload() - SIGHUP: re-read both files (keeping the running ones if unusable). */
void manager_reload(StacdManager *m);
/*
 * manager_stop() - STOPPING: leave every wanted connection in place, save the lkc and exit the
 * loop; first wait (at most STAS_STOP_WAIT_USEC) for the disconnects already decided, so an
 * unwanted IOC whose disconnect waits on its connect is not left behind. Those still pending at
 * the deadline stay connected and are saved in the lkc, so the next start takes them back and
 * removes them again.
 */
void manager_stop(StacdManager *m);

/* manager_schedule_reconcile() - reconcile @usec from now (an armed earlier deadline is kept). */
void manager_schedule_reconcile(StacdManager *m, uint64_t usec);
/* manager_discovered_updated() - the discovered set changed (stafd answered). */
void manager_discovered_updated(StacdManager *m);
/* manager_save_lkc() - persist the IOC TIDs and the discovered set soon (coalesced, written off the
 * loop: lkc-writer.h; a failure is a warning). */
void manager_save_lkc(StacdManager *m);

/* manager_find() - the tracked IOC with @tid, or NULL. */
StacdIoc *manager_find(StacdManager *m, const StasTid *tid);
/*
 * manager_ioc_dict() - the list_controllers dict of @io (@detailed adds info, sysfs, dlpe), owned
 * by @io and valid until the next call for @io or its removal; built from memory only (never
 * sysfs), and only when something in it changed. NULL: out of memory.
 */
const StasKV *manager_ioc_dict(StacdManager *m, StacdIoc *io, bool detailed);
/* manager_process_info() - the process_info JSON text (malloc'ed). */
int manager_process_info(StacdManager *m, char **ret);
/* manager_log_level_apply() - apply tron (--tron OR [Global] tron) to logging and libnvme. */
void manager_log_level_apply(StacdManager *m);

/* stacd-bus.c */
int stacd_bus_setup(StacdManager *m);
void stacd_bus_done(StacdManager *m);

/* stacd-staf.c: the stafd client */
int staf_new(StacdManager *m, StacdStaf **ret);
StacdStaf *staf_free(StacdStaf *s);
/* staf_present() - stafd's name currently has an owner. */
bool staf_present(const StacdStaf *s);
