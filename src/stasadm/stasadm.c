/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm - administration tool for the host identity used by stafd and stacd: generates the
 * host NQN and host ID and sets or clears the host symbolic name, in /etc/stas/sys.conf (or the
 * file given with -c) and optionally in a separate file referenced from it as file://FILE.
 * sys.conf is edited in place: comments, blank lines and order are kept (ini-edit.h).
 *
 * Exit status: 0 success, 1 error (message on stderr), 2 usage error.
 * STAS_TEST_ROOT (tests only) prefixes the machine-id / DMI / device-tree paths.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "stas/ini.h"
#include "stas/hostid.h"
#include "ini-edit.h"
#include "stas/macro.h"

#define EXIT_USAGE 2

static const char *arg_conf_file = STAS_ETC_STAS "/sys.conf";

static void help(FILE *f) {
        fprintf(f,
                "Usage: stasadm [-c FILE] COMMAND [ARGS]\n"
                "\n"
                "Configure the host identity used by stafd and stacd.\n"
                "\n"
                "Commands:\n"
                "  hostnqn [-f FILE]            Generate the host NQN (derived from /etc/machine-id)\n"
                "  hostid [-f FILE]             Generate a random host ID\n"
                "  set-symname [-f FILE] NAME   Set the host symbolic name\n"
                "  clear-symname                Remove the host symbolic name\n"
                "\n"
                "Options:\n"
                "  -c, --conf-file FILE  Configuration file to edit (default %s)\n"
                "  -f, --file FILE       Write the value to FILE and reference it from the\n"
                "                        configuration file as file://FILE\n"
                "  -v, --version         Print the version and exit\n"
                "  -h, --help            Print this help and exit\n"
                "\n"
                "Exit status: 0 success, 1 error, 2 usage error (including no command).\n"
                "See stasadm(1).\n",
                STAS_ETC_STAS "/sys.conf");
}

static int usage_error(const char *fmt, const char *arg) {
        fputs("stasadm: ", stderr);
        fprintf(stderr, fmt, arg);
        fputs("\nTry 'stasadm --help'.\n", stderr);
        return EXIT_USAGE;
}

static int bad_option(char **argv) {
        char opt[3] = { '-', (char) optopt, '\0' };

        if (optopt == 0)
                return usage_error("unknown option '%s'", argv[optind - 1]);
        return usage_error("unknown option '%s'", opt);
}

static int missing_argument(char **argv) {
        char opt[3] = { '-', (char) optopt, '\0' };

        return usage_error("option '%s' requires an argument", optopt ? opt : argv[optind - 1]);
}

static int error(int r, const char *what, const char *path) {
        errno = -r;
        if (path)
                fprintf(stderr, "stasadm: %s %s: %m\n", what, path);
        else
                fprintf(stderr, "stasadm: %s: %m\n", what);
        return EXIT_FAILURE;
}

/* An edit of @path failed with @r: -EBADMSG names the line the daemons would reject too. */
static int update_error(int r, const char *path) {
        _cleanup_free_ char *text = NULL;
        const char *why = NULL;
        unsigned line;

        if (r != -EBADMSG || read_text_file(path, &text) < 0)
                return error(r, "Cannot update", path);
        line = ini_check_syntax(text, &why);
        fprintf(stderr,
                "stasadm: %s:%u: syntax error: %s; stafd and stacd cannot read this file either. "
                "Fix it first; nothing was changed.\n",
                path,
                line,
                strempty(why));
        return EXIT_FAILURE;
}

/* Make @path absolute so the file:// reference does not depend on the daemons' directory. */
static int absolute_path(const char *path, char **ret) {
        char cwd[PATH_MAX];

        if (path[0] == '/') {
                *ret = strdup(path);
                return *ret ? 0 : -ENOMEM;
        }
        if (!getcwd(cwd, sizeof(cwd)))
                return -errno;
        if (asprintf(ret, "%s/%s", streq(cwd, "/") ? "" : cwd, path) < 0)
                return -ENOMEM;
        return 0;
}

/* Store @value as [Host] @key: in @file (referenced as file://) when given, else literally. */
static int save(const char *key, const char *value, const char *file) {
        _cleanup_free_ char *abs = NULL, *content = NULL, *ref = NULL;
        int r;

        if (file) {
                r = absolute_path(file, &abs);
                if (r < 0)
                        return error(r, "Cannot resolve", file);
                if (asprintf(&content, "%s\n", value) < 0 || asprintf(&ref, "file://%s", abs) < 0)
                        return error(-ENOMEM, "Out of memory", NULL);
                r = write_file_atomic(abs, content, strlen(content), 0644);
                if (r < 0)
                        return error(r, "Cannot write", abs);
                value = ref;
        }
        r = ini_edit_file_set(arg_conf_file, "Host", key, value);
        if (r < 0)
                return update_error(r, arg_conf_file);
        return EXIT_SUCCESS;
}

