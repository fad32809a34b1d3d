/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-conf.h - stacd.conf (§3.4) to typed settings: stacd's option table and defaults, for
 * the shared loader (stas/conf.h): stas_conf_load(&stacd_conf_schema, path, &conf).
 *   [Global] tron, hdr-digest, data-digest, kato (unset), queue-size, reconnect-delay,
 *            ctrl-loss-tmo, disable-sqflow, nr-io-queues, nr-write-queues, nr-poll-queues,
 *            ignore-iface, ip-family;
 *   [I/O controller connection management] disconnect-scope (only-stas-connections),
 *            disconnect-trtypes (tcp; a '+'-joined subset of tcp, rdma, fc, never empty),
 *            connect-attempts-on-ncc (0 = never stop; 1 is raised to 2);
 *   [Controllers] controller= (nqn= mandatory), exclude= (the loader's).
 */
#pragma once

#include "stas/conf.h"

extern const StasConfSchema stacd_conf_schema;
