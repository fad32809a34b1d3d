/* SPDX-License-Identifier: Apache-2.0 */
/* test-stafd - the DC manager of stafd on the fake controller backend and a real sd-event. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-helpers.h"
#include "fake-ctrl-ops.h"
#include "stafd-conf.h"
#include "stafd-manager.h"
#include "stafd-zeroconf.h"
#include "stas/json-util.h"
#include "stas/lkc.h"
#include "stas/log.h"

typedef struct Env {
        sd_event *e;
        Fake f;
        StafManager *m;
        unsigned changed, removed, foreign, stopped;
        char dir[64];
        char lkc[128];
} Env;

static void hook_changed(StafManager *m, StafDc *dc, void *ud) {
        ((Env *) ud)->changed++;
}
static void hook_removed(StafManager *m, void *ud) {
        ((Env *) ud)->removed++;
}
static void hook_foreign(StafManager *m, const StasUevent *ev, void *ud) {
        ((Env *) ud)->foreign++;
}
static void on_stopped(void *ud) {
        ((Env *) ud)->stopped++;
}

static const StafHooks hooks = {
        .log_pages_changed = hook_changed,
        .dc_removed = hook_removed,
        .foreign_dc_event = hook_foreign,
};

static StasSysConf *mk_sys(const char *symname) {
        StasSysConf *s = calloc(1, sizeof(StasSysConf));

        assert_non_null(s);
        s->hostnqn = strdup("nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001");
        s->hostid = strdup("00000000-0000-0000-0000-000000000001");
        s->symname = symname ? strdup(symname) : NULL;
        return s;
}

static StasConf *mk_conf(const char *text) {
        StasConf *c = NULL;

        assert_int_equal(stas_conf_load_string(&stafd_conf_schema, text, "test.conf", &c), 0);
        return c;
}

static StasKV *mk_dlpe(const char *traddr, const char *trsvcid, const char *subnqn, const char *subtype) {
        StasKV *e = kv_new();

        assert_non_null(e);
        kv_set(e, "trtype", "tcp");
        kv_set(e, "adrfam", "ipv4");
        kv_set(e, "traddr", traddr);
        kv_set(e, "trsvcid", trsvcid);
        kv_set(e, "subnqn", subnqn);
        kv_set(e, "subtype", subtype);
        kv_set(e, "treq", "not specified");
        kv_set(e, "portid", "1");
        kv_set(e, "cntlid", "65535");
        kv_set(e, "asqsz", "32");
        kv_set(e, "eflags", "0");
        return e;
}

static void set_log(Env *env, StasKV **l) {
        dlp_list_free(env->f.log_entries);
        env->f.log_entries = l;
}

static int setup(void **state) {
        Env *env = calloc(1, sizeof(Env));

        assert_non_null(env);
        assert_int_equal(sd_event_new(&env->e), 0);
        fake_init(&env->f, env->e);
        env->f.auto_complete = true;
        snprintf(env->dir, sizeof env->dir, "/tmp/test-stafd.XXXXXX");
        assert_non_null(mkdtemp(env->dir));
        snprintf(env->lkc, sizeof env->lkc, "%s/lkc.json", env->dir);
        log_set_max_level(LOG_DEBUG);
        backoff_set_seed(1);
        *state = env;
        return 0;
}

static int teardown(void **state) {
        Env *env = *state;

        staf_manager_free(env->m);
        fake_done(&env->f);
        sd_event_unref(env->e);
        unlink(env->lkc);
        rmdir(env->dir);
        free(env);
        return 0;
}

#define CONF1                                                              \
        "[Global]\npleo=enabled\n[Service Discovery]\nzeroconf=disabled\n" \
        "[Controllers]\ncontroller=transport=tcp;traddr=10.0.0.1;trsvcid=8009;dhchap-secret=DHHC-1:00:abc=:\n"

static void start(Env *env, const char *conf, const char *symname) {
        assert_int_equal(
                staf_manager_new(
                        env->e,
                        &fake_ops,
                        &env->f,
                        mk_conf(conf),
                        mk_sys(symname),
                        env->lkc,
                        &hooks,
                        env,
                        &env->m),
                0);
        assert_int_equal(staf_manager_start(env->m), 0);
}

/* DIM register, then Supported Log Pages (PLEO), then Get Log Page with the PLEO bit */
static void test_stafd_dim_pleo_log_sequence(void **state) {
        Env *env = *state;
        StasKV **l = NULL;

        env->f.registration = 1;
        env->f.lid_support = STAS_DLP_LID_PLEOS;
        dlp_list_append(&l, mk_dlpe("10.0.0.5", "4420", "nqn.io1", "nvme"));
        set_log(env, l);
        start(env, CONF1, NULL);
        RUN_UNTIL(env->e, env->changed == 1);
        assert_string_equal(env->f.calls, "ncRSL");
        assert_int_equal(env->f.last_lsp, STAS_DLP_LSP_PLEO);
        assert_int_equal(staf_manager_n_dcs(env->m), 1);
        StafDc *dc = staf_manager_dc(env->m, 0);
        assert_int_equal(staf_dc_origin(dc), STAS_ORIGIN_CONFIGURED);
        assert_int_equal(dlp_list_length(staf_dc_log_pages(dc)), 1);
        assert_string_equal(staf_dc_tid(dc)->host_nqn, staf_manager_sysconf(env->m)->hostnqn);
}