/* Parse "[-f FILE]" (and -h) for a subcommand. Returns -1 to continue, else an exit status. */
static int parse_sub(int argc, char **argv, const char **file, bool takes_file) {
        static const struct option opts[] = {
                { "file", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, takes_file ? "+:f:h" : "+:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        if (!takes_file)
                                return usage_error("%s: option -f is not accepted", argv[0]);
                        *file = optarg;
                        break;
                case 'h':
                        help(stdout);
                        return EXIT_SUCCESS;
                case ':':
                        return missing_argument(argv);
                default:
                        return bad_option(argv);
                }
        }
        if (*file && isempty(*file))
                return usage_error("%s: empty file name", argv[0]);
        return -1;
}

/* The options of a subcommand that takes -f FILE and no other argument; -1 to go on. */
static int parse_file_only(int argc, char **argv, const char **file) {
        int r = parse_sub(argc, argv, file, true);

        if (r >= 0)
                return r;
        if (optind < argc)
                return usage_error("unexpected argument '%s'", argv[optind]);
        return -1;
}

static int cmd_hostnqn(int argc, char **argv) {
        _cleanup_free_ char *nqn = NULL;
        const char *file = NULL;
        int r;

        r = parse_file_only(argc, argv, &file);
        if (r >= 0)
                return r;
        r = hostnqn_generate(getenv("STAS_TEST_ROOT"), geteuid() == 0, &nqn);
        if (r == -EPERM) {
                fputs("stasadm: Permission denied. Root privileges required.\n", stderr);
                return EXIT_FAILURE;
        }
        if (r < 0)
                return error(r, "Cannot generate the host NQN", NULL);
        return save("nqn", nqn, file);
}

static int cmd_hostid(int argc, char **argv) {
        _cleanup_free_ char *id = NULL;
        const char *file = NULL;
        int r;

        r = parse_file_only(argc, argv, &file);
        if (r >= 0)
                return r;
        r = hostid_generate(&id);
        if (r < 0)
                return error(r, "Cannot generate the host ID", NULL);
        return save("id", id, file);
}

static int cmd_set_symname(int argc, char **argv) {
        const char *file = NULL, *name;
        size_t n;
        int r;

        r = parse_sub(argc, argv, &file, true);
        if (r >= 0)
                return r;
        if (optind >= argc)
                return usage_error("%s: missing SYMNAME", argv[0]);
        if (optind + 1 < argc)
                return usage_error("unexpected argument '%s'", argv[optind + 1]);
        name = argv[optind];
        if (isempty(name) || strpbrk(name, "\n\r")) {
                fputs("stasadm: the symbolic name must be a non-empty single line\n", stderr);
                return EXIT_FAILURE;
        }
        n = strlen(name);
        if (name[0] == ' ' || name[0] == '\t' || name[n - 1] == ' ' || name[n - 1] == '\t') {
                /* the sys.conf reader trims both the literal value and the first line of a file */
                fputs("stasadm: the symbolic name cannot start or end with a blank\n", stderr);
                return EXIT_FAILURE;
        }
        if (!file && (strstr(name, " #") || strstr(name, "\t#"))) {
                /* stored literally, ' #' would start an inline comment */
                fputs("stasadm: a symbolic name containing ' #' cannot be stored in the configuration "
                      "file literally; use -f FILE\n",
                      stderr);
                return EXIT_FAILURE;
        }
        return save("symname", name, file);
}

static int cmd_clear_symname(int argc, char **argv) {
        const char *file = NULL;
        int r;

        r = parse_sub(argc, argv, &file, false);
        if (r >= 0)
                return r;
        if (optind < argc)
                return usage_error("unexpected argument '%s'", argv[optind]);
        r = ini_edit_file_remove(arg_conf_file, "Host", "symname");
        if (r < 0)
                return update_error(r, arg_conf_file);
        return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "conf-file", required_argument, NULL, 'c' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const struct {
                const char *name;
                int (*run)(int argc, char **argv);
        } cmds[] = {
                { "hostnqn", cmd_hostnqn },
                { "hostid", cmd_hostid },
                { "set-symname", cmd_set_symname },
                { "clear-symname", cmd_clear_symname },
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:c:vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        if (isempty(optarg))
                                return usage_error("%s", "empty configuration file name");
                        arg_conf_file = optarg;
                        break;
                case 'v':
                        printf("stas %s\n", STAS_VERSION);
                        return EXIT_SUCCESS;
                case 'h':
                        help(stdout);
                        return EXIT_SUCCESS;
                case ':':
                        return missing_argument(argv);
                default:
                        return bad_option(argv);
                }
        }
        if (optind >= argc)
                return usage_error("%s", "missing command");
        for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
                if (streq(argv[optind], cmds[i].name))
                        return cmds[i].run(argc - optind, argv + optind);
        return usage_error("unknown command '%s'", argv[optind]);
}
