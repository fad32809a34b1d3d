/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "test-helpers.h"
#include "private-bus.h"
#include "stas/bus-debug.h"
#include "stas/bus-util.h"
#include "stas/log.h"
#include "stas/strv.h"
#include "stas/wire.h"

/* the daemons' names (wire.h); the introspection test checks them against the dbus XML files */
#define STAF_PATH STAF_BUS_PATH
#define STAF_DEBUG STAF_BUS_DEBUG_IFACE
#define STAC_PATH STAC_BUS_PATH
#define STAC_DEBUG STAC_BUS_DEBUG_IFACE
#define SERVER STAF_BUS_NAME

typedef struct Fixture {
        PrivateBus pb;
        sd_event *event;
        sd_bus *server, *client;
        BusDebug *debug, *debug2;
        StasTid *last_tid;
        LogCapture logs; /* the lines are not looked at */
        unsigned tron_changes;
        bool last_tron;
} Fixture;

static int fake_process_info(void *userdata, char **ret) {
        *ret = strdup("{\"tron\": false, \"hostkey\": \"(set)\"}");
        return *ret ? 0 : -ENOMEM;
}

static int fake_controller_info(void *userdata, const StasTid *tid, char **ret) {
        Fixture *f = userdata;

        tid_free(f->last_tid);
        f->last_tid = tid_copy(tid);
        if (streq(tid->traddr, "192.168.1.1"))
                *ret = strdup("{\"connect attempts\": \"1\"}");
        else
                *ret = NULL;
        return 0;
}

static void fake_tron_changed(void *userdata, bool tron) {
        Fixture *f = userdata;

        f->tron_changes++;
        f->last_tron = tron;
}

static const BusDebugOps staf_ops = {
        .interface = STAF_DEBUG,
        .process_info = fake_process_info,
        .controller_info = fake_controller_info,
        .tron_changed = fake_tron_changed,
};

static const BusDebugOps stac_ops = {
        .interface = STAC_DEBUG,
        .process_info = fake_process_info,
        .controller_info = fake_controller_info,
};

static int teardown(void **state);

/* Setup must not leave a dbus-daemon behind when it fails: check without asserting. */
static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));

        assert_non_null(f);
        *state = f;
        log_capture_start_at(&f->logs, LOG_INFO);
        if (private_bus_start(&f->pb) < 0 || sd_event_new(&f->event) < 0)
                goto fail;

        /* bus_open() connects to the "system" bus: it must follow $DBUS_SYSTEM_BUS_ADDRESS */
        if (setenv("DBUS_SYSTEM_BUS_ADDRESS", f->pb.address, 1) < 0 ||
            bus_open(f->event, "test-server", false, &f->server) < 0 ||
            bus_debug_new(f->server, STAF_PATH, &staf_ops, f, &f->debug) < 0 ||
            bus_debug_new(f->server, STAC_PATH, &stac_ops, f, &f->debug2) < 0 ||
            bus_request_name(f->server, SERVER) < 0 ||
            bus_open(f->event, "test-client", false, &f->client) < 0)
                goto fail;
        return 0;
fail:
        teardown(state);
        return -1;
}

static int teardown(void **state) {
        Fixture *f = *state;

        bus_debug_free(f->debug);
        bus_debug_free(f->debug2);
        sd_bus_flush_close_unref(f->client);
        sd_bus_flush_close_unref(f->server);
        sd_event_unref(f->event);
        tid_free(f->last_tid);
        private_bus_stop(&f->pb);
        unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
        log_capture_stop(&f->logs);
        free(f);
        return 0;
}

typedef struct Pending {
        bool done;
        sd_bus_message *reply;
} Pending;

static int reply_cb(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pending *p = userdata;

        p->reply = sd_bus_message_ref(m);
        p->done = true;
        return 0;
}

/* Send @m from the client and run the shared loop until its reply arrives (server and client
 * live on one loop, so a blocking call would deadlock). */
static sd_bus_message *call(Fixture *f, sd_bus_message *m) {
        Pending p = {};

        assert_true(sd_bus_call_async(f->client, NULL, m, reply_cb, &p, 0) >= 0);
        sd_bus_message_unref(m);
        while (!p.done)
                assert_true(sd_event_run(f->event, UINT64_MAX) >= 0);
        return p.reply;
}

