/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-zeroconf.h - the glue between the zeroconf browser (avahi.h) and the DC manager:
 * which service types stafd.conf asks for, and handing the browser's reachable services to
 * staf_manager_set_zeroconf(). The manager turns each record into a DC candidate
 * (staf_dc_candidate(): well-known discovery NQN and the host NQN by default), gives it the
 * origin "discovered" and applies exclusions and ip-family like for every other DC. Nothing here
 * needs avahi-daemon; the live mDNS path is exercised by the vm suite.
 */
#pragma once

#include "stafd-manager.h"
#include "avahi.h"

/*
 * staf_zeroconf_service_types() - the DNS-SD service types to browse for @conf:
 * _nvme-disc._tcp and _nvme-disc._udp with [Service Discovery] zeroconf=enabled, none (an empty
 * list) with zeroconf=disabled. Return: a static NULL-terminated list.
 */
char *const *staf_zeroconf_service_types(const StasConf *conf);

/*
 * staf_zeroconf_apply_conf() - browse the service types @conf asks for (on start and reload).
 * Return: 0 or -errno.
 */
int staf_zeroconf_apply_conf(StasZeroconf *z, const StasConf *conf);

/*
 * staf_zeroconf_sync() - hand the reachable services of @z to @m (which restarts its reconcile
 * soak timer). Call it from the browser's changed callback. Return: 0 or -ENOMEM.
 */
int staf_zeroconf_sync(StafManager *m, const StasZeroconf *z);
