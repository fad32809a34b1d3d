/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake-ctrl-ops.h - a fake StasCtrlOps backend for unit tests (header-only). Async verbs are
 * held pending per handle; with auto_complete they complete on the next loop iteration with
 * the configured results, otherwise the test calls fake_complete(). Every call is recorded as a
 * letter in calls[]: n new, a adopt, c connect, d disconnect, R register, U update, D deregister,
 * S supported log pages, L get log pages. Snapshots (snapshot()) are counted; each find() says
 * whether it was given one (n_find_snap) or read for itself (n_find_own).
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stas/ctrl.h"
#include "stas/dlp.h"
#include "stas/udev.h"

#define FAKE_MAX_H 64

typedef enum FakeKind {
        FAKE_NONE,
        FAKE_CONNECT,
        FAKE_DISCONNECT,
        FAKE_DIM,
        FAKE_SUPPORTED,
        FAKE_LOG,
} FakeKind;

typedef struct Fake Fake;

typedef struct FakeH {
        Fake *f;
        StasTid *tid;
        char name[16];
        FakeKind pending;
        union {
                StasCtrlOpDone op;
                StasCtrlRegisterDone dim;
                StasCtrlSupportedDone supported;
                StasCtrlLogPagesDone log;
        } cb;
        void *ud;
        uint8_t lsp;
} FakeH;

struct Fake {
        sd_event *e;
        StasTimer *t;
        bool auto_complete;
        int connect_result;
        int find_instance; /* >= 0: find() reports nvme<find_instance> */
        int registration;  /* registration_supported() result */
        int dim_result;
        uint32_t dim_cmd_result;
        int supported_result;
        uint32_t lid_support;
        int log_result;
        StasKV **log_entries;     /* what get_log_pages() returns (copied) */
        StasDlpReport log_report; /* and the report it gives */
        const char *dctype;
        const char *sysfs_root; /* details() reads the device under it (NULL: -ENODATA) */
        unsigned n_details;     /* details() calls */
        unsigned n_snapshot, n_snapshot_free, n_find_snap, n_find_own;
        unsigned n_new, n_free, n_connect, n_adopt, n_disconnect, n_dim, n_dereg, n_cancel, n_supported,
                n_log;
        uint8_t last_lsp;
        int last_kato;    /* kato of the options of the last ctrl_new() */
        bool last_dhchap; /* a DH-HMAC-CHAP host secret was in those options */
        char calls[512];
        size_t n_calls;
        uint64_t periods[64];
        unsigned n_periods;
        StasCtrl *ctrl;
        int next_instance;
        FakeH *hs[FAKE_MAX_H];
};

static inline void fake_rec(Fake *f, char ch) {
        if (f->n_calls + 1 < sizeof(f->calls)) {
                f->calls[f->n_calls++] = ch;
                f->calls[f->n_calls] = 0;
        }
}

static inline void fake_complete_h(FakeH *h, int r) {
        Fake *f = h->f;
        FakeKind k = h->pending;

        h->pending = FAKE_NONE;
        switch (k) {
        case FAKE_CONNECT:
                if (r >= 0)
                        snprintf(h->name, sizeof h->name, "nvme%d", f->next_instance++);
                h->cb.op(r, h->ud);
                break;
        case FAKE_DISCONNECT:
                h->cb.op(r, h->ud);
                break;
        case FAKE_DIM:
                h->cb.dim(r, f->dim_cmd_result, h->ud);
                break;
        case FAKE_SUPPORTED:
                h->cb.supported(r, f->lid_support, h->ud);
                break;
        case FAKE_LOG:
                h->cb.log(r, r < 0 ? NULL : dlp_list_copy(f->log_entries), &f->log_report, h->ud);
                break;
        default:
                break;
        }
}

static inline int fake_default_result(Fake *f, FakeKind k) {
        switch (k) {
        case FAKE_CONNECT:
                return f->connect_result;
        case FAKE_DIM:
                return f->dim_result;
        case FAKE_SUPPORTED:
                return f->supported_result;
        case FAKE_LOG:
                return f->log_result;
        default:
                return 0;
        }
}