/* a CDC gets no Supported Log Pages, and pleo=disabled neither; no DIM when not supported */
static void test_stafd_cdc_skips_pleo(void **state) {
        Env *env = *state;

        env->f.registration = 1;
        env->f.dctype = "cdc";
        start(env, CONF1, NULL);
        RUN_UNTIL(env->e, env->f.n_log == 1);
        assert_string_equal(env->f.calls, "ncRL");
        assert_int_equal(env->f.last_lsp, 0);
}

static void test_stafd_no_registration(void **state) {
        Env *env = *state;

        env->f.registration = 0;
        start(env,
              "[Global]\npleo=disabled\n[Service Discovery]\nzeroconf=disabled\n"
              "[Controllers]\ncontroller=transport=tcp;traddr=10.0.0.1\n",
              NULL);
        RUN_UNTIL(env->e, env->f.n_log == 1);
        assert_string_equal(env->f.calls, "ncL");
}

/* log_pages_changed only when the content changed; an AEN re-reads */
static void test_stafd_aen_and_change_only_signal(void **state) {
        Env *env = *state;
        StasKV **l = NULL;
        _cleanup_(uevent_freep) StasUevent *aen = NULL;
        char *props[] = { (char *) "ACTION=change",
                          (char *) "SUBSYSTEM=nvme",
                          (char *) "SYSNAME=nvme0",
                          (char *) "NVME_AEN=0x70f002",
                          NULL };

        dlp_list_append(&l, mk_dlpe("10.0.0.5", "4420", "nqn.io1", "nvme"));
        set_log(env, l);
        start(env, CONF1, NULL);
        RUN_UNTIL(env->e, env->changed == 1);
        assert_int_equal(uevent_parse(props, &aen), 0);

        /* same content: read again, no signal */
        staf_manager_uevent(env->m, aen);
        RUN_UNTIL(env->e, env->f.n_log == 2);
        for (unsigned i = 0; i < 3; i++)
                assert_true(sd_event_run(env->e, 1000) >= 0);
        assert_int_equal(env->changed, 1);

        /* new content: signal */
        l = NULL;
        dlp_list_append(&l, mk_dlpe("10.0.0.6", "4420", "nqn.io2", "nvme"));
        set_log(env, l);
        staf_manager_uevent(env->m, aen);
        RUN_UNTIL(env->e, env->changed == 2);
        assert_int_equal(env->f.n_log, 3);
        assert_int_equal(env->foreign, 0);
}

/* resync from the register step on NVME_EVENT=rediscover; foreign DC events go to the hook */
static void test_stafd_rediscover_resyncs(void **state) {
        Env *env = *state;
        _cleanup_(uevent_freep) StasUevent *ev = NULL, *foreign = NULL;
        char *props[] = { (char *) "ACTION=change",
                          (char *) "SUBSYSTEM=nvme",
                          (char *) "SYSNAME=nvme0",
                          (char *) "NVME_EVENT=rediscover",
                          NULL };
        char *fprops[] = { (char *) "ACTION=change",
                           (char *) "SUBSYSTEM=nvme",
                           (char *) "SYSNAME=nvme9",
                           (char *) "NVME_EVENT=rediscover",
                           NULL };

        env->f.registration = 1;
        env->f.lid_support = 0;
        start(env, CONF1, NULL);
        RUN_UNTIL(env->e, env->f.n_log == 1);
        assert_int_equal(uevent_parse(props, &ev), 0);
        staf_manager_uevent(env->m, ev);
        RUN_UNTIL(env->e, env->f.n_log == 2);
        assert_string_equal(env->f.calls, "ncRSLRSL");
        assert_int_equal(uevent_parse(fprops, &foreign), 0);
        staf_manager_uevent(env->m, foreign);
        assert_int_equal(env->foreign, 1);
}

/* remove -> reconnect, keeping the cached log pages */
static void test_stafd_remove_keeps_cache(void **state) {
        Env *env = *state;
        StasKV **l = NULL;
        _cleanup_(uevent_freep) StasUevent *rm = fake_uevent(STAS_UEVENT_REMOVE, "nvme0");

        dlp_list_append(&l, mk_dlpe("10.0.0.5", "4420", "nqn.io1", "nvme"));
        set_log(env, l);
        start(env, CONF1, NULL);
        RUN_UNTIL(env->e, env->changed == 1);
        staf_manager_uevent(env->m, rm);
        StafDc *dc = staf_manager_dc(env->m, 0);
        assert_null(staf_dc_device(dc));
        assert_int_equal(dlp_list_length(staf_dc_log_pages(dc)), 1);
        /* reconnects (after ~3 s backoff) */
        RUN_UNTIL(env->e, env->f.n_connect == 2 && env->f.n_log == 2);
        assert_int_equal(env->changed, 1);
}

/* nvme0 of the CONF1 DC under @root (what details() reads). Returns its directory. */
static char *mk_dc_dev(const char *root) {
        char *dir = NULL;
        _cleanup_free_ char *cmd = NULL;
        const char *attrs[][2] = {
                { "transport", "tcp\n" },
                { "address", "traddr=10.0.0.1,trsvcid=8009\n" },
                { "subsysnqn", NVME_DISC_WKNQN "\n" },
                { "cntlid", "1\n" },
        };

        assert_true(asprintf(&dir, "%s/sys/class/nvme/nvme0", root) > 0);
        assert_true(asprintf(&cmd, "mkdir -p %s", dir) > 0);
        assert_int_equal(system(cmd), 0);
        for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                _cleanup_free_ char *p = NULL;
                FILE *f;

                assert_true(asprintf(&p, "%s/%s", dir, attrs[i][0]) > 0);
                f = fopen(p, "we");
                assert_non_null(f);
                fputs(attrs[i][1], f);
                fclose(f);
        }
        return dir;
}

