/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-uevent.c - kernel uevent property sets (udev.c: uevent_parse(), uevent_parse_datagram()).
 * Input: one datagram of the test hook (KEY=VALUE separated by NUL or newline), which is also
 * split here into the property list the udev monitor would build and parsed with uevent_parse().
 * Accepted: the event is for stas. Invariants: both parsers agree; an event has a known action,
 * sysname "nvme<instance>" and no NULL connection field; "none" and "(efault)" never come through.
 */
#include <errno.h>

#include "fuzz.h"
#include "stas/strv.h"
#include "stas/udev.h"

static void check_event(const StasUevent *ev) {
        char name[32];

        fuzz_assert(
                ev->action == STAS_UEVENT_ADD || ev->action == STAS_UEVENT_REMOVE ||
                ev->action == STAS_UEVENT_CHANGE);
        fuzz_assert(ev->instance >= 0);
        snprintf(name, sizeof(name), "nvme%d", ev->instance);
        fuzz_assert_streq(ev->sysname, name);
        const char *const fields[] = {
                ev->trtype, ev->traddr, ev->trsvcid, ev->host_traddr, ev->host_iface
        };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                fuzz_assert(fields[i]);
                fuzz_assert(!streq(fields[i], "none") && !streq(fields[i], "(efault)"));
        }
        fuzz_assert(!uevent_is_dlp_changed(ev) || (ev->has_aen && ev->aen == STAS_AEN_DLP_CHANGED));
}

static bool same_event(const StasUevent *a, const StasUevent *b) {
        return a->action == b->action && a->instance == b->instance && a->has_aen == b->has_aen &&
                a->aen == b->aen && a->nvme_event == b->nvme_event && streq(a->sysname, b->sysname) &&
                streq(a->trtype, b->trtype) && streq(a->traddr, b->traddr) &&
                streq(a->trsvcid, b->trsvcid) && streq(a->host_traddr, b->host_traddr) &&
                streq(a->host_iface, b->host_iface);
}

/* The property list as the monitor builds it: the non-empty pieces. */
static char **split(const uint8_t *data, size_t size) {
        _cleanup_strv_free_ char **l = NULL;
        size_t start = 0;

        for (size_t i = 0; i <= size; i++) {
                if (i < size && data[i] != 0 && data[i] != '\n')
                        continue;
                if (i > start && strv_consume(&l, fuzz_strndup(data + start, i - start)) < 0)
                        abort();
                start = i + 1;
        }
        return TAKE_PTR(l);
}

bool fuzz_one(const uint8_t *data, size_t size) {
        _cleanup_(uevent_freep) StasUevent *ev = NULL, *ev2 = NULL;
        _cleanup_strv_free_ char **props = split(data, size);
        int r, r2;

        r = uevent_parse_datagram((const char *) data, size, &ev);
        fuzz_assert(r == 0 || r == -EBADMSG || r == -EOPNOTSUPP);
        if (!props) {
                fuzz_assert(r == -EBADMSG);
                return false;
        }
        r2 = uevent_parse(props, &ev2);
        fuzz_assert(r2 == r);
        if (r < 0)
                return false;
        check_event(ev);
        fuzz_assert(same_event(ev, ev2));
        return true;
}
