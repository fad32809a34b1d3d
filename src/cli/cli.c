/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "config.h"
#include "stas/bus-util.h"
#include "cli.h"
#include "stas/json-util.h"
#include "stas/log-pages.h"
#include "stas/kvv.h"
#include "stas/log.h"
#include "stas/sysconf.h"
#include "stas/tid.h"

static bool arg_json;

/* ---- output ---- */

void cli_print_table(FILE *f, StasKV *const *rows, size_t n_rows, const CliColumn *cols, size_t n_cols) {
        size_t width[32] = {};

        if (n_rows == 0) {
                fputs("(none)\n", f);
                return;
        }
        n_cols = n_cols > ELEMENTSOF(width) ? ELEMENTSOF(width) : n_cols;
        for (size_t c = 0; c < n_cols; c++) {
                width[c] = strlen(cols[c].header);
                for (size_t r = 0; r < n_rows; r++) {
                        const char *v = kv_get(rows[r], cols[c].key);
                        size_t l = isempty(v) ? 1 : strlen(v);
                        if (l > width[c])
                                width[c] = l;
                }
        }
        for (size_t c = 0; c < n_cols; c++)
                fprintf(f,
                        "%-*s%s",
                        c + 1 < n_cols ? (int) width[c] : 0,
                        cols[c].header,
                        c + 1 < n_cols ? "  " : "\n");
        for (size_t r = 0; r < n_rows; r++)
                for (size_t c = 0; c < n_cols; c++) {
                        const char *v = kv_get(rows[r], cols[c].key);
                        fprintf(f,
                                "%-*s%s",
                                c + 1 < n_cols ? (int) width[c] : 0,
                                isempty(v) ? "-" : v,
                                c + 1 < n_cols ? "  " : "\n");
                }
}

void cli_print_kv(FILE *f, const StasKV *kv, const char *indent) {
        size_t w = 0;

        KV_FOREACH(i, kv) {
                size_t l = strlen(kv->keys[i]);
                if (l > w)
                        w = l;
        }
        KV_FOREACH(i, kv)
                fprintf(f,
                        "%s%-*s  %s\n",
                        indent,
                        (int) w,
                        kv->keys[i],
                        isempty(kv->values[i]) ? "-" : kv->values[i]);
}

