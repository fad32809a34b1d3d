/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-conf.h - stafd.conf (§3.3) to typed settings: stafd's option table and defaults, for
 * the shared loader (stas/conf.h): stas_conf_load(&stafd_conf_schema, path, &conf).
 *   [Global] tron, hdr-digest, data-digest, kato (default 30), queue-size, reconnect-delay,
 *            ctrl-loss-tmo, disable-sqflow, ignore-iface, ip-family, pleo (enabled);
 *   [Service Discovery] zeroconf (enabled);
 *   [Discovery controller connection management] persistent-connections (true),
 *            zeroconf-connections-persistence (72hours; a negative span is stored as -1: forever);
 *   [Controllers] controller=, exclude= (the loader's; subsysnqn defaults to the discovery NQN).
 * nr-io-queues, nr-write-queues and nr-poll-queues in [Global] are errors "(only valid in
 * stacd.conf)".
 */
#pragma once

#include "stas/conf.h"

/* default of zeroconf-connections-persistence= (72hours) */
#define STAFD_ZEROCONF_PERSISTENCE_DEFAULT_SEC (72 * 3600.0)

extern const StasConfSchema stafd_conf_schema;