/*
 * Lost uevents (STAS_UEVENT_OVERFLOW): a DC whose device is still there re-reads its log pages
 * (an AEN may have been lost); one whose device is gone is reconnected.
 */
static void test_stafd_overflow_resyncs(void **state) {
        Env *env = *state;
        char root[] = "/tmp/test-stafd-sysfs.XXXXXX";
        _cleanup_free_ char *dir = NULL, *cmd = NULL;
        const StasUevent overflow = {
                .action = STAS_UEVENT_OVERFLOW,
                .instance = -1,
                .trtype = (char *) "",
                .traddr = (char *) "",
                .trsvcid = (char *) "",
                .host_traddr = (char *) "",
                .host_iface = (char *) "",
        };
        StasKV **l = NULL;

        assert_non_null(mkdtemp(root));
        dir = mk_dc_dev(root);
        env->f.sysfs_root = root;
        dlp_list_append(&l, mk_dlpe("10.0.0.5", "4420", "nqn.io1", "nvme"));
        set_log(env, l);
        start(env, CONF1, NULL);
        RUN_UNTIL(env->e, env->changed == 1);
        assert_int_equal(env->f.n_log, 1);

        staf_manager_uevent(env->m, &overflow);
        RUN_UNTIL(env->e, env->f.n_log == 2);
        assert_int_equal(env->f.n_connect, 1);
        assert_string_equal(staf_dc_device(staf_manager_dc(env->m, 0)), "nvme0");

        /* the device went away and its remove event was lost */
        assert_true(asprintf(&cmd, "rm -rf %s", root) > 0);
        assert_int_equal(system(cmd), 0);
        staf_manager_uevent(env->m, &overflow);
        assert_null(staf_dc_device(staf_manager_dc(env->m, 0)));
        RUN_UNTIL(env->e, env->f.n_connect == 2 && env->f.n_log == 3);
        assert_string_equal(staf_dc_device(staf_manager_dc(env->m, 0)), "nvme1");
        assert_int_equal(env->changed, 1); /* the same log page content */
        env->f.sysfs_root = NULL;
}

/* referrals are added; a referral cycle does not grow the set; removal drops them */
static void test_stafd_referrals_loop_safe(void **state) {
        Env *env = *state;
        StasKV **l = NULL;

        /* every DC refers to 10.0.0.2 and back to 10.0.0.1 */
        dlp_list_append(&l, mk_dlpe("10.0.0.2", "8009", NVME_DISC_WKNQN, "referral"));
        dlp_list_append(&l, mk_dlpe("10.0.0.1", "8009", NVME_DISC_WKNQN, "referral"));
        set_log(env, l);
        start(env, CONF1, NULL);
        RUN_UNTIL(env->e, staf_manager_n_dcs(env->m) == 2 && env->f.n_log >= 2);
        for (unsigned i = 0; i < 20; i++)
                assert_true(sd_event_run(env->e, 20 * 1000) >= 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 2);
        StafDc *ref = staf_manager_dc(env->m, 1);
        assert_string_equal(staf_dc_tid(ref)->traddr, "10.0.0.2");
        assert_int_equal(staf_dc_origin(ref), STAS_ORIGIN_REFERRAL);
        assert_int_equal(staf_dc_origin(staf_manager_dc(env->m, 0)), STAS_ORIGIN_CONFIGURED);

        /* the configured DC goes away: the referral cycle must not keep both alive */
        assert_int_equal(
                staf_manager_reload(
                        env->m, mk_conf("[Service Discovery]\nzeroconf=disabled\n"), mk_sys(NULL)),
                0);
        RUN_UNTIL(env->e, staf_manager_n_dcs(env->m) == 0);
        assert_true(env->removed >= 1);
        RUN_UNTIL(env->e, staf_manager_n_disposing(env->m) == 0);
        assert_true(env->f.n_disconnect >= 2);
}

/* exclusions and ip-family apply to configured DCs */
static void test_stafd_exclude_and_family(void **state) {
        Env *env = *state;

        start(env,
              "[Global]\nip-family=ipv6\n[Service Discovery]\nzeroconf=disabled\n"
              "[Controllers]\ncontroller=transport=tcp;traddr=10.0.0.1\n"
              "controller=transport=tcp;traddr=fe80::1\ncontroller=transport=tcp;traddr=fe80::2\n"
              "exclude=traddr=fe80::2\n",
              NULL);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 1);
        assert_string_equal(staf_dc_tid(staf_manager_dc(env->m, 0))->traddr, "fe80::1");
}

/* the DCs of one reconcile make their first attempts together, looked up in one kernel snapshot */
static void test_stafd_first_attempts_batched(void **state) {
        Env *env = *state;

        env->f.auto_complete = true;
        start(env,
              "[Service Discovery]\nzeroconf=disabled\n[Controllers]\n"
              "controller=transport=tcp;traddr=10.0.0.1\ncontroller=transport=tcp;traddr=10.0.0.2\n"
              "controller=transport=tcp;traddr=10.0.0.3\n",
              NULL);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 3);
        assert_int_equal(env->f.n_new, 0); /* started from the loop, not inside the reconcile */
        RUN_UNTIL(env->e, env->f.n_connect == 3);
        assert_int_equal(env->f.n_snapshot, 1);
        assert_int_equal(env->f.n_snapshot_free, 1);
        assert_int_equal(env->f.n_find_snap, 3);
        assert_int_equal(env->f.n_find_own, 0);
}

