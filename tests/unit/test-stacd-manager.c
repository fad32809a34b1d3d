/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-stacd-manager - stacd's manager on the fake controller backend (manager_new_backend(),
 * fake-ctrl-ops.h): configured and discovered IOCs, reload, disconnect scope, lost devices,
 * DESIGN 3 (an unknown discovered set removes nothing), the state file and the stop.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake-ctrl-ops.h"
#include "stacd-conf.h"
#include "stacd-manager.h"
#include "test-helpers.h"
#include "stas/lkc.h"

typedef struct Env {
        sd_event *e;
        Fake f;
        StacdManager *m;
        char dir[64], conf[128], sys[128], lkc[128];
} Env;

#define NQN1 "nqn.2024-01.io.stas.test:sub1"
#define NQN2 "nqn.2024-01.io.stas.test:sub2"
#define IOC1 "controller=transport=tcp;traddr=10.0.0.1;trsvcid=4420;nqn=" NQN1 "\n"
#define IOC2 "controller=transport=tcp;traddr=10.0.0.2;trsvcid=4420;nqn=" NQN2 "\n"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static StasSysConf *mk_sys(void) {
        StasSysConf *s = calloc(1, sizeof(StasSysConf));

        assert_non_null(s);
        s->hostnqn = strdup(HOSTNQN);
        s->hostid = strdup("00000000-0000-0000-0000-000000000001");
        return s;
}

static StasConf *mk_conf(const char *text) {
        StasConf *c = NULL;

        assert_int_equal(stas_conf_load_string(&stacd_conf_schema, text, "stacd.conf", &c), 0);
        return c;
}

static int setup(void **state) {
        Env *env = calloc(1, sizeof(Env));

        assert_non_null(env);
        assert_int_equal(sd_event_new(&env->e), 0);
        fake_init(&env->f, env->e);
        env->f.auto_complete = true;
        env->f.find_instance = -1;
        snprintf(env->dir, sizeof env->dir, "/tmp/test-stacd-manager.XXXXXX");
        assert_non_null(mkdtemp(env->dir));
        snprintf(env->conf, sizeof env->conf, "%s/stacd.conf", env->dir);
        snprintf(env->sys, sizeof env->sys, "%s/sys.conf", env->dir);
        snprintf(env->lkc, sizeof env->lkc, "%s/lkc.json", env->dir);
        write_file(env->sys, "[Host]\nnqn = " HOSTNQN "\nid = 00000000-0000-0000-0000-000000000001\n");
        assert_int_equal(setenv("STAS_SYS_CONF", env->sys, 1), 0);
        log_set_max_level(LOG_DEBUG);
        *state = env;
        return 0;
}

static int teardown(void **state) {
        Env *env = *state;

        manager_free(env->m);
        fake_done(&env->f);
        sd_event_unref(env->e);
        unlink(env->conf);
        unlink(env->sys);
        unlink(env->lkc);
        rmdir(env->dir);
        unsetenv("STAS_SYS_CONF");
        free(env);
        return 0;
}

static void start(Env *env, const char *conf_text) {
        write_file(env->conf, conf_text);
        assert_int_equal(
                manager_new_backend(
                        env->e,
                        &fake_ops,
                        &env->f,
                        env->conf,
                        mk_conf(conf_text),
                        mk_sys(),
                        env->lkc,
                        &env->m),
                0);
        assert_int_equal(manager_start(env->m), 0);
}

static size_t n_connected(StacdManager *m) {
        size_t n = 0;

        for (size_t i = 0; i < m->n_iocs; i++)
                n += stas_ctrl_connected(m->iocs[i]->ctrl);
        return n;
}

static const StacdIoc *find_nqn(StacdManager *m, const char *nqn) {
        for (size_t i = 0; i < m->n_iocs; i++)
                if (streq(stas_ctrl_tid(m->iocs[i]->ctrl)->subsysnqn, nqn))
                        return m->iocs[i];
        return NULL;
}

/* stafd's answer: DC 10.0.0.9 lists the IOCs (traddr, nqn) given */
static void discovered(Env *env, const char *traddr, const char *nqn) {
        char text[1024];

        snprintf(
                text,
                sizeof text,
                "[{\"discovery-controller\": {\"transport\": \"tcp\", \"traddr\": \"10.0.0.9\", \"trsvcid\": "
                "\"8009\", \"host-traddr\": \"\", \"host-iface\": \"\", \"subsysnqn\": "
                "\"nqn.2014-08.org.nvmexpress.discovery\"}, \"log-pages\": [%s%s%s%s%s]}]",
                traddr ? "{\"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"" : "",
                traddr ?: "",
                traddr ? "\", \"trsvcid\": \"4420\", \"subtype\": \"nvme\", \"subnqn\": \"" : "",
                traddr ? nqn : "",
                traddr ? "\"}" : "");
        assert_int_equal(stacd_discovered_from_json(text, &env->m->discovered), 0);
        manager_discovered_updated(env->m);
}

