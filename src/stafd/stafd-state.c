/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-state.c - stafd: the state file: what stafd writes (coalesced, off the loop: lkc-writer.h) and
 * restores at start, validated again since the file is hostile too. See stafd-internal.h and
 * stafd-manager.h.
 */
#include "stafd-internal.h"

/* What the state file restores that breaks validate.h: counted, the first one described. */
typedef struct RestoreBad {
        unsigned n;
        char first[160];
} RestoreBad;

/* the value is logged as it is: the log writer escapes control characters */
static void restore_refused(void *userdata, const StasKV *e, const char *field) {
        RestoreBad *b = userdata;

        if (b->n++ == 0)
                snprintf(
                        b->first,
                        sizeof(b->first),
                        "log page entry %s '%.64s'",
                        field ?: "traddr",
                        kv_get(e, field ?: "traddr") ?: "");
}

/* One "dcs" element of the state file: a DC (not started) with its cached log page entries. */
static int restore_dc(StafManager *m, json_object *o, RestoreBad *bad) {
        _cleanup_(kv_freep) StasKV *tkv = NULL;
        _cleanup_(tid_freep) StasTid *tid = NULL;
        _cleanup_(staf_dc_freep) StafDc *dc = NULL;
        json_object *jt, *jo, *jl;
        const char *field = NULL;
        StasOrigin origin;

        if (!json_object_object_get_ex(o, "tid", &jt) || !json_object_object_get_ex(o, "origin", &jo))
                return 0;
        tkv = staf_kv_from_json(jt);
        origin = stas_origin_from_string(json_object_get_string(jo));
        if (!tkv || origin < 0 || isempty(kv_get(tkv, "transport")))
                return 0;
        tid = tid_from_kv(tkv);
        if (!tid || staf_manager_find(m, tid))
                return 0;
        if (stas_check_tid(tid, STAS_VALID_HOSTNAME, &field) < 0) {
                if (bad->n++ == 0)
                        snprintf(
                                bad->first,
                                sizeof(bad->first),
                                "%s '%.64s'",
                                field,
                                kv_get(tkv, field) ?: "");
                return 0;
        }
        if (staf_dc_new(m, tid, origin, NULL, &dc) < 0)
                return 0;
        if (json_object_object_get_ex(o, "log-pages", &jl) && json_object_is_type(jl, json_type_array)) {
                LogPagesRead rd = {
                        .check = true,
                        .usable_traddr = true,
                        .max_entries = STAS_DLP_MAX_ENTRIES,
                        .refused = restore_refused,
                        .userdata = bad,
                };
                StasKV **l = NULL;

                if (log_pages_from_json(jl, &rd, &l) >= 0) {
                        dlp_list_free(dc->log_pages);
                        dc->log_pages = l;
                }
        }
        /* not started: the first reconcile applies the current configuration first */
        if (staf_manager_dcs_append(m, dc) < 0)
                return -ENOMEM;
        TAKE_PTR(dc);
        return 0;
}

int staf_state_load(StafManager *m) {
        _cleanup_json_ json_object *data = NULL;
        RestoreBad bad = {};
        json_object *dcs;
        int r;

        if (!m->lkc_path)
                return 0;
        r = lkc_load_status(m->lkc_path, "stafd", &m->lkc_status, &data);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (!json_object_object_get_ex(data, "dcs", &dcs) || !json_object_is_type(dcs, json_type_array))
                return 0;
        /* the file is hostile too: what could reach a connect string is validated again */
        for (size_t i = 0; i < json_object_array_length(dcs); i++) {
                r = restore_dc(m, json_object_array_get_idx(dcs, i), &bad);
                if (r < 0)
                        return r;
        }
        if (bad.n > 0)
                log_warning(
                        "%s: skipped %u discovery controller(s) or log page entries with invalid fields (first: %s).",
                        m->lkc_path,
                        bad.n,
                        bad.first);
        log_debug("Restored %zu discovery controllers from %s.", m->n_dcs, m->lkc_path);
        return 0;
}

/**
 * staf_manager_save() - see stafd-manager.h.
 */
void staf_manager_save(StafManager *m) {
        /* coalesced, written off the loop; a failure is warned about once and shown by process_info */
        lkc_writer_schedule(m->lkc_writer);
}

/**
 * staf_manager_flush_state() - see stafd-manager.h.
 */
int staf_manager_flush_state(StafManager *m) {
        return lkc_writer_flush(m->lkc_writer);
}

/* The state file's document, when the writer starts a write (lkc-writer.h). */
json_object *staf_state_document(void *userdata) {
        StafManager *m = userdata;
        _cleanup_json_ json_object *data = NULL;
        json_object *dcs;

        data = json_object_new_object();
        dcs = json_object_new_array();
        if (!data || !dcs) {
                json_object_put(dcs);
                return NULL;
        }
        json_object_object_add(data, "dcs", dcs);
        for (size_t i = 0; i < m->n_dcs; i++) {
                StafDc *dc = m->dcs[i];
                _cleanup_(kv_freep) StasKV *tkv = tid_to_kv(staf_dc_tid(dc));
                json_object *o = json_object_new_object();

                if (!o || !tkv) {
                        json_object_put(o);
                        return NULL;
                }
                json_object_object_add(o, "tid", json_from_kv(tkv));
                json_object_object_add(
                        o, "origin", json_object_new_string(stas_origin_to_string(dc->origin)));
                json_object_object_add(o, "log-pages", log_pages_to_json(dc->log_pages));
                json_object_array_add(dcs, o);
        }
        if (lkc_host_uuid_add(data) < 0)
                return NULL;
        return TAKE_PTR(data);
}
