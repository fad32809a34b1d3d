/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-bus.c - the D-Bus object of stafd (see stafd-bus.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "stafd-bus.h"
#include "stas/bus-debug.h"
#include "stas/bus-util.h"
#include "stas/json-util.h"
#include "stas/kvv.h"
#include "stas/log.h"

struct StafBus {
        sd_bus *bus;
        sd_bus_slot *slot_main;
        BusDebug *debug;
        StafManager *m;
        StafBusInfo info;
};

static int method_list_controllers(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        StafBus *b = userdata;
        _cleanup_(kvv_freep) StasKV **l = NULL;
        int detailed, r;

        r = sd_bus_message_read(msg, "b", &detailed);
        if (r < 0)
                return r;
        l = new0(StasKV *, 1);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < staf_manager_n_dcs(b->m); i++) {
                StasKV *kv = NULL;

                r = staf_dc_id_dict(staf_manager_dc(b->m, i), detailed, &kv);
                if (r < 0)
                        return r;
                r = kvv_consume(&l, kv);
                if (r < 0)
                        return r;
        }
        return bus_reply_kvv(msg, l);
}

/*
 * get_log_pages and controller_info read the TID leniently (bus_read_tid_lenient()): wrong
 * types or arity are a D-Bus error, but well-typed strings that cannot form a TID (too long,
 * control characters, unknown transport) simply name no controller and get the "unknown
 * controller" answer ([] and "{}"), as nvme-stas answers. stacd's controller_info is strict.
 */
static int method_get_log_pages(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        StafBus *b = userdata;
        _cleanup_(tid_freep) StasTid *tid = NULL;
        StafDc *dc;
        int r;

        r = bus_read_tid_lenient(msg, &tid);
        if (r < 0)
                return r;
        dc = tid ? staf_manager_find(b->m, tid) : NULL;
        return bus_reply_kvv(msg, dc ? staf_dc_log_pages(dc) : NULL);
}

static int method_get_all_log_pages(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        StafBus *b = userdata;
        _cleanup_free_ char *json = NULL;
        int detailed, r;

        r = sd_bus_message_read(msg, "b", &detailed);
        if (r < 0)
                return r;
        r = staf_manager_all_log_pages_json(b->m, detailed, &json);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "s", json);
}

static int debug_controller_info(void *userdata, const StasTid *tid, char **ret) {
        StafBus *b = userdata;
        _cleanup_(kv_freep) StasKV *kv = NULL;
        _cleanup_json_ json_object *o = NULL;
        StafDc *dc = staf_manager_find(b->m, tid);
        int r;

        *ret = NULL;
        if (!dc)
                return 0;
        r = staf_dc_id_dict(dc, true, &kv);
        if (r < 0)
                return r;
        o = json_from_kv(kv);
        if (!o)
                return -ENOMEM;
        return json_to_string_dup(o, JSON_FORMAT_COMPACT, ret);
}

static int debug_process_info(void *userdata, char **ret) {
        StafBus *b = userdata;
        const StasSysConf *sys = staf_manager_sysconf(b->m);
        char buf[64], n[32];
        const BusDebugInfo info = {
                .hostnqn = sys->hostnqn,
                .hostid = sys->hostid,
                .hostkey = sys->hostkey,
                .symname = sys->symname,
                .lkc_path = staf_manager_lkc_path(b->m),
                .lkc_error = staf_manager_lkc_error(b->m),
                .soak_timer = timer_to_string(staf_manager_soak_timer(b->m), buf, sizeof buf),
                .tp8013 = b->info.tp8013,
                .host_iface = b->info.host_iface,
        };
        _cleanup_json_ json_object *o = bus_debug_info_new(&info);
        int r;

        if (!o)
                return -ENOMEM;
        snprintf(n, sizeof n, "%zu", staf_manager_n_disposing(b->m));
        r = bus_debug_info_add(o, "terminator.disposing", n);
        for (size_t i = 0; r >= 0 && i < staf_manager_n_disposing(b->m); i++)
                r = bus_debug_info_add_disposing(o, staf_manager_disposing_tid(b->m, i), "disposing");
        r = r ?: staf_manager_metrics_add(b->m, o);
        if (r < 0)
                return r;
        if (b->info.zc) {
                json_object *a = zc_info(b->info.zc);

                if (!a || json_object_object_add(o, "avahi", a) < 0) {
                        json_object_put(a);
                        return -ENOMEM;
                }
        }
        return bus_debug_info_to_string(o, ret);
}

