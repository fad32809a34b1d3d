/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stas/ini.h"
#include "stas/log.h"
#include "stas/conf.h"
#include "stas/strv.h"
#include "stas/tid.h"
#include "stas/timespan.h"
#include "stas/wire.h"

#define SECRET_FILE_MAX 4096

static const char S_CTRLS[] = "Controllers";

/* ---- messages ---- */

/**
 * stas_conf_shown() - see conf.h.
 * @text: file content
 * @buf: STAS_CONF_SHOWN_MAX + 4 bytes
 */
const char *stas_conf_shown(const char *text, char *buf) {
        const char *t = ini_redact(text);

        if (strlen(t) <= STAS_CONF_SHOWN_MAX)
                return t;
        snprintf(buf, STAS_CONF_SHOWN_MAX + 4, "%.*s...", STAS_CONF_SHOWN_MAX, t);
        return buf;
}

#define SHOWN(text) STAS_CONF_SHOWN(text)

/* ---- value checkers, shared by [Global] and controller= overrides ---- */

static int parse_bool(const char *v, bool *ret) {
        if (strcasecmp(v, "true") == 0)
                *ret = true;
        else if (strcasecmp(v, "false") == 0)
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

/**
 * stas_conf_parse_int() - see conf.h.
 * @v: the value
 * @min: the smallest accepted
 * @max: the largest accepted
 * @ret: the number
 */
int stas_conf_parse_int(const char *v, int min, int max, int *ret) {
        const char *p = v;
        long long n = 0;
        bool neg = false;

        if (*p == '+' || *p == '-')
                neg = *p++ == '-';
        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++)
                if (n <=
                    (long long) INT_MAX + 1) /* saturate: beyond this the value is out of range anyway */
                        n = n * 10 + (*p - '0');
        if (*p)
                return -EINVAL;
        if (neg)
                n = -n;
        if (n < min)
                return -ERANGE;
        if (n > max) {
                *ret = max;
                return 1;
        }
        *ret = (int) n;
        return 0;
}

typedef enum ConnKind {
        CONN_BOOL,
        CONN_INT,
} ConnKind;

typedef struct ConnOptDef {
        const char *key;
        ConnKind kind;
        int min, max;
        size_t offset;      /* an int in StasConnectOptions */
        const char *expect; /* for messages */
} ConnOptDef;

#define CO(f) offsetof(StasConnectOptions, f)

/*
 * The maxima (documented in stafd.conf(5) and stacd.conf(5)): the kernel multiplies kato,
 * reconnect-delay and ctrl-loss-tmo by HZ (at most 1000) in 32-bit arithmetic, so 2147483 s
 * (about 24.8 days) is the most it handles without overflow; it refuses queue sizes above 1024;
 * the NVMe queue count is 16 bits (the kernel also uses at most one queue per CPU).
 */
#define SECONDS_MAX (INT_MAX / 1000)
#define QUEUES_MAX 65535

static const ConnOptDef conn_opts[] = {
        { "hdr-digest", CONN_BOOL, 0, 1, CO(hdr_digest), "true or false" },
        { "data-digest", CONN_BOOL, 0, 1, CO(data_digest), "true or false" },
        { "kato", CONN_INT, 0, SECONDS_MAX, CO(kato), "an integer in 0..2147483" },
        { "queue-size", CONN_INT, 16, 1024, CO(queue_size), "an integer in 16..1024" },
        { "reconnect-delay", CONN_INT, 1, SECONDS_MAX, CO(reconnect_delay), "an integer in 1..2147483" },
        { "ctrl-loss-tmo", CONN_INT, -1, SECONDS_MAX, CO(ctrl_loss_tmo), "an integer in -1..2147483" },
        { "disable-sqflow", CONN_BOOL, 0, 1, CO(disable_sqflow), "true or false" },
        { "nr-io-queues", CONN_INT, 1, QUEUES_MAX, CO(nr_io_queues), "an integer in 1..65535" },
        { "nr-write-queues", CONN_INT, 0, QUEUES_MAX, CO(nr_write_queues), "an integer in 0..65535" },
        { "nr-poll-queues", CONN_INT, 0, QUEUES_MAX, CO(nr_poll_queues), "an integer in 0..65535" },
};

