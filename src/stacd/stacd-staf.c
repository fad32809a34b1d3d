/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-staf.c - stacd as a client of stafd. stafd is followed by bus name owner
 * (NameOwnerChanged on org.nvmexpress.staf plus an initial GetNameOwner). When it appears,
 * get_all_log_pages(true) is read; log_pages_changed re-reads that DC only (get_log_pages);
 * dc_removed re-reads everything. Bursts are debounced (STACD_STAF_DEBOUNCE_USEC). Signals are
 * accepted only from the current owner's unique name. A failed call or a vanished stafd never
 * changes the discovered set (DESIGN 3); a failed read from a live stafd is retried.
 */
#include <errno.h>
#include <string.h>

#include "stacd-manager.h"
#include "stas/bus-util.h"
#include "stas/dlp.h"
#include "stas/json-util.h"
#include "stas/log-pages.h"
#include "stas/kvv.h"
#include "stas/log.h"

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

typedef struct StafCall StafCall;
struct StafCall {
        StacdStaf *s;
        sd_bus_slot *slot;
        StasTid *dc; /* NULL: get_all_log_pages */
        StafCall *next;
};

struct StacdStaf {
        StacdManager *m;
        sd_bus_slot *owner_match, *lpc_match, *dcr_match, *get_owner;
        char *owner; /* unique name, NULL when absent */
        bool fresh;  /* no full answer from this owner yet */
        StasTimer *debounce;
        bool want_all;
        StasTid **want_dcs;
        size_t n_want;
        StafCall *calls;
        size_t skipped_elements, skipped_dlpes; /* of the last get_all_log_pages answer */
};

static void want_clear(StacdStaf *s) {
        for (size_t i = 0; i < s->n_want; i++)
                tid_free(s->want_dcs[i]);
        s->want_dcs = mfree(s->want_dcs);
        s->n_want = 0;
}

static StafCall *call_free(StafCall *c) {
        sd_bus_slot_unref(c->slot);
        tid_free(c->dc);
        free(c);
        return NULL;
}

static void call_unlink(StacdStaf *s, StafCall *c) {
        for (StafCall **p = &s->calls; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        return;
                }
}

static void calls_cancel(StacdStaf *s) {
        while (s->calls) {
                StafCall *c = s->calls;

                s->calls = c->next;
                call_free(c);
        }
}

static void schedule(StacdStaf *s, uint64_t usec) {
        /* a fixed window: a steady stream of signals cannot postpone the read forever */
        if (!timer_is_armed(s->debounce) || timer_remaining(s->debounce) > usec)
                (void) timer_start(s->debounce, usec);
}

/* One line per answer, and a warning only when what is skipped changed since the last answer. */
static void report_skipped(StacdStaf *s, const StacdDecodeStats *st) {
        char first[200] = "";
        size_t elements = st->unidentified + st->bad_dcs;
        bool same = elements == s->skipped_elements && st->bad_dlpes == s->skipped_dlpes;

        s->skipped_elements = elements;
        s->skipped_dlpes = st->bad_dlpes;
        if (elements == 0 && st->bad_dlpes == 0)
                return;
        if (st->first_field)
                snprintf(
                        first,
                        sizeof(first),
                        " (first: an entry of the discovery controller %s with %s '%s')",
                        st->first_dc,
                        st->first_field,
                        st->first_value);
        log_full(
                same ? LOG_DEBUG : LOG_WARNING,
                "stafd: skipped %zu unusable discovery controller element(s) (%zu kept "
                "their last known entries) and %zu unusable log page entry(ies)%s; the rest applies.",
                elements,
                st->kept,
                st->bad_dlpes,
                first);
}

static int get_all_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        StafCall *c = userdata;
        StacdStaf *s = c->s;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        _cleanup_json_ json_object *o = NULL;
        StacdDiscovered d = {};
        StacdDecodeStats st = {};
        const char *text = NULL;
        int r;

        call_unlink(s, c);
        call_free(c);
        if (e) {
                log_warning(
                        "stafd: get_all_log_pages failed (%s), keeping the last known discovered set; retrying.",
                        e->message ? e->message : e->name);
                s->want_all = true;
                schedule(s, STACD_STAF_RETRY_USEC);
                return 0;
        }
        r = sd_bus_message_read(reply, "s", &text);
        if (r >= 0)
                r = log_pages_parse(text, &o);
        if (r >= 0)
                r = stacd_discovered_decode(o, &s->m->discovered, &d, &st);
        if (r < 0) {
                log_warning_errno(
                        r, "stafd: unusable get_all_log_pages answer, keeping the last known set: %m");
                return 0;
        }
        report_skipped(s, &st);
        if (s->fresh) {
                /* a stafd that just started may not have read its DCs yet (DESIGN 3) */
                r = stacd_discovered_keep_missing(&d, &s->m->discovered);
                if (r < 0) {
                        stacd_discovered_done(&d);
                        return log_oom(), 0;
                }
                if (r > 0)
                        log_info(
                                "stafd does not report entries for %d discovery controller(s) yet: keeping their "
                                "last known entries until it does.",
                                r);
                s->fresh = false;
        }
        stacd_discovered_done(&s->m->discovered);
        s->m->discovered = d;
        log_debug("stafd: discovered set read (%zu discovery controller(s)).", s->m->discovered.n);
        manager_discovered_updated(s->m);
        return 0;
}

