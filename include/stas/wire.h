/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wire.h - one home for what crosses a process boundary: the D-Bus names of both daemons (a
 * compatibility contract: the names, paths and interfaces of nvme-stas 2.x, §4 and
 * reference/dbus/), the limits on what stas accepts from another process (D-Bus arguments,
 * stafd's answers to stacd, the state files), and, through validate.h, the rules of every field
 * that can reach a kernel connect string. Both daemons, both CLIs and the bus code take them from
 * here; nothing else defines them.
 */
#pragma once

/* ---- D-Bus: stafd ---- */
#define STAF_BUS_NAME "org.nvmexpress.staf"
#define STAF_BUS_PATH "/org/nvmexpress/staf"
#define STAF_BUS_IFACE "org.nvmexpress.staf"
#define STAF_BUS_DEBUG_IFACE "org.nvmexpress.staf.debug"

/* ---- D-Bus: stacd ---- */
#define STAC_BUS_NAME "org.nvmexpress.stac"
#define STAC_BUS_PATH "/org/nvmexpress/stac"
#define STAC_BUS_IFACE "org.nvmexpress.stac"
#define STAC_BUS_DEBUG_IFACE "org.nvmexpress.stac.debug"

/* ---- limits ---- */

/*
 * Longest string accepted from another process where one TID field or one dict key goes: D-Bus
 * controller arguments (bus_read_tid()), the DC identities and the log page entry keys of stafd's
 * answers (stacd), state files.
 */
#define STAS_WIRE_FIELD_MAX 255
/* Longest dict value accepted from another process (log page entries, controller dicts). */
#define STAS_WIRE_VALUE_MAX 4096
/* Longest NQN (NVMe base specification: 223 bytes). */
#define STAS_NQN_MAX 223
/* Longest interface name (IFNAMSIZ - 1). */
#define STAS_IFNAME_MAX 15
/* Longest traddr / host_traddr (the discovery log page entry field is 256 bytes). */
#define STAS_TRADDR_MAX 255
/*
 * Most discovery log page entries per discovery controller: decoded from one page (dlp.h), kept,
 * published and restored from the state file; the rest is dropped (and counted).
 */
#define STAS_DLP_MAX_ENTRIES 4096

/* ---- the fields themselves ---- */
#include "stas/validate.h"