/* the configured IOCs are created and connected on the backend, with sys.conf's host NQN */
static void test_stacd_manager_configured(void **state) {
        Env *env = *state;

        start(env, "[Controllers]\n" IOC1 IOC2);
        RUN_UNTIL(env->e, n_connected(env->m) == 2);
        assert_int_equal(env->f.n_new, 2);
        assert_int_equal(env->f.n_connect, 2);
        /* both first attempts looked in one snapshot of the kernel (ctrl-set.h) */
        assert_int_equal(env->f.n_snapshot, 1);
        assert_int_equal(env->f.n_find_snap, 2);
        assert_int_equal(env->f.n_find_own, 0);
        assert_string_equal(stas_ctrl_tid(find_nqn(env->m, NQN1)->ctrl)->host_nqn, HOSTNQN);
        assert_non_null(manager_ioc_dict(env->m, (StacdIoc *) find_nqn(env->m, NQN2), true));
}

/* a reload that drops a configured IOC disconnects it (only-stas-connections) and keeps the other */
static void test_stacd_manager_reload_removes(void **state) {
        Env *env = *state;

        start(env, "[Controllers]\n" IOC1 IOC2);
        RUN_UNTIL(env->e, n_connected(env->m) == 2);
        write_file(env->conf, "[Controllers]\n" IOC1);
        manager_reload(env->m);
        RUN_UNTIL(
                env->e,
                env->m->n_iocs == 1 && ctrl_set_n_removing(env->m->ctrls) == 0 && env->f.n_disconnect == 1);
        assert_non_null(find_nqn(env->m, NQN1));
        assert_null(find_nqn(env->m, NQN2));
        assert_int_equal(env->f.n_connect, 2); /* the kept one was not reconnected */

        /* a broken file at a reload changes nothing */
        write_file(env->conf, "[Controllers\n");
        manager_reload(env->m);
        RUN_UNTIL(env->e, !timer_is_armed(env->m->reconcile_timer));
        assert_int_equal(env->m->n_iocs, 1);
}

/* discovered IOCs come and go with stafd's answers; an unknown set never removes them */
static void test_stacd_manager_discovered(void **state) {
        Env *env = *state;

        start(env, "[Global]\ntron=true\n");
        discovered(env, "10.0.0.5", NQN1);
        RUN_UNTIL(env->e, n_connected(env->m) == 1);
        assert_non_null(find_nqn(env->m, NQN1));

        /* stafd reports the IOC gone: removed and disconnected */
        discovered(env, NULL, NULL);
        RUN_UNTIL(env->e, env->m->n_iocs == 0 && env->f.n_disconnect == 1);

        /* DESIGN 3: with the set unknown (stafd gone), nothing is removed */
        discovered(env, "10.0.0.6", NQN2);
        RUN_UNTIL(env->e, n_connected(env->m) == 1);
        stacd_discovered_done(&env->m->discovered);
        manager_schedule_reconcile(env->m, 0);
        RUN_UNTIL(env->e, !timer_is_armed(env->m->reconcile_timer));
        assert_non_null(find_nqn(env->m, NQN2));
        assert_int_equal(env->f.n_disconnect, 1);
}

/* a removed device: the IOC is reconnected */
static void test_stacd_manager_lost_device(void **state) {
        Env *env = *state;
        StasUevent *ev;

        start(env, "[Controllers]\n" IOC1);
        RUN_UNTIL(env->e, n_connected(env->m) == 1);
        ev = fake_uevent(STAS_UEVENT_REMOVE, stas_ctrl_device(env->m->iocs[0]->ctrl));
        manager_uevent(env->m, ev);
        uevent_free(ev);
        RUN_UNTIL(env->e, env->f.n_connect == 2 && n_connected(env->m) == 1);
}