static void print_json(json_object *o) {
        puts(json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- D-Bus ---- */

/* One line on stderr that names the daemon and the cause. Return: 1 (the exit status). */
static int bus_fail(const CliService *svc, const sd_bus_error *e, int r) {
        if (e &&
            (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) ||
             sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired")))
                /* the daemon is there: say what is wrong instead of asking whether it runs */
                fprintf(stderr,
                        "%s: Permission denied by %s: %s (this needs root)\n",
                        svc->program,
                        svc->daemon,
                        strempty(e->message));
        else if (
                e &&
                (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
                 sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER)))
                fprintf(stderr,
                        "%s: %s is not running (no %s on the system bus)\n",
                        svc->program,
                        svc->daemon,
                        svc->bus_name);
        else if (e && sd_bus_error_is_set(e))
                fprintf(stderr,
                        "%s: %s failed the request: %s (%s)\n",
                        svc->program,
                        svc->daemon,
                        e->message,
                        e->name);
        else
                fprintf(stderr,
                        "%s: cannot talk to %s: %s\n",
                        svc->program,
                        svc->daemon,
                        strerror(r < 0 ? -r : EIO));
        return 1;
}

static const CliColumn ctrl_columns[] = {
        { "cli device", "DEVICE" },     { "cli state", "STATE" },     { "transport", "TRANSPORT" },
        { "traddr", "TRADDR" },         { "trsvcid", "TRSVCID" },     { "host-traddr", "HOST-TRADDR" },
        { "host-iface", "HOST-IFACE" }, { "subsysnqn", "SUBSYSNQN" },
};

static const CliColumn dlpe_columns[] = {
        { "trtype", "TRTYPE" },   { "adrfam", "ADRFAM" }, { "traddr", "TRADDR" }, { "trsvcid", "TRSVCID" },
        { "subtype", "SUBTYPE" }, { "portid", "PORTID" }, { "treq", "TREQ" },     { "subnqn", "SUBNQN" },
};

/* A method call with no argument, a TID (@t) or a boolean (@flag >= 0). Return: 0 or the exit status. */
static int call(
        sd_bus *bus,
        const CliService *svc,
        const char *iface,
        const char *method,
        const StasTid *t,
        int flag,
        sd_bus_message **reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, svc->bus_name, svc->path, iface, method);
        if (r >= 0 && t)
                r = bus_append_tid(m, t);
        if (r >= 0 && flag >= 0)
                r = sd_bus_message_append(m, "b", flag);
        if (r < 0)
                return bus_fail(svc, NULL, r);
        r = sd_bus_call(bus, m, 0, &e, reply);
        if (r < 0)
                return bus_fail(svc, &e, r);
        return 0;
}

/* A method that returns aa{ss} (list_controllers, get_log_pages). */
static int call_kvv(
        sd_bus *bus, const CliService *svc, const char *method, const StasTid *t, int flag, StasKV ***ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = call(bus, svc, svc->interface, method, t, flag, &reply);

        if (r)
                return r;
        r = bus_read_kvv(reply, ret);
        return r < 0 ? bus_fail(svc, NULL, r) : 0;
}

/* A method that returns s (process_info, controller_info, get_all_log_pages). */
static int call_string(
        sd_bus *bus,
        const CliService *svc,
        const char *iface,
        const char *method,
        const StasTid *t,
        int flag,
        char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *s;
        int r = call(bus, svc, iface, method, t, flag, &reply);

        if (r)
                return r;
        r = sd_bus_message_read(reply, "s", &s);
        if (r < 0)
                return bus_fail(svc, NULL, r);
        *ret = strdup(s);
        return *ret ? 0 : bus_fail(svc, NULL, -ENOMEM);
}

/* The typed JSON document of a command: {"version": N, @key: @value}. Takes @value. */
static void print_document(const char *key, json_object *value) {
        json_object *root = json_object_new_object();

        json_object_object_add(root, "version", json_object_new_int(CLI_JSON_VERSION));
        json_object_object_add(root, key, value);
        print_json(root);
        json_object_put(root);
}

/* The typed JSON array of the dicts @l. */
static json_object *typed_list(StasKV *const *l) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; l && l[i]; i++)
                json_object_array_add(a, cli_typed_kv(l[i]));
        return a;
}

/* The columns the tables show beside the wire's: DEVICE ("-" for none) and STATE. */
static int add_table_columns(StasKV *kv) {
        _cleanup_free_ char *state = cli_ctrl_state(kv);
        const char *dev = kv_get(kv, "device");

        if (!state || kv_set(kv, "cli state", state) < 0 ||
            kv_set(kv, "cli device", streq(strempty(dev), "nvme?") ? "" : dev) < 0)
                return -ENOMEM;
        return 0;
}

static int cmd_ls(sd_bus *bus, const CliService *svc, bool detailed) {
        _cleanup_(kvv_freep) StasKV **l = NULL;
        size_t n;
        int r;

        /* the table's STATE column needs the reason and the retry time of the detailed dicts */
        r = call_kvv(bus, svc, "list_controllers", NULL, detailed || !arg_json, &l);
        if (r)
                return r;
        n = kvv_length(l);
        if (arg_json) {
                print_document("controllers", typed_list(l));
                return 0;
        }
        if (detailed) {
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *state = cli_ctrl_state(l[i]);
                        const char *dev = kv_get(l[i], "device");
                        printf("%s%s  %s\n",
                               i ? "\n" : "",
                               streq(strempty(dev), "nvme?") || isempty(dev) ? "-" : dev,
                               strempty(state));
                        cli_print_kv(stdout, l[i], "  ");
                }
                if (n == 0)
                        puts("(none)");
                return 0;
        }
        for (size_t i = 0; i < n; i++)
                if (add_table_columns(l[i]) < 0)
                        return bus_fail(svc, NULL, -ENOMEM);
        cli_print_table(stdout, l, n, ctrl_columns, ELEMENTSOF(ctrl_columns));
        return 0;
}