static void debug_tron_changed(void *userdata, bool tron) {
        StafBus *b = userdata;

        if (b->info.tron_changed)
                b->info.tron_changed(b->info.userdata, tron);
}

static const BusDebugOps debug_ops = {
        .interface = STAF_BUS_DEBUG_IFACE,
        .process_info = debug_process_info,
        .controller_info = debug_controller_info,
        .tron_changed = debug_tron_changed,
        .lenient_tid = true,
};

static const sd_bus_vtable staf_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS(
                "list_controllers",
                SD_BUS_ARGS("b", detailed),
                SD_BUS_RESULT("aa{ss}", controller_list),
                method_list_controllers,
                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "get_log_pages",
                SD_BUS_ARGS(BUS_TID_ARGS),
                SD_BUS_RESULT("aa{ss}", log_pages),
                method_get_log_pages,
                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "get_all_log_pages",
                SD_BUS_ARGS("b", detailed),
                SD_BUS_RESULT("s", log_pages_json),
                method_get_all_log_pages,
                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("log_pages_changed", SD_BUS_ARGS(BUS_TID_ARGS, "s", device), 0),
        SD_BUS_SIGNAL("dc_removed", "", 0),
        SD_BUS_VTABLE_END,
};

/**
 * staf_bus_new() - see stafd-bus.h.
 */
int staf_bus_new(sd_bus *bus, StafManager *m, const StafBusInfo *info, StafBus **ret) {
        StafBus *b = new0(StafBus, 1);
        int r;

        if (!b)
                return -ENOMEM;
        b->bus = sd_bus_ref(bus);
        b->m = m;
        if (info)
                b->info = *info;
        r = sd_bus_add_object_vtable(bus, &b->slot_main, STAF_BUS_PATH, STAF_BUS_IFACE, staf_vtable, b);
        if (r >= 0)
                r = bus_debug_new(bus, STAF_BUS_PATH, &debug_ops, b, &b->debug);
        if (r < 0) {
                staf_bus_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

StafBus *staf_bus_free(StafBus *b) {
        if (!b)
                return NULL;
        sd_bus_slot_unref(b->slot_main);
        bus_debug_free(b->debug);
        sd_bus_unref(b->bus);
        free(b);
        return NULL;
}

/**
 * staf_bus_emit_log_pages_changed() - see stafd-bus.h.
 */
int staf_bus_emit_log_pages_changed(StafBus *b, StafDc *dc) {
        const StasTid *t = staf_dc_tid(dc);
        const char *dev = staf_dc_device(dc);

        if (!b)
                return 0;
        return sd_bus_emit_signal(
                b->bus,
                STAF_BUS_PATH,
                STAF_BUS_IFACE,
                "log_pages_changed",
                "ssssssss",
                t->transport,
                t->traddr,
                t->trsvcid,
                t->subsysnqn,
                t->host_traddr,
                t->host_iface,
                t->host_nqn,
                dev ?: "nvme?");
}

/**
 * staf_bus_emit_dc_removed() - see stafd-bus.h.
 */
int staf_bus_emit_dc_removed(StafBus *b) {
        if (!b)
                return 0;
        return sd_bus_emit_signal(b->bus, STAF_BUS_PATH, STAF_BUS_IFACE, "dc_removed", "");
}
