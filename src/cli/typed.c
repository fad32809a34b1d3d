/* SPDX-License-Identifier: Apache-2.0 */
/*
 * typed.c - the typed JSON of stafctl and stacctl (schema version CLI_JSON_VERSION, documented
 * in stafctl(1)). The daemons speak nvme-stas's wire format, where every value is a string and
 * some hold Python dict text; this file turns those strings into numbers, booleans, nested
 * objects and null, with snake_case keys. Unknown keys stay strings, so a newer daemon never
 * breaks an older CLI.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef enum KeyType {
        KT_STRING,
        KT_INT,
        KT_BOOL,
        KT_TIMER,  /* "60.0s [off]" / "60.0s [12.3s]" */
        KT_PYDICT, /* "{'fail count': 2, 'alive': True}" */
        KT_DEVICE, /* "nvme?" is no device */
        KT_SECONDS_OR_FOREVER,
        KT_OPTIONAL_TEXT, /* "---" is none */
} KeyType;

static const struct {
        const char *key;
        KeyType type;
} key_types[] = {
        /* DLPE */
        { "portid", KT_INT },
        { "cntlid", KT_INT },
        { "asqsz", KT_INT },
        { "eflags", KT_INT },
        /* controller state (nvme-stas's keys, then stas's) */
        { "device", KT_DEVICE },
        { "connected", KT_BOOL },
        { "connect attempts", KT_INT },
        { "retry connect timer", KT_TIMER },
        { "connect operation", KT_PYDICT },
        { "register operation", KT_PYDICT },
        { "get supported log page operation", KT_PYDICT },
        { "get log page operation", KT_PYDICT },
        { "unresponsive timer", KT_TIMER },
        { "unresponsive timeout", KT_SECONDS_OR_FOREVER },
        { "unresponsive time", KT_OPTIONAL_TEXT },
        { "dlpe", KT_PYDICT },
        { "dlpe.eflags.ncc", KT_BOOL },
        { "retry in", KT_INT },
        { "connect attempts total", KT_INT },
        { "connect failures total", KT_INT },
        { "log page genctr", KT_INT },
        { "log page entries", KT_INT },
        { "aen count", KT_INT },
        /* inside the operation dicts */
        { "fail count", KT_INT },
        { "completed", KT_BOOL },
        { "alive", KT_BOOL },
        /* controller= options */
        { "nr-io-queues", KT_INT },
        { "nr-write-queues", KT_INT },
        { "nr-poll-queues", KT_INT },
        { "queue-size", KT_INT },
        { "kato", KT_INT },
        { "reconnect-delay", KT_INT },
        { "ctrl-loss-tmo", KT_INT },
        { "hdr-digest", KT_BOOL },
        { "data-digest", KT_BOOL },
        { "disable-sqflow", KT_BOOL },
        /* process_info */
        { "config soak timer", KT_TIMER },
        { "audit timer", KT_TIMER },
        { "avahi wake up timer", KT_TIMER },
        { "reachable", KT_BOOL },
        { "disposing", KT_INT },
        { "tp8013", KT_BOOL },
        { "host_iface", KT_BOOL },
};

static KeyType key_type(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(key_types); i++)
                if (strcasecmp(key_types[i].key, key) == 0)
                        return key_types[i].type;
        return KT_STRING;
}

/**
 * cli_json_key() - see cli.h.
 */
char *cli_json_key(const char *key) {
        char *s = strdup(key);

        if (!s)
                return NULL;
        for (char *p = s; *p; p++) {
                if (*p == ' ' || *p == '-' || *p == '.')
                        *p = '_';
                else if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        }
        return s;
}

static bool parse_int(const char *s, long long *ret) {
        char *end;

        if (isempty(s))
                return false;
        errno = 0;
        *ret = strtoll(s, &end, 10);
        return errno == 0 && *end == 0;
}

static bool parse_double(const char *s, double *ret) {
        char *end;

        if (isempty(s))
                return false;
        errno = 0;
        *ret = strtod(s, &end);
        return errno == 0 && end != s && *end == 0;
}

/* "60.0s [off]" -> {"period_s": 60.0, "remaining_s": null}; "60.0s [12.3s]" -> remaining 12.3. */
static json_object *timer_value(const char *s) {
        _cleanup_free_ char *period = NULL, *rest = NULL;
        json_object *o;
        double p, left;

        if (sscanf(s, "%m[0-9.]s [%m[^]]]", &period, &rest) != 2 || !parse_double(period, &p))
                return NULL;
        o = json_object_new_object();
        if (!o)
                return NULL;
        /* the daemon's own digits, not a binary double's: "0.15", never 0.14999999999999999 */
        json_object_object_add(o, "period_s", json_object_new_double_s(p, period));
        if (streq(rest, "off"))
                json_object_object_add(o, "remaining_s", NULL);
        else {
                size_t n = strlen(rest);
                if (n > 0 && rest[n - 1] == 's')
                        rest[n - 1] = 0;
                if (!parse_double(rest, &left)) {
                        json_object_put(o);
                        return NULL;
                }
                json_object_object_add(o, "remaining_s", json_object_new_double_s(left, rest));
        }
        return o;
}

