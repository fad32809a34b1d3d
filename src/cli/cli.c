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

/* A flat JSON object to a dict: scalars stringified, nested values as compact JSON. */
static StasKV *flatten_json(json_object *o) {
        _cleanup_(kv_freep) StasKV *kv = kv_new();

        if (!kv || !json_object_is_type(o, json_type_object))
                return NULL;
        json_object_object_foreach(o, key, val) {
                const char *s = json_object_is_type(val, json_type_string)
                        ? json_object_get_string(val)
                        : json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN);
                if (kv_set(kv, key, s) < 0)
                        return NULL;
        }
        return TAKE_PTR(kv);
}

/* ---- D-Bus ---- */

static int bus_fail(const CliService *svc, const sd_bus_error *e, int r) {
        if (e &&
            (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) ||
             sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"))) {
                /* the daemon is there: say what is wrong instead of asking whether it runs */
                fprintf(stderr, "Permission denied: %s (this needs root).\n", strempty(e->message));
                return 1;
        }
        fprintf(stderr,
                "Unable to communicate with %s over D-Bus. Is %s running?\n",
                svc->daemon,
                svc->daemon);
        if (e && sd_bus_error_is_set(e))
                fprintf(stderr, "(%s: %s)\n", e->name, e->message);
        else if (r < 0)
                fprintf(stderr, "(%s)\n", strerror(-r));
        return 1;
}

static const CliColumn ctrl_columns[] = {
        { "device", "DEVICE" },       { "transport", "TRANSPORT" },     { "traddr", "TRADDR" },
        { "trsvcid", "TRSVCID" },     { "host-traddr", "HOST-TRADDR" }, { "host-iface", "HOST-IFACE" },
        { "subsysnqn", "SUBSYSNQN" },
};

static const CliColumn dlpe_columns[] = {
        { "trtype", "TRTYPE" },   { "adrfam", "ADRFAM" }, { "traddr", "TRADDR" }, { "trsvcid", "TRSVCID" },
        { "subtype", "SUBTYPE" }, { "portid", "PORTID" }, { "treq", "TREQ" },     { "subnqn", "SUBNQN" },
};

static int call_list_controllers(sd_bus *bus, const CliService *svc, bool detailed, StasKV ***ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(
                bus,
                svc->bus_name,
                svc->path,
                svc->interface,
                "list_controllers",
                &e,
                &reply,
                "b",
                detailed);
        if (r < 0)
                return bus_fail(svc, &e, r);
        r = bus_read_kvv(reply, ret);
        if (r < 0)
                return bus_fail(svc, NULL, r);
        return 0;
}

static int cmd_ls(sd_bus *bus, const CliService *svc, bool detailed) {
        _cleanup_(kvv_freep) StasKV **l = NULL;
        size_t n;
        int r;

        r = call_list_controllers(bus, svc, detailed, &l);
        if (r)
                return r;
        n = kvv_length(l);
        if (arg_json) {
                json_object *o = json_from_kvv(l);
                print_json(o);
                json_object_put(o);
        } else if (detailed) {
                for (size_t i = 0; i < n; i++) {
                        printf("%s%s\n", i ? "\n" : "", strempty(kv_get(l[i], "device")));
                        cli_print_kv(stdout, l[i], "  ");
                }
                if (n == 0)
                        puts("(none)");
        } else
                cli_print_table(stdout, l, n, ctrl_columns, ELEMENTSOF(ctrl_columns));
        return 0;
}

static int get_string(
        sd_bus *bus,
        const CliService *svc,
        const char *iface,
        const char *method,
        char **ret,
        const char *sig,
        ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *s;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, svc->bus_name, svc->path, iface, method);
        if (r < 0)
                return bus_fail(svc, NULL, r);
        if (sig) {
                va_start(ap, sig);
                r = sd_bus_message_appendv(m, sig, ap);
                va_end(ap);
                if (r < 0)
                        return bus_fail(svc, NULL, r);
        }
        r = sd_bus_call(bus, m, 0, &e, &reply);
        if (r < 0)
                return bus_fail(svc, &e, r);
        r = sd_bus_message_read(reply, "s", &s);
        if (r < 0)
                return bus_fail(svc, NULL, r);
        *ret = strdup(s);
        return *ret ? 0 : bus_fail(svc, NULL, -ENOMEM);
}

