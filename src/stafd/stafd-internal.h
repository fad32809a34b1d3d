/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-internal.h - what the files of stafd's DC manager share and nothing else sees: the DC and
 * manager structures and the functions one file calls in another. The public interface is
 * stafd-manager.h. The files:
 *   stafd-manager.c  the DC set: reconcile, reload, zeroconf input, uevent routing, the bounded stop;
 *   stafd-ctrl.c     the per-DC object and its discovery state machine (connect, DIM registration, supported
 * log pages, log page reads, lost and unresponsive DCs); stafd-plan.c     which DCs stafd wants: the
 * configured ones, the mDNS ones and, from every DC it holds, their referrals, minus exclusions (the
 * planning half of a reconcile); stafd-state.c    the state file: what stafd writes (coalesced, off the
 * loop: lkc-writer.h) and restores at start, validated again since the file is hostile too.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stafd-manager.h"
#include "stas/dlp.h"
#include "stas/filter.h"
#include "stas/json-util.h"
#include "stas/log-pages.h"
#include "stas/metrics.h"
#include "stas/timespan.h"
#include "stas/kvv.h"
#include "stas/daemon.h"
#include "stas/lkc-writer.h"
#include "stas/lkc.h"
#include "stas/match.h"
#include "stas/log.h"
#include "stas/resolve.h"
#include "stas/udev.h"
#include "stas/ctrl-set.h"
#include "stas/wire.h"

typedef enum Stage {
        STAGE_IDLE = 0,
        STAGE_REGISTER,
        STAGE_SUPPORTED,
        STAGE_LOG,
        STAGE_DONE,
} Stage;

struct StafDc {
        StafManager *m;
        StasOrigin origin;
        StasKV *entry; /* the controller= entry (configured DCs) */
        /* the TID, its name and the verb in flight are the ctrl's; NULL only in dc_dispose() */
        StasCtrl *ctrl;
        bool started; /* restored DCs touch the kernel only from the first reconcile on */
        StasKV **log_pages;

        Stage stage;
        Stage pending; /* requested while a verb was in flight (stas_ctrl_busy()) */
        bool log_reached;
        uint8_t lsp;
        StasDimTask dim_task;
        StasTimer *stage_timer;
        unsigned stage_failures;
        bool registered;
        const char *dim_state; /* "registered", "failed", "not supported" or "" (issue 11) */
        time_t log_read_time;  /* the last successful log page read (0: none) */
        uint64_t log_genctr;   /* of that read */
        size_t log_entries;    /* entries of that read */
        unsigned aen_count;    /* "discovery log changed" AENs */
        uint64_t dlp_warned;   /* dlp_report_signature() of the page last warned about, 0 = none */

        StasTimer *lost_timer;
        bool unresponsive;
        time_t lost_since;
};

struct StafManager {
        sd_event *event;
        StasConf *conf;
        StasSysConf *sys;
        char *lkc_path;
        LkcStatus lkc_status;  /* the state file's last problem (process_info) */
        LkcWriter *lkc_writer; /* coalesced writes of lkc_path, off the loop (NULL: no file) */
        StafHooks hooks;
        void *userdata;

        StafDc **dcs;
        size_t n_dcs;
        StasCtrlSet *ctrls; /* the DCs' controllers, live and being removed (ctrl-set.h) */
        StasKV **zeroconf;
        size_t n_zeroconf;

        StasTimer *soak;
        size_t referrals_dropped; /* last reported count of referrals over STAF_MAX_REFERRALS */
        StasResolver *resolver;
        bool stopping;
        void (*stop_done)(void *userdata);
        void *stop_ud;
};

typedef struct Wanted {
        StasWanted *w;
        StasTid **tids;
        const StasKV **entries;
        size_t n, allocated;
} Wanted;

/* staf_dc_name() - the DC's TID as text, for log lines (the ctrl's: stas_ctrl_tid_str()). */
static inline const char *staf_dc_name(const StafDc *dc) {
        return stas_ctrl_tid_str(dc->ctrl);
}

/* stafd-ctrl.c */
StasKV *staf_kv_from_json(json_object *o);
void staf_dc_check_lost(StafDc *dc);
void staf_dc_start_stage(StafDc *dc, Stage s);
StafDc *staf_dc_free(StafDc *dc);
int staf_dc_new(StafManager *m, const StasTid *tid, StasOrigin origin, const StasKV *entry, StafDc **ret);
void staf_dc_set_origin(StafDc *dc, StasOrigin o);
DEFINE_TRIVIAL_CLEANUP_FUNC(StafDc *, staf_dc_free);

/* stafd-plan.c */
void staf_wanted_done(Wanted *w);
bool staf_wanted_rejected(const StasTid *tid, void *userdata);
int staf_wanted_build(StafManager *m, StasKV *const *controllers, Wanted *w);
bool staf_name_excluded(const StasKV *entry, void *userdata);

/* stafd-state.c */
int staf_state_load(StafManager *m);
json_object *staf_state_document(void *userdata);

/* stafd-manager.c */
void staf_manager_soak_start(StafManager *m);
int staf_manager_dcs_append(StafManager *m, StafDc *dc);