static sd_bus_message *new_call(Fixture *f, const char *path, const char *iface, const char *member) {
        sd_bus_message *m = NULL;

        assert_int_equal(sd_bus_message_new_method_call(f->client, &m, SERVER, path, iface, member), 0);
        return m;
}

static sd_bus_message *call_controller_info(Fixture *f, const char *const v[7]) {
        sd_bus_message *m = new_call(f, STAF_PATH, STAF_DEBUG, "controller_info");

        assert_true(sd_bus_message_append(m, "sssssss", v[0], v[1], v[2], v[3], v[4], v[5], v[6]) >= 0);
        return call(f, m);
}

static void test_bus_debug_process_info(void **state) {
        Fixture *f = *state;
        sd_bus_message *r = call(f, new_call(f, STAF_PATH, STAF_DEBUG, "process_info"));
        const char *s;

        assert_false(sd_bus_message_is_method_error(r, NULL));
        assert_int_equal(sd_bus_message_read(r, "s", &s), 1);
        assert_string_equal(s, "{\"tron\": false, \"hostkey\": \"(set)\"}");
        sd_bus_message_unref(r);
}

static void test_bus_debug_controller_info_known_and_unknown(void **state) {
        Fixture *f = *state;
        const char *known[7] = { "tcp", "192.168.1.1", "8009", "nqn.dc", "", "eth0", "nqn.host" };
        const char *unknown[7] = { "rdma", "10.0.0.1", "4420", "nqn.dc", "", "", "nqn.host" };
        sd_bus_message *r;
        const char *s;

        r = call_controller_info(f, known);
        assert_int_equal(sd_bus_message_read(r, "s", &s), 1);
        assert_string_equal(s, "{\"connect attempts\": \"1\"}");
        sd_bus_message_unref(r);
        /* the seven arguments arrive in order */
        assert_string_equal(f->last_tid->transport, "tcp");
        assert_string_equal(f->last_tid->traddr, "192.168.1.1");
        assert_string_equal(f->last_tid->trsvcid, "8009");
        assert_string_equal(f->last_tid->subsysnqn, "nqn.dc");
        assert_string_equal(f->last_tid->host_traddr, "");
        assert_string_equal(f->last_tid->host_iface, "eth0");
        assert_string_equal(f->last_tid->host_nqn, "nqn.host");

        r = call_controller_info(f, unknown);
        assert_int_equal(sd_bus_message_read(r, "s", &s), 1);
        assert_string_equal(s, "{}");
        sd_bus_message_unref(r);
}

static void test_bus_debug_controller_info_invalid_args(void **state) {
        Fixture *f = *state;
        char longstr[600];
        const char *bad_transport[7] = { "udp", "1.1.1.1", "8009", "", "", "", "" };
        const char *empty_transport[7] = { "", "1.1.1.1", "8009", "", "", "", "" };
        const char *ctrl_char[7] = { "tcp", "1.1.1.1\n", "8009", "", "", "", "" };
        const char *too_long[7] = { "tcp", "1.1.1.1", "8009", longstr, "", "", "" };
        const char *const *cases[] = { bad_transport, empty_transport, ctrl_char, too_long };

        memset(longstr, 'a', sizeof(longstr) - 1);
        longstr[sizeof(longstr) - 1] = 0;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                sd_bus_message *r;

                tid_free(f->last_tid);
                f->last_tid = NULL;
                r = call_controller_info(f, cases[i]);
                assert_true(sd_bus_message_is_method_error(r, SD_BUS_ERROR_INVALID_ARGS));
                /* the daemon callback never saw the bad input */
                assert_null(f->last_tid);
                sd_bus_message_unref(r);
        }

        /* wrong signature: sd-bus itself rejects it, and the server survives */
        {
                sd_bus_message *m = new_call(f, STAF_PATH, STAF_DEBUG, "controller_info"), *r;

                assert_true(sd_bus_message_append(m, "s", "tcp") >= 0);
                r = call(f, m);
                assert_true(sd_bus_message_is_method_error(r, NULL));
                sd_bus_message_unref(r);
        }
        test_bus_debug_process_info(state);
}

