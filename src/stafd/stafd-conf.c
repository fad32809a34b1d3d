/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-conf.c - stafd.conf to typed settings (see stafd-conf.h).
 */
#include <errno.h>
#include <stddef.h>

#include "stafd-conf.h"
#include "stas/log.h"
#include "stas/timespan.h"

static const char S_GLOBAL[] = "Global";
static const char S_SD[] = "Service Discovery";
static const char S_DCCM[] = "Discovery controller connection management";

static int opt_persistence(
        const StasConfOption *o,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line) {
        double s;
        int r;

        *reason = "expected a time span such as 72hours, 3 days 5 hours or -1";
        r = timespan_parse(v, &s);
        if (r == -EINVAL)
                return r;
        if (r == -ERANGE && s > 0) /* a negative span means forever, however long */
                stas_conf_warn_clamped(name, line, o->section, o->key, v, "3650 days");
        c->zeroconf_persistence_sec = s < 0 ? -1 : s;
        return 0;
}

/* [Global] queue-size: taken, with a warning that it has no effect on a discovery controller */
static int opt_queue_size(
        const StasConfOption *o,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line) {
        int r = stas_conf_opt_connect(o, c, v, reason, name, line);

        if (r == 0)
                log_warning(
                        "%s:%u: [Global] queue-size= has no effect: libnvme never sends it to a discovery controller.",
                        name,
                        line);
        return r;
}

#define CF(f) offsetof(StasConf, f)

static const StasConfOption options[] = {
        { S_GLOBAL, "tron", stas_conf_opt_bool, CF(tron), "false" },
        STAS_CONF_CONNECT_OPTION("hdr-digest", "false"),
        STAS_CONF_CONNECT_OPTION("data-digest", "false"),
        STAS_CONF_CONNECT_OPTION("kato", "30"),
        { S_GLOBAL, "queue-size", opt_queue_size, 0, "unset (kernel default)" },
        STAS_CONF_CONNECT_OPTION("reconnect-delay", "unset (kernel default)"),
        STAS_CONF_CONNECT_OPTION("ctrl-loss-tmo", "unset (kernel default)"),
        STAS_CONF_CONNECT_OPTION("disable-sqflow", "unset (kernel default)"),
        { S_GLOBAL, "ignore-iface", stas_conf_opt_bool, CF(ignore_iface), "false" },
        { S_GLOBAL, "ip-family", stas_conf_opt_ip_family, 0, "ipv4+ipv6" },
        { S_GLOBAL, "pleo", stas_conf_opt_enabled, CF(pleo), "enabled" },
        { S_SD, "zeroconf", stas_conf_opt_enabled, CF(zeroconf), "enabled" },
        { S_DCCM, "persistent-connections", stas_conf_opt_bool, CF(persistent_connections), "true" },
        { S_DCCM, "zeroconf-connections-persistence", opt_persistence, 0, "72hours" },
};

static int defaults(StasConf *c) {
        c->global.kato = 30;
        c->pleo = true;
        c->zeroconf = true;
        c->persistent_connections = true;
        c->zeroconf_persistence_sec = STAFD_ZEROCONF_PERSISTENCE_DEFAULT_SEC;
        return 0;
}

/* the connect options stafd's table lacks are stacd's (nr-io-queues, ...) */
static const char *unknown_hint(const char *section, const char *key) {
        return streq(section, S_GLOBAL) && stas_conf_is_connect_option(key) ? " (only valid in stacd.conf)"
                                                                            : NULL;
}

/*
 * stafd connects discovery controllers only, and libnvme 1.3 leaves these options out of the
 * connect string of a discovery controller (nvmf_add_ctrl()): setting them has no effect.
 */
static const char *const dc_unsent_keys[] = {
        "queue-size",         "nr-io-queues", "nr-write-queues", "nr-poll-queues", "dhchap-secret",
        "dhchap-ctrl-secret", NULL,
};

const StasConfSchema stafd_conf_schema = {
        .name = "stafd.conf",
        .options = options,
        .n_options = ELEMENTSOF(options),
        .io_controllers = false,
        .defaults = defaults,
        .unknown_hint = unknown_hint,
        .unsent_keys = dc_unsent_keys,
        .unsent_reason = "libnvme never sends them to a discovery controller, ignoring them",
};
