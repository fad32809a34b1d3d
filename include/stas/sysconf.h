/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysconf.h - /etc/stas/sys.conf (§3.2): the host identity shared by stafd and stacd.
 * Section [Host], keys nqn, id, key, symname. nqn, id and key default to
 * file://<STAS_ETC_NVME>/hostnqn, hostid and hostkey. A value "file://PATH" is replaced by the
 * first whitespace-separated token of the first line of PATH (symname: the whole first line,
 * trimmed, because symbolic names may contain spaces); an empty or missing target gives NULL.
 * Deliberate deviation (DESIGN 7): a missing, empty or invalid host NQN (not "nqn." or longer
 * than 223 characters) or host ID (not a UUID) does not stop the daemon: it is derived, with a
 * warning, from the machine (hostnqn_generate()); the host ID is the UUID of the host NQN when it
 * is a uuid NQN. sysconf_load() is a pure function returning a new struct, so SIGHUP can reload
 * it and swap. The host key is a secret: never log it.
 */
#pragma once

#include <stdbool.h>

#include "stas/macro.h"

typedef struct StasSysConf {
        char *hostnqn; /* never NULL after a successful load */
        char *hostid;  /* never NULL after a successful load */
        char *hostkey; /* NULL: none */
        char *symname; /* NULL: none */
        bool hostnqn_derived;
        bool hostid_derived;
} StasSysConf;

/*
 * sysconf_load() - read @path (NULL: sysconf_default_path(); missing = empty). @root (NULL or
 * "" = none) prefixes the default file:// targets and the files hostnqn_generate() reads, for
 * tests. Unknown sections or keys are logged at error level; a syntax error fails the load.
 * Return: 0 and *@ret, -EINVAL on a syntax error, -errno, -ENOMEM.
 */
int sysconf_load(const char *path, const char *root, StasSysConf **ret);

/*
 * sysconf_default_path() - $STAS_SYS_CONF when set and not empty (tests, and anyone who keeps
 * sys.conf elsewhere), else STAS_ETC_STAS "/sys.conf".
 */
const char *sysconf_default_path(void);

/* sysconf_free() - NULL-tolerant; returns NULL. Wipes the host key. */
StasSysConf *sysconf_free(StasSysConf *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasSysConf *, sysconf_free);

/* nqn_is_valid() - stas_check_nqn() accepts it ("nqn.", at most 223 printable bytes, no ',', '=' or blank).
 */
bool nqn_is_valid(const char *nqn);

/* uuid_is_valid() - 8-4-4-4-12 hexadecimal digits. */
bool uuid_is_valid(const char *s);