/* the DC set with origins and log pages survives a restart through the lkc file */
static void test_stafd_lkc_round_trip(void **state) {
        Env *env = *state;
        StasKV **l = NULL;

        dlp_list_append(&l, mk_dlpe("10.0.0.5", "4420", "nqn.io1", "nvme"));
        set_log(env, l);
        start(env, CONF1, NULL);
        RUN_UNTIL(env->e, env->changed == 1);
        assert_int_equal(staf_manager_stop(env->m, on_stopped, env), 0);
        RUN_UNTIL(env->e, env->stopped == 1);
        /* persistent-connections (default): no disconnect at exit */
        assert_int_equal(env->f.n_disconnect, 0);
        assert_int_equal(env->f.n_dereg, 0);
        env->m = staf_manager_free(env->m);

        /* restart with a backend that cannot connect: the cache is there at once */
        env->f.connect_result = -ECONNREFUSED;
        start(env, CONF1, NULL);
        assert_int_equal(staf_manager_n_dcs(env->m), 1);
        StafDc *dc = staf_manager_dc(env->m, 0);
        assert_int_equal(staf_dc_origin(dc), STAS_ORIGIN_CONFIGURED);
        assert_int_equal(dlp_list_length(staf_dc_log_pages(dc)), 1);
        assert_string_equal(kv_get(staf_dc_log_pages(dc)[0], "subnqn"), "nqn.io1");
        _cleanup_free_ char *json = NULL;
        assert_int_equal(staf_manager_all_log_pages_json(env->m, false, &json), 0);
        assert_non_null(strstr(json, "\"subnqn\":\"nqn.io1\""));
        assert_non_null(strstr(json, "\"device\":\"nvme?\""));
}

/* the state file is hostile too: restored fields that would reach a connect string are validated */
static void test_stafd_lkc_restore_validates(void **state) {
        Env *env = *state;
        static const char *doc =
                "{\"dcs\":["
                "{\"origin\":\"configured\",\"tid\":{\"transport\":\"tcp\",\"traddr\":\"10.0.0.1\","
                "\"trsvcid\":\"8009\",\"subsysnqn\":\"nqn.2014-08.org.nvmexpress.discovery\"},"
                "\"log-pages\":["
                "{\"trtype\":\"tcp\",\"adrfam\":\"ipv4\",\"traddr\":\"10.0.0.5\",\"trsvcid\":\"4420\","
                "\"subnqn\":\"nqn.io1\",\"subtype\":\"nvme\"},"
                "{\"trtype\":\"tcp\",\"adrfam\":\"ipv4\",\"traddr\":\"10.0.0.6\",\"trsvcid\":\"4420,host_iface=evil0\","
                "\"subnqn\":\"nqn.io2\",\"subtype\":\"nvme\"}]},"
                "{\"origin\":\"discovered\",\"tid\":{\"transport\":\"tcp\",\"traddr\":\"10.0.0.2\","
                "\"trsvcid\":\"8009\",\"host-iface\":\"evil0,duplicate_connect\"}}]}";
        _cleanup_json_ json_object *data = json_tokener_parse(doc);
        LogCapture lc;

        assert_non_null(data);
        assert_int_equal(lkc_save(env->lkc, "stafd", data), 0);
        env->f.connect_result = -ECONNREFUSED;
        log_capture_start(&lc);
        start(env, CONF1, NULL);
        assert_int_equal(staf_manager_n_dcs(env->m), 1);
        StafDc *dc = staf_manager_dc(env->m, 0);
        assert_string_equal(staf_dc_tid(dc)->traddr, "10.0.0.1");
        assert_int_equal(dlp_list_length(staf_dc_log_pages(dc)), 1);
        assert_string_equal(kv_get(staf_dc_log_pages(dc)[0], "subnqn"), "nqn.io1");
        assert_true(
                log_capture_has(&lc, LOG_WARNING, "skipped 2 discovery controller(s) or log page entries"));
        log_capture_stop(&lc);
}

/* non-persistent stop: DIM deregister, then disconnect */
static void test_stafd_stop_not_persistent(void **state) {
        Env *env = *state;

        env->f.registration = 1;
        start(env,
              "[Service Discovery]\nzeroconf=disabled\n[Discovery controller connection management]\n"
              "persistent-connections=false\n[Controllers]\ncontroller=transport=tcp;traddr=10.0.0.1\n",
              NULL);
        RUN_UNTIL(env->e, env->f.n_log == 1);
        assert_int_equal(staf_manager_stop(env->m, on_stopped, env), 0);
        RUN_UNTIL(env->e, env->stopped == 1);
        assert_int_equal(env->f.n_dereg, 1);
        assert_int_equal(env->f.n_disconnect, 1);
        assert_non_null(strstr(env->f.calls, "Dd"));
}

/* a changed symbolic name sends DIM update (DESIGN 5) */
static void test_stafd_symname_change_updates(void **state) {
        Env *env = *state;

        env->f.registration = 1;
        start(env, CONF1, "host-a");
        RUN_UNTIL(env->e, env->f.n_log == 1);
        assert_int_equal(staf_manager_reload(env->m, mk_conf(CONF1), mk_sys("host-b")), 0);
        RUN_UNTIL(env->e, env->f.n_log == 2);
        assert_non_null(strstr(env->f.calls, "U"));
        /* same name again: no update */
        size_t n = strlen(env->f.calls);
        assert_int_equal(staf_manager_reload(env->m, mk_conf(CONF1), mk_sys("host-b")), 0);
        for (unsigned i = 0; i < 20; i++)
                assert_true(sd_event_run(env->e, 20 * 1000) >= 0);
        assert_int_equal(strlen(env->f.calls), n);
}

