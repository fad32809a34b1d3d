/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c - the "metrics" command's output: process_info's "metrics" families (metrics.h) as the
 * Prometheus text exposition format 0.0.4, every sample labelled daemon="<daemon>".
 */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "stas/macro.h"

/* A label value, escaped: \ " and newline. */
static void put_value(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '\\')
                        fputs("\\\\", f);
                else if (*s == '"')
                        fputs("\\\"", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
        fputc('"', f);
}

/* HELP text, escaped: \ and newline. */
static void put_help(FILE *f, const char *s) {
        for (; *s; s++) {
                if (*s == '\\')
                        fputs("\\\\", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
}

static bool name_ok(const char *s) {
        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ':' ||
                      (p != s && *p >= '0' && *p <= '9')))
                        return false;
        return true;
}

static void put_sample(FILE *f, const char *name, const char *daemon, json_object *s) {
        json_object *labels = json_object_object_get(s, "labels");
        double v = json_object_get_double(json_object_object_get(s, "value"));

        fprintf(f, "%s{daemon=", name);
        put_value(f, daemon);
        if (json_object_is_type(labels, json_type_object)) {
                json_object_object_foreach(labels, k, lv) {
                        if (!name_ok(k) || streq(k, "daemon"))
                                continue;
                        fprintf(f, ",%s=", k);
                        put_value(f, json_object_get_string(lv));
                }
        }
        if (v == floor(v) && fabs(v) < 1e15)
                fprintf(f, "} %.0f\n", v);
        else
                fprintf(f, "} %.17g\n", v);
}

/**
 * cli_metrics_print() - see cli.h.
 */
int cli_metrics_print(FILE *f, const char *daemon, json_object *families) {
        size_t n;

        if (!json_object_is_type(families, json_type_array))
                return -1;
        n = json_object_array_length(families);
        for (size_t i = 0; i < n; i++) {
                json_object *fam = json_object_array_get_idx(families, i);
                const char *name = json_object_get_string(json_object_object_get(fam, "name"));
                const char *type = json_object_get_string(json_object_object_get(fam, "type"));
                const char *help = json_object_get_string(json_object_object_get(fam, "help"));
                json_object *ss = json_object_object_get(fam, "samples");
                bool dup = false;

                if (!name_ok(name) || !json_object_is_type(ss, json_type_array))
                        continue;
                for (size_t j = 0; j < i && !dup; j++) {
                        const char *o = json_object_get_string(
                                json_object_object_get(json_object_array_get_idx(families, j), "name"));
                        dup = o && streq(o, name);
                }
                if (dup)
                        continue;
                fprintf(f, "# HELP %s ", name);
                put_help(f, help ?: "");
                fprintf(f,
                        "\n# TYPE %s %s\n",
                        name,
                        type && (streq(type, "counter") || streq(type, "gauge")) ? type : "untyped");
                for (size_t j = 0; j < json_object_array_length(ss); j++)
                        put_sample(f, name, daemon, json_object_array_get_idx(ss, j));
        }
        return 0;
}
