/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bus-debug.h - the debug interface both daemons serve next to their main interface
 * (org.nvmexpress.staf.debug on stafd, org.nvmexpress.stac.debug on stacd, inventory §4.3),
 * written once and parameterised by BusDebugOps:
 *   property tron (b, read-write, privileged write): true sets the log level to LOG_DEBUG,
 *            false to LOG_INFO;
 *   property log_level (s, read-only): "DEBUG" or "INFO";
 *   method process_info() -> s info_json (built with bus_debug_info_new(), below);
 *   method controller_info(s transport, ..., s host_nqn) -> s info_json ("{}" if unknown).
 * Both methods are SD_BUS_VTABLE_UNPRIVILEGED (property reads always are). Both properties advertise the
 * default emits-change behaviour as nvme-stas's do, and unlike nvme-stas a PropertiesChanged signal is
 * actually sent when tron changes. Controller arguments are validated (bus_read_tid(), or
 * bus_read_tid_lenient() when BusDebugOps.lenient_tid).
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "stas/macro.h"
#include "stas/tid.h"

typedef struct BusDebugOps {
        /* interface name, e.g. "org.nvmexpress.staf.debug" */
        const char *interface;
        /* the process_info JSON object text (malloc'ed into *ret). Return: 0 or -errno. */
        int (*process_info)(void *userdata, char **ret);
        /*
         * the controller_info JSON text for @tid (malloc'ed into *ret), or *ret = NULL when the
         * controller is unknown (the caller then answers "{}"). Return: 0 or -errno.
         */
        int (*controller_info)(void *userdata, const StasTid *tid, char **ret);
        /*
         * controller_info strings that cannot form a TID answer "{}" (bus_read_tid_lenient())
         * instead of InvalidArgs; stafd sets this for nvme-stas compatibility.
         */
        bool lenient_tid;
        /* optional: called after tron changed (e.g. to adjust libnvme's log level) */
        void (*tron_changed)(void *userdata, bool tron);
} BusDebugOps;

typedef struct BusDebug BusDebug;

/*
 * bus_debug_new() - register the debug interface at @path on @bus. @ops must outlive the
 * object. Return: 0 or -errno.
 */
int bus_debug_new(sd_bus *bus, const char *path, const BusDebugOps *ops, void *userdata, BusDebug **ret);

/* bus_debug_free() - unregister and free; NULL-tolerant; returns NULL. */
BusDebug *bus_debug_free(BusDebug *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(BusDebug *, bus_debug_free);

/* bus_debug_tron() - true when the log level is LOG_DEBUG. */
bool bus_debug_tron(void);

/*
 * ---- process_info: one builder for both daemons ----
 * The keys both daemons answer, in this order (§4.3): tron (boolean), log-level, hostnqn, hostid,
 * hostkey ("(set)" when there is one: never the secret), symname, last known config file, last
 * known config error, config soak timer, kernel support.TP8013, kernel support.host_iface ("True"
 * or "False"). Each daemon then adds its own keys (bus_debug_info_add()) and the controllers being
 * disposed of (bus_debug_info_add_disposing()), and answers bus_debug_info_to_string(). Every
 * value but tron is a string; NULL reads as "".
 */
typedef struct BusDebugInfo {
        const char *hostnqn;
        const char *hostid;
        const char *hostkey; /* the secret itself: only "(set)" or "" is shown */
        const char *symname;
        const char *lkc_path;   /* "last known config file" */
        const char *lkc_error;  /* "last known config error" */
        const char *soak_timer; /* "config soak timer" (timer_to_string()) */
        bool tp8013;            /* "kernel support.TP8013" */
        bool host_iface;        /* "kernel support.host_iface" */
} BusDebugInfo;

/* bus_debug_info_new() - a process_info object with the common keys of @info. NULL on ENOMEM. */
json_object *bus_debug_info_new(const BusDebugInfo *info);
/* bus_debug_info_add() - one more string key. Return: 0 or -ENOMEM. */
int bus_debug_info_add(json_object *o, const char *key, const char *value);
/* bus_debug_info_add_disposing() - "terminator.controller.<tid_to_string(@tid)>": @state. 0 or -ENOMEM. */
int bus_debug_info_add_disposing(json_object *o, const StasTid *tid, const char *state);
/* bus_debug_info_to_string() - the process_info text: compact JSON, '/' not escaped. 0 or -ENOMEM. */
int bus_debug_info_to_string(json_object *o, char **ret);
