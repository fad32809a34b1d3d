/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-ini.c - how long the daemons' loop spends reading a hostile configuration file of the
 * largest accepted size (1 MiB, INI_MAX_SIZE): ini_parse_string() (the INI reader behind
 * stafd.conf, stacd.conf and sys.conf), then stas_conf_load_string() (INI reader plus the
 * option table) for stafd and for stacd. Both run at start and on every SIGHUP.
 * Usage: bench-ini [-n RUNS] [CASE...] (default: 3 runs of every case). Prints one line per
 * case: the best wall-clock time of the runs for each step, and the CPU time of that step in
 * the same run (the machine may be shared: wall time includes waiting for a CPU). Log lines are
 * counted (sent to a sink), not printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include "stacd-conf.h"
#include "stafd-conf.h"
#include "stas/ini.h"
#include "stas/log.h"
#include "stas/conf.h"

#define FILE_SIZE (1024 * 1024)

typedef struct Text {
        char *p;
        size_t n;
} Text;

/* Append @line unless the text would pass FILE_SIZE. Return: false when full. */
static bool add(Text *t, const char *line) {
        size_t l = strlen(line);

        if (t->n + l > FILE_SIZE)
                return false;
        memcpy(t->p + t->n, line, l + 1);
        t->n += l;
        return true;
}

/* One section, as many unique option names as fit ("0", "1", ... in hex, no value). */
static void gen_keys(Text *t) {
        char line[32];

        add(t, "[Global]\n");
        for (unsigned i = 0;; i++) {
                snprintf(line, sizeof line, "%x\n", i);
                if (!add(t, line))
                        break;
        }
}

/* As many unique section headers as fit. */
static void gen_sections(Text *t) {
        char line[32];

        for (unsigned i = 0;; i++) {
                snprintf(line, sizeof line, "[%x]\n", i);
                if (!add(t, line))
                        break;
        }
}

/* One controller= value continued on as many indented lines as fit. */
static void gen_continuations(Text *t) {
        add(t, "[Controllers]\ncontroller = transport=tcp;traddr=192.0.2.1\n");
        while (add(t, " x\n"))
                ;
}

/* One option repeated on as many lines as fit (every value is kept). */
static void gen_repeats(Text *t) {
        add(t, "[Controllers]\n");
        while (add(t, "exclude=\n"))
                ;
}

/* Sections of ten options, some valid, with comments, inline comments, continuations and
 * sections that repeat (merged), until the file is full. */
static void gen_mix(Text *t) {
        char line[128];

        for (unsigned s = 0;; s++) {
                bool full = false;

                snprintf(line, sizeof line, "[%s]   # section %u\n", s % 3 == 0 ? "Global" : "Sect", s / 3);
                full |= !add(t, line);
                full |= !add(t, "; a comment\nkato = 10\n\n");
                for (unsigned k = 0; k < 8 && !full; k++) {
                        snprintf(line, sizeof line, "Key-%u-%u = value %u  # note\n", s, k, k);
                        full |= !add(t, line);
                }
                full |= !add(
                        t,
                        "controller = transport=tcp;traddr=192.0.2.1\n    transport=tcp;traddr=192.0.2.2\n");
                if (full)
                        break;
        }
}

/* One disconnect-trtypes= value of as many invalid '+'-separated items as fit. */
static void gen_trtypes(Text *t) {
        add(t, "[I/O controller connection management]\ndisconnect-trtypes = tcp");
        while (t->n + 3 < FILE_SIZE)
                add(t, "+x");
        add(t, "\n");
}

/* One controller= entry of as many unknown key=value fields as fit. */
static void gen_fields(Text *t) {
        add(t, "[Controllers]\ncontroller = transport=tcp;traddr=192.0.2.1");
        while (t->n + 6 < FILE_SIZE)
                add(t, ";k=v");
        add(t, "\n");
}