/* stafd's lenient mode: well-typed hostile strings answer "{}", wrong arity is still an error */
static void test_bus_debug_controller_info_lenient(void **state) {
        static const BusDebugOps lenient_ops = {
                .interface = STAF_DEBUG,
                .process_info = fake_process_info,
                .controller_info = fake_controller_info,
                .lenient_tid = true,
        };
        Fixture *f = *state;
        _cleanup_(bus_debug_freep) BusDebug *d = NULL;
        const char *bad_transport[7] = { "udp", "1.1.1.1", "8009", "", "", "", "" };
        const char *ctrl_char[7] = { "tcp", "1.1.1.1\n", "8009", "", "", "", "" };
        const char *known[7] = { "tcp", "192.168.1.1", "8009", "", "", "", "" };
        const char *const *cases[] = { bad_transport, ctrl_char };
        sd_bus_message *m, *r;
        const char *json;

        assert_int_equal(bus_debug_new(f->server, "/lenient", &lenient_ops, f, &d), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *const *v = cases[i];

                tid_free(f->last_tid);
                f->last_tid = NULL;
                m = new_call(f, "/lenient", STAF_DEBUG, "controller_info");
                assert_true(
                        sd_bus_message_append(m, "sssssss", v[0], v[1], v[2], v[3], v[4], v[5], v[6]) >= 0);
                r = call(f, m);
                assert_false(sd_bus_message_is_method_error(r, NULL));
                assert_int_equal(sd_bus_message_read(r, "s", &json), 1);
                assert_string_equal(json, "{}");
                assert_null(f->last_tid);
                sd_bus_message_unref(r);
        }
        m = new_call(f, "/lenient", STAF_DEBUG, "controller_info");
        assert_true(
                sd_bus_message_append(
                        m,
                        "sssssss",
                        known[0],
                        known[1],
                        known[2],
                        known[3],
                        known[4],
                        known[5],
                        known[6]) >= 0);
        r = call(f, m);
        assert_int_equal(sd_bus_message_read(r, "s", &json), 1);
        assert_string_equal(json, "{\"connect attempts\": \"1\"}");
        sd_bus_message_unref(r);

        m = new_call(f, "/lenient", STAF_DEBUG, "controller_info");
        assert_true(sd_bus_message_append(m, "sss", "tcp", "1.1.1.1", "8009") >= 0);
        r = call(f, m);
        assert_true(sd_bus_message_is_method_error(r, NULL));
        sd_bus_message_unref(r);
}

static sd_bus_message *get_property(Fixture *f, const char *iface, const char *name) {
        sd_bus_message *m = new_call(f, STAF_PATH, "org.freedesktop.DBus.Properties", "Get");

        assert_true(sd_bus_message_append(m, "ss", iface, name) >= 0);
        return call(f, m);
}

static bool get_tron(Fixture *f) {
        sd_bus_message *r = get_property(f, STAF_DEBUG, "tron");
        int b = -1;

        assert_int_equal(sd_bus_message_read(r, "v", "b", &b), 1);
        sd_bus_message_unref(r);
        return b;
}

static char *get_log_level(Fixture *f) {
        sd_bus_message *r = get_property(f, STAF_DEBUG, "log_level");
        const char *s;
        char *d;

        assert_int_equal(sd_bus_message_read(r, "v", "s", &s), 1);
        d = strdup(s);
        sd_bus_message_unref(r);
        return d;
}

static void set_tron(Fixture *f, bool v) {
        sd_bus_message *m = new_call(f, STAF_PATH, "org.freedesktop.DBus.Properties", "Set"), *r;

        assert_true(sd_bus_message_append(m, "ssv", STAF_DEBUG, "tron", "b", (int) v) >= 0);
        r = call(f, m);
        assert_false(sd_bus_message_is_method_error(r, NULL));
        sd_bus_message_unref(r);
}

