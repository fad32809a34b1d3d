/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "stas/ini.h"
#include "stas/hostid.h"
#include "stas/wire.h"
#include "stas/log.h"
#include "stas/sysconf.h"

#define FILE_PREFIX "file://"
#define LINE_MAX_READ 4096

static char *mfree(char *p) {
        free(p);
        return NULL;
}

StasSysConf *sysconf_free(StasSysConf *s) {
        if (!s)
                return NULL;
        free(s->hostnqn);
        free(s->hostid);
        if (s->hostkey)
                explicit_bzero(s->hostkey, strlen(s->hostkey));
        free(s->hostkey);
        free(s->symname);
        free(s);
        return NULL;
}

bool nqn_is_valid(const char *nqn) {
        /* it goes into every connect string: the rules of validate.h */
        return stas_check_nqn(nqn) == 0;
}

bool uuid_is_valid(const char *s) {
        if (!s || strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return false;
                } else if (!isxdigit((unsigned char) s[i]))
                        return false;
        }
        return true;
}

/* First line of @path; @whole: trimmed line, else its first whitespace-separated token.
 * Return: 0 (*ret NULL when empty), -errno. */
static int read_first(const char *path, bool whole, char **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        char buf[LINE_MAX_READ], *b, *e;

        *ret = NULL;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (!fgets(buf, sizeof(buf), f)) {
                if (ferror(f))
                        return -(errno ?: EIO);
                return 0;
        }
        buf[strcspn(buf, "\n")] = 0;
        for (b = buf; isspace((unsigned char) *b); b++)
                ;
        if (whole)
                for (e = b + strlen(b); e > b && isspace((unsigned char) e[-1]); e--)
                        ;
        else
                for (e = b; *e && !isspace((unsigned char) *e); e++)
                        ;
        *e = 0;
        if (*b) {
                *ret = strdup(b);
                if (!*ret)
                        return -ENOMEM;
        }
        explicit_bzero(buf, sizeof(buf));
        return 0;
}

typedef struct Source {
        const char *name; /* file and line for messages */
        unsigned line;
        const char *file; /* a file:// target or NULL */
} Source;

/*
 * Resolve key @key: the [Host] value or @def, then file:// indirection.
 * Return: 0 with *ret (may be NULL), -ENOENT-like errors for unreadable targets (logged by the
 * caller at its own level), -ENOMEM.
 */
static int resolve(
        const StasIni *ini, const char *key, const char *def, bool whole, Source *src, char **ret) {
        const StasIniValue *v = ini_last(ini_find(ini, "Host", key), NULL);
        const char *value = def;

        *ret = NULL;
        *src = (Source){ .name = ini->name };
        if (v && v->value) {
                value = v->value;
                src->line = v->line;
        } else if (v)
                log_warning("%s:%u: [Host] %s has no value, using the default.", ini->name, v->line, key);
        if (!value)
                return 0;
        if (strneq(value, FILE_PREFIX, strlen(FILE_PREFIX))) {
                src->file = value + strlen(FILE_PREFIX);
                return read_first(src->file, whole, ret);
        }
        if (isempty(value))
                return 0;
        *ret = strdup(value);
        return *ret ? 0 : -ENOMEM;
}

static void where(const Source *s, char *buf, size_t n) {
        if (s->line > 0)
                snprintf(buf, n, "%s:%u: ", s->name, s->line);
        else
                snprintf(buf, n, "%s: ", s->name);
}

/* Sections but [Host] and unknown [Host] keys: errors, at most INI_MAX_MESSAGES, then a summary. */
static void report_invalid(const StasIni *ini) {
        static const char *const keys[] = { "nqn", "id", "key", "symname" };
        IniLogBudget budget = {};

        for (size_t i = 0; i < ini->n_sections; i++)
                if (!streq(ini->sections[i].name, "Host"))
                        log_full(
                                ini_log_level(&budget, LOG_ERR),
                                "%s:%u: invalid section [%s], ignoring it.",
                                ini->name,
                                ini->sections[i].line,
                                ini_redact(ini->sections[i].name));
        for (size_t i = 0; i < ini->n_keys; i++) {
                bool ok = false;

                for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                        ok = ok || streq(ini->keys[i].key, keys[k]);
                if (streq(ini->keys[i].section, "Host") && !ok)
                        log_full(
                                ini_log_level(&budget, LOG_ERR),
                                "%s:%u: invalid option '%s' in [Host], ignoring it.",
                                ini->name,
                                ini->keys[i].values[0].line,
                                ini_redact(ini->keys[i].key));
        }
        if (budget.suppressed > 0)
                log_error(
                        "%s: %lu more invalid sections and options, not shown, ignored too.",
                        ini->name,
                        budget.suppressed);
}

const char *sysconf_default_path(void) {
        const char *e = getenv("STAS_SYS_CONF");
        return isempty(e) ? STAS_ETC_STAS "/sys.conf" : e;
}

/*
 * [Host] @key, or the file it names (default /etc/nvme/@file under @root), into *@ret (NULL when
 * unreadable or empty: each warned about, naming @what and the stasadm command that makes one).
 * @at receives where the value came from, for the caller's own checks. Return: 0 or -ENOMEM.
 */