/* One quoted Python string at *@p ('...' with \\ and \' escapes) into a new string. */
static char *py_quoted(const char **p) {
        const char *s = *p;
        char q = *s++;
        size_t n = 0, cap = strlen(s) + 1;
        char *out = malloc(cap);

        if (!out)
                return NULL;
        for (; *s && *s != q; s++) {
                if (*s == '\\' && s[1])
                        s++;
                out[n++] = *s;
        }
        if (*s != q) {
                free(out);
                return NULL;
        }
        out[n] = 0;
        *p = s + 1;
        return out;
}

/* A bare value (True, 3, armed) up to ',' or '}'. */
static char *py_bare(const char **p) {
        size_t n = strcspn(*p, ",}");
        char *out;

        while (n > 0 && (*p)[n - 1] == ' ')
                n--;
        out = strndup(*p, n);
        *p += n;
        return out;
}

static void skip_spaces(const char **p) {
        while (**p == ' ')
                (*p)++;
}

/**
 * cli_pydict_parse() - see cli.h.
 */
int cli_pydict_parse(const char *s, StasKV **ret) {
        _cleanup_(kv_freep) StasKV *kv = kv_new();
        const char *p = s;

        if (!kv)
                return -ENOMEM;
        skip_spaces(&p);
        if (*p++ != '{')
                return -EINVAL;
        for (skip_spaces(&p); *p != '}';) {
                _cleanup_free_ char *k = NULL, *v = NULL;
                bool quoted;

                if (*p != '\'' && *p != '"')
                        return -EINVAL;
                k = py_quoted(&p);
                skip_spaces(&p);
                if (!k || *p++ != ':')
                        return -EINVAL;
                skip_spaces(&p);
                quoted = *p == '\'' || *p == '"';
                v = quoted ? py_quoted(&p) : py_bare(&p);
                if (!v)
                        return -EINVAL;
                /* None is no value: the typed form is null */
                if (kv_set(kv, k, !quoted && streq(v, "None") ? "" : v) < 0)
                        return -ENOMEM;
                skip_spaces(&p);
                if (*p == ',') {
                        p++;
                        skip_spaces(&p);
                } else if (*p != '}')
                        return -EINVAL;
        }
        p++;
        skip_spaces(&p);
        if (*p)
                return -EINVAL;
        *ret = TAKE_PTR(kv);
        return 0;
}

/**
 * cli_typed_value() - see cli.h.
 */
json_object *cli_typed_value(const char *key, const char *value) {
        long long n;

        if (isempty(value))
                return NULL;
        switch (key_type(key)) {
        case KT_INT:
                return parse_int(value, &n) ? json_object_new_int64(n) : json_object_new_string(value);
        case KT_BOOL:
                if (strcasecmp(value, "true") == 0)
                        return json_object_new_boolean(true);
                if (strcasecmp(value, "false") == 0)
                        return json_object_new_boolean(false);
                break;
        case KT_TIMER: {
                json_object *o = timer_value(value);
                if (o)
                        return o;
                break;
        }
        case KT_PYDICT: {
                _cleanup_(kv_freep) StasKV *kv = NULL;
                if (streq(value, "None"))
                        return NULL;
                if (cli_pydict_parse(value, &kv) == 0)
                        return cli_typed_kv(kv);
                break;
        }
        case KT_DEVICE:
                if (streq(value, "nvme?"))
                        return NULL;
                break;
        case KT_SECONDS_OR_FOREVER:
                if (streq(value, "forever"))
                        return NULL;
                if (sscanf(value, "%lld sec", &n) == 1)
                        return json_object_new_int64(n);
                break;
        case KT_OPTIONAL_TEXT:
                if (streq(value, "---"))
                        return NULL;
                break;
        case KT_STRING:
                break;
        }
        return json_object_new_string(value);
}

/**
 * cli_typed_kv() - see cli.h.
 */
json_object *cli_typed_kv(const StasKV *kv) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        KV_FOREACH(i, kv) {
                _cleanup_free_ char *k = cli_json_key(kv->keys[i]);
                if (!k) {
                        json_object_put(o);
                        return NULL;
                }
                json_object_object_add(o, k, cli_typed_value(kv->keys[i], kv->values[i]));
        }
        return o;
}

/* The text from @a to @b, without the ", " that separates it from what came before (@skip). */
static char *segment(const char *a, const char *b, size_t skip) {
        a += skip;
        return a <= b ? strndup(a, (size_t) (b - a)) : NULL;
}

/*
 * "(eth0, IPv4, SFSS._nvme-disc._tcp.local, _nvme-disc._tcp)": the avahi service key's parts
 * (the name may hold commas: it runs from the second to the last one). A key of another shape
 * is kept whole as the name.
 */