static int cmd_status(sd_bus *bus, const CliService *svc) {
        const char *debug_iface = svc->debug_interface;
        _cleanup_free_ char *info = NULL;
        _cleanup_(kvv_freep) StasKV **l = NULL;
        json_object *root, *ctrls;
        size_t n;
        int r;

        r = get_string(bus, svc, debug_iface, "process_info", &info, NULL);
        if (r)
                return r;
        r = call_list_controllers(bus, svc, true, &l);
        if (r)
                return r;
        n = kvv_length(l);
        root = json_tokener_parse(info);
        if (!root || !json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                root = json_object_new_object();
        }
        ctrls = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ci = NULL;
                _cleanup_(tid_freep) StasTid *t = tid_from_kv(l[i]);
                json_object *c = json_from_kv(l[i]);

                if (t &&
                    get_string(
                            bus,
                            svc,
                            debug_iface,
                            "controller_info",
                            &ci,
                            "sssssss",
                            t->transport,
                            t->traddr,
                            t->trsvcid,
                            t->subsysnqn,
                            t->host_traddr,
                            t->host_iface,
                            t->host_nqn) == 0) {
                        json_object *x = json_tokener_parse(ci);
                        if (x && json_object_is_type(x, json_type_object)) {
                                json_object_object_foreach(x, k, v)
                                        json_object_object_add(c, k, json_object_get(v));
                        }
                        json_object_put(x);
                }
                json_object_array_add(ctrls, c);
        }
        json_object_object_add(root, "controllers", ctrls);
        if (arg_json)
                print_json(root);
        else {
                json_object_object_foreach(root, key, val) {
                        if (streq(key, "controllers"))
                                continue;
                        printf("%s: %s\n",
                               key,
                               json_object_is_type(val, json_type_string)
                                       ? json_object_get_string(val)
                                       : json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
                }
                printf("controllers: %zu\n", n);
                for (size_t i = 0; i < json_object_array_length(ctrls); i++) {
                        _cleanup_(kv_freep) StasKV *kv = flatten_json(json_object_array_get_idx(ctrls, i));
                        printf("\n  %s\n", strempty(kv_get(kv, "device")));
                        cli_print_kv(stdout, kv, "    ");
                }
        }
        json_object_put(root);
        return 0;
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
        printf("tron = %s\n", v ? "True" : "False");
        return 0;
}

static char *default_hostnqn(void) {
        _cleanup_fclose_ FILE *f = fopen(STAS_ETC_NVME "/hostnqn", "re");
        char buf[256];

        if (!f || !fgets(buf, sizeof(buf), f))
                return NULL;
        buf[strcspn(buf, " \t\r\n")] = 0;
        return strdup(buf);
}

static int cmd_dlp(sd_bus *bus, const CliService *svc, const StasTid *t) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(kvv_freep) StasKV **l = NULL;
        int r;

        r = sd_bus_call_method(
                bus,
                svc->bus_name,
                svc->path,
                svc->interface,
                "get_log_pages",
                &e,
                &reply,
                "sssssss",
                t->transport,
                t->traddr,
                t->trsvcid,
                t->subsysnqn,
                t->host_traddr,
                t->host_iface,
                t->host_nqn);
        if (r < 0)
                return bus_fail(svc, &e, r);
        r = bus_read_kvv(reply, &l);
        if (r < 0)
                return bus_fail(svc, NULL, r);
        if (arg_json) {
                json_object *o = json_from_kvv(l);
                print_json(o);
                json_object_put(o);
        } else
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

static int cmd_adlp(sd_bus *bus, const CliService *svc, bool detailed) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *root = NULL;
        const char *s;
        int r;

        r = sd_bus_call_method(
                bus,
                svc->bus_name,
                svc->path,
                svc->interface,
                "get_all_log_pages",
                &e,
                &reply,
                "b",
                detailed);
        if (r < 0)
                return bus_fail(svc, &e, r);
        r = sd_bus_message_read(reply, "s", &s);
        if (r < 0)
                return bus_fail(svc, NULL, r);
        if (log_pages_parse(s, &root) < 0) {
                fprintf(stderr, "%s returned malformed log pages.\n", svc->daemon);
                return 1;
        }
        if (arg_json)
                print_json(root);
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
                "  troff                turn debug tracing off (root)\n",
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
                "  -j, --json           print exact JSON instead of tables\n"
                "  -v, --version        print the version and exit\n"
                "  -h, --help           print this help and exit\n");
}

static int usage_error(const CliService *svc, const char *fmt, const char *arg) {
        fprintf(stderr, "%s: ", svc->program);
        fprintf(stderr, fmt, arg);
        fputc('\n', stderr);
        usage(svc, stderr);
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
                default:
                        usage(svc, stderr);
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
            !(svc->log_pages && (streq(cmd, "dlp") || streq(cmd, "adlp"))))
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
                                "%s: cannot read %s/hostnqn; use -q/--host-nqn\n",
                                svc->program,
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
        if (r < 0)
                return bus_fail(svc, NULL, r);

        if (streq(a.cmd, "ls"))
                return cmd_ls(bus, svc, a.detailed);
        if (streq(a.cmd, "status"))
                return cmd_status(bus, svc);
        if (streq(a.cmd, "tron") || streq(a.cmd, "troff"))
                return cmd_tron(bus, svc, streq(a.cmd, "tron"));
        if (streq(a.cmd, "adlp"))
                return cmd_adlp(bus, svc, a.detailed);
        t = tid_new(a.transport, a.traddr, a.trsvcid, a.nqn, a.host_traddr, a.host_iface, a.host_nqn);
        if (!t)
                return 1;
        return cmd_dlp(bus, svc, t);
}