/* run a DC to its first log page and stop with persistent connections (the lkc is written) */
static void run_and_stop(Env *env, const char *conf) {
        StasKV **l = NULL;

        dlp_list_append(&l, mk_dlpe("10.0.0.5", "4420", "nqn.io1", "nvme"));
        set_log(env, l);
        start(env, conf, NULL);
        RUN_UNTIL(env->e, env->changed == 1);
        assert_int_equal(staf_manager_stop(env->m, on_stopped, env), 0);
        RUN_UNTIL(env->e, env->stopped == 1);
        env->m = staf_manager_free(env->m);
        memset(env->f.calls, 0, sizeof env->f.calls);
        env->f.n_calls = 0;
        env->f.n_new = env->f.n_connect = env->f.n_adopt = env->f.n_disconnect = env->f.n_dereg = 0;
        env->f.last_kato = 0;
        env->changed = env->stopped = 0;
}

/* a restored DC connects only after the current configuration (kato, secret) is applied */
static void test_stafd_restored_dc_uses_current_config(void **state) {
        Env *env = *state;

        run_and_stop(env, CONF1);
        start(env,
              "[Service Discovery]\nzeroconf=disabled\n[Controllers]\n"
              "controller=transport=tcp;traddr=10.0.0.1;trsvcid=8009;kato=77;dhchap-secret=DHHC-1:00:abc=:\n",
              NULL);
        /* the cache is published at once, but nothing touched the kernel before the reconcile */
        assert_int_equal(staf_manager_n_dcs(env->m), 1);
        assert_int_equal(dlp_list_length(staf_dc_log_pages(staf_manager_dc(env->m, 0))), 1);
        assert_int_equal(env->f.n_new, 0);
        RUN_UNTIL(env->e, env->f.n_connect == 1);
        assert_int_equal(env->f.last_kato, 77);
        assert_true(env->f.last_dhchap);
        assert_int_equal(staf_dc_origin(staf_manager_dc(env->m, 0)), STAS_ORIGIN_CONFIGURED);
}

/* a change event of a restored DC's device before the first reconcile is that DC's, not a
 * foreign DC's for nvmf-connect@ (issue "Never block, never drop", failure 8) */
static void test_stafd_restored_dc_event_not_foreign(void **state) {
        Env *env = *state;
        _cleanup_(uevent_freep) StasUevent *aen = NULL, *other = NULL;
        char *props[] = { (char *) "ACTION=change",     (char *) "SUBSYSTEM=nvme",
                          (char *) "SYSNAME=nvme3",     (char *) "NVME_AEN=0x70f002",
                          (char *) "NVME_TRTYPE=tcp",   (char *) "NVME_TRADDR=10.0.0.1",
                          (char *) "NVME_TRSVCID=8009", NULL };
        char *props_other[] = { (char *) "ACTION=change",     (char *) "SUBSYSTEM=nvme",
                                (char *) "SYSNAME=nvme4",     (char *) "NVME_AEN=0x70f002",
                                (char *) "NVME_TRTYPE=tcp",   (char *) "NVME_TRADDR=10.0.0.9",
                                (char *) "NVME_TRSVCID=8009", NULL };

        run_and_stop(env, CONF1);
        env->f.find_instance = 3;
        start(env, CONF1, NULL);
        assert_int_equal(uevent_parse(props, &aen), 0);
        assert_int_equal(uevent_parse(props_other, &other), 0);
        /* before any loop iteration: the restored DC is known, its device not yet bound */
        assert_int_equal(staf_manager_n_dcs(env->m), 1);
        staf_manager_uevent(env->m, aen);
        assert_int_equal(env->foreign, 0);
        /* a DC at another address is still foreign */
        staf_manager_uevent(env->m, other);
        assert_int_equal(env->foreign, 1);
        /* the first reconcile adopts the restored DC's connection */
        RUN_UNTIL(env->e, env->f.n_adopt == 1);
        assert_int_equal(env->f.n_connect, 0);
}

/* a restored DC no longer configured is never connected; a kept kernel connection is dropped */
static void test_stafd_restored_dc_removed_not_connected(void **state) {
        Env *env = *state;

        run_and_stop(env, CONF1);
        start(env, "[Service Discovery]\nzeroconf=disabled\n", NULL);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 0);
        for (unsigned i = 0; i < 20; i++)
                assert_true(sd_event_run(env->e, 20 * 1000) >= 0);
        assert_int_equal(env->f.n_connect, 0);
        assert_int_equal(env->f.n_adopt, 0);
        env->m = staf_manager_free(env->m);

        /* again, with the previous run's connection still in the kernel: adopt, DIM, disconnect */
        run_and_stop(env, CONF1);
        env->f.find_instance = 3;
        env->f.registration = 1;
        start(env, "[Service Discovery]\nzeroconf=disabled\n", NULL);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        RUN_UNTIL(env->e, env->f.n_disconnect == 1);
        assert_int_equal(env->f.n_connect, 0);
        assert_string_equal(env->f.calls, "naDd");
}