static void test_bus_debug_tron_and_log_level(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *l1 = NULL, *l2 = NULL, *l3 = NULL;

        assert_false(get_tron(f));
        l1 = get_log_level(f);
        assert_string_equal(l1, "INFO");

        set_tron(f, true);
        assert_int_equal(log_get_max_level(), LOG_DEBUG);
        assert_true(get_tron(f));
        l2 = get_log_level(f);
        assert_string_equal(l2, "DEBUG");
        assert_int_equal(f->tron_changes, 1);
        assert_true(f->last_tron);

        set_tron(f, true); /* no change, no callback */
        assert_int_equal(f->tron_changes, 1);

        set_tron(f, false);
        assert_int_equal(log_get_max_level(), LOG_INFO);
        assert_false(get_tron(f));
        l3 = get_log_level(f);
        assert_string_equal(l3, "INFO");
        assert_int_equal(f->tron_changes, 2);
        assert_false(f->last_tron);
}

static void test_bus_debug_log_level_read_only(void **state) {
        Fixture *f = *state;
        sd_bus_message *m = new_call(f, STAF_PATH, "org.freedesktop.DBus.Properties", "Set"), *r;

        assert_true(sd_bus_message_append(m, "ssv", STAF_DEBUG, "log_level", "s", "DEBUG") >= 0);
        r = call(f, m);
        assert_true(sd_bus_message_is_method_error(r, SD_BUS_ERROR_PROPERTY_READ_ONLY));
        sd_bus_message_unref(r);
        assert_int_equal(log_get_max_level(), LOG_INFO);
}

/* A non-root client may read but not set tron (only meaningful when the test runs as root). */
static void test_bus_debug_tron_write_is_privileged(void **state) {
        Fixture *f = *state;
        struct passwd *pw;
        pid_t pid;
        int status = -1;

        if (geteuid() != 0) {
                /* Without root we cannot become another user; the introspection test still checks
                 * the privileged annotation. */
                return;
        }
        pw = getpwnam("nobody");
        assert_non_null(pw);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                sd_bus *bus = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;
                char *s = NULL;
                int r;

                if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
                    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                        _exit(10);
                if (sd_bus_open_system(&bus) < 0)
                        _exit(11);
                r = sd_bus_get_property_string(bus, SERVER, STAF_PATH, STAF_DEBUG, "log_level", &e, &s);
                if (r < 0)
                        _exit(12);
                free(s);
                sd_bus_error_free(&e);
                r = sd_bus_call_method(bus, SERVER, STAF_PATH, STAF_DEBUG, "process_info", &e, NULL, "");
                if (r < 0)
                        _exit(13);
                sd_bus_error_free(&e);
                r = sd_bus_set_property(bus, SERVER, STAF_PATH, STAF_DEBUG, "tron", &e, "b", 1);
                if (r >= 0 || !sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED))
                        _exit(14);
                _exit(0);
        }
        /* serve the child's calls until it exits */
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);

                assert_true(w >= 0);
                if (w == pid)
                        break;
                assert_true(sd_event_run(f->event, 50 * 1000) >= 0);
        }
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(log_get_max_level(), LOG_INFO);
}

/*
 * A tolerant reader for introspection XML: returns one normalised line per element of
 * interface @iface ("method X", "arg X name type dir", "signal X", "property X type access",
 * "annotation X name value"), skipping comments, the DOCTYPE and everything else.
 */
static char *attr(const char *tag, const char *name) {
        size_t n = strlen(name);

        for (const char *p = tag; (p = strstr(p, name)); p += n) {
                const char *q = p + n;
                char quote;
                const char *end;

                if (p > tag && !isspace((unsigned char) p[-1]))
                        continue;
                while (isspace((unsigned char) *q))
                        q++;
                if (*q++ != '=')
                        continue;
                while (isspace((unsigned char) *q))
                        q++;
                quote = *q++;
                if (quote != '"' && quote != '\'')
                        continue;
                end = strchr(q, quote);
                if (!end)
                        return NULL;
                return strndup(q, (size_t) (end - q));
        }
        return NULL;
}