/* fake_complete() - complete the first pending verb with @r. */
static inline void fake_complete(Fake *f, int r) {
        for (size_t i = 0; i < FAKE_MAX_H; i++)
                if (f->hs[i] && f->hs[i]->pending != FAKE_NONE) {
                        fake_complete_h(f->hs[i], r);
                        return;
                }
}

static inline void fake_timer_cb(StasTimer *t, void *userdata) {
        Fake *f = userdata;

        if (!f->auto_complete)
                return;
        for (size_t i = 0; i < FAKE_MAX_H; i++)
                if (f->hs[i] && f->hs[i]->pending != FAKE_NONE) {
                        fake_complete_h(f->hs[i], fake_default_result(f, f->hs[i]->pending));
                        (void) timer_start(f->t, 0); /* the rest on the next iteration */
                        return;
                }
}

static inline int fake_accept(FakeH *h, FakeKind k) {
        if (h->pending != FAKE_NONE)
                return -EBUSY;
        h->pending = k;
        if (h->f->auto_complete)
                (void) timer_start(h->f->t, 0);
        return 0;
}

static inline int fake_new(
        void *ctx, const StasTid *tid, const StasConnectOptions *o, bool disc, void **ret) {
        Fake *f = ctx;
        FakeH *h = calloc(1, sizeof(FakeH));

        if (!h)
                return -ENOMEM;
        h->f = f;
        h->tid = tid_copy(tid);
        for (size_t i = 0; i < FAKE_MAX_H; i++)
                if (!f->hs[i]) {
                        f->hs[i] = h;
                        break;
                }
        f->n_new++;
        f->last_kato = o ? o->kato : STAS_OPT_UNSET;
        f->last_dhchap = o && o->dhchap_secret;
        fake_rec(f, 'n');
        *ret = h;
        return 0;
}

static inline void fake_free(void *p) {
        FakeH *h = p;

        for (size_t i = 0; i < FAKE_MAX_H; i++)
                if (h->f->hs[i] == h)
                        h->f->hs[i] = NULL;
        h->f->n_free++;
        tid_free(h->tid);
        free(h);
}

/* A snapshot that remembers its backend, so that the test sees which one find() was given. */
typedef struct FakeSnap {
        Fake *f;
} FakeSnap;

static inline int fake_snapshot(void *ctx, void **ret) {
        FakeSnap *s = calloc(1, sizeof(FakeSnap));

        if (!s)
                return -ENOMEM;
        s->f = ctx;
        s->f->n_snapshot++;
        *ret = s;
        return 0;
}

static inline void fake_snapshot_free(void *p) {
        FakeSnap *s = p;

        s->f->n_snapshot_free++;
        free(s);
}

static inline int fake_find(void *ctx, const void *snap, const StasTid *tid, bool disc, int *ret_instance) {
        Fake *f = ctx;

        if (snap)
                f->n_find_snap++;
        else
                f->n_find_own++;
        if (f->find_instance < 0)
                return 0;
        *ret_instance = f->find_instance;
        return 1;
}

static inline int fake_adopt(void *p, int instance) {
        FakeH *h = p;

        h->f->n_adopt++;
        fake_rec(h->f, 'a');
        snprintf(h->name, sizeof h->name, "nvme%d", instance);
        return 0;
}

static inline int fake_connect(void *p, StasCtrlOpDone cb, void *ud) {
        FakeH *h = p;
        Fake *f = h->f;

        f->n_connect++;
        fake_rec(f, 'c');
        if (f->ctrl && f->n_periods < 64)
                f->periods[f->n_periods++] = stas_ctrl_retry_usec(f->ctrl);
        h->cb.op = cb;
        h->ud = ud;
        return fake_accept(h, FAKE_CONNECT);
}

static inline int fake_disconnect(void *p, StasCtrlOpDone cb, void *ud) {
        FakeH *h = p;

        h->f->n_disconnect++;
        fake_rec(h->f, 'd');
        h->cb.op = cb;
        h->ud = ud;
        return fake_accept(h, FAKE_DISCONNECT);
}

