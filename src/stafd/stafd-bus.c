/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-bus.c - the D-Bus object of stafd (see stafd-bus.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "stafd-bus.h"
#include "stas/log.h"

struct StafBus {
        sd_bus *bus;
        sd_bus_slot *slot_main;
        sd_bus_slot *slot_debug;
        StafManager *m;
        StafBusInfo info;
};

static int append_kv(sd_bus_message *reply, const StasKV *kv) {
        int r = sd_bus_message_open_container(reply, 'a', "{ss}");
        if (r < 0)
                return r;
        KV_FOREACH(i, kv) {
                r = sd_bus_message_append(reply, "{ss}", kv->keys[i], kv->values[i]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int append_kvv(sd_bus_message *reply, StasKV *const *l) {
        int r = sd_bus_message_open_container(reply, 'a', "a{ss}");
        if (r < 0)
                return r;
        for (size_t i = 0; l && l[i]; i++) {
                r = append_kv(reply, l[i]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static bool field_ok(const char *s) {
        size_t n = strlen(s);

        if (n > 255)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/*
 * the seven TID strings of a call: wrong types are a D-Bus error (sd-bus); strings that cannot be
 * part of any TID (too long, control characters) name no controller: *ret = NULL.
 */
static int read_tid(sd_bus_message *m, StasTid **ret) {
        const char *f[7];
        int r;

        r = sd_bus_message_read(m, "sssssss", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]);
        if (r < 0)
                return r;
        *ret = NULL;
        for (size_t i = 0; i < 7; i++)
                if (!field_ok(f[i])) {
                        log_debug("D-Bus call with an invalid controller field: no such controller.");
                        return 0;
                }
        *ret = tid_new(f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
        return *ret ? 0 : -ENOMEM;
}

static int method_list_controllers(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        StafBus *b = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int detailed, r;

        r = sd_bus_message_read(msg, "b", &detailed);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "a{ss}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < staf_manager_n_dcs(b->m); i++) {
                _cleanup_(kv_freep) StasKV *kv = NULL;

                r = staf_dc_id_dict(staf_manager_dc(b->m, i), detailed, &kv);
                if (r < 0)
                        return r;
                r = append_kv(reply, kv);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_log_pages(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        StafBus *b = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(tid_freep) StasTid *tid = NULL;
        StafDc *dc;
        int r;

        r = read_tid(msg, &tid);
        if (r < 0)
                return r;
        dc = tid ? staf_manager_find(b->m, tid) : NULL;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = append_kvv(reply, dc ? staf_dc_log_pages(dc) : NULL);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
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

static int reply_json(sd_bus_message *msg, json_object *o) {
        const char *s =
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        int r = sd_bus_reply_method_return(msg, "s", s ?: "{}");
        json_object_put(o);
        return r;
}

static int method_controller_info(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        StafBus *b = userdata;
        _cleanup_(tid_freep) StasTid *tid = NULL;
        _cleanup_(kv_freep) StasKV *kv = NULL;
        StafDc *dc;
        int r;

        r = read_tid(msg, &tid);
        if (r < 0)
                return r;
        dc = tid ? staf_manager_find(b->m, tid) : NULL;
        if (!dc)
                return sd_bus_reply_method_return(msg, "s", "{}");
        r = staf_dc_id_dict(dc, true, &kv);
        if (r < 0)
                return r;
        return reply_json(msg, staf_json_from_kv(kv));
}

static void jset(json_object *o, const char *k, const char *v) {
        json_object_object_add(o, k, json_object_new_string(strempty(v)));
}

static int method_process_info(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        StafBus *b = userdata;
        const StasSysConf *sys = staf_manager_sysconf(b->m);
        json_object *o = json_object_new_object();
        char buf[64];
        bool tron = log_get_max_level() >= LOG_DEBUG;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "tron", json_object_new_boolean(tron));
        jset(o, "log-level", tron ? "DEBUG" : "INFO");
        jset(o, "hostnqn", sys->hostnqn);
        jset(o, "hostid", sys->hostid);
        jset(o, "hostkey", LOG_SECRET(sys->hostkey));
        jset(o, "symname", sys->symname);
        jset(o, "last known config file", staf_manager_lkc_path(b->m));
        jset(o, "config soak timer", timer_to_string(staf_manager_soak_timer(b->m), buf, sizeof buf));
        jset(o, "kernel support.TP8013", b->info.tp8013 ? "True" : "False");
        jset(o, "kernel support.host_iface", b->info.host_iface ? "True" : "False");
        jset(o, "terminator.audit timer", "0.0s [off]");
        for (size_t i = 0; i < staf_manager_n_disposing(b->m); i++) {
                _cleanup_free_ char *t = tid_to_string(staf_manager_disposing_tid(b->m, i));
                _cleanup_free_ char *k = NULL;

                if (t && asprintf(&k, "terminator.controller.%s", t) >= 0)
                        jset(o, k, "disposing");
        }
        return reply_json(msg, o);
}

static int prop_tron_get(
        sd_bus *bus,
        const char *path,
        const char *iface,
        const char *prop,
        sd_bus_message *reply,
        void *userdata,
        sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", log_get_max_level() >= LOG_DEBUG);
}

static int prop_tron_set(
        sd_bus *bus,
        const char *path,
        const char *iface,
        const char *prop,
        sd_bus_message *value,
        void *userdata,
        sd_bus_error *error) {
        StafBus *b = userdata;
        int tron, r;

        r = sd_bus_message_read(value, "b", &tron);
        if (r < 0)
                return r;
        log_set_max_level(tron ? LOG_DEBUG : LOG_INFO);
        if (b->info.tron_changed)
                b->info.tron_changed(tron, b->info.userdata);
        return 0;
}

static int prop_log_level_get(
        sd_bus *bus,
        const char *path,
        const char *iface,
        const char *prop,
        sd_bus_message *reply,
        void *userdata,
        sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", log_get_max_level() >= LOG_DEBUG ? "DEBUG" : "INFO");
}

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
                SD_BUS_ARGS(
                        "s",
                        transport,
                        "s",
                        traddr,
                        "s",
                        trsvcid,
                        "s",
                        subsysnqn,
                        "s",
                        host_traddr,
                        "s",
                        host_iface,
                        "s",
                        host_nqn),
                SD_BUS_RESULT("aa{ss}", log_pages),
                method_get_log_pages,
                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "get_all_log_pages",
                SD_BUS_ARGS("b", detailed),
                SD_BUS_RESULT("s", log_pages_json),
                method_get_all_log_pages,
                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS(
                "log_pages_changed",
                SD_BUS_ARGS(
                        "s",
                        transport,
                        "s",
                        traddr,
                        "s",
                        trsvcid,
                        "s",
                        subsysnqn,
                        "s",
                        host_traddr,
                        "s",
                        host_iface,
                        "s",
                        host_nqn,
                        "s",
                        device),
                0),
        SD_BUS_SIGNAL("dc_removed", "", 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable staf_debug_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_WRITABLE_PROPERTY("tron", "b", prop_tron_get, prop_tron_set, 0, 0),
        SD_BUS_PROPERTY("log_level", "s", prop_log_level_get, 0, 0),
        SD_BUS_METHOD_WITH_ARGS(
                "process_info",
                SD_BUS_NO_ARGS,
                SD_BUS_RESULT("s", info_json),
                method_process_info,
                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "controller_info",
                SD_BUS_ARGS(
                        "s",
                        transport,
                        "s",
                        traddr,
                        "s",
                        trsvcid,
                        "s",
                        subsysnqn,
                        "s",
                        host_traddr,
                        "s",
                        host_iface,
                        "s",
                        host_nqn),
                SD_BUS_RESULT("s", info_json),
                method_controller_info,
                SD_BUS_VTABLE_UNPRIVILEGED),
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
                r = sd_bus_add_object_vtable(
                        bus, &b->slot_debug, STAF_BUS_PATH, STAF_BUS_DEBUG_IFACE, staf_debug_vtable, b);
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
        sd_bus_slot_unref(b->slot_debug);
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
