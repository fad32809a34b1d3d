/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c - process-wide counters, see metrics.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stas/macro.h"
#include "stas/metrics.h"

typedef struct Sample {
        char *family, *k1, *v1, *k2, *v2;
        uint64_t value;
} Sample;

static Sample *samples;
static size_t n_samples;
static struct timespec started;

static const struct {
        const char *name, *help;
        bool stafd;
} families[] = {
        { "stas_connect_attempts_total", "Connect attempts, by transport.", false },
        { "stas_connect_failures_total", "Failed connect attempts, by reason.", false },
        { "stas_reconnects_total",
          "Connections re-established after a connected controller lost its device.",
          false },
        { "stas_aens_total", "Discovery log change AENs received.", true },
        { "stas_log_page_reads_total", "Discovery log page reads, by result.", true },
        { "stas_log_page_bytes_total", "Bytes of discovery log pages read.", true },
        { "stas_dim_results_total", "DIM (TP8010) results, by operation and result.", true },
};

static bool same(const char *a, const char *b) {
        return (!a && !b) || (a && b && streq(a, b));
}

static Sample *find(const char *family, const char *k1, const char *v1, const char *k2, const char *v2) {
        for (size_t i = 0; i < n_samples; i++) {
                Sample *s = &samples[i];
                if (streq(s->family, family) && same(s->k1, k1) && same(s->v1, v1) && same(s->k2, k2) &&
                    same(s->v2, v2))
                        return s;
        }
        return NULL;
}

static char *dup0(const char *s) {
        return s ? strdup(s) : NULL;
}

void stas_metrics_add(
        const char *family, const char *k1, const char *v1, const char *k2, const char *v2, uint64_t n) {
        Sample *s = find(family, k1, v1, k2, v2), *a;

        if (started.tv_sec == 0)
                clock_gettime(CLOCK_MONOTONIC, &started);
        if (s) {
                s->value += n;
                return;
        }
        a = realloc(samples, (n_samples + 1) * sizeof *samples);
        if (!a)
                return;
        samples = a;
        s = &samples[n_samples];
        *s = (Sample){ strdup(family), dup0(k1), dup0(v1 ?: ""), dup0(k2), dup0(v2 ?: ""), n };
        if (!s->family || (k1 && (!s->k1 || !s->v1)) || (k2 && (!s->k2 || !s->v2))) {
                free(s->family), free(s->k1), free(s->v1), free(s->k2), free(s->v2);
                return;
        }
        if (!k1)
                s->v1 = (free(s->v1), NULL);
        if (!k2)
                s->v2 = (free(s->v2), NULL);
        n_samples++;
}

uint64_t stas_metrics_value(
        const char *family, const char *k1, const char *v1, const char *k2, const char *v2) {
        const Sample *s = find(family, k1, v1, k2, v2);

        return s ? s->value : 0;
}

void stas_metrics_reset(void) {
        for (size_t i = 0; i < n_samples; i++) {
                Sample *s = &samples[i];
                free(s->family), free(s->k1), free(s->v1), free(s->k2), free(s->v2);
        }
        free(samples);
        samples = NULL;
        n_samples = 0;
}

static json_object *sample_json(
        const char *k1, const char *v1, const char *k2, const char *v2, double value) {
        json_object *o = json_object_new_object(), *l = json_object_new_object();

        if (!o || !l)
                goto fail;
        if (k1)
                json_object_object_add(l, k1, json_object_new_string(v1));
        if (k2)
                json_object_object_add(l, k2, json_object_new_string(v2));
        json_object_object_add(o, "labels", l);
        json_object_object_add(o, "value", json_object_new_double(value));
        return o;
fail:
        json_object_put(o);
        json_object_put(l);
        return NULL;
}

static json_object *family_json(
        const char *name, const char *type, const char *help, json_object **ret_samples) {
        json_object *f = json_object_new_object();

        *ret_samples = json_object_new_array();
        if (!f || !*ret_samples) {
                json_object_put(f);
                json_object_put(*ret_samples);
                return NULL;
        }
        json_object_object_add(f, "name", json_object_new_string(name));
        json_object_object_add(f, "type", json_object_new_string(type));
        json_object_object_add(f, "help", json_object_new_string(help));
        json_object_object_add(f, "samples", *ret_samples);
        return f;
}

static void add_controllers(json_object *a, StasCtrl *const *ctrls, size_t n) {
        json_object *ss,
                *f = family_json("stas_controllers", "gauge", "Controllers, by state and transport.", &ss);

        if (!f)
                return;
        for (size_t i = 0; i < n; i++) {
                char buf[64];
                const char *st = stas_ctrl_state(ctrls[i], NULL, buf, sizeof buf);
                const char *tr = stas_ctrl_tid(ctrls[i])->transport;
                size_t cnt = 0;
                bool seen = false;

                for (size_t j = 0; j < i && !seen; j++) {
                        char b2[64];
                        seen = streq(stas_ctrl_state(ctrls[j], NULL, b2, sizeof b2), st) &&
                                streq(stas_ctrl_tid(ctrls[j])->transport, tr);
                }
                if (seen)
                        continue;
                for (size_t j = i; j < n; j++) {
                        char b2[64];
                        if (streq(stas_ctrl_state(ctrls[j], NULL, b2, sizeof b2), st) &&
                            streq(stas_ctrl_tid(ctrls[j])->transport, tr))
                                cnt++;
                }
                json_object_array_add(ss, sample_json("state", st, "transport", tr, (double) cnt));
        }
        json_object_array_add(a, f);
}

json_object *stas_metrics_json(StasCtrl *const *ctrls, size_t n, bool stafd) {
        json_object *a = json_object_new_array(), *ss, *f;
        struct timespec now;

        if (!a)
                return NULL;
        if (started.tv_sec == 0)
                clock_gettime(CLOCK_MONOTONIC, &started);
        clock_gettime(CLOCK_MONOTONIC, &now);
        f = family_json("stas_uptime_seconds", "gauge", "Seconds since the daemon started.", &ss);
        if (f) {
                json_object_array_add(
                        ss, sample_json(NULL, NULL, NULL, NULL, (double) (now.tv_sec - started.tv_sec)));
                json_object_array_add(a, f);
        }
        add_controllers(a, ctrls, n);
        for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
                if (families[i].stafd && !stafd)
                        continue;
                f = family_json(families[i].name, "counter", families[i].help, &ss);
                if (!f)
                        continue;
                for (size_t j = 0; j < n_samples; j++)
                        if (streq(samples[j].family, families[i].name))
                                json_object_array_add(
                                        ss,
                                        sample_json(
                                                samples[j].k1,
                                                samples[j].v1,
                                                samples[j].k2,
                                                samples[j].v2,
                                                (double) samples[j].value));
                json_object_array_add(a, f);
        }
        return a;
}

int stas_metrics_info_add(json_object *o, const StasCtrlSet *set, bool stafd) {
        size_t n = set ? ctrl_set_n(set) : 0;
        _cleanup_free_ StasCtrl **v = calloc(n + 1, sizeof *v);
        json_object *a;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = ctrl_set_ctrl(set, i);
        a = stas_metrics_json(v, n, stafd);
        if (!a || json_object_object_add(o, "metrics", a) < 0) {
                json_object_put(a);
                return -ENOMEM;
        }
        return 0;
}
