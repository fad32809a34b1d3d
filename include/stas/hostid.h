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
 * the three, a random UUID is made once per process and reused by every later call, so a reload
 * (SIGHUP) keeps the host NQN of the live connections and the derived host ID agrees with it.
 * Not thread-safe (the daemons load sys.conf on their loop).
 * Return: 0 or -errno; *@ret is malloc'ed.
 */
int hostnqn_generate(const char *root, bool allow_privileged, char **ret);
/* hostid_generate() - a random UUID string (as upstream's stasadm hostid). */
int hostid_generate(char **ret);
