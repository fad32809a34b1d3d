/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-ctrl.c - stacd's per-IOC object. See stacd-ctrl.h.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "stacd-ctrl.h"
#include "stacd-conf.h"
#include "stas/bus-debug.h"
#include "stas/json-util.h"
#include "stas/daemon.h"
#include "stas/dlp.h"
#include "stas/kvv.h"
#include "stas/filter.h"
#include "stas/ifaddr.h"
#include "stas/lkc.h"
#include "stas/log.h"
#include "stas/match.h"
#include "stas/strv.h"

void ioc_free(StacdIoc *io) {
        if (!io)
                return;
        ctrl_set_drop(io->m->ctrls, io->ctrl);
        kv_free(io->entry);
        kv_free(io->dlpe);
        kv_free(io->dicts.dict[0]);
        kv_free(io->dicts.dict[1]);
        free(io);
}

int ioc_list_remove(StacdIoc ***l, size_t *n, StacdIoc *io) {
        for (size_t i = 0; i < *n; i++)
                if ((*l)[i] == io) {
                        memmove(*l + i, *l + i + 1, sizeof(StacdIoc *) * (*n - i - 1));
                        (*n)--;
                        return 0;
                }
        return -ENOENT;
}

int ioc_list_add(StacdIoc ***l, size_t *n, StacdIoc *io) {
        StacdIoc **t = realloc(*l, sizeof(StacdIoc *) * (*n + 1));

        if (!t)
                return -ENOMEM;
        *l = t;
        t[(*n)++] = io;
        return 0;
}

char *ioc_tid_str(const StasTid *tid) {
        char *s = tid_to_string(tid);
        return s ? s : strdup("(?)");
}

/* Connect options: [Global] + the entry; a DLPE asking for "disable sqflow" (TREQ) sets it. */
int ioc_options(StacdManager *m, StacdIoc *io, StasConnectOptions *ret) {
        const char *treq;
        int r;

        r = stas_conf_connect_options(m->conf, io->entry, ret);
        if (r < 0)
                return r;
        treq = io->dlpe ? kv_get(io->dlpe, "treq") : NULL;
        if (treq && strstr(treq, "disable sqflow") && ret->disable_sqflow == STAS_OPT_UNSET)
                ret->disable_sqflow = 1;
        return 0;
}

static bool ioc_connect_failed(StasCtrl *c, int r, unsigned attempt, void *userdata) {
        StacdIoc *io = userdata;

        if (stacd_ncc_exhausted(io->dlpe, io->m->conf->connect_attempts_on_ncc, attempt)) {
                _cleanup_free_ char *s = ioc_tid_str(stas_ctrl_tid(c));

                log_info(
                        "Controller %s: not connected to its CDC (NCC) and %u attempts made: giving up until "
                        "its discovery entry changes.",
                        s,
                        attempt);
                io->ncc_stopped = true;
                return false;
        }
        return true;
}

static void ioc_connected(StasCtrl *c, void *userdata) {
        StacdIoc *io = userdata;

        io->ncc_stopped = false;
        manager_save_lkc(io->m);
}

static const StasCtrlEvents ioc_events = {
        .connected = ioc_connected,
        .connect_failed = ioc_connect_failed,
};

int ioc_set_source(StacdIoc *io, const StasKV *entry, const StasKV *dlpe) {
        _cleanup_(kv_freep) StasKV *e = NULL, *d = NULL;
        bool was_ncc = io->dlpe && dlpe_is_ncc(io->dlpe);

        if (entry && !(e = kv_copy(entry)))
                return -ENOMEM;
        if (dlpe && !(d = kv_copy(dlpe)))
                return -ENOMEM;
        kv_free(io->entry);
        io->entry = TAKE_PTR(e);
        kv_free(io->dlpe);
        io->dlpe = TAKE_PTR(d);
        io->source_gen++;
        if (io->dlpe)
                io->maybe_discovered = true;

        /* §5.9: NCC cleared on an unconnected IOC: start over right away */
        if (io->ctrl && was_ncc && io->dlpe && !dlpe_is_ncc(io->dlpe) && !stas_ctrl_connected(io->ctrl)) {
                io->ncc_stopped = false;
                (void) stas_ctrl_connect_now(io->ctrl);
        }
        return 0;
}

int ioc_new(StacdManager *m, const StasTid *tid, const StacdSource *src, StacdIoc **ret) {
        StasConnectOptions opts;
        StacdIoc *io;
        int r;

        io = new0(StacdIoc, 1);
        if (!io)
                return -ENOMEM;
        io->m = m;
        r = ioc_set_source(io, src ? src->entry : NULL, src ? src->dlpe : NULL);
        if (r < 0)
                goto fail;
        r = ioc_options(m, io, &opts);
        if (r < 0)
                goto fail;
        r = ctrl_set_new_ctrl(m->ctrls, tid, &opts, false, &ioc_events, io, &io->ctrl);
        connect_options_done(&opts);
        if (r < 0)
                goto fail;
        r = ioc_list_add(&m->iocs, &m->n_iocs, io);
        if (r < 0)
                goto fail;
        *ret = io;
        return 0;
fail:
        ioc_free(io);
        return r;
}

void ioc_start(StacdIoc *io) {
        int r;

        if (io->started)
                return;
        r = ctrl_set_start(io->m->ctrls, io->ctrl);
        if (r < 0)
                log_warning_errno(r, "Failed to start a connection: %m");
        else
                io->started = true;
}

StasKV *ioc_dict_build(StacdIoc *io, bool detailed) {
        const char *dev = stas_ctrl_device(io->ctrl);
        _cleanup_(kv_freep) StasKV *kv = stacd_ioc_dict(stas_ctrl_tid(io->ctrl), dev, io->entry);
        _cleanup_free_ char *dl = NULL;

        char buf[64];

        if (kv && !detailed && kv_set(kv, "state", stas_ctrl_state(io->ctrl, NULL, buf, sizeof buf)) < 0)
                return NULL;
        if (!kv || !detailed)
                return TAKE_PTR(kv);
        if (stas_ctrl_info(io->ctrl, kv) < 0 || stas_ctrl_sysfs_details(io->ctrl, kv) < 0)
                return NULL;
        dl = stacd_dlpe_to_string(io->dlpe);
        if (!dl || kv_set(kv, "dlpe", dl) < 0 ||
            kv_set(kv, "dlpe.eflags.ncc", io->dlpe && dlpe_is_ncc(io->dlpe) ? "True" : "False") < 0)
                return NULL;
        return TAKE_PTR(kv);
}
