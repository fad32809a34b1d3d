/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf.h - the typed configuration of stafd (stafd.conf, §3.3) and stacd (stacd.conf, §3.4),
 * loaded from the INI reader (ini.h) through one option table per daemon.
 *
 * Loading never fails on bad content, only on a syntax error or an I/O error (then the caller
 * keeps its running configuration):
 *   - unknown sections and options (including removed legacy ones such as sticky-connections,
 *     udev-rule, blacklist and [Global] persistent-connections, and nr-*-queues in stafd.conf)
 *     are logged at error level with file and line, then ignored;
 *   - a bad value is logged at warning level naming file, line, section, key and value, then the
 *     default is used.
 * controller= and exclude= entries (§3.5) become StasKV dicts with normalised keys; see
 * stas_conf_parse_entry(). Secret values (dhchap-secret, dhchap-ctrl-secret) are kept in the
 * dicts because connections need them; never log or publish them (use LOG_SECRET()).
 * A StasConf is immutable after loading; reload by loading a new one and swapping it in.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stas/kv.h"
#include "stas/macro.h"
#include "stas/types.h"

typedef enum StasDaemon {
        STAS_DAEMON_STAFD,
        STAS_DAEMON_STACD,
} StasDaemon;

/* default of zeroconf-connections-persistence= (72hours) */
#define STAS_ZEROCONF_PERSISTENCE_DEFAULT_SEC (72 * 3600.0)

typedef struct StasConf {
        StasDaemon daemon;
        char *name; /* the file name used in messages */

        /* [Global] */
        bool tron;
        bool hdr_digest;  /* same as global.hdr_digest == 1 */
        bool data_digest; /* same as global.data_digest == 1 */
        bool ignore_iface;
        StasIpFamily ip_family; /* default STAS_IPFAM_BOTH */
        bool ipv6_first;        /* ip-family=ipv6+ipv4 */
        bool pleo;              /* stafd; default true */
        /* [Service Discovery] (stafd) */
        bool zeroconf; /* default true */
        /* [Discovery controller connection management] (stafd) */
        bool persistent_connections;     /* default true */
        double zeroconf_persistence_sec; /* default 72 h; negative values are stored as -1 = forever */
        /* [I/O controller connection management] (stacd) */
        StasDisconnectScope disconnect_scope; /* default only-stas-connections */
        char **disconnect_trtypes;            /* subset of tcp, rdma, fc; never empty */
        int connect_attempts_on_ncc;          /* 0 = never stop, else >= 2 */

        /* The [Global] connect options: kato (stafd default 30, stacd unset), queue-size,
         * reconnect-delay, ctrl-loss-tmo, disable-sqflow, hdr/data-digest (0/1), and in stacd
         * nr-io/write/poll-queues. Never any secret here. */
        StasConnectOptions global;

        /* [Controllers]: valid entries only, in file order, with the line each came from. */
        StasKV **controllers;
        unsigned *controller_lines;
        size_t n_controllers;
        StasKV **excludes;
        unsigned *exclude_lines;
        size_t n_excludes;
} StasConf;

/* stas_conf_new_default() - a configuration with every default of daemon @d. NULL on ENOMEM. */
StasConf *stas_conf_new_default(StasDaemon d);

/*
 * stas_conf_load() - read @path (missing = empty = all defaults) for daemon @d.
 * Return: 0 and *@ret; -EINVAL on a syntax error, -errno on an I/O error, -ENOMEM.
 */
int stas_conf_load(StasDaemon d, const char *path, StasConf **ret);

/* stas_conf_load_string() - the same from a buffer; @name is used in messages. */
int stas_conf_load_string(StasDaemon d, const char *text, const char *name, StasConf **ret);

/* stas_conf_free() - NULL-tolerant; returns NULL. */
StasConf *stas_conf_free(StasConf *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasConf *, stas_conf_free);

/*
 * stas_conf_parse_entry() - parse one controller= (@exclude false) or exclude= (@exclude true)
 * value for daemon @d. @name and @line are used in warnings.
 * Fields are split on ';', each on its FIRST '=' (so base64 '=' padding survives); whitespace
 * around fields, keys and values is dropped; empty fields are skipped; fields without '=' and
 * unknown keys are dropped with a warning. Keys are lower-cased, "nqn" becomes "subsysnqn",
 * dhchap-secret-file= / dhchap-ctrl-secret-file= are replaced by dhchap-secret= /
 * dhchap-ctrl-secret= holding the first line of that file (unreadable: warning, key dropped).
 * Controller entries: connect overrides are checked like their [Global] option (invalid:
 * warning, override dropped) and stored in canonical form ("true"/"false", decimal integers);
 * transport must be tcp, rdma, fc or loop; traddr is mandatory except for loop; trsvcid
 * defaults to 8009 (tcp) / 4420 (rdma) and is "" for fc and loop; subsysnqn defaults to
 * NVME_DISC_WKNQN in stafd and is mandatory in stacd.
 * Exclude entries: no defaults; host-traddr is removed; an entry with an unknown key or no key
 * left is dropped (an exclusion broader than written would be worse).
 * Return: 0 and *@ret, -EINVAL when the entry is dropped (warning logged), -ENOMEM.
 */
int stas_conf_parse_entry(
        StasDaemon d, bool exclude, const char *value, const char *name, unsigned line, StasKV **ret);

/*
 * stas_conf_connect_options() - the options for connecting to @entry: [Global] merged with the
 * entry's overrides and secrets. An invalid override (possible only for entries that did not come
 * from stas_conf_parse_entry()) is a warning and the [Global] value is used.
 * @entry may be NULL (plain [Global]). Release *@ret with connect_options_done().
 * Return: 0 or -ENOMEM.
 */
int stas_conf_connect_options(const StasConf *c, const StasKV *entry, StasConnectOptions *ret);

/* Names for the enums, as written in the files. */
const char *stas_ip_family_to_string(StasIpFamily f, bool ipv6_first);
const char *stas_disconnect_scope_to_string(StasDisconnectScope s);