static int cmd_metrics(sd_bus *bus, const CliService *svc) {
        _cleanup_free_ char *info = NULL;
        json_object *root;
        int r = call_string(bus, svc, svc->debug_interface, "process_info", NULL, -1, &info);

        if (r)
                return r;
        root = json_tokener_parse(info);
        r = cli_metrics_print(stdout, svc->daemon, json_object_object_get(root, "metrics"));
        json_object_put(root);
        if (r < 0)
                fprintf(stderr, "%s: %s sent no metrics\n", svc->program, svc->daemon);
        return r < 0 ? 1 : 0;
}

/* controller_info of @t merged into @kv (a key there already keeps the list's value). */
static void merge_controller_info(sd_bus *bus, const CliService *svc, const StasTid *t, StasKV *kv) {
        _cleanup_free_ char *ci = NULL;
        _cleanup_json_ json_object *x = NULL;

        if (call_string(bus, svc, svc->debug_interface, "controller_info", t, -1, &ci) != 0)
                return;
        x = json_tokener_parse(ci);
        if (!x || !json_object_is_type(x, json_type_object))
                return;
        json_object_object_foreach(x, k, v) {
                if (!kv_get(kv, k) && json_object_is_type(v, json_type_string))
                        (void) kv_set(kv, k, json_object_get_string(v));
        }
}

/* The status of one controller: its details, controller_info and (stafd) its log pages. */
static int status_controller(sd_bus *bus, const CliService *svc, StasKV *kv, json_object *ctrls) {
        _cleanup_(tid_freep) StasTid *t = tid_from_kv(kv);
        _cleanup_(kvv_freep) StasKV **pages = NULL;
        json_object *c;
        int r;

        if (t)
                merge_controller_info(bus, svc, t, kv);
        if (t && svc->log_pages) {
                r = call_kvv(bus, svc, "get_log_pages", t, -1, &pages);
                if (r)
                        return r;
        }
        if (arg_json) {
                c = cli_typed_kv(kv);
                if (svc->log_pages)
                        json_object_object_add(c, "log_pages", typed_list(pages));
                json_object_array_add(ctrls, c);
                return 0;
        }
        _cleanup_free_ char *state = cli_ctrl_state(kv);
        const char *dev = kv_get(kv, "device");
        printf("\n%s  %s\n", streq(strempty(dev), "nvme?") || isempty(dev) ? "-" : dev, strempty(state));
        cli_print_kv(stdout, kv, "  ");
        if (svc->log_pages) {
                puts("  log pages:");
                cli_print_table(stdout, pages, kvv_length(pages), dlpe_columns, ELEMENTSOF(dlpe_columns));
        }
        return 0;
}

