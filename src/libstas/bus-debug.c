/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stas/bus-debug.h"
#include "stas/bus-util.h"
#include "stas/json-util.h"
#include "stas/log.h"

struct BusDebug {
        sd_bus *bus;
        sd_bus_slot *slot;
        char *path;
        const BusDebugOps *ops;
        void *userdata;
};

/**
 * bus_debug_tron() - is tracing on (log level LOG_DEBUG)?
 */
bool bus_debug_tron(void) {
        return log_get_max_level() >= LOG_DEBUG;
}

static int property_get_tron(
        sd_bus *bus,
        const char *path,
        const char *interface,
        const char *property,
        sd_bus_message *reply,
        void *userdata,
        sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", bus_debug_tron());
}

static int property_set_tron(
        sd_bus *bus,
        const char *path,
        const char *interface,
        const char *property,
        sd_bus_message *value,
        void *userdata,
        sd_bus_error *error) {
        BusDebug *d = userdata;
        int b, r;
        bool old = bus_debug_tron();

        r = sd_bus_message_read(value, "b", &b);
        if (r < 0)
                return r;

        log_set_max_level(b ? LOG_DEBUG : LOG_INFO);
        log_info(
                "Tracing %s (log level %s).",
                b ? "enabled" : "disabled",
                log_level_to_string(log_get_max_level()));
        if (old != !!b) {
                if (d->ops->tron_changed)
                        d->ops->tron_changed(d->userdata, b);
                r = sd_bus_emit_properties_changed(bus, path, interface, "tron", "log_level", NULL);
                if (r < 0)
                        log_debug_errno(r, "Failed to emit PropertiesChanged: %m");
        }
        return 0;
}

static int property_get_log_level(
        sd_bus *bus,
        const char *path,
        const char *interface,
        const char *property,
        sd_bus_message *reply,
        void *userdata,
        sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", log_level_to_string(log_get_max_level()));
}

static int method_process_info(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusDebug *d = userdata;
        _cleanup_free_ char *json = NULL;
        int r;

        r = d->ops->process_info(d->userdata, &json);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "s", json ?: "{}");
}

static int method_controller_info(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusDebug *d = userdata;
        _cleanup_(tid_freep) StasTid *tid = NULL;
        _cleanup_free_ char *json = NULL;
        int r;

        r = d->ops->lenient_tid ? bus_read_tid_lenient(m, &tid) : bus_read_tid(m, &tid, error);
        if (r < 0)
                return r;
        if (!tid)
                return sd_bus_reply_method_return(m, "s", "{}");
        r = d->ops->controller_info(d->userdata, tid, &json);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "s", json ?: "{}");
}

static const sd_bus_vtable debug_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS(
                "process_info",
                SD_BUS_NO_ARGS,
                SD_BUS_RESULT("s", info_json),
                method_process_info,
                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "controller_info",
                SD_BUS_ARGS(BUS_TID_ARGS),
                SD_BUS_RESULT("s", info_json),
                method_controller_info,
                SD_BUS_VTABLE_UNPRIVILEGED),
        /*
         * Property reads are never privilege-checked by sd-bus (it even rejects the
         * UNPRIVILEGED flag on a read-only property); writing tron stays privileged, so no
         * SD_BUS_VTABLE_UNPRIVILEGED on it.
         */
        SD_BUS_WRITABLE_PROPERTY(
                "tron", "b", property_get_tron, property_set_tron, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("log_level", "s", property_get_log_level, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};

/**
 * bus_debug_new() - serve the debug interface.
 * @bus: the daemon's connection
 * @path: the daemon's object path, e.g. "/org/nvmexpress/staf"
 * @ops: interface name and callbacks (must outlive the object)
 * @userdata: passed to the callbacks
 * @ret: the registration (free with bus_debug_free())
 */
int bus_debug_new(sd_bus *bus, const char *path, const BusDebugOps *ops, void *userdata, BusDebug **ret) {
        BusDebug *d;
        int r;

        if (!bus || !path || !ops || !ops->interface || !ops->process_info || !ops->controller_info || !ret)
                return -EINVAL;
        d = new0(BusDebug, 1);
        if (!d)
                return -ENOMEM;
        d->bus = sd_bus_ref(bus);
        d->ops = ops;
        d->userdata = userdata;
        d->path = strdup(path);
        if (!d->path) {
                bus_debug_free(d);
                return -ENOMEM;
        }
        r = sd_bus_add_object_vtable(bus, &d->slot, path, ops->interface, debug_vtable, d);
        if (r < 0) {
                bus_debug_free(d);
                return log_debug_errno(r, "Failed to add %s vtable: %m", ops->interface);
        }
        *ret = d;
        return 0;
}

/**
 * bus_debug_free() - stop serving the debug interface.
 * @d: NULL-tolerant
 */
BusDebug *bus_debug_free(BusDebug *d) {
        if (!d)
                return NULL;
        sd_bus_slot_unref(d->slot);
        sd_bus_unref(d->bus);
        free(d->path);
        free(d);
        return NULL;
}

/**
 * bus_debug_info_add() - see bus-debug.h.
 * @o: the process_info object
 * @key: the key
 * @value: the value (NULL: "")
 */
int bus_debug_info_add(json_object *o, const char *key, const char *value) {
        json_object *s = json_object_new_string(strempty(value));

        if (!s || json_object_object_add(o, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

/**
 * bus_debug_info_new() - see bus-debug.h.
 * @info: the common values
 */
json_object *bus_debug_info_new(const BusDebugInfo *info) {
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *tron = json_object_new_boolean(bus_debug_tron());
        int r;

        if (!o || !tron || json_object_object_add(o, "tron", tron) < 0) {
                json_object_put(tron);
                return NULL;
        }
        r = bus_debug_info_add(o, "log-level", bus_debug_tron() ? "DEBUG" : "INFO");
        r = r ?: bus_debug_info_add(o, "hostnqn", info->hostnqn);
        r = r ?: bus_debug_info_add(o, "hostid", info->hostid);
        r = r ?: bus_debug_info_add(o, "hostkey", LOG_SECRET(info->hostkey));
        r = r ?: bus_debug_info_add(o, "symname", info->symname);
        r = r ?: bus_debug_info_add(o, "last known config file", info->lkc_path);
        r = r ?: bus_debug_info_add(o, "last known config error", info->lkc_error);
        r = r ?: bus_debug_info_add(o, "config soak timer", info->soak_timer);
        r = r ?: bus_debug_info_add(o, "kernel support.TP8013", info->tp8013 ? "True" : "False");
        r = r ?: bus_debug_info_add(o, "kernel support.host_iface", info->host_iface ? "True" : "False");
        if (r < 0)
                return NULL;
        return TAKE_PTR(o);
}

/**
 * bus_debug_info_add_disposing() - see bus-debug.h.
 * @o: the process_info object
 * @tid: the controller
 * @state: e.g. "disposing"
 */
int bus_debug_info_add_disposing(json_object *o, const StasTid *tid, const char *state) {
        _cleanup_free_ char *t = tid ? tid_to_string(tid) : NULL, *k = NULL;

        if (asprintf(&k, "terminator.controller.%s", t ?: "(?)") < 0)
                return -ENOMEM;
        return bus_debug_info_add(o, k, state);
}

/**
 * bus_debug_info_to_string() - see bus-debug.h.
 * @o: the process_info object
 * @ret: the text
 */
int bus_debug_info_to_string(json_object *o, char **ret) {
        return json_to_string_dup(o, JSON_FORMAT_COMPACT, ret);
}