static int get_one_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        StafCall *c = userdata;
        StacdStaf *s = c->s;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        _cleanup_(kvv_freep) StasKV **l = NULL;
        StacdDecodeStats st = {};
        size_t k = 0;
        int r;

        call_unlink(s, c);
        if (e) {
                log_warning(
                        "stafd: get_log_pages failed (%s), keeping the last known discovered set; retrying.",
                        e->message ? e->message : e->name);
                s->want_all = true;
                schedule(s, STACD_STAF_RETRY_USEC);
                call_free(c);
                return 0;
        }
        r = bus_read_kvv(reply, &l);
        if (r < 0) {
                log_warning("stafd: unusable get_log_pages answer, keeping the last known set.");
                call_free(c);
                return 0;
        }
        /* an unusable entry is dropped alone, the others apply */
        for (size_t i = 0; l && l[i]; i++) {
                const char *field = NULL;

                if (stacd_dlpe_usable(l[i], &field))
                        l[k++] = l[i];
                else {
                        stacd_note_bad_dlpe(&st, c->dc, l[i], field);
                        kv_free(l[i]);
                }
        }
        if (l)
                l[k] = NULL;
        if (st.bad_dlpes > 0)
                report_skipped(s, &st);
        if (!s->m->discovered.known) {
                /* a partial answer cannot make an unknown set known: read everything */
                s->want_all = true;
                schedule(s, 0);
        } else if (stacd_discovered_set_dc(&s->m->discovered, c->dc, l) < 0)
                log_oom();
        else
                manager_discovered_updated(s->m);
        call_free(c);
        return 0;
}

static int call_start(StacdStaf *s, const StasTid *dc) {
        StafCall *c = new0(StafCall, 1);
        int r;

        if (!c)
                return -ENOMEM;
        c->s = s;
        if (dc) {
                c->dc = tid_copy(dc);
                if (!c->dc) {
                        free(c);
                        return -ENOMEM;
                }
                r = sd_bus_call_method_async(
                        s->m->bus,
                        &c->slot,
                        s->owner,
                        STAF_BUS_PATH,
                        STAF_BUS_IFACE,
                        "get_log_pages",
                        get_one_reply,
                        c,
                        "sssssss",
                        dc->transport,
                        dc->traddr,
                        dc->trsvcid,
                        dc->subsysnqn,
                        dc->host_traddr,
                        dc->host_iface,
                        dc->host_nqn);
        } else
                r = sd_bus_call_method_async(
                        s->m->bus,
                        &c->slot,
                        s->owner,
                        STAF_BUS_PATH,
                        STAF_BUS_IFACE,
                        "get_all_log_pages",
                        get_all_reply,
                        c,
                        "b",
                        1);
        if (r < 0) {
                call_free(c);
                return r;
        }
        c->next = s->calls;
        s->calls = c;
        return 0;
}

static void debounce_cb(StasTimer *t, void *userdata) {
        StacdStaf *s = userdata;
        int r;

        if (!s->owner) {
                /* gone meanwhile: everything is read again when it comes back */
                want_clear(s);
                s->want_all = false;
                return;
        }
        if (s->want_all) {
                calls_cancel(s); /* a full read supersedes any read in flight */
                want_clear(s);
                s->want_all = false;
                r = call_start(s, NULL);
                if (r < 0) {
                        log_warning_errno(r, "stafd: cannot call get_all_log_pages: %m");
                        s->want_all = true;
                        schedule(s, STACD_STAF_RETRY_USEC);
                }
                return;
        }
        for (size_t i = 0; i < s->n_want; i++) {
                r = call_start(s, s->want_dcs[i]);
                if (r < 0) {
                        log_warning_errno(r, "stafd: cannot call get_log_pages: %m");
                        s->want_all = true;
                        schedule(s, STACD_STAF_RETRY_USEC);
                        break;
                }
        }
        want_clear(s);
}

static void owner_set(StacdStaf *s, const char *owner) {
        if (isempty(owner)) {
                if (s->owner)
                        log_info("stafd left the bus: keeping the last known discovered set.");
                s->owner = mfree(s->owner);
                calls_cancel(s);
                want_clear(s);
                s->want_all = false;
                timer_stop(s->debounce);
                return;
        }
        if (streq_ptr(s->owner, owner))
                return;
        if (free_and_strdup(&s->owner, owner) < 0) {
                log_oom();
                return;
        }
        log_info("stafd is on the bus (%s): reading its discovery log pages.", owner);
        s->fresh = true;
        calls_cancel(s);
        s->want_all = true;
        schedule(s, 0);
}