/* a SIGHUP changing [Global] reaches referral DCs (no controller= entry) too */
static void test_stafd_reload_global_reaches_referrals(void **state) {
        Env *env = *state;
        StasKV **l = NULL;

        dlp_list_append(&l, mk_dlpe("10.0.0.2", "8009", NVME_DISC_WKNQN, "referral"));
        set_log(env, l);
        start(env, CONF1, NULL);
        RUN_UNTIL(env->e, staf_manager_n_dcs(env->m) == 2);
        StafDc *ref = staf_manager_dc(env->m, 1);
        assert_int_equal(staf_dc_origin(ref), STAS_ORIGIN_REFERRAL);
        assert_int_equal(stas_ctrl_options(staf_dc_ctrl(ref))->kato, 30);
        assert_int_equal(
                staf_manager_reload(
                        env->m,
                        mk_conf("[Global]\nkato=45\n[Service Discovery]\nzeroconf=disabled\n[Controllers]\n"
                                "controller=transport=tcp;traddr=10.0.0.1;trsvcid=8009\n"),
                        mk_sys(NULL)),
                0);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 2);
        assert_int_equal(stas_ctrl_options(staf_dc_ctrl(staf_manager_dc(env->m, 1)))->kato, 45);
        assert_int_equal(stas_ctrl_options(staf_dc_ctrl(staf_manager_dc(env->m, 0)))->kato, 45);
}

/* too many referrals: one summary warning per change of the count, not one per referral */
static void test_stafd_too_many_referrals_one_warning(void **state) {
        Env *env = *state;
        StasKV **l = NULL;
        LogCapture lc;
        char addr[32];

        for (unsigned i = 0; i < STAF_MAX_REFERRALS + 10; i++) {
                snprintf(addr, sizeof addr, "10.1.%u.%u", i / 200, i % 200 + 1);
                dlp_list_append(&l, mk_dlpe(addr, "8009", NVME_DISC_WKNQN, "referral"));
        }
        set_log(env, l);
        env->f.auto_complete = false;
        start(env, CONF1, NULL);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        RUN_UNTIL(env->e, env->f.n_connect >= 1);
        fake_complete(&env->f, 0); /* connect */
        RUN_UNTIL(env->e, env->f.n_supported == 1);
        fake_complete(&env->f, 0); /* supported log pages */
        RUN_UNTIL(env->e, env->f.n_log == 1);
        log_capture_start(&lc);
        fake_complete(&env->f, 0); /* the log page with the referrals */
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 1 + STAF_MAX_REFERRALS);
        assert_true(log_capture_has(&lc, LOG_WARNING, "Too many referrals: 10 ignored"));
        /* the summary once; the per-referral lines only at debug */
        unsigned warnings = 0;
        for (const char *p = lc.text; (p = strstr(p, "<4>Too many referrals")); p++)
                warnings++;
        assert_int_equal(warnings, 1);
        log_capture_stop(&lc);
}

/* the soak window is fixed: a later change does not push the pending reconcile out */
static void test_stafd_soak_fixed_window(void **state) {
        Env *env = *state;
        const StasTimer *soak;
        uint64_t left;

        start(env, "[Service Discovery]\nzeroconf=disabled\n", NULL);
        soak = staf_manager_soak_timer(env->m);
        assert_true(timer_is_armed(soak));
        /* let the loop clock move on without reaching the deadline */
        for (unsigned i = 0; i < 2000 && timer_remaining(soak) >= STAF_SOAK_USEC; i++)
                assert_true(sd_event_run(env->e, 1000) >= 0);
        left = timer_remaining(soak);
        assert_true(left > 0 && left < STAF_SOAK_USEC);
        assert_int_equal(staf_manager_set_zeroconf(env->m, NULL, 0), 0);
        assert_true(timer_is_armed(soak));
        assert_true(timer_remaining(soak) <= left);
}

/* secrets never appear in the id dict */
static void test_stafd_id_dict_hides_secrets(void **state) {
        Env *env = *state;
        _cleanup_(kv_freep) StasKV *kv = NULL;

        start(env, CONF1, NULL);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_dc_id_dict(staf_manager_dc(env->m, 0), true, &kv), 0);
        assert_string_equal(kv_get(kv, "dhchap-secret"), "(set)");
        assert_string_equal(kv_get(kv, "origin"), "configured");
        assert_non_null(kv_get(kv, "connect attempts"));
        assert_string_equal(kv_get(kv, "connected"), "False");
}

/* zeroconf DCs: added, kept while avahi forgets them, purged after the persistence time */
static void test_stafd_zeroconf_lost_purged(void **state) {
        Env *env = *state;
        _cleanup_(kv_freep) StasKV *svc = kv_new();
        StasKV *list[1] = { svc };

        kv_set(svc, "transport", "tcp");
        kv_set(svc, "traddr", "10.0.0.9");
        kv_set(svc, "trsvcid", "8009");
        kv_set(svc, "subsysnqn", NVME_DISC_WKNQN);
        env->f.connect_result = -ECONNREFUSED;
        start(env,
              "[Service Discovery]\nzeroconf=enabled\n[Discovery controller connection management]\n"
              "zeroconf-connections-persistence=1sec\n",
              NULL);
        assert_int_equal(staf_manager_set_zeroconf(env->m, list, 1), 0);
        RUN_UNTIL(env->e, staf_manager_n_dcs(env->m) == 1);
        assert_int_equal(staf_dc_origin(staf_manager_dc(env->m, 0)), STAS_ORIGIN_DISCOVERED);
        assert_int_equal(staf_manager_set_zeroconf(env->m, NULL, 0), 0);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 1); /* kept for now */
        RUN_UNTIL(env->e, staf_manager_n_dcs(env->m) == 0);
        assert_int_equal(env->removed, 1);
}

/* zeroconf-connections-persistence=1e300: the lost timer is armed for the 10-year maximum
 * (converted without overflow), the DC is kept meanwhile */