static json_object *avahi_service(const char *key, json_object *val) {
        _cleanup_free_ char *iface = NULL, *proto = NULL, *name = NULL, *type = NULL;
        json_object *o = json_object_new_object();
        size_t n = strlen(key);
        const char *c1 = strchr(key, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL, *last = strrchr(key, ',');

        if (!o)
                return NULL;
        if (n > 2 && key[0] == '(' && key[n - 1] == ')' && c2 && last > c2) {
                iface = segment(key, c1, 1);
                proto = segment(c1, c2, 2);
                name = segment(c2, last, 2);
                type = segment(last, key + n - 1, 2);
        }
        json_object_object_add(o, "interface", iface ? json_object_new_string(iface) : NULL);
        json_object_object_add(o, "protocol", proto ? json_object_new_string(proto) : NULL);
        json_object_object_add(o, "name", name ? json_object_new_string(name) : json_object_new_string(key));
        json_object_object_add(o, "type", type ? json_object_new_string(type) : NULL);
        if (json_object_is_type(val, json_type_object)) {
                json_object_object_foreach(val, k, v) {
                        _cleanup_free_ char *jk = cli_json_key(k);
                        json_object_object_add(
                                o,
                                jk,
                                json_object_is_type(v, json_type_string)
                                        ? cli_typed_value(k, json_object_get_string(v))
                                        : json_object_get(v));
                }
        }
        return o;
}

/* A value of process_info: strings typed by their key, objects walked (avahi's services listed). */
static json_object *typed_json(const char *key, json_object *v) {
        json_object *o;

        if (json_object_is_type(v, json_type_string))
                return cli_typed_value(key, json_object_get_string(v));
        if (!json_object_is_type(v, json_type_object))
                return json_object_get(v);
        o = json_object_new_object();
        if (streq(key, "services")) {
                json_object *l = json_object_new_array();
                json_object_object_foreach(v, k, x) json_object_array_add(l, avahi_service(k, x));
                json_object_put(o);
                return l;
        }
        json_object_object_foreach(v, k, x) {
                _cleanup_free_ char *jk = cli_json_key(k);
                json_object_object_add(o, jk, typed_json(k, x));
        }
        return o;
}

/* The object @name in @root, made if missing. */
static json_object *sub_object(json_object *root, const char *name) {
        json_object *o;

        if (json_object_object_get_ex(root, name, &o))
                return o;
        o = json_object_new_object();
        json_object_object_add(root, name, o);
        return o;
}

/**
 * cli_typed_process_info() - see cli.h.
 */
json_object *cli_typed_process_info(json_object *info) {
        json_object *o = json_object_new_object();

        if (!o || !json_object_is_type(info, json_type_object))
                return o;
        json_object_object_foreach(info, key, v) {
                const char *dot = strchr(key, '.');
                _cleanup_free_ char *group = NULL, *jk = NULL, *head = NULL;

                if (!dot) {
                        jk = cli_json_key(key);
                        json_object_object_add(o, jk, typed_json(key, v));
                        continue;
                }
                /* "kernel support.TP8013", "terminator.audit timer", "terminator.controller.<TID>" */
                head = strndup(key, (size_t) (dot - key));
                group = head ? cli_json_key(head) : NULL;
                if (!group)
                        continue;
                if (streq(group, "terminator") &&
                    strncmp(dot + 1, "controller.", strlen("controller.")) == 0) {
                        json_object *l, *t = sub_object(o, group), *c = json_object_new_object();
                        if (!json_object_object_get_ex(t, "controllers", &l)) {
                                l = json_object_new_array();
                                json_object_object_add(t, "controllers", l);
                        }
                        json_object_object_add(
                                c, "tid", json_object_new_string(dot + 1 + strlen("controller.")));
                        json_object_object_add(c, "status", typed_json("", v));
                        json_object_array_add(l, c);
                        continue;
                }
                jk = cli_json_key(dot + 1);
                json_object_object_add(sub_object(o, group), jk, typed_json(dot + 1, v));
        }
        return o;
}

/**
 * cli_ctrl_state() - see cli.h.
 */
char *cli_ctrl_state(const StasKV *kv) {
        const char *state = kv_get(kv, "state"), *reason = kv_get(kv, "state reason"),
                   *in = kv_get(kv, "retry in");
        char *s = NULL;

        if (isempty(state)) /* a daemon without the key (nvme-stas) */
                return strdup(streq(strempty(kv_get(kv, "device")), "nvme?") ? "not connected" : "-");
        if (streq(state, "retrying") && !isempty(in))
                return asprintf(
                               &s,
                               "retrying in %ss%s%s%s",
                               in,
                               isempty(reason) ? "" : " (",
                               strempty(reason),
                               isempty(reason) ? "" : ")") < 0
                        ? NULL
                        : s;
        if (!isempty(reason))
                return asprintf(&s, "%s (%s)", state, reason) < 0 ? NULL : s;
        return strdup(state);
}
