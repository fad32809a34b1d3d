/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-zeroconf.c - mDNS TXT records and resolved services to a controller record (avahi.c:
 * zc_txt_parse(), zc_record_new()), the way stafd's resolver callback uses them.
 * Input: a flags byte (bit 0: the kernel supports the discovery option; bit 1: the address goes
 * through avahi_address_parse() and avahi_address_snprint(), as avahi hands it over), the port
 * (2 bytes, little endian), the address and the interface name (each up to a NUL byte), then the
 * TXT record in DNS wire form (length-prefixed strings), read with avahi_string_list_parse(); if
 * that refuses it, the rest becomes one arbitrary TXT string (avahi_string_list_add_arbitrary()).
 * Accepted: zc_record_new() makes a record. Invariants: TXT keys are non-empty, lower-case,
 * printable and without '='; values printable; the record has exactly the five keys of avahi.h
 * with a known transport, the port in decimal, host-iface only for tcp and a trimmed subsysnqn
 * (from nqn= only when the discovery option is supported); -EINVAL names the field that breaks the
 * rules of validate.h, and an accepted record passes them (an IP literal, a non-zero port, an
 * interface name, an NQN).
 */
#include <avahi-common/address.h>
#include <avahi-common/strlst.h>
#include <ctype.h>
#include <errno.h>

#include "fuzz.h"
#include "avahi.h"
#include "stas/tid.h"
#include "stas/wire.h"

static bool printable(const char *s) {
        for (; *s; s++)
                if (*s < 0x20 || *s > 0x7e)
                        return false;
        return true;
}

static void check_txt(const StasKV *kv) {
        KV_FOREACH(i, kv) {
                const char *k = kv->keys[i];

                fuzz_assert(*k && printable(k) && !strchr(k, '='));
                for (const char *c = k; *c; c++)
                        fuzz_assert(!isupper((unsigned char) *c));
                fuzz_assert(printable(kv->values[i]));
        }
}

static void check_record(
        const StasKV *txt, const StasKV *rec, uint16_t port, const char *ifname, bool discovery) {
        const char *t = kv_get(rec, "transport"), *nqn = kv_get(rec, "subsysnqn");
        char svc[8];
        size_t n;

        fuzz_assert(rec->n == 5);
        fuzz_assert(t && (streq(t, "tcp") || streq(t, "rdma")));
        fuzz_assert_streq(t, zc_proto_to_transport(kv_get(txt, "p")));
        snprintf(svc, sizeof(svc), "%u", port);
        fuzz_assert_streq(kv_get(rec, "trsvcid"), svc);
        fuzz_assert_streq(kv_get(rec, "host-iface"), streq(t, "tcp") ? ifname : "");
        fuzz_assert(kv_get(rec, "traddr"));
        fuzz_assert(nqn);
        n = strlen(nqn);
        fuzz_assert(n == 0 || (!isspace((unsigned char) nqn[0]) && !isspace((unsigned char) nqn[n - 1])));
        if (!discovery || !kv_get(txt, "nqn"))
                fuzz_assert_streq(nqn, NVME_DISC_WKNQN);
}

bool fuzz_one(const uint8_t *data, size_t size) {
        FuzzInput in = fuzz_input(data, size);
        uint8_t flags = fuzz_u8(&in);
        uint16_t port = fuzz_u16(&in);
        _cleanup_free_ char *addr = fuzz_field(&in), *ifname = fuzz_field(&in);
        _cleanup_(kv_freep) StasKV *txt = NULL, *rec = NULL;
        char printed[AVAHI_ADDRESS_STR_MAX];
        const char *address = addr;
        AvahiStringList *l = NULL;
        const char *field = NULL;
        int r;

        if (flags & 2) {
                AvahiAddress a;

                if (!avahi_address_parse(addr, AVAHI_PROTO_UNSPEC, &a))
                        return false;
                address = avahi_address_snprint(printed, sizeof(printed), &a);
                fuzz_assert(address);
        }
        if (in.n > 0 && avahi_string_list_parse(in.p, in.n, &l) < 0) {
                l = avahi_string_list_add_arbitrary(NULL, in.p, in.n);
                if (!l)
                        abort();
        }
        r = zc_txt_parse(l, &txt);
        avahi_string_list_free(l);
        fuzz_assert(r == 0);
        check_txt(txt);

        r = zc_record_new_ex(txt, address, port, ifname, flags & 1, &rec, &field);
        if (r == -EINVAL) {
                fuzz_assert(field);
                fuzz_assert(zc_proto_to_transport(kv_get(txt, "p")));
                return false;
        }
        if (r < 0) {
                fuzz_assert(r == -EPROTO);
                fuzz_assert(!zc_proto_to_transport(kv_get(txt, "p")));
                return false;
        }
        fuzz_assert(!field);
        check_record(txt, rec, port, ifname, flags & 1);
        fuzz_assert(stas_is_ip_literal(kv_get(rec, "traddr")));
        fuzz_assert(port != 0);
        fuzz_assert(isempty(kv_get(rec, "host-iface")) || stas_check_ifname(kv_get(rec, "host-iface")) == 0);
        fuzz_assert(stas_check_nqn(kv_get(rec, "subsysnqn")) == 0);
        return true;
}
