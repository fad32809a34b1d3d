/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - the shared implementation of stafctl and stacctl: argument parsing, D-Bus calls to
 * the daemon (system bus, or $DBUS_SYSTEM_BUS_ADDRESS), and output as readable tables (default)
 * or exact JSON (--json). The two programs differ only in their CliService description, which
 * takes the names from stas/wire.h.
 */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

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

/* ---- typed JSON (typed.c); the schema is documented in stafctl(1) ---- */
#include <json-c/json.h>

/* The version of the --json schema: raised only when a field changes meaning or type. */
#define CLI_JSON_VERSION 1

/* cli_json_key() - a wire key in snake_case: "connect attempts" -> "connect_attempts". */
char *cli_json_key(const char *key);
/*
 * cli_pydict_parse() - the Python dict text nvme-stas puts in some values ("{'fail count': 2,
 * 'alive': True}") as a dict of strings; None becomes "". Return: 0, -EINVAL, -ENOMEM.
 */
int cli_pydict_parse(const char *s, StasKV **ret);
/* cli_typed_value() - the typed JSON of the wire value of @key; NULL (JSON null) for no value. */
json_object *cli_typed_value(const char *key, const char *value);
/* cli_typed_kv() - a wire dict as a typed JSON object (snake_case keys). */
json_object *cli_typed_kv(const StasKV *kv);
/* cli_typed_process_info() - process_info's JSON typed, "a.b" keys grouped as {"a": {"b": ...}}. */
json_object *cli_typed_process_info(json_object *info);
/*
 * cli_ctrl_state() - the STATE column of a controller dict: "live", "retrying in 12s
 * (ECONNREFUSED)", "not connected (disabled)"... Return: a new string, NULL on OOM.
 */
char *cli_ctrl_state(const StasKV *kv);
/*
 * cli_metrics_print() - process_info's "metrics" @families as Prometheus text (format 0.0.4) on
 * @f, daemon="@daemon" added to every sample; a family is printed once. Return: 0, -1 not an array.
 */
int cli_metrics_print(FILE *f, const char *daemon, json_object *families);