static void test_stafd_zeroconf_huge_persistence(void **state) {
        Env *env = *state;
        _cleanup_(kv_freep) StasKV *svc = kv_new(), *info = kv_new();
        StasKV *list[1] = { svc };
        const char *timer;

        kv_set(svc, "transport", "tcp");
        kv_set(svc, "traddr", "10.0.0.9");
        kv_set(svc, "trsvcid", "8009");
        kv_set(svc, "subsysnqn", NVME_DISC_WKNQN);
        env->f.connect_result = -ECONNREFUSED;
        start(env,
              "[Service Discovery]\nzeroconf=enabled\n[Discovery controller connection management]\n"
              "zeroconf-connections-persistence=1e300\n",
              NULL);
        assert_int_equal(staf_manager_set_zeroconf(env->m, list, 1), 0);
        RUN_UNTIL(env->e, staf_manager_n_dcs(env->m) == 1);
        assert_int_equal(staf_manager_set_zeroconf(env->m, NULL, 0), 0);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 1);
        assert_int_equal(staf_dc_info(staf_manager_dc(env->m, 0), info), 0);
        assert_string_equal(kv_get(info, "unresponsive timeout"), "315360000 sec");
        timer = kv_get(info, "unresponsive timer");
        if (!timer || !strneq(timer, "315360000.0s [3153", strlen("315360000.0s [3153")))
                fail_msg("unresponsive timer: %s", strempty(timer));
}

/* [Service Discovery] zeroconf= chooses the DNS-SD service types */
static void test_stafd_zeroconf_service_types(void **state) {
        _cleanup_(stas_conf_freep) StasConf *on = mk_conf("[Service Discovery]\nzeroconf=enabled\n");
        _cleanup_(stas_conf_freep) StasConf *off = mk_conf("[Service Discovery]\nzeroconf=disabled\n");
        _cleanup_(stas_conf_freep) StasConf *dflt = mk_conf("");
        char *const *t = staf_zeroconf_service_types(on);

        assert_string_equal(t[0], "_nvme-disc._tcp");
        assert_string_equal(t[1], "_nvme-disc._udp");
        assert_null(t[2]);
        assert_null(staf_zeroconf_service_types(off)[0]);
        assert_non_null(staf_zeroconf_service_types(dflt)[0]); /* enabled by default */
        assert_int_equal(staf_zeroconf_apply_conf(NULL, on), 0);
}

/* a zeroconf record becomes a DC candidate with the host defaults */
static void test_stafd_zeroconf_candidate(void **state) {
        _cleanup_(stas_conf_freep) StasConf *conf = mk_conf("");
        _cleanup_(stas_conf_freep) StasConf *noif = mk_conf("[Global]\nignore-iface=true\n");
        _cleanup_(sysconf_freep) StasSysConf *sys = mk_sys(NULL);
        _cleanup_(kv_freep) StasKV *txt = kv_new(), *rec = NULL, *rec2 = NULL;
        _cleanup_(tid_freep) StasTid *t = NULL, *t2 = NULL, *t3 = NULL;

        kv_set(txt, "p", "tcp");
        kv_set(txt, "nqn", "nqn.2014-08.com.example:cdc");
        assert_int_equal(zc_record_new(txt, "192.168.1.20", 8009, "eth0", false, &rec), 0);
        t = staf_dc_candidate(conf, sys, rec);
        assert_non_null(t);
        assert_string_equal(t->transport, "tcp");
        assert_string_equal(t->traddr, "192.168.1.20");
        assert_string_equal(t->trsvcid, "8009");
        assert_string_equal(t->host_iface, "eth0");
        assert_string_equal(t->subsysnqn, NVME_DISC_WKNQN); /* no TP8013: the well-known NQN */
        assert_string_equal(t->host_nqn, sys->hostnqn);
        assert_string_equal(t->host_traddr, "");

        assert_int_equal(zc_record_new(txt, "192.168.1.20", 8009, "eth0", true, &rec2), 0);
        t2 = staf_dc_candidate(noif, sys, rec2);
        assert_non_null(t2);
        assert_string_equal(t2->subsysnqn, "nqn.2014-08.com.example:cdc");
        assert_string_equal(t2->host_iface, ""); /* ignore-iface */

        /* an explicit host-nqn in a record is kept */
        kv_set(rec, "host-nqn", "nqn.other");
        t3 = staf_dc_candidate(conf, sys, rec);
        assert_string_equal(t3->host_nqn, "nqn.other");
}

static StasKV *mk_svc(const char *traddr) {
        StasKV *kv = kv_new();

        assert_non_null(kv);
        kv_set(kv, "transport", "tcp");
        kv_set(kv, "traddr", traddr);
        kv_set(kv, "trsvcid", "8009");
        kv_set(kv, "host-iface", "eth0");
        kv_set(kv, "subsysnqn", NVME_DISC_WKNQN);
        return kv;
}

