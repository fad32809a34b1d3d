/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration test of libstas udev (monitor test hook + sysfs enumeration) against the fake
 * kernel: connections made through the real libnvme appear as uevents and as enumerated
 * devices; fakekernel-ctl injects AEN/rediscover/remove events.
 */

#include <errno.h>
#include <libnvme.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "fk-test.h"
#include "stas/udev.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define HOSTID "11111111-2222-3333-4444-555555555555"

static struct fk_test T;

struct got {
        int n;
        StasUeventAction action;
        char sysname[32];
        char traddr[64];
        bool has_aen;
        uint32_t aen;
        StasNvmeEvent nvme_event;
};

static void on_event(const StasUevent *ev, void *userdata) {
        struct got *g = userdata;

        g->n++;
        g->action = ev->action;
        snprintf(g->sysname, sizeof g->sysname, "%s", ev->sysname);
        snprintf(g->traddr, sizeof g->traddr, "%s", ev->traddr);
        g->has_aen = ev->has_aen;
        g->aen = ev->aen;
        g->nvme_event = ev->nvme_event;
}

/* Runs the loop until one more event arrived (at most ~5 s of idle waiting). */
static void wait_event(sd_event *e, struct got *g) {
        int before = g->n;

        for (int i = 0; i < 50 && g->n == before; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(g->n, before + 1);
}

static void test_udev_fake_events_and_enumeration(void **state) {
        char sock[128];
        sd_event *e = NULL;
        StasUdev *u = NULL;
        struct got g = {};
        StasNvmeDevice **list = NULL;
        struct nvme_fabrics_config cfg;
        nvme_root_t r;
        nvme_host_t h;
        nvme_ctrl_t c;

        assert_int_equal(fk_test_setup(&T, false), 0);
        assert_int_equal(fk_test_scenario(&T, "{ \"controllers\": [ { \"dctype\": \"cdc\" } ] }"), 0);
        snprintf(sock, sizeof sock, "%s/uevent.sock", T.root);
        setenv("STAS_UEVENT_SOCKET", sock, 1);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(stas_udev_new(e, on_event, &g, &u), 0);

        /* connect through the real libnvme: add event */
        r = nvme_create_root(stderr, LOG_ERR);
        h = nvme_lookup_host(r, HOSTNQN, HOSTID);
        c = nvme_create_ctrl(r, NVME_DISC_SUBSYS_NAME, "tcp", "192.168.1.10", NULL, "eth0", "8009");
        nvme_ctrl_set_discovery_ctrl(c, true);
        nvmf_default_config(&cfg);
        assert_int_equal(nvmf_add_ctrl(h, c, &cfg), 0);
        wait_event(e, &g);
        assert_int_equal(g.action, STAS_UEVENT_ADD);
        assert_string_equal(g.sysname, "nvme0");
        assert_string_equal(g.traddr, "192.168.1.10");

        /* enumeration, both through the redirected /sys and with the root prefix */
        const char *roots[] = { NULL, T.root };
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(nvmedev_enumerate(roots[i], &list), 1);
                assert_string_equal(list[0]->sysname, "nvme0");
                assert_string_equal(list[0]->transport, "tcp");
                assert_string_equal(list[0]->traddr, "192.168.1.10");
                assert_string_equal(list[0]->trsvcid, "8009");
                assert_string_equal(list[0]->host_iface, "eth0");
                assert_string_equal(list[0]->host_traddr, "");
                assert_string_equal(list[0]->src_addr, "127.0.0.1");
                assert_string_equal(list[0]->subsysnqn, NVME_DISC_SUBSYS_NAME);
                assert_string_equal(list[0]->hostnqn, HOSTNQN);
                assert_string_equal(list[0]->cntrltype, "discovery");
                assert_string_equal(list[0]->dctype, "cdc");
                assert_string_equal(list[0]->state, "live");
                assert_true(nvmedev_is_dc(list[0]));
                list = nvmedev_list_free(list);
        }

        /* injected AEN and rediscover */
        const char *aen[] = { "uevent", "change", "nvme0", "NVME_AEN=0x70f002", NULL };
        assert_int_equal(fk_test_ctl(aen), 0);
        wait_event(e, &g);
        assert_int_equal(g.action, STAS_UEVENT_CHANGE);
        assert_true(g.has_aen);
        assert_int_equal(g.aen, STAS_AEN_DLP_CHANGED);
        const char *ev[] = { "event", "nvme0", "rediscover", NULL };
        assert_int_equal(fk_test_ctl(ev), 0);
        wait_event(e, &g);
        assert_int_equal(g.nvme_event, STAS_NVME_EVENT_REDISCOVER);

        /* kernel drops it: remove event, gone from enumeration */
        const char *rm[] = { "remove", "nvme0", NULL };
        assert_int_equal(fk_test_ctl(rm), 0);
        wait_event(e, &g);
        assert_int_equal(g.action, STAS_UEVENT_REMOVE);
        assert_string_equal(g.sysname, "nvme0");
        assert_int_equal(nvmedev_enumerate(T.root, &list), 0);
        list = nvmedev_list_free(list);

        nvme_free_tree(r);
        stas_udev_free(u);
        sd_event_unref(e);
        fk_test_teardown(&T);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_udev_fake_events_and_enumeration),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
