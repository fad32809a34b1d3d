/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - the shared implementation of stafctl and stacctl: argument parsing, D-Bus calls to
 * the daemon (system bus, or $DBUS_SYSTEM_BUS_ADDRESS), and output as readable tables (default)
 * or exact JSON (--json). The two programs differ only in their CliService description, which
 * takes the names from stas/wire.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stas/kv.h"

typedef struct CliService {
        const char *program;         /* "stafctl" */
        const char *daemon;          /* "stafd" */
        const char *bus_name;        /* "org.nvmexpress.staf" */
        const char *path;            /* "/org/nvmexpress/staf" */
        const char *interface;       /* "org.nvmexpress.staf" */
        const char *debug_interface; /* "org.nvmexpress.staf.debug" */
        bool log_pages;              /* has dlp and adlp (stafd) */
} CliService;

/* cli_main() - run the program; returns the process exit code (0 ok, 1 error, 2 usage). */
int cli_main(const CliService *svc, int argc, char **argv);

typedef struct CliColumn {
        const char *key;
        const char *header;
} CliColumn;

/*
 * cli_print_table() - one row per dict, the given columns, left-aligned and padded; an empty
 * value prints as "-". Writes "(none)" if there are no rows.
 */
void cli_print_table(FILE *f, StasKV *const *rows, size_t n_rows, const CliColumn *cols, size_t n_cols);

/*
 * cli_print_kv() - "key  value" lines, keys padded to the longest, each line prefixed by @indent;
 * an empty value prints as "-".
 */
void cli_print_kv(FILE *f, const StasKV *kv, const char *indent);
