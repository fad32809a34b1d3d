/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-bus.c - the D-Bus object of stacd: org.nvmexpress.stac.list_controllers(b) -> aa{ss} at
 * /org/nvmexpress/stac (reference/dbus/org.nvmexpress.stac.live.xml) and the shared debug
 * interface (bus-debug.h). Readable by anyone (SD_BUS_VTABLE_UNPRIVILEGED); no secret leaves the
 * process: controller= secrets and the host key are shown as "(set)".
 */
#include <errno.h>
#include <syslog.h>

#include "stacd-manager.h"
#include "stas/bus-debug.h"
#include "stas/bus-util.h"
#include "stas/json-util.h"
#include "stas/kvv.h"
#include "stas/log.h"

/* The dicts are the IOCs' own (manager_ioc_dict()): nothing is copied or read per call. */
static int method_list_controllers(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        StacdManager *m = userdata;
        _cleanup_free_ StasKV **l = NULL;
        int detailed = 0, r;

        r = sd_bus_message_read(msg, "b", &detailed);
        if (r < 0)
                return r;
        l = new0(StasKV *, m->n_iocs + 1);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_iocs; i++) {
                l[i] = (StasKV *) manager_ioc_dict(m, m->iocs[i], detailed);
                if (!l[i])
                        return -ENOMEM;
        }
        return bus_reply_kvv(msg, l);
}

static const sd_bus_vtable stac_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES(
                "list_controllers",
                "b",
                SD_BUS_PARAM(detailed),
                "aa{ss}",
                SD_BUS_PARAM(controller_list),
                method_list_controllers,
                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int debug_process_info(void *userdata, char **ret) {
        return manager_process_info(userdata, ret);
}

static int debug_controller_info(void *userdata, const StasTid *tid, char **ret) {
        StacdManager *m = userdata;
        StacdIoc *io = manager_find(m, tid);
        _cleanup_json_ json_object *o = NULL;
        const StasKV *kv;

        *ret = NULL;
        if (!io)
                return 0;
        kv = manager_ioc_dict(m, io, true);
        if (!kv)
                return -ENOMEM;
        o = json_from_kv(kv);
        if (!o)
                return -ENOMEM;
        return json_to_string_dup(o, JSON_FORMAT_COMPACT, ret);
}

static void debug_tron_changed(void *userdata, bool tron) {
        StacdManager *m = userdata;

        /* bus-debug logged the change; libnvme's own level follows for new controllers */
        if (m->nvme)
                stas_nvme_set_log_level(m->nvme, tron ? LOG_DEBUG : LOG_ERR);
}

static const BusDebugOps debug_ops = {
        .interface = STAC_BUS_DEBUG_IFACE,
        .process_info = debug_process_info,
        .controller_info = debug_controller_info,
        .tron_changed = debug_tron_changed,
};

/**
 * stacd_bus_setup() - connect, publish the objects, follow stafd, then take the name.
 * @m: the manager
 */
int stacd_bus_setup(StacdManager *m) {
        int r;

        r = bus_open(m->event, "stacd", false, &m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m");
        r = sd_bus_add_object_vtable(m->bus, &m->vtable_slot, STAC_BUS_PATH, STAC_BUS_IFACE, stac_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Cannot publish %s: %m", STAC_BUS_IFACE);
        r = bus_debug_new(m->bus, STAC_BUS_PATH, &debug_ops, m, &m->debug);
        if (r < 0)
                return log_error_errno(r, "Cannot publish %s: %m", STAC_BUS_DEBUG_IFACE);
        r = staf_new(m, &m->staf);
        if (r < 0)
                return log_error_errno(r, "Cannot follow stafd on the bus: %m");
        r = bus_request_name(m->bus, STAC_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "Cannot own the bus name %s: %m", STAC_BUS_NAME);
        return 0;
}

/**
 * stacd_bus_done() - unpublish (the connection itself is closed by manager_free()).
 * @m: the manager
 */
void stacd_bus_done(StacdManager *m) {
        m->debug = bus_debug_free(m->debug);
        m->vtable_slot = sd_bus_slot_unref(m->vtable_slot);
}
