/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf.h - the typed configuration of stafd (stafd.conf, §3.3) and stacd (stacd.conf, §3.4),
 * loaded from the INI reader (ini.h) through one option table per daemon. The tables, the
 * daemon-specific parsers and defaults live with the daemons (src/stafd/stafd-conf.c,
 * src/stacd/stacd-conf.c: a StasConfSchema each); this module is the shared machinery: the
 * loader, the parsers both tables use, the [Global] connect options and the controller= /
 * exclude= entry parser ([Controllers] is the loader's own section in every schema).
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

typedef struct StasConf StasConf;
typedef struct StasConfOption StasConfOption;

/*
 * StasConfOption - one single-valued option of a daemon's table. @parse stores the value in the
 * StasConf and returns 0, or returns < 0 (-ENOMEM, or any other error with *@reason saying what
 * was expected: the loader then warns naming file, line, section, key and value, and the
 * default stays). @name and @line are for the parser's own messages.
 */
struct StasConfOption {
        const char *section, *key;
        int (*parse)(
                const StasConfOption *o,
                StasConf *c,
                const char *v,
                const char **reason,
                const char *name,
                unsigned line);
        size_t offset;            /* of the field in StasConf, for the generic parsers */
        const char *default_text; /* for the warning */
};

/* StasConfSchema - one daemon's configuration file, as the loader needs to know it. */
typedef struct StasConfSchema {
        const char *name; /* the file name used in messages by default: "stafd.conf" */
        const StasConfOption *options;
        size_t n_options;
        /* controller= entries name I/O controllers: nqn= is mandatory (else it defaults to the
         * well-known discovery NQN) */
        bool io_controllers;
        /* the daemon's defaults, over the common ones (optional). Return: 0 or -ENOMEM. */
        int (*defaults)(StasConf *c);
        /* appended to the error about an unknown option (optional; NULL: nothing) */
        const char *(*unknown_hint)(const char *section, const char *key);
        /* controller= keys that never reach the kernel for this daemon's controllers
         * (optional, NULL-terminated): a loaded entry that sets any of them gets one warning
         * naming them, ending with @unsent_reason */
        const char *const *unsent_keys;
        const char *unsent_reason;
} StasConfSchema;

struct StasConf {
        const StasConfSchema *schema;
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
};

/*
 * stas_conf_new_default() - a configuration with every default of @s: ip-family ipv4+ipv6,
 * digests off, the other connect options unset, then @s's own defaults. NULL on ENOMEM.
 */
StasConf *stas_conf_new_default(const StasConfSchema *s);

/*
 * stas_conf_load() - read @path (missing = empty = all defaults) with the table of @s.
 * Return: 0 and *@ret; -EINVAL on a syntax error, -errno on an I/O error, -ENOMEM.
 */
int stas_conf_load(const StasConfSchema *s, const char *path, StasConf **ret);

/* stas_conf_load_string() - the same from a buffer; @name is used in messages. */
int stas_conf_load_string(const StasConfSchema *s, const char *text, const char *name, StasConf **ret);

/* stas_conf_free() - NULL-tolerant; returns NULL. */
StasConf *stas_conf_free(StasConf *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasConf *, stas_conf_free);

/*
 * stas_conf_parse_entry() - parse one controller= (@exclude false) or exclude= (@exclude true)
 * value of a file of schema @s. @name and @line are used in warnings.
 * Fields are split on ';', each on its FIRST '=' (so base64 '=' padding survives); whitespace
 * around fields, keys and values is dropped; empty fields are skipped; fields without '=' and
 * unknown keys are dropped with a warning. Keys are lower-cased, "nqn" becomes "subsysnqn",
 * dhchap-secret-file= / dhchap-ctrl-secret-file= are replaced by dhchap-secret= /
 * dhchap-ctrl-secret= holding the first line of that file (unreadable: warning, key dropped).
 * Controller entries: connect overrides are checked like their [Global] option (invalid:
 * warning, override dropped) and stored in canonical form ("true"/"false", decimal integers);
 * transport must be tcp, rdma, fc or loop; traddr is mandatory except for loop; trsvcid
 * defaults to 8009 (tcp) / 4420 (rdma) and is "" for fc and loop; subsysnqn defaults to
 * NVME_DISC_WKNQN, or is mandatory when @s->io_controllers (stacd).
 * Exclude entries: no defaults; host-traddr is removed; an entry with an unknown key or no key
 * left is dropped (an exclusion broader than written would be worse).
 * Return: 0 and *@ret, -EINVAL when the entry is dropped (warning logged), -ENOMEM.
 */
int stas_conf_parse_entry(
        const StasConfSchema *s,
        bool exclude,
        const char *value,
        const char *name,
        unsigned line,
        StasKV **ret);

/*
 * stas_conf_connect_options() - the options for connecting to @entry: [Global] merged with the
 * entry's overrides and secrets. An invalid override (possible only for entries that did not come
 * from stas_conf_parse_entry()) is a warning and the [Global] value is used.
 * @entry may be NULL (plain [Global]). Release *@ret with connect_options_done().
 * Return: 0 or -ENOMEM.
 */
int stas_conf_connect_options(const StasConf *c, const StasKV *entry, StasConnectOptions *ret);

/* stas_ip_family_to_string() - ip-family= as written in the files. */
const char *stas_ip_family_to_string(StasIpFamily f, bool ipv6_first);

/* ---- for the daemons' option tables ---- */

/* The parsers of the tables' common kinds (see StasConfOption): */
/* true / false into the bool at @o->offset */
int stas_conf_opt_bool(
        const StasConfOption *o,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line);
/* enabled / disabled into the bool at @o->offset */
int stas_conf_opt_enabled(
        const StasConfOption *o,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line);
/* the [Global] connect option @o->key into StasConf.global, checked and clamped like an override */
int stas_conf_opt_connect(
        const StasConfOption *o,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line);
/* ip-family= into ip_family and ipv6_first */
int stas_conf_opt_ip_family(
        const StasConfOption *o,
        StasConf *c,
        const char *v,
        const char **reason,
        const char *name,
        unsigned line);

/* A [Global] connect option of a table (stas_conf_opt_connect()), with its default's text. */
#define STAS_CONF_CONNECT_OPTION(key, default_text) \
        { "Global", key, stas_conf_opt_connect, 0, default_text }

/* stas_conf_is_connect_option() - @key is a connect option (kato, queue-size, nr-io-queues, ...). */
bool stas_conf_is_connect_option(const char *key);

/*
 * stas_conf_parse_int() - an integer as Python's int() reads it (optional sign, decimal digits),
 * within [@min, @max]. Return: 0; 1 when above @max (*@ret = @max: the caller warns once with
 * stas_conf_warn_clamped()); -ERANGE below @min; -EINVAL when not an integer. Any number of
 * digits is read without overflow.
 */
int stas_conf_parse_int(const char *v, int min, int max, int *ret);

/* stas_conf_warn_clamped() - the one warning for a value above the maximum @max, used instead. */
void stas_conf_warn_clamped(
        const char *name,
        unsigned line,
        const char *section,
        const char *key,
        const char *v,
        const char *max);

/*
 * stas_conf_shown() - file content as a message quotes it: "(secret)" if it looks like one
 * (ini_redact()), else at most STAS_CONF_SHOWN_MAX characters (then "..."). @buf holds
 * STAS_CONF_SHOWN_MAX + 4 bytes; STAS_CONF_SHOWN() gives it one on the stack.
 */
#define STAS_CONF_SHOWN_MAX 64
const char *stas_conf_shown(const char *text, char *buf);
#define STAS_CONF_SHOWN(text) stas_conf_shown((text), (char[STAS_CONF_SHOWN_MAX + 4]){})