static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        const char *name, *old, *new;

        if (sd_bus_message_read(msg, "sss", &name, &old, &new) < 0 || !streq(name, STAF_BUS_NAME))
                return 0;
        owner_set(userdata, new);
        return 0;
}

static int get_owner_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        StacdStaf *s = userdata;
        const char *owner = NULL;

        s->get_owner = sd_bus_slot_unref(s->get_owner);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                log_info("stafd is not on the bus yet: waiting for it.");
                return 0;
        }
        if (sd_bus_message_read(reply, "s", &owner) >= 0)
                owner_set(s, owner);
        return 0;
}

static bool from_owner(StacdStaf *s, sd_bus_message *msg) {
        const char *sender = sd_bus_message_get_sender(msg);

        if (!s->owner || !streq_ptr(sender, s->owner)) {
                log_debug("Ignoring a stafd signal from %s.", strempty(sender));
                return false;
        }
        return true;
}

static int on_log_pages_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        StacdStaf *s = userdata;
        const char *f[8];
        _cleanup_(tid_freep) StasTid *tid = NULL;
        StasTid **t;

        if (!from_owner(s, msg))
                return 0;
        if (sd_bus_message_read(msg, "ssssssss", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]) <
            0) {
                log_debug("Ignoring a malformed log_pages_changed signal.");
                return 0;
        }
        tid = tid_new(f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
        if (!tid)
                return log_oom(), 0;
        if (!stacd_tid_is_sane(tid)) {
                log_debug("Ignoring log_pages_changed for an unusable DC.");
                return 0;
        }
        schedule(s, STACD_STAF_DEBOUNCE_USEC);
        if (s->want_all)
                return 0;
        for (size_t i = 0; i < s->n_want; i++)
                if (tid_equal(s->want_dcs[i], tid))
                        return 0;
        t = realloc(s->want_dcs, sizeof(StasTid *) * (s->n_want + 1));
        if (!t) {
                s->want_all = true;
                return 0;
        }
        s->want_dcs = t;
        s->want_dcs[s->n_want++] = TAKE_PTR(tid);
        return 0;
}

static int on_dc_removed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        StacdStaf *s = userdata;

        if (!from_owner(s, msg))
                return 0;
        s->want_all = true;
        want_clear(s);
        schedule(s, STACD_STAF_DEBOUNCE_USEC);
        return 0;
}

/**
 * staf_new() - follow stafd on the manager's bus.
 * @m: the manager (m->bus set)
 * @ret: the client
 */
int staf_new(StacdManager *m, StacdStaf **ret) {
        StacdStaf *s = new0(StacdStaf, 1);
        int r;

        if (!s)
                return -ENOMEM;
        s->m = m;
        r = timer_new(m->event, debounce_cb, s, &s->debounce);
        if (r < 0)
                goto fail;
        r = sd_bus_add_match_async(
                m->bus,
                &s->owner_match,
                "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" STAF_BUS_NAME "'",
                on_name_owner_changed,
                NULL,
                s);
        if (r < 0)
                goto fail;
        r = sd_bus_match_signal_async(
                m->bus,
                &s->lpc_match,
                NULL,
                STAF_BUS_PATH,
                STAF_BUS_IFACE,
                "log_pages_changed",
                on_log_pages_changed,
                NULL,
                s);
        if (r < 0)
                goto fail;
        r = sd_bus_match_signal_async(
                m->bus,
                &s->dcr_match,
                NULL,
                STAF_BUS_PATH,
                STAF_BUS_IFACE,
                "dc_removed",
                on_dc_removed,
                NULL,
                s);
        if (r < 0)
                goto fail;
        r = sd_bus_call_method_async(
                m->bus,
                &s->get_owner,
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "GetNameOwner",
                get_owner_reply,
                s,
                "s",
                STAF_BUS_NAME);
        if (r < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        staf_free(s);
        return r;
}

/**
 * staf_free() - stop following stafd. NULL-tolerant.
 * @s: the client
 */
StacdStaf *staf_free(StacdStaf *s) {
        if (!s)
                return NULL;
        calls_cancel(s);
        want_clear(s);
        sd_bus_slot_unref(s->owner_match);
        sd_bus_slot_unref(s->lpc_match);
        sd_bus_slot_unref(s->dcr_match);
        sd_bus_slot_unref(s->get_owner);
        timer_free(s->debounce);
        free(s->owner);
        free(s);
        return NULL;
}

/**
 * staf_present() - stafd owns its name.
 * @s: the client
 */
bool staf_present(const StacdStaf *s) {
        return s && s->owner;
}