static const ConnOptDef *conn_opt_find(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(conn_opts); i++)
                if (streq(conn_opts[i].key, key))
                        return &conn_opts[i];
        return NULL;
}

static int conn_opt_parse(const ConnOptDef *d, const char *v, int *ret) {
        bool b;

        if (d->kind == CONN_INT)
                return stas_conf_parse_int(v, d->min, d->max, ret);
        if (parse_bool(v, &b) < 0)
                return -EINVAL;
        *ret = b;
        return 0;
}

static void conn_opt_store(const ConnOptDef *d, StasConnectOptions *o, int v) {
        *(int *) ((char *) o + d->offset) = v;
        if (d->offset == CO(ctrl_loss_tmo))
                o->ctrl_loss_tmo_set = true;
}

/* ---- the option tables' shared parsers ---- */

/**
 * stas_conf_opt_bool() - see conf.h.
 */
int stas_conf_opt_bool(
        const StasConfOption *o,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line) {
        *reason = "expected true or false";
        return parse_bool(v, (bool *) ((char *) c + o->offset));
}

/**
 * stas_conf_opt_enabled() - see conf.h.
 */
int stas_conf_opt_enabled(
        const StasConfOption *o,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line) {
        bool *b = (bool *) ((char *) c + o->offset);

        *reason = "expected enabled or disabled";
        if (streq(v, "enabled"))
                *b = true;
        else if (streq(v, "disabled"))
                *b = false;
        else
                return -EINVAL;
        return 0;
}

/**
 * stas_conf_warn_clamped() - see conf.h.
 */
void stas_conf_warn_clamped(
        const char *name,
        unsigned line,
        const char *section,
        const char *key,
        const char *v,
        const char *max) {
        log_warning(
                "%s:%u: value '%s' for [%s] %s= is above the maximum, using %s.",
                name,
                line,
                SHOWN(v),
                section,
                key,
                max);
}

/**
 * stas_conf_opt_connect() - see conf.h.
 */
int stas_conf_opt_connect(
        const StasConfOption *o,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line) {
        const ConnOptDef *co = conn_opt_find(o->key);
        char max[16];
        int n, r;

        if (!co)
                return -EINVAL; /* a table naming no connect option: a programming error */
        *reason = co->expect;
        r = conn_opt_parse(co, v, &n);
        if (r < 0)
                return r;
        if (r > 0) {
                snprintf(max, sizeof(max), "%d", n);
                stas_conf_warn_clamped(name, line, o->section, o->key, v, max);
        }
        conn_opt_store(co, &c->global, n);
        return 0;
}

/**
 * stas_conf_opt_ip_family() - see conf.h.
 */
int stas_conf_opt_ip_family(
        const StasConfOption *o,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line) {
        *reason = "expected ipv4, ipv6, ipv4+ipv6 or ipv6+ipv4";
        if (streq(v, "ipv4"))
                c->ip_family = STAS_IPFAM_V4, c->ipv6_first = false;
        else if (streq(v, "ipv6"))
                c->ip_family = STAS_IPFAM_V6, c->ipv6_first = true;
        else if (streq(v, "ipv4+ipv6"))
                c->ip_family = STAS_IPFAM_BOTH, c->ipv6_first = false;
        else if (streq(v, "ipv6+ipv4"))
                c->ip_family = STAS_IPFAM_BOTH, c->ipv6_first = true;
        else
                return -EINVAL;
        return 0;
}

/**
 * stas_conf_is_connect_option() - see conf.h.
 * @key: an option name (lower-case)
 */
bool stas_conf_is_connect_option(const char *key) {
        return conn_opt_find(key) != NULL;
}

/* The option of @s's table, or NULL; [Controllers] controller= / exclude= are the loader's own. */
static const StasConfOption *opt_find(const StasConfSchema *s, const char *section, const char *key) {
        /* called for every key of a file: compare the first letter before the strings */
        for (size_t i = 0; i < s->n_options; i++)
                if (s->options[i].key[0] == key[0] && streq(s->options[i].key, key) &&
                    streq(s->options[i].section, section))
                        return &s->options[i];
        return NULL;
}

