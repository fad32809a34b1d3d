/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-bus.c - D-Bus arguments as both daemons read them (bus-util.c: bus_read_tid(),
 * bus_read_tid_lenient(), bus_read_kv(), bus_read_kvv(); then stacd's use of a get_log_pages
 * reply, stacd_discovered_set_dc(), and of a log_pages_changed signal, stacd_tid_is_sane()).
 * Input: a program that builds one method call with the public sd-bus API, one operation per
 * byte (see enum Op; strings are a length byte and that many bytes); open containers are
 * closed at the end, then the message is sealed and every reader runs on it from the start.
 * Accepted: the message is a TID, an a{ss}, an aa{ss} or an 8-string signal for some reader.
 * Invariants: a strict TID has a known transport and short, valid, control-free fields; the
 * lenient reader agrees with the strict one (same TID, no TID for InvalidArgs, an error for a
 * wrong signature); an a{ss} has unique keys; an aa{ss} is NULL-terminated and stored as is.
 */
#include <errno.h>
#include <sys/socket.h>

#include "fuzz-stacd.h"
#include "stas/bus-util.h"

typedef enum Op {
        OP_STRING,       /* s */
        OP_OPEN_DICT,    /* a{ss} */
        OP_OPEN_ENTRY,   /* {ss} */
        OP_CLOSE,        /* close the innermost container */
        OP_BOOL,         /* b */
        OP_UINT32,       /* u */
        OP_OPEN_DICTS,   /* aa{ss} */
        OP_OPEN_STRV,    /* as */
        OP_OPEN_VARIANT, /* v containing s */
        OP_PATH,         /* o */
        OP_OPEN_STRUCT,  /* (ss) */
        _OP_MAX,
} Op;

static sd_bus *bus;

void fuzz_target_init(void) {
        int sv[2];

        /* a bus on one end of a socketpair: enough to build and read messages, none is sent */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || sd_bus_new(&bus) < 0 ||
            sd_bus_set_fd(bus, sv[0], sv[0]) < 0 || sd_bus_start(bus) < 0)
                abort();
}

static void append_op(sd_bus_message *m, FuzzInput *in, unsigned *depth) {
        static const struct {
                char type;
                const char *contents;
        } open[_OP_MAX] = {
                [OP_OPEN_DICT] = { 'a', "{ss}" },   [OP_OPEN_ENTRY] = { 'e', "ss" },
                [OP_OPEN_DICTS] = { 'a', "a{ss}" }, [OP_OPEN_STRV] = { 'a', "s" },
                [OP_OPEN_VARIANT] = { 'v', "s" },   [OP_OPEN_STRUCT] = { 'r', "ss" },
        };
        Op op = fuzz_u8(in) % _OP_MAX;
        const uint8_t *b;
        size_t n;

        switch (op) {
        case OP_STRING: {
                _cleanup_free_ char *s = NULL;

                n = fuzz_blob(in, &b);
                s = fuzz_strndup(b, n);
                (void) sd_bus_message_append_basic(m, 's', s);
                break;
        }
        case OP_CLOSE:
                if (*depth > 0 && sd_bus_message_close_container(m) >= 0)
                        (*depth)--;
                break;
        case OP_BOOL: {
                int v = fuzz_u8(in) & 1;

                (void) sd_bus_message_append_basic(m, 'b', &v);
                break;
        }
        case OP_UINT32: {
                uint32_t v = fuzz_u32(in);

                (void) sd_bus_message_append_basic(m, 'u', &v);
                break;
        }
        case OP_PATH:
                (void) sd_bus_message_append_basic(m, 'o', "/org/nvmexpress/staf");
                break;
        default:
                if (sd_bus_message_open_container(m, open[op].type, open[op].contents) >= 0)
                        (*depth)++;
                break;
        }
}

static sd_bus_message *build(FuzzInput *in) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        unsigned depth = 0;

        if (sd_bus_message_new_method_call(
                    bus,
                    &m,
                    "org.nvmexpress.staf",
                    "/org/nvmexpress/staf",
                    "org.nvmexpress.staf",
                    "get_log_pages") < 0)
                abort();
        while (in->n > 0)
                append_op(m, in, &depth);
        for (; depth > 0; depth--)
                if (sd_bus_message_close_container(m) < 0)
                        return NULL; /* e.g. a dict entry with one string */
        if (sd_bus_message_seal(m, 1, 0) < 0)
                return NULL;
        return TAKE_PTR(m);
}

