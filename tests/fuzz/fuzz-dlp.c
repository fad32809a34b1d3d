/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-dlp.c - raw discovery log page bytes through the bounded reader (dlp.c: dlp_read(), the
 * decoder and dlpe_check()) to DLPEs, as a hostile discovery controller would serve them.
 * Input: a flags byte, a byte "switch at", a byte "fail at", a little-endian u16 length L, then
 * page A (L bytes) and page B (the rest). The fake Get Log Page serves page A for its first
 * "switch at" commands (0: always A) and page B after, zero bytes past the end of a page; with
 * flags bit 0 every header read (offset 0) sees genctr + 1; command number "fail at" (1-based,
 * 0: never) fails with -EIO. Unless flags bit 1 is set, a header's numrec is served modulo 65, so
 * that most runs are small pages (a numrec at the 4096-entry cap costs ~1000 commands a pass).
 * Accepted: dlp_read() succeeds with at least one entry.
 * Invariants: the result is 0, -EAGAIN or the injected -EIO; every command is at most
 * STAS_DLP_CHUNK bytes, within the header and STAS_DLP_MAX_ENTRIES entries, and the report counts
 * it; every pass ends with a command that clears RAE (a successful read ends with one); at most
 * STAS_DLP_MAX_ENTRIES entries are read; each entry read is decoded, refused or dropped, and every
 * decoded DLPE passes dlpe_check() with a usable traddr and printable values; the report's text is
 * bounded.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "stas/dlp.h"

typedef struct Fake {
        const uint8_t *a, *b;
        size_t na, nb;
        unsigned switch_at, fail_at;
        bool genctr_moves, any_numrec;
        unsigned commands, header_reads;
        bool last_rae;
        unsigned passes_ended; /* commands with RAE cleared */
} Fake;

static int get(void *userdata, uint64_t off, void *buf, uint32_t len, bool rae) {
        Fake *f = userdata;
        const uint8_t *p = f->a;
        size_t n = f->na;

        f->commands++;
        f->last_rae = rae;
        f->passes_ended += !rae;
        fuzz_assert(len > 0 && len <= STAS_DLP_CHUNK);
        fuzz_assert(
                off + len <= STAS_DLP_HEADER_SIZE + (uint64_t) STAS_DLP_MAX_ENTRIES * STAS_DLP_ENTRY_SIZE);
        if (f->fail_at && f->commands == f->fail_at)
                return -EIO;
        if (f->switch_at && f->commands > f->switch_at) {
                p = f->b;
                n = f->nb;
        }
        memset(buf, 0, len);
        if (off < n)
                memcpy(buf, p + off, n - off < len ? n - off : len);
        if (off == 0 && len >= 16) {
                uint8_t *g = buf;
                uint64_t numrec;

                if (f->genctr_moves)
                        g[0] = (uint8_t) (g[0] + ++f->header_reads);
                memcpy(&numrec, g + 8, sizeof(numrec));
                if (!f->any_numrec) {
                        numrec = htole64(le64toh(numrec) % 65);
                        memcpy(g + 8, &numrec, sizeof(numrec));
                }
        }
        return 0;
}

static bool printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
                        return false;
        return true;
}

bool fuzz_one(const uint8_t *data, size_t size) {
        FuzzInput in = fuzz_input(data, size);
        uint8_t flags = fuzz_u8(&in);
        Fake f = { .switch_at = fuzz_u8(&in),
                   .fail_at = fuzz_u8(&in),
                   .genctr_moves = flags & 1,
                   .any_numrec = flags & 2 };
        size_t la = fuzz_u16(&in);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        StasDlpReport rep = {};
        char what[256];
        size_t n;
        int r;

        f.a = in.p;
        f.na = la < in.n ? la : in.n;
        f.b = in.p + f.na;
        f.nb = in.n - f.na;

        r = dlp_read(get, &f, STAS_DLP_MAX_RETRIES, &l, &rep);
        fuzz_assert(r == 0 || r == -EAGAIN || (r == -EIO && f.fail_at && f.commands == f.fail_at));
        fuzz_assert(rep.commands == f.commands);
        fuzz_assert(rep.attempts >= 1 && rep.attempts <= STAS_DLP_MAX_RETRIES);
        fuzz_assert(rep.read <= STAS_DLP_MAX_ENTRIES);
        fuzz_assert(
                f.commands <= (unsigned) STAS_DLP_MAX_RETRIES *
                        (2 + STAS_DLP_MAX_ENTRIES * STAS_DLP_ENTRY_SIZE / STAS_DLP_CHUNK));
        if (r == -EAGAIN)
                fuzz_assert(f.passes_ended == rep.attempts && !f.last_rae);
        if (r < 0) {
                fuzz_assert(!l);
                return false;
        }
        fuzz_assert(l && !f.last_rae);
        n = dlp_list_length(l);
        fuzz_assert(n + dlp_drops_refused(&rep.drops) + rep.drops.bad_traddr == rep.read);
        fuzz_assert(rep.numrec >= rep.read && rep.drops.over_cap == rep.numrec - rep.read);
        for (size_t i = 0; i < n; i++) {
                const char *field = NULL;

                fuzz_assert(dlpe_check(l[i], &field) == 0 && !field);
                fuzz_assert(dlpe_has_usable_traddr(l[i]));
                for (size_t k = 0; k < l[i]->n; k++)
                        fuzz_assert(printable(l[i]->values[k]));
        }
        if (dlp_report_describe(&rep, what, sizeof(what)))
                fuzz_assert(strlen(what) < sizeof(what));
        return n > 0;
}