static char **xml_interface(const char *xml, const char *iface) {
        char **out = NULL, member[128] = "", kind[16] = "";
        bool inside = false;
        const char *p = xml;

        assert_true(strv_extend(&out, "BEGIN") == 0);
        while ((p = strchr(p, '<'))) {
                const char *end;
                _cleanup_free_ char *tag = NULL, *name = NULL;
                char buf[512];
                bool closing, selfclose;

                if (strneq(p, "<!--", 4)) {
                        end = strstr(p, "-->");
                        assert_non_null(end);
                        p = end + 3;
                        continue;
                }
                end = strchr(p, '>');
                assert_non_null(end);
                if (p[1] == '!' || p[1] == '?') {
                        p = end + 1;
                        continue;
                }
                tag = strndup(p + 1, (size_t) (end - p - 1));
                p = end + 1;
                closing = tag[0] == '/';
                selfclose = tag[strlen(tag) - 1] == '/';
                if (closing) {
                        if (strneq(tag, "/interface", 10))
                                inside = false;
                        else if (
                                strneq(tag, "/method", 7) || strneq(tag, "/signal", 7) ||
                                strneq(tag, "/property", 9))
                                member[0] = 0;
                        continue;
                }
                name = attr(tag, "name");
                if (strneq(tag, "interface", 9) && isspace((unsigned char) tag[9])) {
                        inside = name && streq(name, iface);
                        continue;
                }
                if (!inside)
                        continue;
                buf[0] = 0;
                if (strneq(tag, "method", 6) || strneq(tag, "signal", 6)) {
                        snprintf(kind, sizeof(kind), "%.6s", tag);
                        snprintf(member, sizeof(member), "%s", strempty(name));
                        snprintf(buf, sizeof(buf), "%s %s", kind, member);
                        if (selfclose)
                                member[0] = 0;
                } else if (strneq(tag, "property", 8)) {
                        _cleanup_free_ char *type = attr(tag, "type"), *access = attr(tag, "access");

                        snprintf(member, sizeof(member), "%s", strempty(name));
                        snprintf(
                                buf,
                                sizeof(buf),
                                "property %s %s %s",
                                member,
                                strempty(type),
                                strempty(access));
                        if (selfclose)
                                member[0] = 0;
                } else if (strneq(tag, "arg", 3)) {
                        _cleanup_free_ char *type = attr(tag, "type"), *dir = attr(tag, "direction");

                        snprintf(
                                buf,
                                sizeof(buf),
                                "arg %s %s %s %s",
                                member,
                                strempty(name),
                                strempty(type),
                                dir                             ? dir
                                        : streq(kind, "method") ? "in"
                                                                : "-");
                } else if (strneq(tag, "annotation", 10)) {
                        _cleanup_free_ char *value = attr(tag, "value");

                        snprintf(
                                buf,
                                sizeof(buf),
                                "annotation %s %s %s",
                                member,
                                strempty(name),
                                strempty(value));
                }
                if (buf[0])
                        assert_true(strv_extend(&out, buf) == 0);
        }
        return out;
}

static char **without_annotations(char **l) {
        char **out = NULL;

        STRV_FOREACH(s, l)
                if (!strneq(*s, "annotation ", 11))
                        assert_true(strv_extend(&out, *s) == 0);
        return out;
}

static char *read_file(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n > 0);
        rewind(f);
        buf = calloc(1, (size_t) n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
        fclose(f);
        return buf;
}

static void check_introspection(Fixture *f, const char *path, const char *iface, const char *file) {
        sd_bus_message *m = new_call(f, path, "org.freedesktop.DBus.Introspectable", "Introspect"), *r;
        _cleanup_strv_free_ char **served = NULL, **served_plain = NULL, **documented = NULL,
                                 **documented_plain = NULL;
        _cleanup_free_ char *doc = NULL, *fn = NULL, *a = NULL, *b = NULL;
        const char *xml, *data;

        r = call(f, m);
        assert_int_equal(sd_bus_message_read(r, "s", &xml), 1);
        served = xml_interface(xml, iface);
        sd_bus_message_unref(r);

        /* $STAS_TEST_DATA is <source>/tests/unit/data (which need not exist) */
        data = getenv("STAS_TEST_DATA");
        assert_non_null(data);
        assert_non_null(strstr(data, "/tests/unit/data"));
        assert_true(
                asprintf(&fn, "%.*s/dbus/%s", (int) (strstr(data, "/tests/unit/data") - data), data, file) >
                0);
        doc = read_file(fn);
        documented = xml_interface(doc, iface);

        served_plain = without_annotations(served);
        documented_plain = without_annotations(documented);
        a = strv_join(served_plain, "\n");
        b = strv_join(documented_plain, "\n");
        assert_true(strv_length(served_plain) > 10);
        assert_string_equal(a, b);

        /* the file has no annotations; sd-bus adds only the privileged marker on tron's setter and
         * no EmitsChangedSignal (so the default, true, applies as in nvme-stas's introspection) */
        assert_int_equal(strv_length(documented), strv_length(documented_plain));
        assert_true(strv_contains(served, "annotation tron org.freedesktop.systemd1.Privileged true"));
        STRV_FOREACH(s, served) {
                if (strneq(*s, "annotation ", 11))
                        assert_string_equal(*s, "annotation tron org.freedesktop.systemd1.Privileged true");
        }
}