static inline int fake_dim(void *p, StasDimTask tas, StasCtrlRegisterDone cb, void *ud) {
        FakeH *h = p;

        if (tas == STAS_DIM_DEREGISTER) {
                h->f->n_dereg++;
                fake_rec(h->f, 'D');
        } else {
                h->f->n_dim++;
                fake_rec(h->f, tas == STAS_DIM_UPDATE ? 'U' : 'R');
        }
        h->cb.dim = cb;
        h->ud = ud;
        return fake_accept(h, FAKE_DIM);
}

static inline int fake_supported(void *p, StasCtrlSupportedDone cb, void *ud) {
        FakeH *h = p;

        h->f->n_supported++;
        fake_rec(h->f, 'S');
        h->cb.supported = cb;
        h->ud = ud;
        return fake_accept(h, FAKE_SUPPORTED);
}

static inline int fake_get_log(void *p, uint8_t lsp, StasCtrlLogPagesDone cb, void *ud) {
        FakeH *h = p;

        h->f->n_log++;
        h->f->last_lsp = lsp;
        fake_rec(h->f, 'L');
        h->cb.log = cb;
        h->ud = ud;
        return fake_accept(h, FAKE_LOG);
}

static inline int fake_dctype(void *p, char **ret) {
        FakeH *h = p;

        *ret = strdup(h->f->dctype ? h->f->dctype : "");
        return *ret ? 0 : -ENOMEM;
}

static inline int fake_details(void *p, StasNvmeDevice **ret) {
        FakeH *h = p;

        h->f->n_details++;
        if (!h->f->sysfs_root || !h->name[0])
                return -ENODATA; /* cannot tell (-ENOENT would say: the device is gone) */
        return nvmedev_read(h->f->sysfs_root, h->name, ret);
}

static inline int fake_registration_supported(void *p) {
        return ((FakeH *) p)->f->registration;
}

static inline const char *fake_name(void *p) {
        FakeH *h = p;
        return h->name[0] ? h->name : NULL;
}

static inline void fake_cancel(void *p) {
        FakeH *h = p;

        if (h->pending != FAKE_NONE)
                h->f->n_cancel++;
        h->pending = FAKE_NONE;
}

static const StasCtrlOps fake_ops = {
        .ctrl_new = fake_new,
        .ctrl_free = fake_free,
        .snapshot = fake_snapshot,
        .snapshot_free = fake_snapshot_free,
        .find = fake_find,
        .adopt = fake_adopt,
        .connect = fake_connect,
        .disconnect = fake_disconnect,
        .dim = fake_dim,
        .supported_log_pages = fake_supported,
        .get_log_pages = fake_get_log,
        .dctype = fake_dctype,
        .details = fake_details,
        .registration_supported = fake_registration_supported,
        .name = fake_name,
        .cancel = fake_cancel,
};

static inline void fake_init(Fake *f, sd_event *e) {
        memset(f, 0, sizeof *f);
        f->e = e;
        f->find_instance = -1;
        if (timer_new(e, fake_timer_cb, f, &f->t) < 0)
                abort();
}

static inline void fake_done(Fake *f) {
        timer_free(f->t);
        dlp_list_free(f->log_entries);
}

/* fake_uevent() - a parsed uevent for @sysname. */
static inline StasUevent *fake_uevent(StasUeventAction a, const char *sysname) {
        char action[32], name[64];
        char *props[] = { action, (char *) "SUBSYSTEM=nvme", name, NULL };
        StasUevent *ev = NULL;

        snprintf(
                action,
                sizeof action,
                "ACTION=%s",
                a == STAS_UEVENT_ADD              ? "add"
                        : a == STAS_UEVENT_REMOVE ? "remove"
                                                  : "change");
        snprintf(name, sizeof name, "SYSNAME=%s", sysname);
        if (uevent_parse(props, &ev) < 0)
                abort();
        return ev;
}

/* fake_log_cb() - counts deliveries in the unsigned pointed to by @ud. */
static inline void fake_log_cb(int r, StasKV **entries, const StasDlpReport *report, void *ud) {
        unsigned *counter = ud;

        (*counter)++;
        dlp_list_free(entries);
}