/* the stop writes the state file; a new manager restores the IOC and adopts its device */
static void test_stacd_manager_stop_and_restore(void **state) {
        Env *env = *state;
        json_object *data = NULL, *iocs;

        start(env, "[Controllers]\n" IOC1);
        RUN_UNTIL(env->e, n_connected(env->m) == 1);
        manager_stop(env->m);
        assert_true(env->m->stopping);
        assert_int_equal(lkc_load(env->lkc, "stacd", &data), 0);
        assert_true(json_object_object_get_ex(data, "iocs", &iocs));
        assert_int_equal(json_object_array_length(iocs), 1);
        json_object_put(data);
        env->m = manager_free(env->m);
        sd_event_unref(env->e);
        fake_done(&env->f);

        assert_int_equal(sd_event_new(&env->e), 0);
        fake_init(&env->f, env->e);
        env->f.auto_complete = true;
        env->f.find_instance = 3; /* its kernel device is still there */
        start(env, "[Controllers]\n" IOC1);
        RUN_UNTIL(env->e, n_connected(env->m) == 1);
        assert_int_equal(env->f.n_adopt, 1);
        assert_int_equal(env->f.n_connect, 0);
}

/* a connect that fails is retried on its backoff; the IOC stays tracked */
static void test_stacd_manager_connect_fails(void **state) {
        Env *env = *state;

        env->f.connect_result = -ECONNREFUSED;
        start(env, "[Controllers]\n" IOC1);
        RUN_UNTIL(env->e, env->f.n_connect >= 1 && !stas_ctrl_busy(env->m->iocs[0]->ctrl));
        assert_int_equal(n_connected(env->m), 0);
        assert_true(stas_ctrl_retry_pending(env->m->iocs[0]->ctrl));
        assert_int_equal(env->m->n_iocs, 1);
        /* SIGHUP tries again at once only what has no retry pending: this one waits */
        write_file(env->conf, "[Controllers]\n" IOC1);
        manager_reload(env->m);
        assert_int_equal(env->f.n_connect, 1);
}

/* process_info and the list_controllers dicts are built from memory */
static void test_stacd_manager_info(void **state) {
        Env *env = *state;
        _cleanup_free_ char *info = NULL;
        const StasKV *d;

        start(env, "[Controllers]\n" IOC1);
        RUN_UNTIL(env->e, n_connected(env->m) == 1);
        assert_int_equal(manager_process_info(env->m, &info), 0);
        assert_non_null(strstr(info, "\"stafd\""));
        assert_non_null(strstr(info, env->lkc));
        d = manager_ioc_dict(env->m, env->m->iocs[0], false);
        assert_non_null(d);
        assert_string_equal(kv_get(d, "subsysnqn"), NQN1);
        assert_ptr_equal(manager_ioc_dict(env->m, env->m->iocs[0], false), d); /* cached */
        assert_non_null(manager_ioc_dict(env->m, env->m->iocs[0], true));
}

/* all-connections-matching: a foreign IOC connection in sysfs is adopted, then removed */
static void test_stacd_manager_audit(void **state) {
        Env *env = *state;
        char root[] = "/tmp/test-stacd-sysfs.XXXXXX", dir[160], path[200], cmd[200];
        const char *attrs[][2] = {
                { "transport", "tcp\n" },   { "address", "traddr=10.0.0.7,trsvcid=4420\n" },
                { "subsysnqn", NQN2 "\n" }, { "cntrltype", "io\n" },
                { "state", "live\n" },      { "cntlid", "3\n" },
        };

        assert_non_null(mkdtemp(root));
        snprintf(dir, sizeof dir, "%s/sys/class/nvme/nvme5", root);
        snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
        assert_int_equal(system(cmd), 0);
        for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                snprintf(path, sizeof path, "%s/%s", dir, attrs[i][0]);
                write_file(path, attrs[i][1]);
        }
        env->f.find_instance = 5;
        start(env,
              "[I/O controller connection management]\ndisconnect-scope=all-connections-matching-disconnect-trtypes\n");
        env->m->ctrl_ctx.sysfs_root = root;
        discovered(env, NULL, NULL); /* known, and lists nothing */
        RUN_UNTIL(env->e, env->f.n_adopt == 1 && env->f.n_disconnect == 1 && env->m->n_iocs == 0);
        snprintf(cmd, sizeof cmd, "rm -rf %s", root);
        assert_int_equal(system(cmd), 0);
        env->m->ctrl_ctx.sysfs_root = NULL;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_stacd_manager_configured, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stacd_manager_reload_removes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stacd_manager_discovered, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stacd_manager_lost_device, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stacd_manager_stop_and_restore, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stacd_manager_connect_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stacd_manager_info, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stacd_manager_audit, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
