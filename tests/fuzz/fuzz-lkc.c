/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-lkc.c - the last-known-config files (lkc.c: lkc_load()) and what each daemon makes of
 * their "data": stafd's restore (staf_manager_start() of a manager on the fake controller
 * backend, no kernel) and stacd_lkc_parse() (stacd-discovered.c).
 * Input: the file content. Accepted: lkc_load() takes it for stafd or stacd.
 * Invariants: stafd restores DCs with a transport, no two alike, at most STAS_DLP_MAX_ENTRIES
 * entries each, and what it saves restores to the same DCs, origins and entries; stacd keeps
 * sane TIDs only, and stacd_lkc_build() of what it parsed parses back to the same.
 */
#include <errno.h>

#include "fake-ctrl-ops.h"
#include "fuzz-stacd.h"
#include "stafd-conf.h"
#include "stafd-manager.h"
#include "stas/hostid.h"
#include "stas/json-util.h"
#include "stas/lkc.h"

static sd_event *event;
static Fake fake;
static char *path;

void fuzz_target_init(void) {
        if (sd_event_new(&event) < 0)
                abort();
        fake_init(&fake, event);
        path = fuzz_path(LKC_FILENAME);
}

static StafManager *stafd_restore(void) {
        StasConf *c = stas_conf_new_default(&stafd_conf_schema);
        StasSysConf *s = new0(StasSysConf, 1);
        StafManager *m = NULL;

        if (!c || !s ||
            !(s->hostnqn = strdup("nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001")) ||
            !(s->hostid = strdup("00000000-0000-0000-0000-000000000001")))
                abort();
        if (staf_manager_new(event, &fake_ops, &fake, c, s, path, NULL, NULL, &m) < 0)
                abort();
        fuzz_assert(staf_manager_start(m) == 0);
        return m;
}

static void check_stafd(StafManager *m) {
        for (size_t i = 0; i < staf_manager_n_dcs(m); i++) {
                const StafDc *dc = staf_manager_dc(m, i);

                fuzz_assert(!isempty(staf_dc_tid(dc)->transport));
                fuzz_assert(dlp_list_length(staf_dc_log_pages(dc)) <= STAS_DLP_MAX_ENTRIES);
                for (size_t j = 0; j < i; j++)
                        fuzz_assert(!tid_equal(staf_dc_tid(dc), staf_dc_tid(staf_manager_dc(m, j))));
        }
}

static void stafd_round_trip(StafManager *m) {
        _cleanup_(staf_manager_freep) StafManager *back = NULL;

        staf_manager_save(m);
        fuzz_assert(staf_manager_flush_state(m) == 0);
        back = stafd_restore();
        fuzz_assert(staf_manager_n_dcs(back) == staf_manager_n_dcs(m));
        for (size_t i = 0; i < staf_manager_n_dcs(m); i++) {
                const StafDc *a = staf_manager_dc(m, i), *b = staf_manager_dc(back, i);

                fuzz_assert(tid_equal(staf_dc_tid(a), staf_dc_tid(b)));
                fuzz_assert(staf_dc_origin(a) == staf_dc_origin(b));
                fuzz_assert(dlpes_same(staf_dc_log_pages(a), staf_dc_log_pages(b)));
        }
}

static void stacd_round_trip(json_object *data) {
        _cleanup_(dlp_tids_freep) StasTid **tids = NULL, **tids2 = NULL;
        _cleanup_(stacd_discovered_done) StacdDiscovered d = {}, d2 = {};
        _cleanup_json_ json_object *built = NULL;
        size_t n = 0;
        int r;

        r = stacd_lkc_parse(data, &tids, &d);
        if (r < 0) {
                fuzz_assert(r == -EINVAL);
                return;
        }
        for (; tids[n]; n++)
                fuzz_assert(stacd_tid_is_sane(tids[n]));
        check_discovered(&d);
        built = stacd_lkc_build(tids, n, &d);
        fuzz_assert(built);
        fuzz_assert(stacd_lkc_parse(built, &tids2, &d2) == 0);
        for (size_t i = 0; i < n; i++)
                fuzz_assert(tids2[i] && tid_equal(tids[i], tids2[i]));
        fuzz_assert(!tids2[n]);
        fuzz_assert(discovered_same(&d, &d2));
}

bool fuzz_one(const uint8_t *data, size_t size) {
        _cleanup_json_ json_object *stafd = NULL, *stacd = NULL;
        int rf, rc;

        fuzz_write_file(path, data, size);
        /* the saved random host UUID reaches the host NQN: only a UUID may be taken */
        lkc_host_uuid_restore(path, "stafd");
        lkc_host_uuid_restore(path, "stacd");
        fuzz_assert(!hostnqn_random_uuid() || strlen(hostnqn_random_uuid()) == 36);
        rc = lkc_load(path, "stacd", &stacd);
        if (rc == 0)
                stacd_round_trip(stacd);

        rf = lkc_load(path, "stafd", &stafd);
        if (rf == 0) {
                _cleanup_(staf_manager_freep) StafManager *m = stafd_restore();

                check_stafd(m);
                stafd_round_trip(m);
        }
        fuzz_assert(rf == 0 || rf == -EINVAL || rf == -EPROTONOSUPPORT);
        fuzz_assert(rc == 0 || rc == -EINVAL || rc == -EPROTONOSUPPORT);
        return rf == 0 || rc == 0;
}