/* clang-format off */
static const struct {
        const char *name;
        void (*gen)(Text *t);
} cases[] = {
        { "keys", gen_keys },
        { "sections", gen_sections },
        { "continuations", gen_continuations },
        { "repeats", gen_repeats },
        { "trtypes", gen_trtypes },
        { "fields", gen_fields },
        { "mix", gen_mix },
};
/* clang-format on */

typedef struct Stamp {
        double wall, cpu;
} Stamp;

static Stamp now(void) {
        struct timespec w, c;

        clock_gettime(CLOCK_MONOTONIC, &w);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
        return (Stamp){ (double) w.tv_sec + (double) w.tv_nsec / 1e9,
                        (double) c.tv_sec + (double) c.tv_nsec / 1e9 };
}

static void count_line(int level, const char *line, void *userdata) {
        (*(unsigned long *) userdata)++;
}

typedef struct Step {
        double wall, cpu; /* best wall time, and the CPU time of that run */
} Step;

static void keep_best(Step *s, Stamp a, Stamp b) {
        if (s->wall == 0 || b.wall - a.wall < s->wall)
                *s = (Step){ b.wall - a.wall, b.cpu - a.cpu };
}

/* One run of case @t: parse, then load for both daemons. */
static int run_once(const Text *t, Step steps[3], unsigned long *lines, size_t *keys, size_t *sections) {
        StasConf *f = NULL, *c = NULL;
        StasIni *ini = NULL;
        Stamp s0, s1, s2, s3;
        int r;

        *lines = 0;
        log_set_sink(count_line, lines);
        s0 = now();
        r = ini_parse_string(t->p, "bench.conf", &ini);
        s1 = now();
        if (r >= 0)
                r = stas_conf_load_string(&stafd_conf_schema, t->p, "bench.conf", &f);
        s2 = now();
        if (r >= 0)
                r = stas_conf_load_string(&stacd_conf_schema, t->p, "bench.conf", &c);
        s3 = now();
        log_set_sink(NULL, NULL);
        if (r >= 0) {
                keep_best(&steps[0], s0, s1);
                keep_best(&steps[1], s1, s2);
                keep_best(&steps[2], s2, s3);
                *keys = ini->n_keys;
                *sections = ini->n_sections;
        }
        ini_free(ini);
        stas_conf_free(f);
        stas_conf_free(c);
        return r;
}

static int bench(size_t i, unsigned runs) {
        Text t = { .p = malloc(FILE_SIZE + 1) };
        Step steps[3] = {};
        unsigned long lines = 0;
        size_t keys = 0, sections = 0;

        if (!t.p)
                return -1;
        t.p[0] = 0;
        cases[i].gen(&t);
        for (unsigned k = 0; k < runs; k++)
                if (run_once(&t, steps, &lines, &keys, &sections) < 0) {
                        fprintf(stderr, "%s: parse failed\n", cases[i].name);
                        free(t.p);
                        return -1;
                }
        printf("%-13s %7zu B %6zu sections %6zu keys | ini_parse %8.4f s (cpu %8.4f) | stafd load "
               "%8.4f s (cpu %8.4f) | stacd load %8.4f s (cpu %8.4f) | %lu log lines\n",
               cases[i].name,
               t.n,
               sections,
               keys,
               steps[0].wall,
               steps[0].cpu,
               steps[1].wall,
               steps[1].cpu,
               steps[2].wall,
               steps[2].cpu,
               lines);
        free(t.p);
        return 0;
}

int main(int argc, char **argv) {
        unsigned runs = 3;
        int rc = 0, o;

        while ((o = getopt(argc, argv, "n:")) >= 0) {
                if (o != 'n' || atoi(optarg) < 1) {
                        fprintf(stderr, "Usage: bench-ini [-n RUNS] [CASE...]\n");
                        return 2;
                }
                runs = (unsigned) atoi(optarg);
        }
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                bool wanted = optind >= argc;

                for (int a = optind; a < argc; a++)
                        wanted |= streq(argv[a], cases[i].name);
                if (wanted && bench(i, runs) < 0)
                        rc = 1;
        }
        return rc;
}
