/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bus-util.h - sd-bus helpers shared by the daemons and the CLIs: StasKV <-> a{ss}, lists of
 * StasKV <-> aa{ss}, reading and validating the seven TID strings of a method call, opening a
 * bus connection attached to an sd-event loop, and requesting the well-known name once every
 * vtable is registered (systemd's Type=dbus readiness point). D-Bus input is hostile: readers
 * validate and answer org.freedesktop.DBus.Error.InvalidArgs instead of trusting it. Nothing
 * here logs above debug level.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "stas/kv.h"
#include "stas/kvv.h"
#include "stas/tid.h"
#include "stas/wire.h"

/*
 * BUS_TID_ARGS - the seven TID arguments of a method or signal, for SD_BUS_ARGS():
 * SD_BUS_ARGS(BUS_TID_ARGS) or SD_BUS_ARGS(BUS_TID_ARGS, "s", device).
 */
#define BUS_TID_ARGS                                                                                       \
        "s", transport, "s", traddr, "s", trsvcid, "s", subsysnqn, "s", host_traddr, "s", host_iface, "s", \
                host_nqn

/* bus_append_kv() - append @kv (NULL = empty) as a{ss}. Return: 0 or -errno. */
int bus_append_kv(sd_bus_message *m, const StasKV *kv);

/* bus_append_kvv() - append the NULL-terminated @list (NULL = empty) as aa{ss}. Return: 0 or -errno. */
int bus_append_kvv(sd_bus_message *m, StasKV *const *list);

/* bus_reply_kvv() - answer the method call @call with the aa{ss} @list (NULL = empty). Return: 0 or -errno.
 */
int bus_reply_kvv(sd_bus_message *call, StasKV *const *list);

/* bus_read_kv() - read an a{ss} into a new dict (later duplicate keys win). Return: 0 or -errno. */
int bus_read_kv(sd_bus_message *m, StasKV **ret);

/* bus_read_kvv() - read an aa{ss} into a new NULL-terminated list. Return: 0 or -errno. */
int bus_read_kvv(sd_bus_message *m, StasKV ***ret);

/* bus_transport_is_valid() - true for "tcp", "rdma", "fc" and "loop". */
bool bus_transport_is_valid(const char *transport);

/*
 * bus_string_is_valid() - true if @s is valid UTF-8 of at most @max bytes without control
 * characters (bytes below 0x20 and 0x7f).
 */
bool bus_string_is_valid(const char *s, size_t max);

/*
 * bus_read_tid() - read the seven strings (transport, traddr, trsvcid, subsysnqn, host_traddr,
 * host_iface, host_nqn) of a method call into a new TID. A transport other than tcp/rdma/fc/loop,
 * a field longer than STAS_WIRE_FIELD_MAX or containing control characters sets @error to
 * InvalidArgs. Return: 0, or a negative errno (with @error set when the input was at fault).
 */
int bus_read_tid(sd_bus_message *m, StasTid **ret, sd_bus_error *error);
/* bus_append_tid() - the seven strings of @t, in bus_read_tid()'s order. Return: 0, -errno. */
int bus_append_tid(sd_bus_message *m, const StasTid *t);

/*
 * bus_read_tid_lenient() - like bus_read_tid(), but well-typed strings that cannot form a TID
 * (too long, control characters, unknown transport) are not an error: they name no controller,
 * so *@ret is NULL and the caller answers as for an unknown controller (stafd's get_log_pages
 * and controller_info answer [] and "{}" as nvme-stas does). Wrong types or arity are still an
 * error. Return: 0 (with *@ret possibly NULL) or a negative errno.
 */
int bus_read_tid_lenient(sd_bus_message *m, StasTid **ret);

/*
 * bus_open() - open a connection to the system bus (or the user bus if @user), named
 * @description, and attach it to @event (NULL = the default loop). sd-bus honours
 * $DBUS_SYSTEM_BUS_ADDRESS / $DBUS_SESSION_BUS_ADDRESS, which is how tests use a private
 * dbus-daemon. The connection is set to exit the loop on disconnect
 * (sd_bus_set_exit_on_disconnect()): a daemon whose bus went away (dbus-daemon restart) stops
 * instead of running deaf; see daemon_loop_status(). Return: 0 or -errno.
 */
int bus_open(sd_event *event, const char *description, bool user, sd_bus **ret);

/*
 * bus_request_name() - request @name once the object vtables are registered, so clients never
 * see the name without the objects. Fails if another process owns it. Return: 0 or -errno
 * (-EEXIST if the name is taken).
 */
int bus_request_name(sd_bus *bus, const char *name);