static bool entry_option(const char *section, const char *key) {
        return streq(section, S_CTRLS) && (streq(key, "controller") || streq(key, "exclude"));
}

static bool section_valid(const StasConfSchema *s, const char *section) {
        if (streq(section, S_CTRLS))
                return true;
        for (size_t i = 0; i < s->n_options; i++)
                if (streq(s->options[i].section, section))
                        return true;
        return false;
}

/* ---- defaults, free ---- */

const char *stas_ip_family_to_string(StasIpFamily f, bool ipv6_first) {
        switch (f) {
        case STAS_IPFAM_V4:
                return "ipv4";
        case STAS_IPFAM_V6:
                return "ipv6";
        default:
                return ipv6_first ? "ipv6+ipv4" : "ipv4+ipv6";
        }
}

StasConf *stas_conf_free(StasConf *c) {
        if (!c)
                return NULL;
        free(c->name);
        strv_free(c->disconnect_trtypes);
        connect_options_done(&c->global);
        for (size_t i = 0; i < c->n_controllers; i++)
                kv_free(c->controllers[i]);
        free(c->controllers);
        free(c->controller_lines);
        for (size_t i = 0; i < c->n_excludes; i++)
                kv_free(c->excludes[i]);
        free(c->excludes);
        free(c->exclude_lines);
        free(c);
        return NULL;
}

StasConf *stas_conf_new_default(const StasConfSchema *s) {
        _cleanup_(stas_conf_freep) StasConf *c = new0(StasConf, 1);

        if (!c)
                return NULL;
        c->schema = s;
        c->name = strdup(s->name);
        if (!c->name)
                return NULL;
        c->ip_family = STAS_IPFAM_BOTH;
        connect_options_init(&c->global);
        c->global.hdr_digest = 0;
        c->global.data_digest = 0;
        if (s->defaults && s->defaults(c) < 0)
                return NULL;
        return TAKE_PTR(c);
}

/* ---- controller= / exclude= entries ---- */

static const char *const identity_keys[] = {
        "transport", "traddr", "trsvcid", "subsysnqn", "host-traddr", "host-iface", "host-nqn",
};

static bool is_secret_key(const char *k) {
        return streq(k, "dhchap-secret") || streq(k, "dhchap-ctrl-secret");
}

static bool entry_key_known(const char *k) {
        for (size_t i = 0; i < ELEMENTSOF(identity_keys); i++)
                if (streq(identity_keys[i], k))
                        return true;
        return conn_opt_find(k) || is_secret_key(k);
}

/* A key that looks like a key (and so cannot be a secret typed in the wrong place). */
static bool printable_key(const char *k) {
        if (strlen(k) > 32)
                return false;
        for (; *k; k++)
                if (!islower((unsigned char) *k) && !isdigit((unsigned char) *k) && *k != '-' && *k != '_')
                        return false;
        return true;
}

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        for (e = s + strlen(s); e > s && isspace((unsigned char) e[-1]); e--)
                ;
        *e = 0;
        return s;
}