/* process_info as "key: value" lines, nested objects as compact JSON. */
static void print_process_info(json_object *info) {
        json_object_object_foreach(info, key, val) {
                printf("%s: %s\n",
                       key,
                       json_object_is_type(val, json_type_string)
                               ? json_object_get_string(val)
                               : json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
        }
}

static int cmd_status(sd_bus *bus, const CliService *svc) {
        _cleanup_free_ char *info = NULL;
        _cleanup_(kvv_freep) StasKV **l = NULL;
        _cleanup_json_ json_object *raw = NULL;
        json_object *root = NULL, *ctrls = NULL;
        size_t n;
        int r;

        r = call_string(bus, svc, svc->debug_interface, "process_info", NULL, -1, &info);
        if (r)
                return r;
        r = call_kvv(bus, svc, "list_controllers", NULL, true, &l);
        if (r)
                return r;
        n = kvv_length(l);
        raw = json_tokener_parse(info);
        if (!raw || !json_object_is_type(raw, json_type_object)) {
                fprintf(stderr, "%s: %s returned a malformed process_info.\n", svc->program, svc->daemon);
                return 1;
        }
        json_object_object_del(raw, "metrics"); /* that is what the metrics command prints */
        if (arg_json) {
                root = cli_typed_process_info(raw);
                ctrls = json_object_new_array();
        } else {
                print_process_info(raw);
                printf("controllers: %zu\n", n);
        }
        for (size_t i = 0; i < n && r == 0; i++)
                r = status_controller(bus, svc, l[i], ctrls);
        if (arg_json && r == 0) {
                json_object *doc = json_object_new_object();
                json_object_object_add(doc, "version", json_object_new_int(CLI_JSON_VERSION));
                json_object_object_foreach(root, k, v) json_object_object_add(doc, k, json_object_get(v));
                json_object_object_add(doc, "controllers", json_object_get(ctrls));
                print_json(doc);
                json_object_put(doc);
        }
        json_object_put(root);
        json_object_put(ctrls);
        return r;
}

static int cmd_tron(sd_bus *bus, const CliService *svc, bool on) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *debug_iface = svc->debug_interface;
        int v = 0, r;

        r = sd_bus_set_property(bus, svc->bus_name, svc->path, debug_iface, "tron", &e, "b", on);
        if (r < 0)
                return bus_fail(svc, &e, r);
        r = sd_bus_get_property_trivial(bus, svc->bus_name, svc->path, debug_iface, "tron", &e, 'b', &v);
        if (r < 0)
                return bus_fail(svc, &e, r);
        if (arg_json)
                print_document("tron", json_object_new_boolean(v));
        else
                printf("tron = %s\n", v ? "True" : "False");
        return 0;
}

/* The host NQN the daemons use: sys.conf's, with its fallbacks (sysconf.h), as nvme-stas does. */
static char *default_hostnqn(void) {
        _cleanup_(sysconf_freep) StasSysConf *sys = NULL;

        log_set_max_level(LOG_WARNING); /* sys.conf's own complaints, not its debug lines */
        if (sysconf_load(NULL, NULL, &sys) < 0 || isempty(sys->hostnqn))
                return NULL;
        return strdup(sys->hostnqn);
}

static int cmd_dlp(sd_bus *bus, const CliService *svc, const StasTid *t) {
        _cleanup_(kvv_freep) StasKV **l = NULL;
        int r;

        r = call_kvv(bus, svc, "get_log_pages", t, -1, &l);
        if (r)
                return r;
        if (arg_json)
                print_document("log_pages", typed_list(l));
        else
                cli_print_table(stdout, l, kvv_length(l), dlpe_columns, ELEMENTSOF(dlpe_columns));
        return 0;
}

/* The get_all_log_pages table: each DC, then its entries as the codec reads them (log-pages.h). */
static void print_all_log_pages(json_object *root, bool detailed) {
        size_t n = json_object_array_length(root);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(kv_freep) StasKV *dckv = NULL;
                _cleanup_(kvv_freep) StasKV **rows = NULL;
                LogPagesRead rd = {}; /* shown as they are: no connect string is made from them */
                json_object *pages = NULL;

                (void) log_pages_element_from_json(json_object_array_get_idx(root, i), &dckv, &pages);
                printf("%sDiscovery controller %s %s %s %s\n",
                       i ? "\n" : "",
                       strempty(kv_get(dckv, "device")),
                       strempty(kv_get(dckv, "transport")),
                       strempty(kv_get(dckv, "traddr")),
                       strempty(kv_get(dckv, "trsvcid")));
                if (detailed)
                        cli_print_kv(stdout, dckv, "  ");
                if (pages)
                        (void) log_pages_from_json(pages, &rd, &rows);
                cli_print_table(stdout, rows, kvv_length(rows), dlpe_columns, ELEMENTSOF(dlpe_columns));
        }
        if (n == 0)
                puts("(none)");
}

