/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-entry.c - controller= and exclude= values (stas_conf_parse_entry(), conf.c), for both
 * daemons, then the connect options of each controller entry (stas_conf_connect_options()).
 * Input: the value. Accepted: at least one of the four parses (stafd/stacd x controller/exclude)
 * keeps the entry. Invariants of a kept entry (conf.h): keys are known, lower-case and never
 * "nqn" or *-file; keys and values carry no ';' and no surrounding whitespace (values may be
 * empty); a controller has a supported transport, a traddr (except loop), a trsvcid ("" for fc and
 * loop), a subsysnqn, and overrides in canonical form; an exclude has no host-traddr.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "fuzz.h"
#include "stacd-conf.h"
#include "stafd-conf.h"
#include "stas/conf.h"
#include "stas/tid.h"

static const char *const known_keys[] = {
        "transport",       "traddr",          "trsvcid",       "subsysnqn",          "host-traddr",
        "host-iface",      "host-nqn",        "hdr-digest",    "data-digest",        "kato",
        "queue-size",      "reconnect-delay", "ctrl-loss-tmo", "disable-sqflow",     "nr-io-queues",
        "nr-write-queues", "nr-poll-queues",  "dhchap-secret", "dhchap-ctrl-secret",
};

static bool is_known(const char *k) {
        for (size_t i = 0; i < ELEMENTSOF(known_keys); i++)
                if (streq(k, known_keys[i]))
                        return true;
        return false;
}

static bool trimmed(const char *s) {
        size_t n = strlen(s);

        return n == 0 || (!isspace((unsigned char) s[0]) && !isspace((unsigned char) s[n - 1]));
}

static void check_canonical(const char *k, const char *v) {
        static const char *const bools[] = { "hdr-digest", "data-digest", "disable-sqflow" };
        char buf[32];
        long n;

        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                if (streq(k, bools[i])) {
                        fuzz_assert(streq(v, "true") || streq(v, "false"));
                        return;
                }
        if (streq(k, "kato") || streq(k, "queue-size") || strstr(k, "reconnect") || strstr(k, "loss") ||
            strneq(k, "nr-", 3)) {
                n = strtol(v, NULL, 10);
                snprintf(buf, sizeof(buf), "%ld", n);
                fuzz_assert_streq(buf, v);
        }
}

static void check_entry(const StasConfSchema *d, bool exclude, const StasKV *kv) {
        const char *t = kv_get(kv, "transport");

        KV_FOREACH(i, kv) {
                const char *k = kv->keys[i], *v = kv->values[i];

                fuzz_assert(is_known(k));
                fuzz_assert(!strchr(k, ';') && !strchr(v, ';'));
                fuzz_assert(trimmed(k) && trimmed(v));
                for (const char *c = k; *c; c++)
                        fuzz_assert(!isupper((unsigned char) *c));
                if (!exclude)
                        check_canonical(k, v);
        }
        if (exclude) {
                fuzz_assert(kv->n > 0);
                fuzz_assert(!kv_get(kv, "host-traddr"));
                return;
        }
        fuzz_assert(t && (streq(t, "tcp") || streq(t, "rdma") || streq(t, "fc") || streq(t, "loop")));
        fuzz_assert(streq(t, "loop") || !isempty(kv_get(kv, "traddr")));
        fuzz_assert(kv_get(kv, "trsvcid"));
        if (streq(t, "fc") || streq(t, "loop"))
                fuzz_assert_streq(kv_get(kv, "trsvcid"), "");
        else
                fuzz_assert(!isempty(kv_get(kv, "trsvcid")));
        fuzz_assert(!isempty(kv_get(kv, "subsysnqn")));
}

static void check_options(const StasConfSchema *d, const StasKV *kv) {
        _cleanup_(stas_conf_freep) StasConf *c = stas_conf_new_default(d);
        StasConnectOptions o;

        if (!c)
                abort();
        fuzz_assert(stas_conf_connect_options(c, kv, &o) == 0);
        fuzz_assert(o.queue_size == STAS_OPT_UNSET || (o.queue_size >= 16 && o.queue_size <= 1024));
        fuzz_assert(!o.ctrl_loss_tmo_set || o.ctrl_loss_tmo >= -1);
        fuzz_assert_streq(
                o.dhchap_secret, isempty(kv_get(kv, "dhchap-secret")) ? NULL : kv_get(kv, "dhchap-secret"));
        connect_options_done(&o);
}

bool fuzz_one(const uint8_t *data, size_t size) {
        _cleanup_free_ char *value = fuzz_strndup(data, size);
        bool accepted = false;

        for (int i = 0; i < 4; i++) {
                const StasConfSchema *d = i & 1 ? &stacd_conf_schema : &stafd_conf_schema;
                bool exclude = i & 2;
                _cleanup_(kv_freep) StasKV *kv = NULL;
                int r;

                r = stas_conf_parse_entry(d, exclude, value, "fuzz.conf", 1, &kv);
                if (r < 0) {
                        fuzz_assert(r == -EINVAL);
                        continue;
                }
                check_entry(d, exclude, kv);
                if (!exclude)
                        check_options(d, kv);
                accepted = true;
        }
        return accepted;
}
