/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostid.h - host identity generation, shared by stasadm and the sys.conf fallback.
 * The host NQN is derived as nvme-stas 2.x does (§2.4): HMAC-SHA256 keyed with the application
 * id "$nvmexpress.org$" over the 16 machine-id bytes, first 16 bytes, UUID v4/variant forced.
 * Fallbacks: DMI product_uuid (first three fields byte-swapped), device-tree
 * ibm,partition-uuid, then a random UUID. Nothing here logs above debug level.
 */
#pragma once

#include "stas/macro.h"

#define NVME_HOSTNQN_UUID_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"

/* uuid_from_machine_id() - @machine_id: 32 hex chars. @ret: 37 bytes. Return: 0 or -EINVAL. */
int uuid_from_machine_id(const char *machine_id, char ret[37]);
/* uuid_from_dmi_product_uuid() - @s: 36-char UUID; byte-swaps fields 1-3, keeps case. */
int uuid_from_dmi_product_uuid(const char *s, char ret[37]);
/* uuid_random() - a random version-4 UUID. Return: 0 or -errno. */
int uuid_random(char ret[37]);

/*
 * hostnqn_generate() - the host NQN for this machine. @root prefixes every path read
 * (NULL or "" = "/"): etc/machine-id, sys/class/dmi/id/product_uuid,
 * proc/device-tree/ibm,partition-uuid. @allow_privileged: when false and machine-id is
 * unusable, fail with -EPERM instead of reading DMI (stasadm's rule for non-root). With none of
 * the three, a random UUID is made once per process (or restored from the state file, see
 * hostnqn_random_uuid_restore()) and reused by every later call, so a reload (SIGHUP) or a
 * restart keeps the host NQN of the live connections and the derived host ID agrees with it.
 * Not thread-safe (the daemons load sys.conf on their loop).
 * Return: 0 or -errno; *@ret is malloc'ed.
 */
int hostnqn_generate(const char *root, bool allow_privileged, char **ret);
/*
 * hostnqn_random_uuid() - the random UUID hostnqn_generate() fell back to in this process, for
 * the state file (NULL: none was needed, or not yet).
 * hostnqn_random_uuid_restore() - before the first hostnqn_generate(): take @uuid (from the
 * state file a previous run of the daemon wrote, in this boot) as the random UUID to fall back
 * to, so that a restarted daemon keeps the host NQN of the connections it left. Return: 0,
 * -EINVAL (@uuid is not a UUID), -EEXIST (another one is already in use: kept).
 */
const char *hostnqn_random_uuid(void);
int hostnqn_random_uuid_restore(const char *uuid);

/* hostid_generate() - a random UUID string (as upstream's stasadm hostid). */
int hostid_generate(char **ret);