/* get_all_log_pages typed: [{"controller": {...}, "log_pages": [...]}]. */
static json_object *typed_all_log_pages(json_object *root) {
        json_object *a = json_object_new_array();
        size_t n = json_object_array_length(root);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(kv_freep) StasKV *dckv = NULL;
                _cleanup_(kvv_freep) StasKV **rows = NULL;
                LogPagesRead rd = {};
                json_object *pages = NULL, *e = json_object_new_object();

                (void) log_pages_element_from_json(json_object_array_get_idx(root, i), &dckv, &pages);
                if (pages)
                        (void) log_pages_from_json(pages, &rd, &rows);
                json_object_object_add(e, "controller", dckv ? cli_typed_kv(dckv) : NULL);
                json_object_object_add(e, "log_pages", typed_list(rows));
                json_object_array_add(a, e);
        }
        return a;
}

static int cmd_adlp(sd_bus *bus, const CliService *svc, bool detailed) {
        _cleanup_json_ json_object *root = NULL;
        _cleanup_free_ char *s = NULL;
        int r;

        r = call_string(bus, svc, svc->interface, "get_all_log_pages", NULL, detailed, &s);
        if (r)
                return r;
        if (log_pages_parse(s, &root) < 0) {
                fprintf(stderr, "%s returned malformed log pages.\n", svc->daemon);
                return 1;
        }
        if (arg_json)
                print_document("discovery_controllers", typed_all_log_pages(root));
        else
                print_all_log_pages(root, detailed);
        return 0;
}

/* ---- arguments ---- */

static void usage(const CliService *svc, FILE *f) {
        fprintf(f,
                "Usage: %s [--json] COMMAND [OPTIONS]\n"
                "Query %s over D-Bus.\n\n"
                "Commands:\n"
                "  ls [-d|--detailed]   list the controllers\n"
                "  status               process information and every controller in detail\n"
                "  tron                 turn debug tracing on (root)\n"
                "  troff                turn debug tracing off (root)\n"
                "  metrics              the daemon's metrics, Prometheus text format\n",
                svc->program,
                svc->daemon);
        if (svc->log_pages)
                fprintf(f,
                        "  dlp -a TRADDR -s TRSVCID [-t TRANSPORT] [-w HOST_TRADDR] [-f HOST_IFACE]\n"
                        "      [-q HOST_NQN] [-n NQN]\n"
                        "                       the discovery log pages of one discovery controller\n"
                        "  adlp [-d|--detailed] the discovery log pages of every discovery controller\n");
        fprintf(f,
                "\nOptions:\n"
                "  -j, --json           print typed JSON (schema: %s(1)) instead of tables\n"
                "  -v, --version        print the version and exit\n"
                "  -h, --help           print this help and exit\n",
                svc->program);
}

static int usage_error(const CliService *svc, const char *fmt, const char *arg) {
        fprintf(stderr, "%s: ", svc->program);
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\nTry '%s --help'.\n", svc->program);
        return 2;
}

/* What the command line says (the TID fields for dlp). */
typedef struct CliArgs {
        const char *transport, *traddr, *trsvcid, *host_traddr, *host_iface, *host_nqn, *nqn, *cmd;
        bool detailed;
} CliArgs;

