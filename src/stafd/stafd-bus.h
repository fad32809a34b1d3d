/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-bus.h - stafd's D-Bus object /org/nvmexpress/staf: the org.nvmexpress.staf interface
 * (list_controllers, get_log_pages, get_all_log_pages, signals log_pages_changed and
 * dc_removed) and org.nvmexpress.staf.debug (the shared bus-debug.h interface: tron, log_level,
 * process_info, controller_info). Read-only members are unprivileged; wrong argument types are a
 * D-Bus error, while well-typed controller strings that cannot form a TID answer [] / "{}" as for
 * an unknown controller (nvme-stas compatible).
 */
#pragma once

#include <systemd/sd-bus.h>

#include "stafd-manager.h"
#include "avahi.h"
#include "stas/wire.h"

typedef struct StafBus StafBus;

/* process_info() extras the daemon knows (kernel support, the zeroconf browser). */
typedef struct StafBusInfo {
        bool tp8013;
        bool host_iface;
        /* optional: the "avahi" member of process_info */
        const StasZeroconf *zc;
        /* optional: tron was changed over D-Bus */
        void (*tron_changed)(void *userdata, bool tron);
        void *userdata;
} StafBusInfo;

/* staf_bus_new() - register both interfaces on @bus (the name is requested separately). */
int staf_bus_new(sd_bus *bus, StafManager *m, const StafBusInfo *info, StafBus **ret);
StafBus *staf_bus_free(StafBus *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(StafBus *, staf_bus_free);

int staf_bus_emit_log_pages_changed(StafBus *b, StafDc *dc);
int staf_bus_emit_dc_removed(StafBus *b);
