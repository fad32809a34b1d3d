/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stas/hash.h"
#include "stas/tid.h"

StasTid *tid_free(StasTid *tid) {
        if (!tid)
                return NULL;
        free(tid->transport);
        free(tid->traddr);
        free(tid->trsvcid);
        free(tid->subsysnqn);
        free(tid->host_traddr);
        free(tid->host_iface);
        free(tid->host_nqn);
        free(tid);
        return NULL;
}

StasTid *tid_new(
        const char *transport,
        const char *traddr,
        const char *trsvcid,
        const char *subsysnqn,
        const char *host_traddr,
        const char *host_iface,
        const char *host_nqn) {
        _cleanup_(tid_freep) StasTid *t = new0(StasTid, 1);

        if (!t)
                return NULL;
        t->transport = strdup(strempty(transport));
        t->traddr = strdup(strempty(traddr));
        t->trsvcid = strdup(strempty(trsvcid));
        t->subsysnqn = strdup(strempty(subsysnqn));
        t->host_traddr = strdup(strempty(host_traddr));
        t->host_iface = strdup(strempty(host_iface));
        t->host_nqn = strdup(strempty(host_nqn));
        if (!t->transport || !t->traddr || !t->trsvcid || !t->subsysnqn || !t->host_traddr ||
            !t->host_iface || !t->host_nqn)
                return NULL;
        return TAKE_PTR(t);
}

StasTid *tid_copy(const StasTid *t) {
        return tid_new(
                t->transport,
                t->traddr,
                t->trsvcid,
                t->subsysnqn,
                t->host_traddr,
                t->host_iface,
                t->host_nqn);
}

StasTid *tid_from_kv(const StasKV *kv) {
        const char *nqn = kv_get(kv, "subsysnqn");

        if (!nqn)
                nqn = kv_get(kv, "nqn");
        return tid_new(
                kv_get(kv, "transport"),
                kv_get(kv, "traddr"),
                kv_get(kv, "trsvcid"),
                nqn,
                kv_get(kv, "host-traddr"),
                kv_get(kv, "host-iface"),
                kv_get(kv, "host-nqn"));
}

StasKV *tid_to_kv(const StasTid *t) {
        _cleanup_(kv_freep) StasKV *kv = kv_new();

        if (!kv)
                return NULL;
        if (kv_set(kv, "transport", t->transport) < 0 || kv_set(kv, "traddr", t->traddr) < 0 ||
            kv_set(kv, "trsvcid", t->trsvcid) < 0 || kv_set(kv, "subsysnqn", t->subsysnqn) < 0 ||
            kv_set(kv, "host-traddr", t->host_traddr) < 0 || kv_set(kv, "host-iface", t->host_iface) < 0 ||
            kv_set(kv, "host-nqn", t->host_nqn) < 0)
                return NULL;
        return TAKE_PTR(kv);
}

#define TID_FIELDS(t)                                                                        \
        {                                                                                    \
                (t)->transport, (t)->traddr, (t)->trsvcid, (t)->subsysnqn, (t)->host_traddr, \
                        (t)->host_iface, (t)->host_nqn                                       \
        }

int tid_compare(const StasTid *a, const StasTid *b) {
        const char *fa[] = TID_FIELDS(a), *fb[] = TID_FIELDS(b);

        for (size_t i = 0; i < ELEMENTSOF(fa); i++) {
                int r = strcmp(fa[i], fb[i]);
                if (r)
                        return r;
        }
        return 0;
}

bool tid_equal(const StasTid *a, const StasTid *b) {
        if (!a || !b)
                return a == b;
        return tid_compare(a, b) == 0;
}

uint64_t tid_hash(const StasTid *t) {
        const char *f[] = TID_FIELDS(t);
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < ELEMENTSOF(f); i++) {
                for (const unsigned char *p = (const unsigned char *) f[i]; *p; p++) {
                        h ^= *p;
                        h *= 0x100000001b3ULL;
                }
                h ^= 0x1f; /* field separator, so ("ab","c") != ("a","bc") */
                h *= 0x100000001b3ULL;
        }
        return h;
}

char *tid_to_string(const StasTid *t) {
        char *s = NULL;
        int r;

        r = asprintf(
                &s,
                "(%s, %s, %s%s%s%s%s%s%s)",
                t->transport,
                t->traddr,
                t->trsvcid,
                isempty(t->subsysnqn) ? "" : ", ",
                t->subsysnqn,
                isempty(t->host_iface) ? "" : ", ",
                t->host_iface,
                isempty(t->host_traddr) ? "" : ", ",
                t->host_traddr);
        return r < 0 ? NULL : s;
}

/**
 * tid_set_done() - free the table (not the TIDs) and zero the set.
 * @s: the set
 */
void tid_set_done(StasTidSet *s) {
        free(s->slots);
        *s = (StasTidSet){};
}

/* The seven fields under the set's key, each ended by 0x1f ("ab","c" != "a","bc"). */
static uint64_t tid_set_hash(const StasTidSet *s, const StasTid *t) {
        const char *f[] = TID_FIELDS(t);
        uint64_t h = 0;

        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                h = stas_siphash13(s->key, h ^ (i + 1), f[i], strlen(f[i]));
        return h;
}

static void tid_set_put(const StasTidSet *s, const StasTid **slots, size_t mask, const StasTid *tid) {
        size_t i = tid_set_hash(s, tid) & mask;

        while (slots[i])
                i = (i + 1) & mask;
        slots[i] = tid;
}

/**
 * tid_set_add() - add @tid unless an equal TID is there.
 * @s: the set (zero-initialised to start)
 * @tid: the TID (borrowed)
 */
int tid_set_add(StasTidSet *s, const StasTid *tid) {
        size_t i;

        if (!s->slots)
                stas_hash_key_init(s->key);
        if (!s->slots || (s->n + 1) * 2 > s->mask + 1) {
                size_t size = s->slots ? (s->mask + 1) * 2 : 16;
                const StasTid **slots = new0(const StasTid *, size);

                if (!slots)
                        return -ENOMEM;
                for (size_t j = 0; s->slots && j <= s->mask; j++)
                        if (s->slots[j])
                                tid_set_put(s, slots, size - 1, s->slots[j]);
                free(s->slots);
                s->slots = slots;
                s->mask = size - 1;
        }
        for (i = tid_set_hash(s, tid) & s->mask; s->slots[i]; i = (i + 1) & s->mask) {
                s->probes++;
                if (tid_equal(s->slots[i], tid))
                        return 0;
        }
        s->slots[i] = tid;
        s->n++;
        return 1;
}