static void test_bus_debug_introspection_matches_xml(void **state) {
        Fixture *f = *state;

        check_introspection(f, STAF_PATH, STAF_DEBUG, "org.nvmexpress.staf.xml");
        check_introspection(f, STAC_PATH, STAC_DEBUG, "org.nvmexpress.stac.xml");
}

static void test_bus_debug_request_name_taken(void **state) {
        Fixture *f = *state;

        /* a second daemon instance must not steal the name */
        assert_int_equal(bus_request_name(f->client, SERVER), -EEXIST);
}

/* the process_info both daemons answer: the common keys in their order, the host key never shown */
static void test_bus_debug_info_builder(void **state) {
        const BusDebugInfo info = {
                .hostnqn = "nqn.host",
                .hostid = "id",
                .hostkey = "DHHC-1:00:c2VjcmV0:",
                .symname = NULL,
                .lkc_path = "/run/stafd/last-known-config.json",
                .lkc_error = "",
                .soak_timer = "2.0s",
                .tp8013 = true,
                .host_iface = false,
        };
        _cleanup_(tid_freep) StasTid *t = tid_new("tcp", "10.0.0.1", "8009", "nqn.x", "", "", "nqn.host");
        json_object *o;
        char *text = NULL;

        log_set_max_level(LOG_INFO);
        o = bus_debug_info_new(&info);
        assert_non_null(o);
        assert_non_null(t);
        assert_int_equal(bus_debug_info_add(o, "stafd", "present"), 0);
        assert_int_equal(bus_debug_info_add(o, "empty", NULL), 0);
        assert_int_equal(bus_debug_info_add_disposing(o, t, "disposing"), 0);
        assert_int_equal(bus_debug_info_add_disposing(o, NULL, "disposing"), 0);
        assert_int_equal(bus_debug_info_to_string(o, &text), 0);
        assert_string_equal(
                text,
                "{\"tron\":false,\"log-level\":\"INFO\",\"hostnqn\":\"nqn.host\",\"hostid\":\"id\","
                "\"hostkey\":\"(set)\",\"symname\":\"\","
                "\"last known config file\":\"/run/stafd/last-known-config.json\","
                "\"last known config error\":\"\",\"config soak timer\":\"2.0s\","
                "\"kernel support.TP8013\":\"True\",\"kernel support.host_iface\":\"False\","
                "\"stafd\":\"present\",\"empty\":\"\","
                "\"terminator.controller.(tcp, 10.0.0.1, 8009, nqn.x)\":\"disposing\","
                "\"terminator.controller.(?)\":\"disposing\"}");
        free(text);
        json_object_put(o);

        log_set_max_level(LOG_DEBUG);
        o = bus_debug_info_new(&(BusDebugInfo){});
        assert_int_equal(bus_debug_info_to_string(o, &text), 0);
        assert_non_null(strstr(text, "{\"tron\":true,\"log-level\":\"DEBUG\",\"hostnqn\":\"\","));
        assert_non_null(strstr(text, "\"hostkey\":\"\","));
        free(text);
        json_object_put(o);
        log_set_max_level(LOG_INFO);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bus_debug_info_builder),
                cmocka_unit_test_setup_teardown(test_bus_debug_process_info, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_bus_debug_controller_info_known_and_unknown, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_bus_debug_controller_info_invalid_args, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bus_debug_controller_info_lenient, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bus_debug_tron_and_log_level, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bus_debug_log_level_read_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bus_debug_tron_write_is_privileged, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bus_debug_introspection_matches_xml, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bus_debug_request_name_taken, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