static int load_host_value(
        const StasIni *ini,
        const char *root,
        const char *key,
        const char *file,
        const char *what,
        char **ret,
        char at[static 512]) {
        _cleanup_free_ char *def = NULL;
        Source src;
        int r;

        if (asprintf(&def, FILE_PREFIX "%s" STAS_ETC_NVME "/%s", root, file) < 0)
                return -ENOMEM;
        r = resolve(ini, key, def, false, &src, ret);
        if (r == -ENOMEM)
                return r;
        where(&src, at, 512);
        if (r < 0)
                log_warning_errno(
                        r,
                        "%scannot read the %s from %s: %m; deriving one (see stasadm %s).",
                        at,
                        what,
                        ini_redact(src.file),
                        file);
        else if (!*ret)
                log_warning("%sthe %s is empty; deriving one (see stasadm %s).", at, what, file);
        return 0;
}

/* [Host] nqn (or the file it names, default /etc/nvme/hostnqn), else a derived one */
static int load_hostnqn(const StasIni *ini, const char *root, StasSysConf *s) {
        char at[512];
        int r;

        r = load_host_value(ini, root, "nqn", "hostnqn", "host NQN", &s->hostnqn, at);
        if (r < 0)
                return r;
        if (s->hostnqn && !nqn_is_valid(s->hostnqn)) {
                log_error(
                        "%sinvalid host NQN '%.*s' (must start with \"nqn.\", have at most %d printable characters and no ',', '=' or blank); deriving one.",
                        at,
                        64,
                        ini_redact(s->hostnqn),
                        STAS_NQN_MAX);
                s->hostnqn = mfree(s->hostnqn);
        }
        if (!s->hostnqn) {
                r = hostnqn_generate(root, true, &s->hostnqn);
                if (r < 0)
                        return log_error_errno(r, "Cannot derive a host NQN: %m");
                s->hostnqn_derived = true;
                log_warning("Using the derived host NQN %s.", s->hostnqn);
        }
        return 0;
}

/* A derived host ID: the UUID inside the host NQN (or the derived one), else a random one. */
static int derive_hostid(const char *root, StasSysConf *s) {
        _cleanup_free_ char *nqn = NULL;
        const char *uuid = NULL;
        size_t plen = strlen(NVME_HOSTNQN_UUID_PREFIX);
        int r;

        if (strneq(s->hostnqn, NVME_HOSTNQN_UUID_PREFIX, plen) && uuid_is_valid(s->hostnqn + plen))
                uuid = s->hostnqn + plen;
        else if (
                hostnqn_generate(root, true, &nqn) >= 0 && strneq(nqn, NVME_HOSTNQN_UUID_PREFIX, plen) &&
                uuid_is_valid(nqn + plen))
                uuid = nqn + plen;
        if (uuid) {
                s->hostid = strdup(uuid);
                if (!s->hostid)
                        return -ENOMEM;
        } else {
                r = hostid_generate(&s->hostid);
                if (r < 0)
                        return log_error_errno(r, "Cannot generate a host ID: %m");
        }
        s->hostid_derived = true;
        log_warning("Using the derived host ID %s.", s->hostid);
        return 0;
}

/* [Host] id (or the file it names, default /etc/nvme/hostid), else a derived one */
static int load_hostid(const StasIni *ini, const char *root, StasSysConf *s) {
        char at[512];
        int r;

        r = load_host_value(ini, root, "id", "hostid", "host ID", &s->hostid, at);
        if (r < 0)
                return r;
        if (s->hostid && !uuid_is_valid(s->hostid)) {
                log_error(
                        "%sinvalid host ID '%.*s' (must be a UUID); deriving one.",
                        at,
                        40,
                        ini_redact(s->hostid));
                s->hostid = mfree(s->hostid);
        }
        return s->hostid ? 0 : derive_hostid(root, s);
}

/* [Host] key (a secret: never logged) and symname, both optional */
static int load_optional(const StasIni *ini, const char *root, StasSysConf *s) {
        _cleanup_free_ char *def_key = NULL;
        char at[512];
        Source src;
        int r;

        if (asprintf(&def_key, FILE_PREFIX "%s" STAS_ETC_NVME "/hostkey", root) < 0)
                return -ENOMEM;
        r = resolve(ini, "key", def_key, false, &src, &s->hostkey);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_debug_errno(r, "No host key in %s: %m", ini_redact(src.file));

        /* symbolic name: the whole first line of a file */
        r = resolve(ini, "symname", NULL, true, &src, &s->symname);
        if (r == -ENOMEM)
                return r;
        where(&src, at, sizeof(at));
        if (r < 0)
                log_warning_errno(
                        r, "%scannot read the host symbolic name from %s: %m", at, ini_redact(src.file));
        return 0;
}

int sysconf_load(const char *path, const char *root, StasSysConf **ret) {
        _cleanup_(sysconf_freep) StasSysConf *s = NULL;
        _cleanup_(ini_freep) StasIni *ini = NULL;
        int r;

        root = strempty(root);
        r = ini_parse_file(path ?: sysconf_default_path(), &ini);
        if (r < 0)
                return r;
        report_invalid(ini);
        s = new0(StasSysConf, 1);
        if (!s)
                return -ENOMEM;
        r = load_hostnqn(ini, root, s);
        if (r >= 0)
                r = load_hostid(ini, root, s);
        if (r >= 0)
                r = load_optional(ini, root, s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}
