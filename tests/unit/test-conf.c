/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-helpers.h"
#include "stacd-conf.h"
#include "stafd-conf.h"
#include "stas/ini.h"
#include "stas/conf.h"
#include "stas/strv.h"
#include "stas/tid.h"
#include "stas/timespan.h"

#define SECRET48 "DHHC-1:02:+42Z5Ghu5UXfixCMV/MTBV8EAzA5/UZ5PtLzJFcHDBE+pIgNFmYOBBkEl3bfhsRyD0gT9Xg==:"
#define SECRET64 "DHHC-1:03:qwertyuioplkjhgfdsazxcvbnm0123456789QWERTYUIOPLKJHGFDSAZXCVBNM0101010101=:"

static StasConf *load(const StasConfSchema *d, const char *text) {
        StasConf *c = NULL;

        assert_int_equal(stas_conf_load_string(d, text, "t.conf", &c), 0);
        assert_non_null(c);
        return c;
}

static StasConf *load_captured(const StasConfSchema *d, const char *text, LogCapture *cap) {
        log_capture_start(cap);
        return load(d, text);
}

static void assert_has(const LogCapture *cap, int level, const char *needle) {
        if (!log_capture_has(cap, level, needle))
                fail_msg("expected a level-%d line containing \"%s\" in:\n%s", level, needle, cap->text);
}

/* Every scalar field equal (used to show "the default is used"). */
static void assert_same_scalars(const StasConf *a, const StasConf *b) {
        assert_int_equal(a->tron, b->tron);
        assert_int_equal(a->hdr_digest, b->hdr_digest);
        assert_int_equal(a->data_digest, b->data_digest);
        assert_int_equal(a->ignore_iface, b->ignore_iface);
        assert_int_equal(a->ip_family, b->ip_family);
        assert_int_equal(a->ipv6_first, b->ipv6_first);
        assert_int_equal(a->pleo, b->pleo);
        assert_int_equal(a->zeroconf, b->zeroconf);
        assert_int_equal(a->persistent_connections, b->persistent_connections);
        assert_true(a->zeroconf_persistence_sec == b->zeroconf_persistence_sec);
        assert_int_equal(a->disconnect_scope, b->disconnect_scope);
        assert_int_equal(strv_length(a->disconnect_trtypes), strv_length(b->disconnect_trtypes));
        for (size_t i = 0; i < strv_length(a->disconnect_trtypes); i++)
                assert_string_equal(a->disconnect_trtypes[i], b->disconnect_trtypes[i]);
        assert_int_equal(a->connect_attempts_on_ncc, b->connect_attempts_on_ncc);
        assert_int_equal(a->global.kato, b->global.kato);
        assert_int_equal(a->global.queue_size, b->global.queue_size);
        assert_int_equal(a->global.nr_io_queues, b->global.nr_io_queues);
        assert_int_equal(a->global.nr_write_queues, b->global.nr_write_queues);
        assert_int_equal(a->global.nr_poll_queues, b->global.nr_poll_queues);
        assert_int_equal(a->global.reconnect_delay, b->global.reconnect_delay);
        assert_int_equal(a->global.ctrl_loss_tmo_set, b->global.ctrl_loss_tmo_set);
        assert_int_equal(a->global.ctrl_loss_tmo, b->global.ctrl_loss_tmo);
        assert_int_equal(a->global.hdr_digest, b->global.hdr_digest);
        assert_int_equal(a->global.data_digest, b->global.data_digest);
        assert_int_equal(a->global.disable_sqflow, b->global.disable_sqflow);
}

static void test_conf_defaults_stafd(void **state) {
        _cleanup_(stas_conf_freep) StasConf *c = load(&stafd_conf_schema, "");

        assert_false(c->tron);
        assert_false(c->hdr_digest);
        assert_false(c->data_digest);
        assert_false(c->ignore_iface);
        assert_int_equal(c->ip_family, STAS_IPFAM_BOTH);
        assert_false(c->ipv6_first);
        assert_true(c->pleo);
        assert_true(c->zeroconf);
        assert_true(c->persistent_connections);
        assert_true(c->zeroconf_persistence_sec == 259200);
        assert_int_equal(c->global.kato, 30);
        assert_int_equal(c->global.queue_size, STAS_OPT_UNSET);
        assert_int_equal(c->global.reconnect_delay, STAS_OPT_UNSET);
        assert_false(c->global.ctrl_loss_tmo_set);
        assert_int_equal(c->global.disable_sqflow, STAS_OPT_UNSET);
        assert_int_equal(c->global.hdr_digest, 0);
        assert_int_equal(c->global.data_digest, 0);
        assert_int_equal(c->global.nr_io_queues, STAS_OPT_UNSET);
        assert_null(c->global.dhchap_secret);
        assert_int_equal(c->n_controllers, 0);
        assert_int_equal(c->n_excludes, 0);
        assert_string_equal(c->name, "t.conf");
}

static void test_conf_defaults_stacd(void **state) {
        _cleanup_(stas_conf_freep) StasConf *c = load(&stacd_conf_schema, "");

        assert_int_equal(c->global.kato, STAS_OPT_UNSET);
        assert_int_equal(c->global.nr_io_queues, STAS_OPT_UNSET);
        assert_int_equal(c->global.nr_write_queues, STAS_OPT_UNSET);
        assert_int_equal(c->global.nr_poll_queues, STAS_OPT_UNSET);
        assert_int_equal(c->disconnect_scope, STAS_DISCONNECT_ONLY_STAS);
        assert_int_equal(strv_length(c->disconnect_trtypes), 1);
        assert_string_equal(c->disconnect_trtypes[0], "tcp");
        assert_int_equal(c->connect_attempts_on_ncc, 0);
        assert_int_equal(c->ip_family, STAS_IPFAM_BOTH);
}

static void test_conf_valid_values_stafd(void **state) {
        _cleanup_(stas_conf_freep) StasConf *c =
                load(&stafd_conf_schema,
                     "[Global]\nTron=TRUE\nhdr-digest=true\ndata-digest=True\nkato=10\nqueue-size=16\n"
                     "reconnect-delay=3\nctrl-loss-tmo=-1\ndisable-sqflow=false\nignore-iface=true\n"
                     "ip-family=ipv6+ipv4\npleo=disabled\n"
                     "[Service Discovery]\nzeroconf=disabled\n"
                     "[Discovery controller connection management]\npersistent-connections=false\n"
                     "zeroconf-connections-persistence=1h30m\n");

        assert_true(c->tron);
        assert_true(c->hdr_digest);
        assert_true(c->data_digest);
        assert_int_equal(c->global.hdr_digest, 1);
        assert_int_equal(c->global.kato, 10);
        assert_int_equal(c->global.queue_size, 16);
        assert_int_equal(c->global.reconnect_delay, 3);
        assert_true(c->global.ctrl_loss_tmo_set);
        assert_int_equal(c->global.ctrl_loss_tmo, -1);
        assert_int_equal(c->global.disable_sqflow, 0);
        assert_true(c->ignore_iface);
        assert_int_equal(c->ip_family, STAS_IPFAM_BOTH);
        assert_true(c->ipv6_first);
        assert_false(c->pleo);
        assert_false(c->zeroconf);
        assert_false(c->persistent_connections);
        assert_true(c->zeroconf_persistence_sec == 5400);
}