/* zeroconf DCs get origin "discovered"; exclusions and ip-family apply; configured wins */
static void test_stafd_zeroconf_filters_and_origin(void **state) {
        Env *env = *state;
        StasKV *list[4] = { mk_svc("10.0.0.8"), mk_svc("fe80::9"), mk_svc("10.0.0.9"), mk_svc("10.0.0.1") };

        env->f.connect_result = -ECONNREFUSED;
        start(env,
              "[Global]\nip-family=ipv4\n[Service Discovery]\nzeroconf=enabled\n"
              "[Controllers]\ncontroller=transport=tcp;traddr=10.0.0.1;trsvcid=8009;host-iface=eth0\n"
              "exclude=traddr=10.0.0.8\n",
              NULL);
        assert_int_equal(staf_manager_set_zeroconf(env->m, list, 4), 0);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 2);
        for (size_t i = 0; i < 2; i++) {
                StafDc *dc = staf_manager_dc(env->m, i);
                const StasTid *t = staf_dc_tid(dc);

                assert_string_equal(t->host_nqn, staf_manager_sysconf(env->m)->hostnqn);
                if (streq(t->traddr, "10.0.0.1"))
                        assert_int_equal(staf_dc_origin(dc), STAS_ORIGIN_CONFIGURED);
                else {
                        assert_string_equal(t->traddr, "10.0.0.9");
                        assert_int_equal(staf_dc_origin(dc), STAS_ORIGIN_DISCOVERED);
                }
        }
        /* zeroconf=disabled on reload: the services are ignored */
        assert_int_equal(
                staf_manager_reload(
                        env->m, mk_conf("[Service Discovery]\nzeroconf=disabled\n"), mk_sys(NULL)),
                0);
        assert_int_equal(staf_manager_set_zeroconf(env->m, list, 4), 0);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        for (size_t i = 0; i < staf_manager_n_dcs(env->m); i++)
                assert_string_not_equal(staf_dc_tid(staf_manager_dc(env->m, i))->traddr, "10.0.0.8");
        for (size_t i = 0; i < 4; i++)
                kv_free(list[i]);
}

/* §5.1: a host name in traddr is resolved on a worker; exclusions apply before and after */
static void test_stafd_host_name_resolved(void **state) {
        Env *env = *state;
        _cleanup_(task_pool_freep) StasTaskPool *pool = NULL;

        assert_int_equal(task_pool_new(env->e, 2, &pool), 0);
        env->f.connect_result = -ECONNREFUSED;
        assert_int_equal(
                staf_manager_new(
                        env->e,
                        &fake_ops,
                        &env->f,
                        mk_conf("[Global]\nip-family=ipv4\n[Service Discovery]\nzeroconf=disabled\n"
                                "[Controllers]\ncontroller=transport=tcp;traddr=localhost;trsvcid=8009\n"),
                        mk_sys(NULL),
                        NULL,
                        &hooks,
                        env,
                        &env->m),
                0);
        assert_int_equal(staf_manager_set_task_pool(env->m, pool), 0);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 0); /* waiting for the answer */
        RUN_UNTIL(env->e, staf_manager_n_dcs(env->m) == 1);
        assert_string_equal(staf_dc_tid(staf_manager_dc(env->m, 0))->traddr, "127.0.0.1");

        /* excluded by host name: dropped before resolution */
        assert_int_equal(
                staf_manager_reload(
                        env->m,
                        mk_conf("[Service Discovery]\nzeroconf=disabled\n[Controllers]\n"
                                "controller=transport=tcp;traddr=localhost\nexclude=traddr=localhost\n"),
                        mk_sys(NULL)),
                0);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 0);

        /* excluded by address: resolved, then filtered */
        assert_int_equal(
                staf_manager_reload(
                        env->m,
                        mk_conf("[Global]\nip-family=ipv4\n[Service Discovery]\nzeroconf=disabled\n"
                                "[Controllers]\ncontroller=transport=tcp;traddr=localhost\n"
                                "controller=transport=tcp;traddr=10.0.0.3\nexclude=traddr=127.0.0.1\n"),
                        mk_sys(NULL)),
                0);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        RUN_UNTIL(env->e, staf_manager_n_dcs(env->m) == 1);
        for (unsigned i = 0; i < 10; i++)
                assert_true(sd_event_run(env->e, 1000) >= 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 1);
        assert_string_equal(staf_dc_tid(staf_manager_dc(env->m, 0))->traddr, "10.0.0.3");
        env->m = staf_manager_free(env->m);
}

/* without workers a host name cannot be resolved: the entry is dropped with an error */
static void test_stafd_host_name_no_resolver(void **state) {
        Env *env = *state;

        start(env,
              "[Service Discovery]\nzeroconf=disabled\n[Controllers]\n"
              "controller=transport=tcp;traddr=dc.example.com\ncontroller=transport=tcp;traddr=10.0.0.1\n",
              NULL);
        assert_int_equal(staf_manager_reconcile_now(env->m), 0);
        assert_int_equal(staf_manager_n_dcs(env->m), 1);
        assert_string_equal(staf_dc_tid(staf_manager_dc(env->m, 0))->traddr, "10.0.0.1");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_stafd_dim_pleo_log_sequence, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_cdc_skips_pleo, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_no_registration, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_aen_and_change_only_signal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_rediscover_resyncs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_remove_keeps_cache, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_overflow_resyncs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_referrals_loop_safe, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_exclude_and_family, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_first_attempts_batched, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_lkc_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_lkc_restore_validates, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_stop_not_persistent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_symname_change_updates, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_id_dict_hides_secrets, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_zeroconf_lost_purged, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_zeroconf_huge_persistence, setup, teardown),
                cmocka_unit_test(test_stafd_zeroconf_service_types),
                cmocka_unit_test_setup_teardown(test_stafd_host_name_resolved, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_host_name_no_resolver, setup, teardown),
                cmocka_unit_test(test_stafd_zeroconf_candidate),
                cmocka_unit_test_setup_teardown(test_stafd_zeroconf_filters_and_origin, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_restored_dc_uses_current_config, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_restored_dc_event_not_foreign, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_stafd_restored_dc_removed_not_connected, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_reload_global_reaches_referrals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_too_many_referrals_one_warning, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stafd_soak_fixed_window, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
