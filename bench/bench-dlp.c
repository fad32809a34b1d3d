/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-dlp.c - what one discovery log page of N entries costs: dlp_read() (the bounded reader,
 * here over an in-memory Get Log Page: commands sent, bytes requested, time including decoding)
 * and dlp_referral_tids() (the referrals stafd follows). Half of the entries are referrals
 * (every referral listed twice, so the dedup has work), half I/O subsystems. Usage: bench-dlp
 * [N...] (default 1000 4096 20000 262144). Prints one line per N; a page larger than
 * STAS_DLP_MAX_ENTRIES claims N records but only the cap is ever read, as in the daemons. For
 * comparison each line gives what libnvme 1.3's nvmf_get_discovery_wargs() would request for the
 * same header: 1 + ceil((1024 + 1024 N) / 4096) commands and 2048 + 1024 N bytes.
 */
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stas/dlp.h"

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pad(char *field, size_t width, const char *s) {
        memset(field, ' ', width);
        memcpy(field, s, strlen(s));
}

static StasDlpHeader *make_page(size_t n, size_t *ret_size) {
        size_t size = sizeof(StasDlpHeader) + n * sizeof(StasDlpEntry);
        StasDlpHeader *log = calloc(1, size);
        char addr[32];

        if (!log)
                return NULL;
        log->numrec = htole64(n);
        log->genctr = htole64(1);
        for (size_t i = 0; i < n; i++) {
                StasDlpEntry *e = &log->entries[i];
                bool referral = i % 2 == 0;
                size_t k = referral ? i / 4 : i; /* each referral address appears twice */

                snprintf(addr, sizeof addr, "10.%zu.%zu.%zu", (k >> 16) & 255, (k >> 8) & 255, k & 255);
                e->trtype = STAS_TRTYPE_TCP;
                e->adrfam = STAS_ADRFAM_IP4;
                e->subtype = referral ? STAS_SUBTYPE_REFERRAL : STAS_SUBTYPE_NVME;
                e->portid = htole16(1);
                e->cntlid = htole16(0xffff);
                pad(e->traddr, sizeof(e->traddr), addr);
                pad(e->trsvcid, sizeof(e->trsvcid), referral ? "8009" : "4420");
                pad(e->subnqn, sizeof(e->subnqn), referral ? NVME_DISC_WKNQN : "nqn.2024-01.io.bench:sub");
        }
        *ret_size = size;
        return log;
}

typedef struct Page {
        const uint8_t *data;
        size_t size;
} Page;

static int get_log(void *userdata, uint64_t off, void *buf, uint32_t len, bool rae) {
        const Page *p = userdata;

        memset(buf, 0, len);
        if (off < p->size)
                memcpy(buf, p->data + off, p->size - off < len ? p->size - off : len);
        return 0;
}

static int bench(size_t n) {
        StasTid *dc = tid_new("tcp", "192.0.2.1", "8009", NVME_DISC_WKNQN, "", "", "nqn.host");
        size_t built = n < STAS_DLP_MAX_ENTRIES ? n : STAS_DLP_MAX_ENTRIES;
        StasDlpHeader *log;
        StasDlpReport rep = {};
        StasKV **l = NULL;
        StasTid **refs = NULL;
        size_t size;
        double t0, t1, t2;
        int nrefs;
        Page page;

        log = make_page(built, &size);
        if (!log || !dc)
                return -1;
        log->numrec = htole64(n);
        page = (Page){ (const uint8_t *) log, size };
        t0 = now();
        if (dlp_read(get_log, &page, STAS_DLP_MAX_RETRIES, &l, &rep) < 0)
                return -1;
        t1 = now();
        nrefs = dlp_referral_tids(l, dc, &refs);
        t2 = now();
        if (nrefs < 0)
                return -1;
        printf("N=%-7zu decoded=%-5zu read+decode=%7.4f s  %5u cmds %8.2f MiB  referral_tids=%7.4f s  "
               "(%d referrals)  libnvme 1.3: %" PRIu64 " cmds %.2f MiB\n",
               n,
               dlp_list_length(l),
               t1 - t0,
               rep.commands,
               rep.bytes / 1048576.0,
               t2 - t1,
               nrefs,
               1 + (1024 + 1024 * (uint64_t) n + 4095) / 4096,
               (2048 + 1024 * (double) n) / 1048576.0);
        dlp_tids_free(refs);
        dlp_list_free(l);
        tid_free(dc);
        free(log);
        return 0;
}

int main(int argc, char *argv[]) {
        static const size_t defaults[] = { 1000, 4096, 20000, 262144 };

        if (argc > 1) {
                for (int i = 1; i < argc; i++)
                        if (bench(strtoul(argv[i], NULL, 10)) < 0)
                                return 1;
                return 0;
        }
        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
                if (bench(defaults[i]) < 0)
                        return 1;
        return 0;
}