static void test_conf_valid_values_stacd(void **state) {
        _cleanup_(stas_conf_freep) StasConf *c = load(
                &stacd_conf_schema,
                "[Global]\nkato=200\nnr-io-queues=8\nnr-write-queues=0\nnr-poll-queues=4\nqueue-size=1024\n"
                "ctrl-loss-tmo=600\ndisable-sqflow=true\nip-family=ipv4\n"
                "[I/O controller connection management]\n"
                "disconnect-scope=all-connections-matching-disconnect-trtypes\n"
                "disconnect-trtypes= rdma + tcp+rdma \nconnect-attempts-on-ncc=5\n");

        assert_int_equal(c->global.kato, 200);
        assert_int_equal(c->global.nr_io_queues, 8);
        assert_int_equal(c->global.nr_write_queues, 0);
        assert_int_equal(c->global.nr_poll_queues, 4);
        assert_int_equal(c->global.queue_size, 1024);
        assert_int_equal(c->global.ctrl_loss_tmo, 600);
        assert_int_equal(c->global.disable_sqflow, 1);
        assert_int_equal(c->ip_family, STAS_IPFAM_V4);
        assert_int_equal(c->disconnect_scope, STAS_DISCONNECT_ALL_MATCHING);
        assert_int_equal(strv_length(c->disconnect_trtypes), 2);
        assert_string_equal(c->disconnect_trtypes[0], "rdma");
        assert_string_equal(c->disconnect_trtypes[1], "tcp");
        assert_int_equal(c->connect_attempts_on_ncc, 5);
}