static bool rewind_msg(sd_bus_message *m) {
        fuzz_assert(sd_bus_message_rewind(m, true) >= 0);
        return true;
}

/* The strict and the lenient TID readers. Return: whether the strict one took it. */
static bool check_tid(sd_bus_message *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_(tid_freep) StasTid *strict = NULL, *lenient = NULL;
        int rs, rl;

        rewind_msg(m);
        rs = bus_read_tid(m, &strict, &err);
        rewind_msg(m);
        rl = bus_read_tid_lenient(m, &lenient);
        if (rs >= 0) {
                const char *f[] = { strict->transport, strict->traddr,      strict->trsvcid,
                                    strict->subsysnqn, strict->host_traddr, strict->host_iface,
                                    strict->host_nqn };

                fuzz_assert(bus_transport_is_valid(strict->transport));
                for (size_t i = 0; i < ELEMENTSOF(f); i++)
                        fuzz_assert(bus_string_is_valid(f[i], STAS_WIRE_FIELD_MAX));
                fuzz_assert(rl >= 0 && lenient && tid_equal(strict, lenient));
                return true;
        }
        if (sd_bus_error_has_name(&err, SD_BUS_ERROR_INVALID_ARGS))
                fuzz_assert(rl >= 0 && !lenient);
        else
                fuzz_assert(rl < 0);
        return false;
}

static bool check_kv(sd_bus_message *m) {
        _cleanup_(kv_freep) StasKV *kv = NULL;

        rewind_msg(m);
        if (bus_read_kv(m, &kv) < 0)
                return false;
        KV_FOREACH(i, kv)
                for (size_t j = 0; j < i; j++)
                        fuzz_assert(!streq(kv->keys[i], kv->keys[j]));
        return true;
}

/* stacd's get_log_pages reply: the entries of one DC. */
static bool check_kvv(sd_bus_message *m) {
        _cleanup_(stacd_discovered_done) StacdDiscovered d = { .known = true };
        _cleanup_(tid_freep) StasTid *dc = tid_new("tcp", "192.0.2.1", "8009", NVME_DISC_WKNQN, "", "", "");
        _cleanup_(kvv_freep) StasKV **l = NULL;
        StacdCandidate *c = NULL;
        size_t n = 0;

        rewind_msg(m);
        if (bus_read_kvv(m, &l) < 0)
                return false;
        fuzz_assert(l && dc);
        fuzz_assert(stacd_discovered_set_dc(&d, dc, l) == 0);
        fuzz_assert(d.n == 1 && dlpes_same(d.dcs[0].dlpes, l));
        fuzz_assert(stacd_discovered_iocs(&d, false, &c, &n) == 0);
        stacd_candidates_free(c, n);
        return true;
}

/* stafd's log_pages_changed signal as stacd reads it, and the small readers. */
static bool check_signal(sd_bus_message *m) {
        const char *f[8];
        bool ok = false;
        int b;

        rewind_msg(m);
        if (sd_bus_message_read(m, "ssssssss", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]) >=
            0) {
                _cleanup_(tid_freep) StasTid *tid = tid_new(f[0], f[1], f[2], f[3], f[4], f[5], f[6]);

                fuzz_assert(tid);
                (void) stacd_tid_is_sane(tid);
                ok = true;
        }
        rewind_msg(m);
        (void) sd_bus_message_read(m, "b", &b);
        rewind_msg(m);
        (void) sd_bus_message_read(m, "sss", &f[0], &f[1], &f[2]);
        return ok;
}

bool fuzz_one(const uint8_t *data, size_t size) {
        FuzzInput in = fuzz_input(data, size);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = build(&in);
        bool accepted = false;

        if (!m)
                return false;
        accepted |= check_tid(m);
        accepted |= check_kv(m);
        accepted |= check_kvv(m);
        accepted |= check_signal(m);
        return accepted;
}
