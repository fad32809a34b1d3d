/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stas/bus-util.h"
#include "stas/log.h"

/**
 * bus_append_kv() - append a dict as a{ss}.
 * @m: the message being built
 * @kv: the dict, NULL for an empty one
 */
int bus_append_kv(sd_bus_message *m, const StasKV *kv) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        /* the calls sd_bus_message_append(m, "{ss}", ...) makes, without parsing "{ss}" each time */
        KV_FOREACH(i, kv) {
                r = sd_bus_message_open_container(m, 'e', "ss");
                if (r >= 0)
                        r = sd_bus_message_append_basic(m, 's', kv->keys[i]);
                if (r >= 0)
                        r = sd_bus_message_append_basic(m, 's', kv->values[i]);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/**
 * bus_append_kvv() - append a list of dicts as aa{ss}.
 * @m: the message being built
 * @list: NULL-terminated list, NULL for an empty one
 */
int bus_append_kvv(sd_bus_message *m, StasKV *const *list) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "a{ss}");
        if (r < 0)
                return r;
        for (size_t i = 0; list && list[i]; i++) {
                r = bus_append_kv(m, list[i]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/**
 * bus_reply_kvv() - reply to a method call with an aa{ss}.
 * @call: the method call
 * @list: NULL-terminated dicts (NULL = empty)
 */
int bus_reply_kvv(sd_bus_message *call, StasKV *const *list) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        r = bus_append_kvv(reply, list);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/**
 * bus_read_kv() - read an a{ss} into a new dict.
 * @m: the message, positioned at the array
 * @ret: the dict (caller frees)
 */
int bus_read_kv(sd_bus_message *m, StasKV **ret) {
        _cleanup_(kv_freep) StasKV *kv = kv_new();
        const char *k, *v;
        int r;

        if (!kv)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0) {
                r = kv_set(kv, k, v);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(kv);
        return 0;
}

/**
 * bus_read_kvv() - read an aa{ss} into a new list of dicts.
 * @m: the message, positioned at the array
 * @ret: NULL-terminated list (caller frees with kvv_free(), never NULL on success)
 */
int bus_read_kvv(sd_bus_message *m, StasKV ***ret) {
        _cleanup_(kvv_freep) StasKV **list = NULL;
        int r;

        list = new0(StasKV *, 1);
        if (!list)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, 'a', "a{ss}");
        if (r < 0)
                return r;
        for (;;) {
                StasKV *kv = NULL;

                r = sd_bus_message_at_end(m, false);
                if (r < 0)
                        return r;
                if (r > 0)
                        break;
                r = bus_read_kv(m, &kv);
                if (r < 0)
                        return r;
                r = kvv_consume(&list, kv);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(list);
        return 0;
}

/**
 * bus_transport_is_valid() - is @transport one of the NVMe-oF transports stas handles?
 * @transport: the string to check, NULL-tolerant
 */
bool bus_transport_is_valid(const char *transport) {
        static const char *const known[] = { "tcp", "rdma", "fc", "loop" };

        if (!transport)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (streq(transport, known[i]))
                        return true;
        return false;
}

/* Length of the UTF-8 sequence starting at @s, or 0 if it is not a valid one. */
static size_t utf8_sequence(const unsigned char *s) {
        uint32_t cp;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0) {
                n = 2;
                cp = s[0] & 0x1f;
        } else if ((s[0] & 0xf0) == 0xe0) {
                n = 3;
                cp = s[0] & 0x0f;
        } else if ((s[0] & 0xf8) == 0xf0) {
                n = 4;
                cp = s[0] & 0x07;
        } else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* reject overlong forms, surrogates and values beyond U+10FFFF */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return n;
}

/**
 * bus_string_is_valid() - is @s short, valid UTF-8 and free of control characters?
 * @s: the string, NULL-tolerant (NULL is invalid)
 * @max: maximum length in bytes
 */
bool bus_string_is_valid(const char *s, size_t max) {
        const unsigned char *p = (const unsigned char *) s;

        if (!s || strnlen(s, max + 1) > max)
                return false;
        while (*p) {
                size_t n;

                if (*p < 0x20 || *p == 0x7f)
                        return false;
                n = utf8_sequence(p);
                if (n == 0)
                        return false;
                p += n;
        }
        return true;
}

/**
 * bus_read_tid() - read and validate the seven TID strings of a method call.
 * @m: the method call, positioned at the transport argument
 * @ret: the TID (caller frees)
 * @error: set to InvalidArgs when the caller sent a bad value
 */
int bus_read_tid(sd_bus_message *m, StasTid **ret, sd_bus_error *error) {
        static const char *const names[] = {
                "transport", "traddr", "trsvcid", "subsysnqn", "host_traddr", "host_iface", "host_nqn",
        };
        const char *f[7];
        StasTid *tid;
        int r;

        r = sd_bus_message_read(m, "sssssss", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (!bus_string_is_valid(f[i], STAS_WIRE_FIELD_MAX))
                        return sd_bus_error_setf(
                                error,
                                SD_BUS_ERROR_INVALID_ARGS,
                                "Invalid %s: too long or contains control characters",
                                names[i]);
        if (!bus_transport_is_valid(f[0]))
                return sd_bus_error_setf(
                        error,
                        SD_BUS_ERROR_INVALID_ARGS,
                        "Invalid transport '%s' (expected tcp, rdma, fc or loop)",
                        f[0]);

        tid = tid_new(f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
        if (!tid)
                return -ENOMEM;
        *ret = tid;
        return 0;
}

/**
 * bus_read_tid_lenient() - read the seven TID strings; hostile ones name no controller.
 * @m: the method call, positioned at the transport argument
 * @ret: the TID (caller frees), NULL if the strings cannot form one
 */
int bus_read_tid_lenient(sd_bus_message *m, StasTid **ret) {
        const char *f[7];
        StasTid *tid;
        int r;

        r = sd_bus_message_read(m, "sssssss", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]);
        if (r < 0)
                return r;
        *ret = NULL;
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (!bus_string_is_valid(f[i], STAS_WIRE_FIELD_MAX)) {
                        log_debug("D-Bus call with an invalid controller field: no such controller.");
                        return 0;
                }
        if (!bus_transport_is_valid(f[0]))
                return 0;
        tid = tid_new(f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
        if (!tid)
                return -ENOMEM;
        *ret = tid;
        return 0;
}

/**
 * bus_open() - open the system (or user) bus and attach it to an event loop.
 * @event: the loop, NULL for the thread's default loop
 * @description: connection name shown in sd-bus debug output
 * @user: connect to the user bus instead of the system bus
 * @ret: the connection (caller unrefs)
 */
int bus_open(sd_event *event, const char *description, bool user, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        if (user)
                r = sd_bus_open_user_with_description(&bus, description);
        else
                r = sd_bus_open_system_with_description(&bus, description);
        if (r < 0)
                return log_debug_errno(r, "Failed to connect to the %s bus: %m", user ? "user" : "system");

        /* a lost connection (dbus-daemon restart) ends the loop: the daemon exits, systemd restarts it */
        r = sd_bus_set_exit_on_disconnect(bus, true);
        if (r < 0) {
                sd_bus_flush_close_unref(bus);
                return log_debug_errno(r, "Failed to make a bus disconnect end the loop: %m");
        }
        r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                sd_bus_flush_close_unref(bus);
                return log_debug_errno(r, "Failed to attach the bus to the event loop: %m");
        }
        *ret = bus;
        return 0;
}

/**
 * bus_request_name() - take the well-known @name (call after registering every vtable).
 * @bus: the connection
 * @name: e.g. "org.nvmexpress.staf"
 */
int bus_request_name(sd_bus *bus, const char *name) {
        int r;

        r = sd_bus_request_name(bus, name, 0);
        if (r < 0)
                return log_debug_errno(r, "Failed to request bus name %s: %m", name);
        return 0;
}

/**
 * bus_append_tid() - see bus-util.h.
 */
int bus_append_tid(sd_bus_message *m, const StasTid *t) {
        int r = sd_bus_message_append(
                m,
                "sssssss",
                t->transport,
                t->traddr,
                t->trsvcid,
                t->subsysnqn,
                t->host_traddr,
                t->host_iface,
                t->host_nqn);

        return r < 0 ? r : 0;
}