/* One invalid value per key: a warning naming file:line, section, key and value; default kept. */
static void test_conf_invalid_values_use_default(void **state) {
        static const struct {
                const StasConfSchema *d;
                const char *section, *key, *value;
        } cases[] = {
                { &stafd_conf_schema, "Global", "tron", "yes" },
                { &stafd_conf_schema, "Global", "hdr-digest", "1" },
                { &stafd_conf_schema, "Global", "data-digest", "on" },
                { &stafd_conf_schema, "Global", "kato", "ten" },
                { &stacd_conf_schema, "Global", "kato", "-1" },
                { &stafd_conf_schema, "Global", "queue-size", "15" },
                { &stacd_conf_schema, "Global", "queue-size", "5" },
                { &stafd_conf_schema, "Global", "reconnect-delay", "0" },
                { &stafd_conf_schema, "Global", "ctrl-loss-tmo", "-2" },
                { &stacd_conf_schema, "Global", "ctrl-loss-tmo", "1.5" },
                { &stafd_conf_schema, "Global", "disable-sqflow", "maybe" },
                { &stafd_conf_schema, "Global", "ignore-iface", "" },
                { &stafd_conf_schema, "Global", "ip-family", "IPv4" },
                { &stacd_conf_schema, "Global", "ip-family", "ipv4,ipv6" },
                { &stafd_conf_schema, "Global", "pleo", "disable" },
                { &stafd_conf_schema, "Global", "pleo", "Enabled" },
                { &stafd_conf_schema, "Service Discovery", "zeroconf", "true" },
                { &stafd_conf_schema,
                  "Discovery controller connection management",
                  "persistent-connections",
                  "no" },
                { &stafd_conf_schema,
                  "Discovery controller connection management",
                  "zeroconf-connections-persistence",
                  "blah" },
                { &stacd_conf_schema, "Global", "nr-io-queues", "0" },
                { &stacd_conf_schema, "Global", "nr-write-queues", "-1" },
                { &stacd_conf_schema, "Global", "nr-poll-queues", "x" },
                { &stacd_conf_schema, "Global", "kato", "99999999999x" }, /* not a number, however long */
                { &stacd_conf_schema, "I/O controller connection management", "disconnect-scope", "joe" },
                { &stacd_conf_schema, "I/O controller connection management", "disconnect-trtypes", "bob" },
                { &stacd_conf_schema,
                  "I/O controller connection management",
                  "connect-attempts-on-ncc",
                  "hello" },
                { &stacd_conf_schema,
                  "I/O controller connection management",
                  "connect-attempts-on-ncc",
                  "-3" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(stas_conf_freep) StasConf *def = load(cases[i].d, "");
                StasConf *c;
                LogCapture cap;
                char text[256], needle[256];

                snprintf(
                        text,
                        sizeof(text),
                        "# comment\n[%s]\n%s = %s\n",
                        cases[i].section,
                        cases[i].key,
                        cases[i].value);
                c = load_captured(cases[i].d, text, &cap);
                snprintf(
                        needle,
                        sizeof(needle),
                        "t.conf:3: invalid value '%s' for [%s] %s=",
                        cases[i].value,
                        cases[i].section,
                        cases[i].key);
                assert_has(&cap, LOG_WARNING, needle);
                assert_int_equal(log_capture_count(&cap, LOG_ERR), 0);
                assert_same_scalars(c, def);
                log_capture_stop(&cap);
                stas_conf_free(c);
        }
}

static void test_conf_range_limits_accepted(void **state) {
        _cleanup_(stas_conf_freep) StasConf *a =
                load(&stacd_conf_schema,
                     "[Global]\nqueue-size=16\nkato=0\nreconnect-delay=1\nctrl-loss-tmo=-1\n");
        _cleanup_(stas_conf_freep) StasConf *b =
                load(&stacd_conf_schema,
                     "[Global]\nqueue-size=1024\nkato=+7\nnr-io-queues=1\nnr-poll-queues=0\n");

        assert_int_equal(a->global.queue_size, 16);
        assert_int_equal(a->global.kato, 0);
        assert_int_equal(a->global.reconnect_delay, 1);
        assert_int_equal(a->global.ctrl_loss_tmo, -1);
        assert_int_equal(b->global.queue_size, 1024);
        assert_int_equal(b->global.kato, 7);
        assert_int_equal(b->global.nr_io_queues, 1);
        assert_int_equal(b->global.nr_poll_queues, 0);
}

/* Above the maximum: ONE warning naming file, line and key; the maximum is used. */
static void test_conf_numbers_clamped_to_max(void **state) {
        static const struct {
                const StasConfSchema *d;
                const char *section, *key, *value, *max;
        } cases[] = {
                { &stafd_conf_schema, "Global", "kato", "2147484", "2147483" },
                { &stacd_conf_schema, "Global", "kato", "99999999999", "2147483" },
                { &stacd_conf_schema, "Global", "queue-size", "1025", "1024" },
                { &stafd_conf_schema, "Global", "reconnect-delay", "4294967296", "2147483" },
                { &stafd_conf_schema, "Global", "ctrl-loss-tmo", "+3000000", "2147483" },
                { &stacd_conf_schema, "Global", "nr-io-queues", "65536", "65535" },
                { &stacd_conf_schema, "Global", "nr-write-queues", "100000", "65535" },
                { &stacd_conf_schema,
                  "Global",
                  "nr-poll-queues",
                  "9999999999999999999999999999999999999999999999999999999999999999999999",
                  "65535" },
                { &stacd_conf_schema,
                  "I/O controller connection management",
                  "connect-attempts-on-ncc",
                  "2147483648",
                  "2147483647" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                StasConf *c;
                LogCapture cap;
                char text[256], needle[256];
                int v;

                snprintf(
                        text,
                        sizeof(text),
                        "[%s]\n\n%s = %s\n",
                        cases[i].section,
                        cases[i].key,
                        cases[i].value);
                c = load_captured(cases[i].d, text, &cap);
                snprintf(
                        needle,
                        sizeof(needle),
                        "t.conf:3: value '%.64s%s' for [%s] %s= is above the maximum, using %s.",
                        cases[i].value,
                        strlen(cases[i].value) > 64 ? "..." : "",
                        cases[i].section,
                        cases[i].key,
                        cases[i].max);
                assert_has(&cap, LOG_WARNING, needle);
                assert_int_equal(log_capture_count(&cap, -1), 1);
                if (streq(cases[i].key, "kato"))
                        v = c->global.kato;
                else if (streq(cases[i].key, "queue-size"))
                        v = c->global.queue_size;
                else if (streq(cases[i].key, "reconnect-delay"))
                        v = c->global.reconnect_delay;
                else if (streq(cases[i].key, "ctrl-loss-tmo"))
                        v = c->global.ctrl_loss_tmo;
                else if (streq(cases[i].key, "nr-io-queues"))
                        v = c->global.nr_io_queues;
                else if (streq(cases[i].key, "nr-write-queues"))
                        v = c->global.nr_write_queues;
                else if (streq(cases[i].key, "nr-poll-queues"))
                        v = c->global.nr_poll_queues;
                else
                        v = c->connect_attempts_on_ncc;
                assert_int_equal(v, atoi(cases[i].max));
                log_capture_stop(&cap);
                stas_conf_free(c);
        }
}

/* The three time spans of issue 8 are taken as 3650 days, with one warning; -1e300 is forever. */
static void test_conf_persistence_clamped_to_max(void **state) {
        char nines[401], v[420];
        const char *values[] = { "1e300", v, "1000000000000000 weeks" };

        memset(nines, '9', 400);
        nines[400] = '\0';
        snprintf(v, sizeof(v), "%s:00:00", nines);
        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                _cleanup_free_ char *text = NULL;
                char needle[256];
                LogCapture cap;
                StasConf *c;

                assert_true(
                        asprintf(
                                &text,
                                "[Discovery controller connection management]\n"
                                "zeroconf-connections-persistence = %s\n",
                                values[i]) > 0);
                c = load_captured(&stafd_conf_schema, text, &cap);
                snprintf(
                        needle,
                        sizeof(needle),
                        "t.conf:2: value '%.64s%s' for [Discovery controller connection management] "
                        "zeroconf-connections-persistence= is above the maximum, using 3650 days.",
                        values[i],
                        strlen(values[i]) > 64 ? "..." : "");
                assert_has(&cap, LOG_WARNING, needle);
                assert_int_equal(log_capture_count(&cap, -1), 1);
                assert_true(c->zeroconf_persistence_sec == TIMESPAN_MAX_SEC);
                assert_true(c->zeroconf_persistence_sec == 3650 * 86400.0);
                log_capture_stop(&cap);
                stas_conf_free(c);
        }
        {
                LogCapture cap;
                StasConf *c = load_captured(
                        &stafd_conf_schema,
                        "[Discovery controller connection management]\nzeroconf-connections-persistence=-1e300\n",
                        &cap);

                assert_true(c->zeroconf_persistence_sec == -1);
                assert_int_equal(log_capture_count(&cap, -1), 0);
                log_capture_stop(&cap);
                stas_conf_free(c);
        }
}

/* A controller= override above the maximum: one warning with file, line and key; the maximum. */
/* stafd: keys libnvme 1.3 never sends to a DC get one warning per entry, at every load. */
static void test_conf_stafd_warns_unsent_dc_keys(void **state) {
        static const char text[] =
                "[Controllers]\n"
                "controller = transport=tcp;traddr=192.0.2.1;queue-size=64;dhchap-secret=" SECRET48
                ";dhchap-ctrl-secret=" SECRET48 "\n"
                "controller = transport=tcp;traddr=192.0.2.2;nr-io-queues=4\n"
                "controller = transport=tcp;traddr=192.0.2.3;kato=10\n";
        LogCapture cap;
        StasConf *c = load_captured(&stafd_conf_schema, text, &cap);

        assert_int_equal(c->n_controllers, 3);
        assert_has(
                &cap,
                LOG_WARNING,
                "t.conf:2: controller= entry sets queue-size, dhchap-secret, dhchap-ctrl-secret: libnvme never "
                "sends them to a discovery controller, ignoring them.");
        assert_has(&cap, LOG_WARNING, "t.conf:3: controller= entry sets nr-io-queues: libnvme never sends");
        assert_int_equal(log_capture_count(&cap, -1), 2);
        assert_null(strstr(cap.text, "DHHC-1"));
        stas_conf_free(c);

        /* a reload loads the file again: the same warnings again */
        log_capture_clear(&cap);
        c = load(&stafd_conf_schema, text);
        assert_int_equal(log_capture_count(&cap, LOG_WARNING), 2);
        stas_conf_free(c);

        /* [Global] queue-size applies to DCs only in stafd.conf: one warning too */
        log_capture_clear(&cap);
        c = load(&stafd_conf_schema, "[Global]\nqueue-size=64\n");
        assert_has(
                &cap,
                LOG_WARNING,
                "t.conf:2: [Global] queue-size= has no effect: libnvme never sends it to a discovery controller.");
        assert_int_equal(log_capture_count(&cap, -1), 1);
        stas_conf_free(c);

        /* stacd's entries are I/O controllers: they do get these options */
        log_capture_clear(&cap);
        c = load(
                &stacd_conf_schema,
                "[Global]\nqueue-size=64\n[Controllers]\ncontroller = transport=tcp;traddr=192.0.2.1;nqn=nqn.x;"
                "queue-size=64;nr-io-queues=4;dhchap-secret=" SECRET48 "\n");
        assert_int_equal(c->n_controllers, 1);
        assert_int_equal(log_capture_count(&cap, -1), 0);
        stas_conf_free(c);
        log_capture_stop(&cap);
}

static void test_conf_override_clamped_to_max(void **state) {
        LogCapture cap;
        StasConf *c = load_captured(
                &stacd_conf_schema,
                "[Controllers]\n"
                "controller = transport=tcp;traddr=192.0.2.1;nqn=nqn.x;queue-size=5000;kato=1e9;ctrl-loss-tmo=99999999\n",
                &cap);
        StasConnectOptions o;

        assert_int_equal(c->n_controllers, 1);
        assert_has(
                &cap,
                LOG_WARNING,
                "t.conf:2: value '5000' for controller= override queue-size is above the maximum, using 1024.");
        assert_has(
                &cap,
                LOG_WARNING,
                "t.conf:2: value '99999999' for controller= override ctrl-loss-tmo is above the maximum, using 2147483.");
        assert_has(&cap, LOG_WARNING, "t.conf:2: invalid value '1e9' for controller= override kato");
        assert_int_equal(log_capture_count(&cap, -1), 3);
        assert_string_equal(kv_get(c->controllers[0], "queue-size"), "1024");
        assert_int_equal(stas_conf_connect_options(c, c->controllers[0], &o), 0);
        assert_int_equal(o.queue_size, 1024);
        assert_int_equal(o.ctrl_loss_tmo, 2147483);
        assert_int_equal(log_capture_count(&cap, -1), 3); /* canonical now: no second warning */
        connect_options_done(&o);
        log_capture_stop(&cap);
        stas_conf_free(c);
}

static void test_conf_ip_family_values(void **state) {
        static const struct {
                const char *v;
                StasIpFamily f;
                bool v6first;
        } cases[] = {
                { "ipv4", STAS_IPFAM_V4, false },
                { "ipv6", STAS_IPFAM_V6, true },
                { "ipv4+ipv6", STAS_IPFAM_BOTH, false },
                { "ipv6+ipv4", STAS_IPFAM_BOTH, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char text[64];
                StasConf *c;

                snprintf(text, sizeof(text), "[Global]\nip-family=%s\n", cases[i].v);
                c = load(&stacd_conf_schema, text);
                assert_int_equal(c->ip_family, cases[i].f);
                assert_int_equal(c->ipv6_first, cases[i].v6first);
                assert_string_equal(
                        stas_ip_family_to_string(c->ip_family, c->ipv6_first),
                        cases[i].f == STAS_IPFAM_V6 ? "ipv6" : cases[i].v);
                stas_conf_free(c);
        }
}

static void test_conf_zeroconf_persistence(void **state) {
        static const struct {
                const char *v;
                double sec;
        } cases[] = {
                { "-1", -1 },          { "-5", -1 },   { "0", 0 }, { "3 days 5 hours", 277200 },
                { "72hours", 259200 }, { "1:01", 61 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char text[128];
                StasConf *c;

                snprintf(
                        text,
                        sizeof(text),
                        "[Discovery controller connection management]\nzeroconf-connections-persistence=%s\n",
                        cases[i].v);
                c = load(&stafd_conf_schema, text);
                assert_true(c->zeroconf_persistence_sec == cases[i].sec);
                stas_conf_free(c);
        }
}

static void test_conf_disconnect_trtypes(void **state) {
        LogCapture cap;
        StasConf *c;

        c = load_captured(
                &stacd_conf_schema,
                "[I/O controller connection management]\ndisconnect-trtypes = fc+bob+fc+loop\n",
                &cap);
        assert_int_equal(strv_length(c->disconnect_trtypes), 1);
        assert_string_equal(c->disconnect_trtypes[0], "fc");
        assert_has(
                &cap,
                LOG_WARNING,
                "t.conf:2: [I/O controller connection management] disconnect-trtypes=: ignoring invalid transport type 'bob'");
        assert_has(&cap, LOG_WARNING, "'loop'");
        log_capture_stop(&cap);
        stas_conf_free(c);

        c =
                load(&stacd_conf_schema,
                     "[I/O controller connection management]\ndisconnect-trtypes = tcp+rdma+fc\n");
        assert_int_equal(strv_length(c->disconnect_trtypes), 3);
        stas_conf_free(c);

        /* nothing left: tcp */
        c = load_captured(
                &stacd_conf_schema, "[I/O controller connection management]\ndisconnect-trtypes =\n", &cap);
        assert_string_equal(c->disconnect_trtypes[0], "tcp");
        assert_null(c->disconnect_trtypes[1]);
        assert_has(&cap, LOG_WARNING, "using the default: tcp");
        log_capture_stop(&cap);
        stas_conf_free(c);
}

static void test_conf_connect_attempts_on_ncc(void **state) {
        StasConf *c;

        c = load(
                &stacd_conf_schema, "[I/O controller connection management]\nconnect-attempts-on-ncc = 1\n");
        assert_int_equal(c->connect_attempts_on_ncc, 2);
        stas_conf_free(c);
        c = load(
                &stacd_conf_schema, "[I/O controller connection management]\nconnect-attempts-on-ncc = 0\n");
        assert_int_equal(c->connect_attempts_on_ncc, 0);
        stas_conf_free(c);
        c = load(
                &stacd_conf_schema, "[I/O controller connection management]\nconnect-attempts-on-ncc = 2\n");
        assert_int_equal(c->connect_attempts_on_ncc, 2);
        stas_conf_free(c);
}

static void test_conf_bare_key_and_multiline_use_default(void **state) {
        LogCapture cap;
        StasConf *c = load_captured(&stafd_conf_schema, "[Global]\ntron\nkato=5\n  6\n", &cap);

        assert_false(c->tron);
        assert_int_equal(c->global.kato, 30);
        assert_has(&cap, LOG_WARNING, "t.conf:2: invalid value '' for [Global] tron= (no value given)");
        assert_has(
                &cap,
                LOG_WARNING,
                "t.conf:3: invalid value '5' for [Global] kato= (the value continues on indented lines)");
        log_capture_stop(&cap);
        stas_conf_free(c);
}

static void test_conf_invalid_sections_and_options(void **state) {
        LogCapture cap;
        StasConf *c = load_captured(
                &stafd_conf_schema,
                "[Global]\n"
                "persistent-connections=true\n" /* legacy location */
                "nr-io-queues=4\n"
                "kato=12\n"
                "[Controllers]\n"
                "blacklist=transport=tcp;traddr=1.1.1.1\n"
                "[controllers]\n"
                "controller=transport=tcp;traddr=1.1.1.1\n"
                "[I/O controller connection management]\n"
                "sticky-connections=enabled\n"
                "[Service Discovery]\n"
                "zeroconf=disabled\n",
                &cap);

        assert_has(&cap, LOG_ERR, "t.conf:2: invalid option 'persistent-connections' in [Global]");
        assert_has(
                &cap,
                LOG_ERR,
                "t.conf:3: invalid option 'nr-io-queues' in [Global] (only valid in stacd.conf)");
        assert_has(&cap, LOG_ERR, "t.conf:6: invalid option 'blacklist' in [Controllers]");
        assert_has(&cap, LOG_ERR, "t.conf:7: invalid section [controllers]");
        assert_has(&cap, LOG_ERR, "t.conf:9: invalid section [I/O controller connection management]");
        assert_int_equal(log_capture_count(&cap, LOG_ERR), 5);
        /* not fatal: the valid options still apply, invalid ones are ignored */
        assert_int_equal(c->global.kato, 12);
        assert_int_equal(c->global.nr_io_queues, STAS_OPT_UNSET);
        assert_false(c->zeroconf);
        assert_true(c->persistent_connections);
        assert_int_equal(c->n_controllers, 0);
        log_capture_stop(&cap);
        stas_conf_free(c);

        c = load_captured(
                &stacd_conf_schema,
                "[Global]\nudev-rule=disabled\npleo=enabled\n[Discovery controller connection management]\n"
                "persistent-connections=true\n[I/O controller connection management]\nsticky-connections=disabled\n",
                &cap);
        assert_has(&cap, LOG_ERR, "t.conf:2: invalid option 'udev-rule' in [Global]");
        assert_has(&cap, LOG_ERR, "t.conf:3: invalid option 'pleo' in [Global]");
        assert_has(&cap, LOG_ERR, "t.conf:4: invalid section [Discovery controller connection management]");
        assert_has(
                &cap,
                LOG_ERR,
                "t.conf:7: invalid option 'sticky-connections' in [I/O controller connection management]");
        log_capture_stop(&cap);
        stas_conf_free(c);
}

static void test_conf_syntax_error_fails_load(void **state) {
        StasConf *c = NULL;
        LogCapture cap;

        log_capture_start(&cap);
        assert_int_equal(stas_conf_load_string(&stafd_conf_schema, "kato=1\n", "t.conf", &c), -EINVAL);
        assert_null(c);
        assert_has(&cap, LOG_ERR, "t.conf:1: syntax error");
        log_capture_stop(&cap);
}

/* A hostile file cannot flood the journal: per kind, INI_MAX_MESSAGES lines and one summary. */
static void test_conf_messages_capped(void **state) {
        _cleanup_free_ char *text = malloc(64 * 1024);
        LogCapture cap;
        StasConf *c;
        size_t n = 0;

        assert_non_null(text);
        n += (size_t) sprintf(text, "[Global]\nkato = 7\n");
        for (int i = 0; i < 50; i++)
                n += (size_t) sprintf(text + n, "bad-%d = 1\n", i);
        n += (size_t) sprintf(text + n, "[Controllers]\n");
        for (int i = 0; i < 40; i++)
                n += (size_t) sprintf(text + n, "controller = transport=tcp\nexclude = junk\n");
        n += (size_t) sprintf(text + n, "controller = transport=tcp;traddr=192.0.2.1\n");
        n += (size_t) sprintf(text + n, "[I/O controller connection management]\ndisconnect-trtypes = fc");
        for (int i = 0; i < 30; i++)
                n += (size_t) sprintf(text + n, "+x%d", i);
        strcpy(text + n, "\n");

        c = load_captured(&stacd_conf_schema, text, &cap);
        /* the valid options still apply */
        assert_int_equal(c->global.kato, 7);
        assert_int_equal(c->n_controllers, 0); /* stacd: no nqn= */
        assert_string_equal(c->disconnect_trtypes[0], "fc");
        assert_has(&cap, LOG_ERR, "t.conf:3: invalid option 'bad-0' in [Global]");
        assert_has(&cap, LOG_ERR, "t.conf: 30 more invalid sections and options, not shown");
        assert_int_equal(log_capture_count(&cap, LOG_ERR), INI_MAX_MESSAGES + 1);
        assert_has(&cap, LOG_WARNING, "t.conf: 101 more warnings about controller= and exclude= entries");
        assert_has(&cap, LOG_WARNING, "disconnect-trtypes=: 10 more invalid transport types ignored");
        /* entries: 20 + summary; trtypes: 20 + summary */
        assert_int_equal(log_capture_count(&cap, LOG_WARNING), 2 * (INI_MAX_MESSAGES + 1));
        log_capture_stop(&cap);
        stas_conf_free(c);
}

/* ---- entries ---- */

static StasKV *entry(const StasConfSchema *d, bool exclude, const char *v) {
        StasKV *kv = NULL;

        assert_int_equal(stas_conf_parse_entry(d, exclude, v, "t.conf", 9, &kv), 0);
        assert_non_null(kv);
        return kv;
}

static void entry_dropped(const StasConfSchema *d, bool exclude, const char *v, const char *needle) {
        StasKV *kv = NULL;
        LogCapture cap;

        log_capture_start(&cap);
        assert_int_equal(stas_conf_parse_entry(d, exclude, v, "t.conf", 9, &kv), -EINVAL);
        assert_null(kv);
        assert_has(&cap, LOG_WARNING, needle);
        log_capture_stop(&cap);
}

static void test_conf_entry_split_on_first_equals(void **state) {
        _cleanup_(kv_freep) StasKV *a = entry(
                &stacd_conf_schema, false, "transport=tcp;traddr=1.2.3.4;nqn=nqn.x;dhchap-secret=a=b=c");
        _cleanup_(kv_freep) StasKV *b =
                entry(&stacd_conf_schema,
                      false,
                      "transport=tcp;traddr=1.2.3.4;nqn=nqn.x;dhchap-secret=" SECRET48
                      ";dhchap-ctrl-secret = " SECRET64);

        assert_string_equal(kv_get(a, "dhchap-secret"), "a=b=c");
        assert_string_equal(kv_get(b, "dhchap-secret"), SECRET48);
        assert_string_equal(kv_get(b, "dhchap-ctrl-secret"), SECRET64);
}

static void test_conf_entry_normalisation(void **state) {
        _cleanup_(kv_freep) StasKV *a = entry(
                &stafd_conf_schema, false, "  Transport = tcp ; traddr= 10.0.0.1 ;; ; host-iface=eth0 ;");
        _cleanup_(kv_freep) StasKV *b =
                entry(&stacd_conf_schema, false, "transport=rdma;traddr=10.0.0.2;nqn=nqn.io");
        _cleanup_(kv_freep) StasKV *c = entry(
                &stacd_conf_schema, false, "transport=tcp;traddr=10.0.0.3;trsvcid=4420;subsysnqn=nqn.io");

        assert_string_equal(kv_get(a, "transport"), "tcp");
        assert_string_equal(kv_get(a, "traddr"), "10.0.0.1");
        assert_string_equal(kv_get(a, "trsvcid"), "8009");
        assert_string_equal(kv_get(a, "subsysnqn"), NVME_DISC_WKNQN);
        assert_string_equal(kv_get(a, "host-iface"), "eth0");
        assert_int_equal(a->n, 5);
        assert_string_equal(kv_get(b, "trsvcid"), "4420");
        assert_string_equal(kv_get(b, "subsysnqn"), "nqn.io");
        assert_null(kv_get(b, "nqn"));
        assert_string_equal(kv_get(c, "trsvcid"), "4420");
}

static void test_conf_entry_fc_and_loop(void **state) {
        _cleanup_(kv_freep) StasKV *fc =
                entry(&stafd_conf_schema,
                      false,
                      "transport=fc;traddr=nn-0x204600a098cbcac6:pn-0x204700a098cbcac6;trsvcid=77");
        _cleanup_(kv_freep) StasKV *loop = entry(&stacd_conf_schema, false, "transport=loop;nqn=nqn.loop");

        assert_string_equal(kv_get(fc, "transport"), "fc");
        assert_string_equal(kv_get(fc, "trsvcid"), "");
        assert_string_equal(kv_get(fc, "subsysnqn"), NVME_DISC_WKNQN);
        assert_string_equal(kv_get(loop, "trsvcid"), "");
        assert_string_equal(kv_get(loop, "subsysnqn"), "nqn.loop");
}

static void test_conf_entry_invalid(void **state) {
        entry_dropped(&stafd_conf_schema, false, "; ; ;", "t.conf:9: controller= entry without transport=");
        entry_dropped(&stafd_conf_schema, false, "", "without transport=");
        entry_dropped(&stafd_conf_schema, false, NULL, "t.conf:9: controller= without a value");
        entry_dropped(&stafd_conf_schema, false, "traddr=1.1.1.1", "without transport=");
        entry_dropped(
                &stafd_conf_schema, false, "transport=tcp", "t.conf:9: controller= entry without traddr=");
        entry_dropped(&stafd_conf_schema, false, "transport=fc", "without traddr=");
        entry_dropped(&stafd_conf_schema, false, "transport=TCP;traddr=1.1.1.1", "unknown transport 'TCP'");
        entry_dropped(
                &stacd_conf_schema,
                false,
                "transport=tcp;traddr=1.1.1.1",
                "t.conf:9: controller= entry without nqn=");
        entry_dropped(&stacd_conf_schema, false, "transport=tcp;traddr=1.1.1.1;nqn=", "without nqn=");
}

/* every field that reaches the connect string is validated where the config enters stas */
static void test_conf_entry_injection_refused(void **state) {
        static const struct {
                const char *entry, *needle;
        } v[] = {
                { "transport=tcp;traddr=1.1.1.1;trsvcid=4420,host_iface=evil0",
                  "invalid trsvcid '4420,host_iface=evil0'" },
                { "transport=tcp;traddr=1.1.1.1,host_iface=evil0",
                  "invalid traddr '1.1.1.1,host_iface=evil0'" },
                { "transport=tcp;traddr=1.1.1.1;nqn=nqn.2024-01.io.evil:x,host_traddr=203.0.113.9",
                  "invalid subsysnqn" },
                { "transport=tcp;traddr=1.1.1.1;host-traddr=203.0.113.9,nr_io_queues=1",
                  "invalid host-traddr" },
                { "transport=tcp;traddr=1.1.1.1;host-iface=evil0,duplicate_connect", "invalid host-iface" },
                { "transport=tcp;traddr=1.1.1.1;host-iface=abcdefghijklmnop", "invalid host-iface" },
                { "transport=tcp;traddr=1.1.1.1;host-nqn=nqn.h,x", "invalid host-nqn" },
                { "transport=tcp;traddr=1.1.1.1;trsvcid=99999", "invalid trsvcid '99999'" },
                { "transport=fc;traddr=1.1.1.1", "invalid traddr '1.1.1.1'" },
                { "transport=tcp;traddr=1.1.1.1;dhchap-secret=DHHC-1:00:a,b:",
                  "invalid dhchap-secret (a ',' or a blank)" },
        };
        _cleanup_(kv_freep) StasKV *name = NULL, *fc = NULL;

        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                entry_dropped(&stafd_conf_schema, false, v[i].entry, v[i].needle);
        /* a host name is fine in traddr (resolved later), a zone in an IPv6 literal too */
        name = entry(
                &stafd_conf_schema, false, "transport=tcp;traddr=cdc.example.com;host-traddr=fe80::1%eth0");
        assert_string_equal(kv_get(name, "traddr"), "cdc.example.com");
        fc =
                entry(&stafd_conf_schema,
                      false,
                      "transport=fc;traddr=nn-0x20000090fa942779:pn-0x10000090fa942779;"
                      "host-traddr=nn-0x20000090fa942780:pn-0x10000090fa942780");
        assert_string_equal(kv_get(fc, "trsvcid"), "");
}

static void test_conf_entry_bad_fields_warned(void **state) {
        _cleanup_(kv_freep) StasKV *kv = NULL;
        LogCapture cap;

        log_capture_start(&cap);
        kv =
                entry(&stafd_conf_schema,
                      false,
                      "transport=tcp;noequalsign;traddr=10.10.10.10;=x;bogus-key=1;key=val=extra");
        assert_has(&cap, LOG_WARNING, "t.conf:9: controller= field 2 has no '='");
        assert_has(&cap, LOG_WARNING, "t.conf:9: controller= field 4 has no key");
        assert_has(&cap, LOG_WARNING, "t.conf:9: controller= has unknown key 'bogus-key'");
        assert_has(&cap, LOG_WARNING, "unknown key 'key'");
        assert_null(strstr(cap.text, "noequalsign"));
        assert_int_equal(kv->n, 4);
        assert_string_equal(kv_get(kv, "traddr"), "10.10.10.10");
        log_capture_stop(&cap);
}

static void test_conf_entry_overrides_validated(void **state) {
        _cleanup_(kv_freep) StasKV *kv = NULL;
        LogCapture cap;

        log_capture_start(&cap);
        kv = entry(
                &stacd_conf_schema,
                false,
                "transport=tcp;traddr=1.1.1.1;nqn=nqn.n;queue-size=5;kato=+71;hdr-digest=TRUE;data-digest=nope;"
                "nr-io-queues=8;ctrl-loss-tmo=-1;disable-sqflow=false");
        assert_has(&cap, LOG_WARNING, "t.conf:9: invalid value '5' for controller= override queue-size");
        assert_has(&cap, LOG_WARNING, "t.conf:9: invalid value 'nope' for controller= override data-digest");
        assert_null(kv_get(kv, "queue-size")); /* never a raw invalid string (§9.4) */
        assert_null(kv_get(kv, "data-digest"));
        assert_string_equal(kv_get(kv, "kato"), "71");
        assert_string_equal(kv_get(kv, "hdr-digest"), "true");
        assert_string_equal(kv_get(kv, "nr-io-queues"), "8");
        assert_string_equal(kv_get(kv, "ctrl-loss-tmo"), "-1");
        assert_string_equal(kv_get(kv, "disable-sqflow"), "false");
        log_capture_stop(&cap);
}

static void test_conf_exclude_entries(void **state) {
        _cleanup_(kv_freep) StasKV *a =
                entry(&stacd_conf_schema, true, "transport=tcp;traddr=fe80::2c6e:dee7:857:26bb");
        _cleanup_(kv_freep) StasKV *b = entry(&stafd_conf_schema, true, "host-iface=enp0s8   ");
        _cleanup_(kv_freep) StasKV *c =
                entry(&stafd_conf_schema, true, "nqn=nqn.x;host-traddr=1.1.1.1;queue-size=5");

        /* no defaults added */
        assert_int_equal(a->n, 2);
        assert_null(kv_get(a, "trsvcid"));
        assert_null(kv_get(a, "subsysnqn"));
        assert_int_equal(b->n, 1);
        assert_string_equal(kv_get(b, "host-iface"), "enp0s8");
        /* host-traddr removed, nqn renamed, override values not checked */
        assert_null(kv_get(c, "host-traddr"));
        assert_string_equal(kv_get(c, "subsysnqn"), "nqn.x");
        assert_string_equal(kv_get(c, "queue-size"), "5");

        entry_dropped(
                &stafd_conf_schema,
                true,
                "host-traddr=1.1.1.1",
                "t.conf:9: exclude= entry matches nothing specific");
        entry_dropped(&stafd_conf_schema, true, "; ;", "exclude= entry matches nothing specific");
        entry_dropped(
                &stafd_conf_schema,
                true,
                "traddr=1.1.1.1;tranport=rdma",
                "unknown key 'tranport', ignoring the whole entry");
}

static void test_conf_controllers_from_file(void **state) {
        LogCapture cap;
        StasConf *c = load_captured(
                &stafd_conf_schema,
                "[Controllers]\n"
                "controller = transport=tcp;traddr=localhost;trsvcid=8009   # inline comment\n"
                "controller = transport=tcp;traddr=2001:db8::370:7334;host-iface=enp0s8\n"
                "controller = transport=fc;traddr=nn-0x204600a098cbcac6:pn-0x204700a098cbcac6\n"
                "controller = traddr=1.1.1.1\n"
                "controller\n"
                "exclude = transport=tcp;traddr=fe80::2c6e:dee7:857:26bb\n"
                "exclude = host-iface=enp0s8   # the docs' example\n"
                "    host-iface=enp0s9\n",
                &cap);

        assert_int_equal(c->n_controllers, 3);
        assert_string_equal(kv_get(c->controllers[0], "trsvcid"), "8009");
        assert_int_equal(c->controller_lines[0], 2);
        assert_string_equal(kv_get(c->controllers[1], "traddr"), "2001:db8::370:7334");
        assert_string_equal(kv_get(c->controllers[2], "transport"), "fc");
        assert_int_equal(c->controller_lines[2], 4);
        assert_has(&cap, LOG_WARNING, "t.conf:5: controller= entry without transport=");
        assert_has(&cap, LOG_WARNING, "t.conf:6: controller= without a value");
        assert_int_equal(c->n_excludes, 3);
        assert_string_equal(kv_get(c->excludes[1], "host-iface"), "enp0s8");
        assert_string_equal(kv_get(c->excludes[2], "host-iface"), "enp0s9");
        assert_int_equal(c->exclude_lines[2], 9);
        log_capture_stop(&cap);
        stas_conf_free(c);
}

static void write_file(const char *path, const char *content) {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void test_conf_secret_files(void **state) {
        char dir[] = "/tmp/stas-options-XXXXXX", p1[128], p2[128], p3[128], text[1024], cmd[160];
        _cleanup_(kv_freep) StasKV *kv = NULL;
        StasKV *bad = NULL;
        LogCapture cap;

        assert_non_null(mkdtemp(dir));
        snprintf(p1, sizeof(p1), "%s/host.key", dir);
        snprintf(p2, sizeof(p2), "%s/ctrl.key", dir);
        snprintf(p3, sizeof(p3), "%s/empty.key", dir);
        write_file(p1, "  " SECRET48 "  \nsecond line\n");
        write_file(p2, SECRET64);
        write_file(p3, "\n" SECRET48 "\n");

        log_capture_start(&cap);
        snprintf(
                text,
                sizeof(text),
                "transport=tcp;traddr=1.1.1.1;nqn=nqn.n;dhchap-secret-file=%s;dhchap-ctrl-secret-file = %s",
                p1,
                p2);
        kv = entry(&stacd_conf_schema, false, text);
        assert_string_equal(kv_get(kv, "dhchap-secret"), SECRET48);
        assert_string_equal(kv_get(kv, "dhchap-ctrl-secret"), SECRET64);
        assert_null(kv_get(kv, "dhchap-secret-file"));

        snprintf(
                text,
                sizeof(text),
                "transport=tcp;traddr=1.1.1.1;nqn=nqn.n;dhchap-secret-file=%s/missing;dhchap-ctrl-secret-file=%s",
                dir,
                p3);
        assert_int_equal(stas_conf_parse_entry(&stacd_conf_schema, false, text, "t.conf", 4, &bad), 0);
        assert_null(kv_get(bad, "dhchap-secret"));
        assert_null(kv_get(bad, "dhchap-ctrl-secret"));
        assert_has(&cap, LOG_WARNING, "t.conf:4: controller= dhchap-secret-file: cannot read a secret from");
        assert_has(&cap, LOG_WARNING, "missing' (No such file or directory)");
        assert_has(&cap, LOG_WARNING, "empty.key' (empty first line)");
        kv_free(bad);
        assert_null(strstr(cap.text, "DHHC"));
        log_capture_stop(&cap);

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_conf_secrets_never_logged(void **state) {
        LogCapture cap;
        StasConf *c;
        StasConnectOptions o;

        /* every warning path an entry with secrets can take, at debug level */
        c = load_captured(
                &stacd_conf_schema,
                "[Controllers]\n"
                "controller = transport=tcp;traddr=1.1.1.1;dhchap-secret=" SECRET48 "\n"
                "controller = transport=tcp;traddr=1.1.1.1;nqn=nqn.n;dhchap-secret " SECRET48
                ";dhchap-ctrl-secret=" SECRET64 ";queue-size=1;bogus=" SECRET64 "\n"
                "controller = transport=xyz;traddr=1.1.1.1;nqn=nqn.n;dhchap-secret=" SECRET48 "\n"
                "exclude = dhchap-secret=" SECRET48 ";bogus=1\n"
                "[Global]\n"
                "kato=" SECRET48 "\n",
                &cap);
        assert_int_equal(c->n_controllers, 1);
        assert_int_equal(stas_conf_connect_options(c, c->controllers[0], &o), 0);
        assert_string_equal(o.dhchap_ctrl_secret, SECRET64);
        connect_options_done(&o);
        assert_true(cap.n_lines >= 5);
        /* not even a secret typed as the value of a non-secret option */
        assert_null(strcasestr(cap.text, "DHHC"));
        assert_has(&cap, LOG_WARNING, "t.conf:7: invalid value '(secret)' for [Global] kato=");
        assert_has(&cap, LOG_WARNING, "t.conf:3: controller= field 4 has an unknown key");
        log_capture_stop(&cap);
        stas_conf_free(c);
}

/* A DH-HMAC-CHAP secret pasted in the wrong place is never echoed, in any message, any case. */
static void test_conf_pasted_secret_redacted(void **state) {
        static const struct {
                const StasConfSchema *d;
                const char *text, *needle;
        } cases[] = {
                { &stafd_conf_schema,
                  "[Controllers]\n" SECRET48 "\n",
                  "t.conf:2: invalid option '(secret)' in [Controllers]" },
                { &stafd_conf_schema,
                  "[Controllers]\ndhhc-1:00:c2VjcmV0c2VjcmV0=:\n",
                  "invalid option '(secret)'" },
                { &stacd_conf_schema,
                  "[Global]\n" SECRET64 " = x\n",
                  "t.conf:2: invalid option '(secret)' in [Global]" },
                { &stafd_conf_schema, "[" SECRET48 "]\n", "t.conf:1: invalid section [(secret)]" },
                { &stafd_conf_schema,
                  "[Global]\nkato = " SECRET48 "\n",
                  "invalid value '(secret)' for [Global] kato=" },
                { &stafd_conf_schema,
                  "[Discovery controller connection management]\n"
                  "zeroconf-connections-persistence = " SECRET48 "\n",
                  "invalid value '(secret)'" },
                { &stafd_conf_schema,
                  "[Controllers]\ncontroller = " SECRET48 "\n",
                  "controller= field 1 has an unknown key" },
                { &stafd_conf_schema,
                  "[Controllers]\ncontroller = DHHC-1:00:c2VjcmV0c2VjcmV0:\n",
                  "controller= field 1 has no '='" },
                { &stafd_conf_schema,
                  "[Controllers]\ncontroller = transport=" SECRET48 "\n",
                  "unknown transport '(secret)'" },
                { &stafd_conf_schema,
                  "[Controllers]\ncontroller = transport=tcp;traddr=a;queue-size=" SECRET48 "\n",
                  "invalid value '(secret)' for controller= override queue-size" },
                { &stafd_conf_schema,
                  "[Controllers]\ncontroller = transport=tcp;traddr=a;dhchap-secret-file=" SECRET48 "\n",
                  "cannot read a secret from '(secret)'" },
                { &stafd_conf_schema,
                  "[Controllers]\nexclude = traddr=a;" SECRET48 "\n",
                  "has an unknown key" },
                { &stacd_conf_schema,
                  "[I/O controller connection management]\ndisconnect-trtypes = tcp+" SECRET48 "\n",
                  "ignoring invalid transport type '(secret)'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                LogCapture cap;
                StasConf *c = load_captured(cases[i].d, cases[i].text, &cap);

                assert_has(&cap, -1, cases[i].needle);
                if (strcasestr(cap.text, "dhhc") || strstr(cap.text, "c2VjcmV0"))
                        fail_msg("case %zu: a secret was logged:\n%s", i, cap.text);
                log_capture_stop(&cap);
                stas_conf_free(c);
        }
}

static void test_conf_connect_options_merge(void **state) {
        _cleanup_(stas_conf_freep) StasConf *c = load(
                &stacd_conf_schema,
                "[Global]\nkato=100\nqueue-size=64\nhdr-digest=true\nnr-io-queues=4\n"
                "[Controllers]\n"
                "controller=transport=tcp;traddr=1.1.1.1;nqn=nqn.n;kato=5;queue-size=3;dhchap-secret=" SECRET48
                ";ctrl-loss-tmo=60\n");
        _cleanup_(kv_freep) StasKV *foreign = kv_new();
        StasConnectOptions o;
        LogCapture cap;

        assert_int_equal(stas_conf_connect_options(c, NULL, &o), 0);
        assert_int_equal(o.kato, 100);
        assert_null(o.dhchap_secret);
        connect_options_done(&o);

        assert_int_equal(stas_conf_connect_options(c, c->controllers[0], &o), 0);
        assert_int_equal(o.kato, 5);
        assert_int_equal(o.queue_size, 64); /* the invalid override fell back to [Global] */
        assert_int_equal(o.hdr_digest, 1);
        assert_int_equal(o.nr_io_queues, 4);
        assert_true(o.ctrl_loss_tmo_set);
        assert_int_equal(o.ctrl_loss_tmo, 60);
        assert_string_equal(o.dhchap_secret, SECRET48);
        assert_null(o.dhchap_ctrl_secret);
        connect_options_done(&o);
        assert_false(c->global.ctrl_loss_tmo_set); /* global untouched */

        /* an entry from elsewhere with a raw invalid value */
        kv_set(foreign, "queue-size", "5");
        kv_set(foreign, "kato", "7");
        log_capture_start(&cap);
        assert_int_equal(stas_conf_connect_options(c, foreign, &o), 0);
        assert_int_equal(o.queue_size, 64);
        assert_int_equal(o.kato, 7);
        assert_has(&cap, LOG_WARNING, "invalid value '5' for controller= override queue-size");
        log_capture_stop(&cap);
        connect_options_done(&o);
}

/* upstream test-config.py, StasProcessConfUnitTest, as vectors */
static void test_conf_upstream_process_conf(void **state) {
        StasConf *c;
        StasKV *e;

        c = load(
                &stacd_conf_schema,
                "[Global]\ntron=true\nkato=200\nip-family=ipv6\n\n"
                "[I/O controller connection management]\ndisconnect-scope = joe\ndisconnect-trtypes = bob\n"
                "connect-attempts-on-ncc = 1\n\n"
                "[Controllers]\n"
                "controller=transport=tcp;traddr=100.100.100.100;host-iface=enp0s8;nqn=nqn.a\n"
                "controller=transport=tcp;traddr=100.100.100.200;host-iface=enp0s7;dhchap-ctrl-secret=super-secret;"
                "hdr-digest=true;data-digest=true;nr-io-queues=8;nr-write-queues=6;nr-poll-queues=4;queue-size=400;"
                "kato=71;reconnect-delay=13;ctrl-loss-tmo=666;disable-sqflow=true;nqn=nqn.b\n"
                "exclude=transport=tcp;traddr=10.10.10.10\n");
        assert_true(c->tron);
        assert_false(c->hdr_digest);
        assert_false(c->data_digest);
        assert_int_equal(c->disconnect_scope, STAS_DISCONNECT_ONLY_STAS);
        assert_string_equal(c->disconnect_trtypes[0], "tcp");
        assert_false(c->ignore_iface);
        assert_int_equal(c->ip_family, STAS_IPFAM_V6);
        assert_int_equal(c->global.kato, 200);
        assert_int_equal(c->connect_attempts_on_ncc, 2);
        assert_int_equal(c->n_controllers, 2);
        e = c->controllers[1];
        assert_string_equal(kv_get(e, "dhchap-ctrl-secret"), "super-secret");
        assert_string_equal(kv_get(e, "hdr-digest"), "true");
        assert_string_equal(kv_get(e, "data-digest"), "true");
        assert_string_equal(kv_get(e, "nr-io-queues"), "8");
        assert_string_equal(kv_get(e, "nr-write-queues"), "6");
        assert_string_equal(kv_get(e, "nr-poll-queues"), "4");
        assert_string_equal(kv_get(e, "queue-size"), "400");
        assert_string_equal(kv_get(e, "kato"), "71");
        assert_string_equal(kv_get(e, "reconnect-delay"), "13");
        assert_string_equal(kv_get(e, "ctrl-loss-tmo"), "666");
        assert_string_equal(kv_get(e, "disable-sqflow"), "true");
        assert_int_equal(c->n_excludes, 1);
        assert_int_equal(c->excludes[0]->n, 2);
        assert_string_equal(kv_get(c->excludes[0], "traddr"), "10.10.10.10");
        stas_conf_free(c);

        c = load(
                &stacd_conf_schema,
                "[I/O controller connection management]\ndisconnect-trtypes = tcp+rdma+fc\nconnect-attempts-on-ncc = hello\n");
        assert_int_equal(c->connect_attempts_on_ncc, 0);
        assert_int_equal(strv_length(c->disconnect_trtypes), 3);
        stas_conf_free(c);

        /* TestSvcConfEdgeCases: queue-size=5 falls back to unset; bad section/option logged at error */
        c = load(&stacd_conf_schema, "[Global]\nqueue-size=5\n");
        assert_int_equal(c->global.queue_size, STAS_OPT_UNSET);
        stas_conf_free(c);

        /* TestParseController */
        assert_int_equal(stas_conf_parse_entry(&stafd_conf_schema, true, "", NULL, 1, &e), -EINVAL);
        assert_int_equal(
                stas_conf_parse_entry(&stafd_conf_schema, true, "noequalsign", NULL, 1, &e), -EINVAL);
        e = entry(&stafd_conf_schema, true, "transport=tcp;noequalsign;traddr=10.10.10.10");
        assert_int_equal(e->n, 2);
        kv_free(e);
        /* deviation: "key=val=extra" splits on the first '=' (then 'key' is unknown) */
        e = entry(&stafd_conf_schema, false, "transport=tcp;traddr=1.1.1.1;dhchap-secret=val=extra");
        assert_string_equal(kv_get(e, "dhchap-secret"), "val=extra");
        kv_free(e);
}

static void test_conf_load_from_path(void **state) {
        char dir[] = "/tmp/stas-options-XXXXXX", path[128], cmd[160];
        StasConf *c = NULL;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/stafd.conf", dir);
        assert_int_equal(stas_conf_load(&stafd_conf_schema, path, &c), 0); /* missing: defaults */
        assert_string_equal(c->name, path);
        assert_int_equal(c->global.kato, 30);
        stas_conf_free(c);
        write_file(path, "[Global]\nkato=44\n");
        assert_int_equal(stas_conf_load(&stafd_conf_schema, path, &c), 0);
        assert_int_equal(c->global.kato, 44);
        stas_conf_free(c);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_conf_defaults_stafd),
                cmocka_unit_test(test_conf_defaults_stacd),
                cmocka_unit_test(test_conf_valid_values_stafd),
                cmocka_unit_test(test_conf_valid_values_stacd),
                cmocka_unit_test(test_conf_invalid_values_use_default),
                cmocka_unit_test(test_conf_range_limits_accepted),
                cmocka_unit_test(test_conf_ip_family_values),
                cmocka_unit_test(test_conf_zeroconf_persistence),
                cmocka_unit_test(test_conf_disconnect_trtypes),
                cmocka_unit_test(test_conf_connect_attempts_on_ncc),
                cmocka_unit_test(test_conf_bare_key_and_multiline_use_default),
                cmocka_unit_test(test_conf_invalid_sections_and_options),
                cmocka_unit_test(test_conf_syntax_error_fails_load),
                cmocka_unit_test(test_conf_messages_capped),
                cmocka_unit_test(test_conf_numbers_clamped_to_max),
                cmocka_unit_test(test_conf_persistence_clamped_to_max),
                cmocka_unit_test(test_conf_stafd_warns_unsent_dc_keys),
                cmocka_unit_test(test_conf_override_clamped_to_max),
                cmocka_unit_test(test_conf_pasted_secret_redacted),
                cmocka_unit_test(test_conf_entry_split_on_first_equals),
                cmocka_unit_test(test_conf_entry_normalisation),
                cmocka_unit_test(test_conf_entry_fc_and_loop),
                cmocka_unit_test(test_conf_entry_invalid),
                cmocka_unit_test(test_conf_entry_bad_fields_warned),
                cmocka_unit_test(test_conf_entry_overrides_validated),
                cmocka_unit_test(test_conf_exclude_entries),
                cmocka_unit_test(test_conf_controllers_from_file),
                cmocka_unit_test(test_conf_secret_files),
                cmocka_unit_test(test_conf_secrets_never_logged),
                cmocka_unit_test(test_conf_connect_options_merge),
                cmocka_unit_test(test_conf_upstream_process_conf),
                cmocka_unit_test(test_conf_entry_injection_refused),
                cmocka_unit_test(test_conf_load_from_path),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