/* Parse the options and the command. Return: -1 to go on, else the exit status. */
static int parse_args(const CliService *svc, int argc, char **argv, CliArgs *a) {
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "detailed", no_argument, NULL, 'd' },
                { "transport", required_argument, NULL, 't' },
                { "traddr", required_argument, NULL, 'a' },
                { "trsvcid", required_argument, NULL, 's' },
                { "host-traddr", required_argument, NULL, 'w' },
                { "host-iface", required_argument, NULL, 'f' },
                { "host-nqn", required_argument, NULL, 'q' },
                { "nqn", required_argument, NULL, 'n' },
                {},
        };
        int c;

        *a = (CliArgs){ .transport = "tcp", .host_traddr = "", .host_iface = "", .nqn = NVME_DISC_WKNQN };
        /* Options may come before or after the command (GNU getopt permutes). */
        while ((c = getopt_long(argc, argv, "jvhdt:a:s:w:f:q:n:", opts, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        arg_json = true;
                        break;
                case 'v':
                        printf("stas %s\n", STAS_VERSION);
                        return 0;
                case 'h':
                        usage(svc, stdout);
                        return 0;
                case 'd':
                        a->detailed = true;
                        break;
                case 't':
                        a->transport = optarg;
                        break;
                case 'a':
                        a->traddr = optarg;
                        break;
                case 's':
                        a->trsvcid = optarg;
                        break;
                case 'w':
                        a->host_traddr = optarg;
                        break;
                case 'f':
                        a->host_iface = optarg;
                        break;
                case 'q':
                        a->host_nqn = optarg;
                        break;
                case 'n':
                        a->nqn = optarg;
                        break;
                default: /* getopt said what is wrong */
                        fprintf(stderr, "Try '%s --help'.\n", svc->program);
                        return 2;
                }
        }
        if (optind >= argc)
                return usage_error(svc, "%s", "missing command");
        if (optind + 1 < argc)
                return usage_error(svc, "unexpected argument '%s'", argv[optind + 1]);
        a->cmd = argv[optind];
        return -1;
}

/* The command is known; dlp has what it needs (*@hostnqn: the default host NQN, if read). Return: -1 or the
 * exit status. */
static int check_command(const CliService *svc, CliArgs *a, char **hostnqn) {
        const char *cmd = a->cmd;

        if (!streq(cmd, "ls") && !streq(cmd, "status") && !streq(cmd, "tron") && !streq(cmd, "troff") &&
            !streq(cmd, "metrics") && !(svc->log_pages && (streq(cmd, "dlp") || streq(cmd, "adlp"))))
                return usage_error(svc, "unknown command '%s'", cmd);
        if (!streq(cmd, "dlp"))
                return -1;
        if (!a->traddr || !a->trsvcid)
                return usage_error(svc, "%s", "dlp needs -a/--traddr and -s/--trsvcid");
        if (!streq(a->transport, "tcp") && !streq(a->transport, "rdma") && !streq(a->transport, "fc") &&
            !streq(a->transport, "loop"))
                return usage_error(svc, "invalid transport '%s'", a->transport);
        if (!a->host_nqn) {
                /* Only dlp needs the host NQN; other commands never read it (§9.10). */
                *hostnqn = default_hostnqn();
                if (!*hostnqn) {
                        fprintf(stderr,
                                "%s: cannot find the host NQN (%s, %s/hostnqn); use -q/--host-nqn\n",
                                svc->program,
                                sysconf_default_path(),
                                STAS_ETC_NVME);
                        return 1;
                }
                a->host_nqn = *hostnqn;
        }
        return -1;
}

int cli_main(const CliService *svc, int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(tid_freep) StasTid *t = NULL;
        _cleanup_free_ char *hostnqn = NULL;
        CliArgs a;
        int r;

        r = parse_args(svc, argc, argv, &a);
        if (r < 0)
                r = check_command(svc, &a, &hostnqn);
        if (r >= 0)
                return r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "%s: cannot connect to the system bus: %s\n", svc->program, strerror(-r));
                return 1;
        }

        if (streq(a.cmd, "ls"))
                return cmd_ls(bus, svc, a.detailed);
        if (streq(a.cmd, "status"))
                return cmd_status(bus, svc);
        if (streq(a.cmd, "metrics"))
                return cmd_metrics(bus, svc);
        if (streq(a.cmd, "tron") || streq(a.cmd, "troff"))
                return cmd_tron(bus, svc, streq(a.cmd, "tron"));
        if (streq(a.cmd, "adlp"))
                return cmd_adlp(bus, svc, a.detailed);
        t = tid_new(a.transport, a.traddr, a.trsvcid, a.nqn, a.host_traddr, a.host_iface, a.host_nqn);
        if (!t)
                return 1;
        return cmd_dlp(bus, svc, t);
}