/* The first line of @path, stripped. Return: 0, -ENODATA if empty, -errno. */
static int read_secret_file(const char *path, char **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t n;
        char *s;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        buf = malloc(SECRET_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        n = fread(buf, 1, SECRET_FILE_MAX, f);
        if (ferror(f))
                return -(errno ?: EIO);
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        s = strip(buf);
        if (!*s)
                return -ENODATA;
        s = strdup(s);
        explicit_bzero(buf, SECRET_FILE_MAX + 1);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* One entry being parsed: where it is and how loud its warnings may be. */
typedef struct EntryCtx {
        const StasConfSchema *schema;
        bool exclude;
        const char *what; /* "controller" or "exclude" */
        const char *name;
        unsigned line;
        IniLogBudget *budget; /* NULL: every warning at warning level */
} EntryCtx;

#define entry_warning(x, ...) log_full(ini_log_level((x)->budget, LOG_WARNING), __VA_ARGS__)
#define entry_drop(x, ...) log_full_errno(ini_log_level((x)->budget, LOG_WARNING), EINVAL, __VA_ARGS__)

/* A connect override: checked like its [Global] option, stored in canonical form. */
static int entry_override(
        const EntryCtx *x, StasKV *kv, const ConnOptDef *co, const char *key, const char *val) {
        char canon[16];
        int n, r;

        r = conn_opt_parse(co, val, &n);
        if (r > 0)
                entry_warning(
                        x,
                        "%s:%u: value '%s' for %s= override %s is above the maximum, using %d.",
                        x->name,
                        x->line,
                        SHOWN(val),
                        x->what,
                        key,
                        n);
        if (r < 0) {
                entry_warning(
                        x,
                        "%s:%u: invalid value '%s' for %s= override %s (%s), using the [Global] value.",
                        x->name,
                        x->line,
                        SHOWN(val),
                        x->what,
                        key,
                        co->expect);
                return 0;
        }
        if (co->kind == CONN_BOOL)
                snprintf(canon, sizeof(canon), "%s", n ? "true" : "false");
        else
                snprintf(canon, sizeof(canon), "%d", n);
        return kv_set(kv, key, canon);
}

/* dhchap-secret-file= / dhchap-ctrl-secret-file=: the secret from the file, under the key without
 * "-file" (in place). Return: 1 with *@ret, 0 when dropped (warning), -ENOMEM. */
static int entry_secret_file(const EntryCtx *x, char *key, const char *path, char **ret) {
        int r = read_secret_file(path, ret);

        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                entry_warning(
                        x,
                        "%s:%u: %s= %s: cannot read a secret from '%s' (%s), ignoring the key.",
                        x->name,
                        x->line,
                        x->what,
                        key,
                        SHOWN(path),
                        r == -ENODATA ? "empty first line" : strerror(-r));
                return 0;
        }
        key[strlen(key) - strlen("-file")] = 0;
        return 1;
}

/* One ';'-separated field @tok (number @field) of the entry into @kv. Return: 0 or -ENOMEM. */
static int entry_field(const EntryCtx *x, StasKV *kv, char *tok, size_t field, bool *unknown) {
        _cleanup_free_ char *secret = NULL;
        char *eq, *key, *val;
        int r;

        tok = strip(tok);
        if (!*tok)
                return 0;
        eq = strchr(tok, '=');
        if (!eq) {
                /* the text is not shown: it may be a mistyped secret */
                entry_warning(
                        x,
                        "%s:%u: %s= field %zu has no '=', ignoring it.",
                        x->name,
                        x->line,
                        x->what,
                        field);
                return 0;
        }
        *eq = 0;
        key = strip(tok);
        val = strip(eq + 1);
        for (char *p = key; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        if (!*key) {
                entry_warning(
                        x,
                        "%s:%u: %s= field %zu has no key, ignoring it.",
                        x->name,
                        x->line,
                        x->what,
                        field);
                return 0;
        }
        if (streq(key, "nqn"))
                key = (char *) "subsysnqn";

        if (streq(key, "dhchap-secret-file") || streq(key, "dhchap-ctrl-secret-file")) {
                r = entry_secret_file(x, key, val, &secret);
                if (r <= 0)
                        return r;
                val = secret;
        } else if (!entry_key_known(key)) {
                /* a key that does not look like one may contain a mistyped secret: not shown */
                if (!printable_key(key))
                        entry_warning(
                                x,
                                "%s:%u: %s= field %zu has an unknown key, ignoring %s.",
                                x->name,
                                x->line,
                                x->what,
                                field,
                                x->exclude ? "the whole entry" : "the key");
                else
                        entry_warning(
                                x,
                                "%s:%u: %s= has unknown key '%s', ignoring %s.",
                                x->name,
                                x->line,
                                x->what,
                                SHOWN(key),
                                x->exclude ? "the whole entry" : "the key");
                *unknown = true;
                return 0;
        }

        if (!x->exclude && conn_opt_find(key))
                r = entry_override(x, kv, conn_opt_find(key), key, val);
        else
                r = kv_set(kv, key, val);
        if (secret)
                explicit_bzero(secret, strlen(secret));
        return r;
}

/* The checks and defaults of a controller= entry. Return: 0, -EINVAL (dropped, warning), -ENOMEM. */
static int entry_finish_controller(const EntryCtx *x, StasKV *kv) {
        const char *transport = kv_get(kv, "transport"), *v;
        int r;

        if (isempty(transport))
                return entry_drop(
                        x, "%s:%u: controller= entry without transport=, ignoring it.", x->name, x->line);
        if (!streq(transport, "tcp") && !streq(transport, "rdma") && !streq(transport, "fc") &&
            !streq(transport, "loop"))
                return entry_drop(
                        x,
                        "%s:%u: controller= entry with unknown transport '%s' (expected tcp, rdma, fc or loop), ignoring it.",
                        x->name,
                        x->line,
                        SHOWN(transport));
        if (isempty(kv_get(kv, "traddr")) && !streq(transport, "loop"))
                return entry_drop(
                        x, "%s:%u: controller= entry without traddr=, ignoring it.", x->name, x->line);

        v = kv_get(kv, "trsvcid");
        if (streq(transport, "fc") || streq(transport, "loop")) {
                if (!isempty(v))
                        log_debug(
                                "%s:%u: trsvcid= does not apply to %s, dropped.",
                                x->name,
                                x->line,
                                transport);
                r = kv_set(kv, "trsvcid", "");
        } else if (isempty(v))
                r = kv_set(kv, "trsvcid", streq(transport, "tcp") ? "8009" : "4420");
        else
                r = 0;
        if (r < 0)
                return r;

        if (isempty(kv_get(kv, "subsysnqn"))) {
                if (x->schema->io_controllers)
                        return entry_drop(
                                x,
                                "%s:%u: controller= entry without nqn= (mandatory for I/O controllers), ignoring it.",
                                x->name,
                                x->line);
                return kv_set(kv, "subsysnqn", NVME_DISC_WKNQN);
        }
        return 0;
}

/* Every field that reaches the connect string follows validate.h (a host name is fine in traddr). */
static int entry_check(const EntryCtx *x, const StasKV *kv) {
        const char *field = NULL;
        char shown[64];
        int r = stas_check_entry(kv, &field);

        if (r == -ENOMEM || r >= 0)
                return r;
        if (strncmp(field, "dhchap", 6) == 0)
                return entry_drop(
                        x,
                        "%s:%u: controller= entry has an invalid %s (a ',' or a blank), ignoring it.",
                        x->name,
                        x->line,
                        field);
        return entry_drop(
                x,
                "%s:%u: controller= entry has an invalid %s '%s', ignoring it.",
                x->name,
                x->line,
                field,
                stas_excerpt(kv_get(kv, field), shown, sizeof(shown)));
}

static int parse_entry(const EntryCtx *x, const char *value, StasKV **ret) {
        _cleanup_(kv_freep) StasKV *kv = NULL;
        _cleanup_free_ char *copy = NULL;
        bool unknown = false;
        size_t field = 0;
        char *state, *tok;
        int r;

        if (!value)
                return entry_drop(x, "%s:%u: %s= without a value, ignoring.", x->name, x->line, x->what);
        copy = strdup(value);
        kv = kv_new();
        if (!copy || !kv)
                return -ENOMEM;

        for (tok = strtok_r(copy, ";", &state); tok; tok = strtok_r(NULL, ";", &state)) {
                r = entry_field(x, kv, tok, ++field, &unknown);
                if (r < 0)
                        return r;
        }
        explicit_bzero(copy, strlen(value));

        if (x->exclude) {
                if (unknown)
                        return -EINVAL;
                (void) kv_remove(kv, "host-traddr");
                if (kv->n == 0)
                        return entry_drop(
                                x,
                                "%s:%u: exclude= entry matches nothing specific (no usable key), ignoring it.",
                                x->name,
                                x->line);
        } else {
                r = entry_finish_controller(x, kv);
                if (r < 0)
                        return r;
                r = entry_check(x, kv);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(kv);
        return 0;
}

int stas_conf_parse_entry(
        const StasConfSchema *s,
        bool exclude,
        const char *value,
        const char *name,
        unsigned line,
        StasKV **ret) {
        EntryCtx x = {
                .schema = s,
                .exclude = exclude,
                .what = exclude ? "exclude" : "controller",
                .name = name ?: "<string>",
                .line = line,
        };

        return parse_entry(&x, value, ret);
}

/* Append @kv (taken) and @line to the list; the arrays double when full. */
static int entries_add(
        StasKV ***list, unsigned **lines, size_t *n, size_t *allocated, StasKV *kv, unsigned line) {
        if (*n == *allocated) {
                size_t a = *allocated ? *allocated * 2 : 8;
                StasKV **l = reallocarray(*list, a, sizeof(*l));
                unsigned *ln;

                if (!l)
                        return -ENOMEM;
                *list = l;
                ln = reallocarray(*lines, a, sizeof(*ln));
                if (!ln)
                        return -ENOMEM;
                *lines = ln;
                *allocated = a;
        }
        (*list)[*n] = kv;
        (*lines)[*n] = line;
        (*n)++;
        return 0;
}

/* The one warning about the keys of a loaded controller= entry that are never sent (schema). */
static void warn_unsent(const EntryCtx *x, const StasKV *kv) {
        char keys[256] = "";
        size_t n = 0;

        for (const char *const *k = x->schema->unsent_keys; k && *k; k++)
                if (!isempty(kv_get(kv, *k)) && n < sizeof(keys))
                        n += (size_t) snprintf(keys + n, sizeof(keys) - n, "%s%s", n ? ", " : "", *k);
        if (n > 0)
                entry_warning(
                        x,
                        "%s:%u: controller= entry sets %s: %s.",
                        x->name,
                        x->line,
                        keys,
                        strempty(x->schema->unsent_reason));
}

static int load_entries(StasConf *c, const StasIni *ini, bool exclude, IniLogBudget *budget) {
        const StasIniKey *k = ini_find(ini, S_CTRLS, exclude ? "exclude" : "controller");
        size_t allocated = 0;
        int r;

        for (size_t i = 0; k && i < k->n_values; i++) {
                EntryCtx x = {
                        .schema = c->schema,
                        .exclude = exclude,
                        .what = exclude ? "exclude" : "controller",
                        .name = c->name,
                        .line = k->values[i].line,
                        .budget = budget,
                };
                StasKV *kv = NULL;

                r = parse_entry(&x, k->values[i].value, &kv);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                if (!exclude)
                        warn_unsent(&x, kv);
                r = exclude
                        ? entries_add(
                                  &c->excludes, &c->exclude_lines, &c->n_excludes, &allocated, kv, x.line)
                        : entries_add(
                                  &c->controllers,
                                  &c->controller_lines,
                                  &c->n_controllers,
                                  &allocated,
                                  kv,
                                  x.line);
                if (r < 0) {
                        kv_free(kv);
                        return r;
                }
        }
        return 0;
}

/* ---- loading ---- */

/* Unknown sections and options: errors, at most INI_MAX_MESSAGES of them, then one summary. */
static void report_invalid(const StasConf *c, const StasIni *ini) {
        IniLogBudget budget = {};

        for (size_t i = 0; i < ini->n_sections; i++)
                if (!section_valid(c->schema, ini->sections[i].name))
                        log_full(
                                ini_log_level(&budget, LOG_ERR),
                                "%s:%u: invalid section [%s], ignoring it.",
                                c->name,
                                ini->sections[i].line,
                                SHOWN(ini->sections[i].name));

        for (size_t i = 0; i < ini->n_keys; i++) {
                const StasIniKey *k = &ini->keys[i];
                const char *hint;

                if (!section_valid(c->schema, k->section) || entry_option(k->section, k->key) ||
                    opt_find(c->schema, k->section, k->key))
                        continue;
                hint = c->schema->unknown_hint ? c->schema->unknown_hint(k->section, k->key) : NULL;
                log_full(
                        ini_log_level(&budget, LOG_ERR),
                        "%s:%u: invalid option '%s' in [%s]%s, ignoring it.",
                        c->name,
                        k->values[0].line,
                        SHOWN(k->key),
                        SHOWN(k->section),
                        strempty(hint));
        }
        if (budget.suppressed > 0)
                log_error(
                        "%s: %lu more invalid sections and options, not shown, ignored too.",
                        c->name,
                        budget.suppressed);
}

/* The single-valued options of the table: invalid values give a warning and the default. */
static int load_options(StasConf *c, const StasIni *ini) {
        for (size_t i = 0; i < c->schema->n_options; i++) {
                const StasConfOption *o = &c->schema->options[i];
                const StasIniValue *v;
                const char *reason = NULL;
                bool multi;
                int r;

                if (!o->parse)
                        continue;
                v = ini_last(ini_find(ini, o->section, o->key), &multi);
                if (!v)
                        continue;
                if (!v->value)
                        r = -EINVAL, reason = "no value given";
                else if (multi)
                        r = -EINVAL, reason = "the value continues on indented lines";
                else
                        r = o->parse(o, c, v->value, &reason, c->name, v->line);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        log_warning(
                                "%s:%u: invalid value '%s' for [%s] %s= (%s), using the default: %s.",
                                c->name,
                                v->line,
                                SHOWN(strempty(v->value)),
                                o->section,
                                o->key,
                                strempty(reason),
                                o->default_text);
        }
        c->hdr_digest = c->global.hdr_digest == 1;
        c->data_digest = c->global.data_digest == 1;
        return 0;
}

static int load_ini(const StasConfSchema *s, const StasIni *ini, StasConf **ret) {
        _cleanup_(stas_conf_freep) StasConf *c = stas_conf_new_default(s);
        IniLogBudget budget = {};
        int r;

        if (!c || free_and_strdup(&c->name, ini->name) < 0)
                return -ENOMEM;

        report_invalid(c, ini);
        r = load_options(c, ini);
        if (r < 0)
                return r;
        /* one budget for the warnings about all controller= and exclude= entries */
        r = load_entries(c, ini, false, &budget);
        if (r < 0)
                return r;
        r = load_entries(c, ini, true, &budget);
        if (r < 0)
                return r;
        if (budget.suppressed > 0)
                log_warning(
                        "%s: %lu more warnings about controller= and exclude= entries, not shown.",
                        c->name,
                        budget.suppressed);

        *ret = TAKE_PTR(c);
        return 0;
}

int stas_conf_load_string(const StasConfSchema *s, const char *text, const char *name, StasConf **ret) {
        _cleanup_(ini_freep) StasIni *ini = NULL;
        int r;

        r = ini_parse_string(text, name, &ini);
        if (r < 0)
                return r;
        return load_ini(s, ini, ret);
}

int stas_conf_load(const StasConfSchema *s, const char *path, StasConf **ret) {
        _cleanup_(ini_freep) StasIni *ini = NULL;
        int r;

        r = ini_parse_file(path, &ini);
        if (r < 0)
                return r;
        return load_ini(s, ini, ret);
}

/* The line @entry came from (0: not from @c), looked up only for a warning. */
static unsigned entry_line(const StasConf *c, const StasKV *entry) {
        for (size_t i = 0; i < c->n_controllers; i++)
                if (c->controllers[i] == entry)
                        return c->controller_lines[i];
        return 0;
}

int stas_conf_connect_options(const StasConf *c, const StasKV *entry, StasConnectOptions *ret) {
        StasConnectOptions o = c->global;
        const char *name = c->name;

        o.dhchap_secret = o.dhchap_ctrl_secret = NULL;

        KV_FOREACH(i, entry) {
                const char *k = entry->keys[i], *v = entry->values[i];
                const ConnOptDef *co = conn_opt_find(k);
                int n, r;

                if (is_secret_key(k)) {
                        char **dst = streq(k, "dhchap-secret") ? &o.dhchap_secret : &o.dhchap_ctrl_secret;

                        if (free_and_strdup(dst, isempty(v) ? NULL : v) < 0) {
                                connect_options_done(&o);
                                return -ENOMEM;
                        }
                        continue;
                }
                if (!co)
                        continue;
                r = conn_opt_parse(co, v, &n);
                if (r > 0)
                        log_warning(
                                "%s:%u: value '%s' for controller= override %s is above the maximum, using %d.",
                                name,
                                entry_line(c, entry),
                                SHOWN(v),
                                k,
                                n);
                if (r < 0) {
                        log_warning(
                                "%s:%u: invalid value '%s' for controller= override %s (%s), using the [Global] value.",
                                name,
                                entry_line(c, entry),
                                SHOWN(v),
                                k,
                                co->expect);
                        continue;
                }
                conn_opt_store(co, &o, n);
        }
        *ret = o;
        return 0;
}
