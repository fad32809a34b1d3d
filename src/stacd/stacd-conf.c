/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-conf.c - stacd.conf to typed settings (see stacd-conf.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "stacd-conf.h"
#include "stas/ini.h"
#include "stas/log.h"
#include "stas/strv.h"

static const char S_GLOBAL[] = "Global";
static const char S_IOCCM[] = "I/O controller connection management";

static const char *disconnect_scope_to_string(StasDisconnectScope s) {
        switch (s) {
        case STAS_DISCONNECT_ALL_MATCHING:
                return "all-connections-matching-disconnect-trtypes";
        case STAS_DISCONNECT_NONE:
                return "no-disconnect";
        default:
                return "only-stas-connections";
        }
}

static int opt_disconnect_scope(
        const StasConfOption *d,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line) {
        static const StasDisconnectScope all[] = {
                STAS_DISCONNECT_ONLY_STAS,
                STAS_DISCONNECT_ALL_MATCHING,
                STAS_DISCONNECT_NONE,
        };

        *reason =
                "expected only-stas-connections, all-connections-matching-disconnect-trtypes or no-disconnect";
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (streq(v, disconnect_scope_to_string(all[i]))) {
                        c->disconnect_scope = all[i];
                        return 0;
                }
        return -EINVAL;
}

static int opt_ncc(
        const StasConfOption *d,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line) {
        int n, r;

        *reason = "expected 0 or an integer in 2..2147483647";
        r = stas_conf_parse_int(v, 0, INT_MAX, &n);
        if (r < 0) {
                c->connect_attempts_on_ncc = 0;
                return -EINVAL;
        }
        if (r > 0)
                stas_conf_warn_clamped(name, line, d->section, d->key, v, "2147483647");
        if (n == 1)
                log_debug("connect-attempts-on-ncc=1 raised to 2.");
        c->connect_attempts_on_ncc = n == 1 ? 2 : n;
        return 0;
}

/* The index in @valid of the item [@b, @e) with blanks trimmed, or -1. */
static int trtype_index(const char *const *valid, size_t n, const char *b, const char *e) {
        while (b < e && isspace((unsigned char) *b))
                b++;
        while (e > b && isspace((unsigned char) e[-1]))
                e--;
        for (size_t k = 0; k < n; k++)
                if (strlen(valid[k]) == (size_t) (e - b) && strneq(valid[k], b, (size_t) (e - b)))
                        return (int) k;
        return -1;
}

static int opt_trtypes(
        const StasConfOption *d,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line) {
        static const char *const valid[] = { "tcp", "rdma", "fc" };
        _cleanup_strv_free_ char **out = NULL;
        IniLogBudget budget = {};
        bool seen[ELEMENTSOF(valid)] = {};
        int r;

        *reason = "expected tcp, rdma and/or fc joined with '+'";
        /* scanned in place: a 1 MiB value must not become a million allocations */
        for (const char *p = v + strspn(v, "+"); *p; p += strspn(p, "+")) {
                size_t n = strcspn(p, "+");
                int k = trtype_index(valid, ELEMENTSOF(valid), p, p + n);

                int level = k < 0 ? ini_log_level(&budget, LOG_WARNING) : LOG_DEBUG;

                if (k < 0 && level <= log_get_max_level()) {
                        _cleanup_free_ char *item = strndup(p, n);

                        log_full(
                                level,
                                "%s:%u: [%s] %s=: ignoring invalid transport type '%s' (%s).",
                                name,
                                line,
                                d->section,
                                d->key,
                                STAS_CONF_SHOWN(strempty(item)),
                                *reason);
                } else if (k >= 0 && !seen[k]) {
                        seen[k] = true;
                        r = strv_extend(&out, valid[k]);
                        if (r < 0)
                                return r;
                }
                p += n;
        }
        if (budget.suppressed > 0)
                log_warning(
                        "%s:%u: [%s] %s=: %lu more invalid transport types ignored, not shown.",
                        name,
                        line,
                        d->section,
                        d->key,
                        budget.suppressed);
        if (!out)
                return -EINVAL;
        strv_free(c->disconnect_trtypes);
        c->disconnect_trtypes = TAKE_PTR(out);
        return 0;
}

#define CF(f) offsetof(StasConf, f)

static const StasConfOption options[] = {
        { S_GLOBAL, "tron", stas_conf_opt_bool, CF(tron), "false" },
        STAS_CONF_CONNECT_OPTION("hdr-digest", "false"),
        STAS_CONF_CONNECT_OPTION("data-digest", "false"),
        STAS_CONF_CONNECT_OPTION("kato", "unset (kernel default)"),
        STAS_CONF_CONNECT_OPTION("queue-size", "unset (kernel default)"),
        STAS_CONF_CONNECT_OPTION("reconnect-delay", "unset (kernel default)"),
        STAS_CONF_CONNECT_OPTION("ctrl-loss-tmo", "unset (kernel default)"),
        STAS_CONF_CONNECT_OPTION("disable-sqflow", "unset (kernel default)"),
        STAS_CONF_CONNECT_OPTION("nr-io-queues", "unset (kernel default)"),
        STAS_CONF_CONNECT_OPTION("nr-write-queues", "unset (kernel default)"),
        STAS_CONF_CONNECT_OPTION("nr-poll-queues", "unset (kernel default)"),
        { S_GLOBAL, "ignore-iface", stas_conf_opt_bool, CF(ignore_iface), "false" },
        { S_GLOBAL, "ip-family", stas_conf_opt_ip_family, 0, "ipv4+ipv6" },
        { S_IOCCM, "disconnect-scope", opt_disconnect_scope, 0, "only-stas-connections" },
        { S_IOCCM, "disconnect-trtypes", opt_trtypes, 0, "tcp" },
        { S_IOCCM, "connect-attempts-on-ncc", opt_ncc, 0, "0" },
};

static int defaults(StasConf *c) {
        c->disconnect_scope = STAS_DISCONNECT_ONLY_STAS;
        return strv_extend(&c->disconnect_trtypes, "tcp");
}

const StasConfSchema stacd_conf_schema = {
        .name = "stacd.conf",
        .options = options,
        .n_options = ELEMENTSOF(options),
        .io_controllers = true,
        .defaults = defaults,
};
