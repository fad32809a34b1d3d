/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <endian.h>

#include "stas/dlp.h"

static StasDlpHeader *new_log(size_t n, size_t *ret_size) {
        size_t size = sizeof(StasDlpHeader) + n * sizeof(StasDlpEntry);
        StasDlpHeader *log = calloc(1, size);

        assert_non_null(log);
        log->numrec = htole64(n);
        log->genctr = htole64(42);
        *ret_size = size;
        return log;
}

/* Fill text fields the way a target does: space padding, no NUL. */
static void pad(char *field, size_t width, const char *s) {
        assert_true(strlen(s) <= width);
        memset(field, ' ', width);
        memcpy(field, s, strlen(s));
}

static void set_entry(
        StasDlpEntry *e,
        uint8_t trtype,
        uint8_t subtype,
        const char *traddr,
        const char *trsvcid,
        const char *subnqn) {
        e->trtype = trtype;
        e->adrfam = STAS_ADRFAM_IP4;
        e->subtype = subtype;
        e->treq = STAS_TREQ_NOT_SPECIFIED;
        e->portid = htole16(1);
        e->cntlid = htole16(0xffff);
        e->asqsz = htole16(32);
        e->eflags = htole16(0);
        pad(e->traddr, sizeof(e->traddr), traddr);
        pad(e->trsvcid, sizeof(e->trsvcid), trsvcid);
        pad(e->subnqn, sizeof(e->subnqn), subnqn);
}

static void test_dlp_decode_keys_and_values(void **state) {
        size_t size;
        _cleanup_free_ StasDlpHeader *log = new_log(1, &size);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        uint64_t genctr = 0;
        static const char *const keys[] = { "trtype", "adrfam", "traddr", "trsvcid", "subnqn", "subtype",
                                            "treq",   "portid", "cntlid", "asqsz",   "eflags" };

        set_entry(&log->entries[0], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "192.168.1.1", "4420", "nqn.io");
        log->entries[0].eflags = htole16(STAS_EFLAGS_NCC | STAS_EFLAGS_EPCSD);
        log->entries[0].portid = htole16(0x1234);

        assert_int_equal(dlp_decode(log, size, &l, &genctr), 0);
        assert_int_equal(genctr, 42);
        assert_int_equal(dlp_list_length(l), 1);
        assert_int_equal(l[0]->n, ELEMENTSOF(keys));
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                assert_string_equal(l[0]->keys[i], keys[i]);
        assert_string_equal(kv_get(l[0], "trtype"), "tcp");
        assert_string_equal(kv_get(l[0], "adrfam"), "ipv4");
        assert_string_equal(kv_get(l[0], "traddr"), "192.168.1.1");
        assert_string_equal(kv_get(l[0], "trsvcid"), "4420");
        assert_string_equal(kv_get(l[0], "subnqn"), "nqn.io");
        assert_string_equal(kv_get(l[0], "subtype"), "nvme");
        assert_string_equal(kv_get(l[0], "treq"), "not specified");
        assert_string_equal(kv_get(l[0], "portid"), "4660");
        assert_string_equal(kv_get(l[0], "cntlid"), "65535");
        assert_string_equal(kv_get(l[0], "asqsz"), "32");
        assert_string_equal(kv_get(l[0], "eflags"), "6");
        assert_true(dlpe_is_ncc(l[0]));
        assert_true(dlpe_is_nvme(l[0]));
        assert_false(dlpe_is_referral(l[0]));
}

static void test_dlp_decode_enum_names_and_unknown(void **state) {
        StasDlpEntry e = {};
        static const struct {
                uint8_t trtype, adrfam, subtype, treq;
                const char *traddr, *trsvcid;
                const char *s_trtype, *s_adrfam, *s_subtype, *s_treq;
        } v[] = {
                { 0, 0, 1, 0, "10.0.0.1", "8009", "unspecified", "pci", "referral", "not specified" },
                { 1, 2, 2, 1, "fe80::1", "4420", "rdma", "ipv6", "nvme", "required" },
                { 2,
                  3,
                  3,
                  2,
                  "nn-0x1000000000000001:pn-0x2000000000000001",
                  "",
                  "fc",
                  "infiniband",
                  "discovery",
                  "not required" },
                { 254, 4, 3, 4, "", "", "loop", "fc", "discovery", "disable sqflow" },
                { 9, 254, 0, 5, "whatever", "8009", "9", "254", "0", "5" },
                { 255, 5, 200, 3, "10.0.0.1", "x", "255", "5", "200", "3" },
        };

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                _cleanup_(kv_freep) StasKV *kv = NULL;

                set_entry(&e, v[i].trtype, v[i].subtype, v[i].traddr, v[i].trsvcid, "nqn.x");
                e.adrfam = v[i].adrfam;
                e.treq = v[i].treq;
                assert_int_equal(dlpe_from_entry(&e, &kv), 0);
                assert_string_equal(kv_get(kv, "trtype"), v[i].s_trtype);
                assert_string_equal(kv_get(kv, "adrfam"), v[i].s_adrfam);
                assert_string_equal(kv_get(kv, "subtype"), v[i].s_subtype);
                assert_string_equal(kv_get(kv, "treq"), v[i].s_treq);
        }
}

static void test_dlp_decode_unterminated_fields(void **state) {
        size_t size;
        _cleanup_free_ StasDlpHeader *log = new_log(3, &size);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        char nqn[STAS_NQN_MAX + 1];
        StasDlpDrops drops = {};

        /* subnqn is 223 long, the limit; trsvcid is space padded to its 32 bytes without a NUL */
        memset(nqn, 'q', STAS_NQN_MAX);
        memcpy(nqn, "nqn.", 4);
        nqn[STAS_NQN_MAX] = 0;
        set_entry(&log->entries[0], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.1", "4420", nqn);
        /* a subnqn filling all 256 bytes is no NQN: dropped */
        set_entry(&log->entries[1], STAS_TRTYPE_TCP, STAS_SUBTYPE_REFERRAL, "10.0.0.1", "8009", "");
        memset(log->entries[1].subnqn, 'q', 256);
        memcpy(log->entries[1].subnqn, "nqn.", 4);
        /* a traddr filling all 256 bytes is no address: dropped, read within its bounds */
        set_entry(&log->entries[2], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "", "4420", "nqn.ok");
        memset(log->entries[2].traddr, 'a', 256);

        assert_int_equal(dlp_decode_ex(log, size, &l, NULL, &drops), 2);
        assert_int_equal(dlp_list_length(l), 1);
        assert_int_equal(strlen(kv_get(l[0], "subnqn")), STAS_NQN_MAX);
        assert_string_equal(kv_get(l[0], "subnqn"), nqn);
        assert_string_equal(kv_get(l[0], "trsvcid"), "4420");
        assert_int_equal(drops.bad_nqn, 1);
        assert_int_equal(drops.bad_addr, 1);
        /* the first one is described, with a bounded excerpt */
        assert_int_equal(drops.first_index, 1);
        assert_string_equal(drops.first_field, "subnqn");
        assert_true(strlen(drops.first_value) < sizeof(drops.first_value));
        assert_non_null(strstr(drops.first_value, "..."));
}

static void test_dlp_decode_drops_implausible_nqn(void **state) {
        size_t size;
        _cleanup_free_ StasDlpHeader *log = new_log(5, &size);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        StasDlpEntry e = {};
        _cleanup_(kv_freep) StasKV *kv = NULL;
        StasDlpDrops drops = {};
        char long_nqn[STAS_NQN_MAX + 2];

        memset(long_nqn, 'q', STAS_NQN_MAX + 1);
        memcpy(long_nqn, "nqn.", 4);
        long_nqn[STAS_NQN_MAX + 1] = 0;

        set_entry(&log->entries[0], STAS_TRTYPE_TCP, STAS_SUBTYPE_REFERRAL, "10.0.0.1", "8009", long_nqn);
        set_entry(&log->entries[1], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.2", "4420", "iqn.not-nvme");
        set_entry(&log->entries[2], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.3", "4420", "");
        set_entry(&log->entries[3], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "0.0.0.0", "4420", "nqn.x");
        set_entry(&log->entries[4], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.5", "4420", "nqn.ok");

        assert_int_equal(dlp_decode_ex(log, size, &l, NULL, &drops), 4);
        assert_int_equal(drops.bad_nqn, 3);
        assert_int_equal(drops.bad_traddr, 1);
        assert_int_equal(drops.bad_text, 0);
        assert_int_equal(drops.over_cap, 0);
        assert_int_equal(dlp_list_length(l), 1);
        assert_string_equal(kv_get(l[0], "subnqn"), "nqn.ok");

        set_entry(&e, STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.1", "4420", "nqn");
        assert_int_equal(dlpe_from_entry(&e, &kv), -EINVAL);
        assert_null(kv);
        assert_true(dlp_nqn_is_plausible("nqn.a"));
        assert_false(dlp_nqn_is_plausible(NULL));
        assert_false(dlp_nqn_is_plausible("NQN.a"));
        assert_false(dlp_nqn_is_plausible(long_nqn));
        long_nqn[STAS_NQN_MAX] = 0;
        assert_true(dlp_nqn_is_plausible(long_nqn));
}

static void test_dlp_decode_entry_cap(void **state) {
        size_t size, n = STAS_DLP_MAX_ENTRIES + 10;
        _cleanup_free_ StasDlpHeader *log = new_log(n, &size);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        StasDlpDrops drops = {};
        uint64_t genctr = 0;
        char addr[32];

        for (size_t i = 0; i < n; i++) {
                snprintf(addr, sizeof addr, "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255, i & 255);
                set_entry(&log->entries[i], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, addr, "4420", "nqn.cap");
        }
        /* one bad entry inside the cap: counted as dropped, the cap still counts raw records */
        log->entries[1].subnqn[0] = 'x';

        assert_int_equal(dlp_decode_ex(log, size, &l, &genctr, &drops), 1);
        assert_int_equal(genctr, 42);
        assert_int_equal(drops.over_cap, 10);
        assert_int_equal(drops.bad_nqn, 1);
        assert_int_equal(dlp_list_length(l), STAS_DLP_MAX_ENTRIES - 1);
        assert_string_equal(kv_get(l[0], "traddr"), "10.0.0.0");
        assert_string_equal(kv_get(l[1], "traddr"), "10.0.0.2");
        snprintf(
                addr,
                sizeof addr,
                "10.0.%d.%d",
                (STAS_DLP_MAX_ENTRIES - 1) >> 8,
                (STAS_DLP_MAX_ENTRIES - 1) & 255);
        assert_string_equal(kv_get(l[STAS_DLP_MAX_ENTRIES - 2], "traddr"), addr);
}

static void test_dlp_decode_padding_trimmed(void **state) {
        StasDlpEntry e = {};
        _cleanup_(kv_freep) StasKV *kv = NULL;

        set_entry(&e, STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "  10.0.0.1", "", "nqn.a");
        memcpy(e.trsvcid, " 8009\0\0garbage", 14); /* bytes after the first NUL are ignored */
        e.subnqn[10] = 0;                          /* NUL in the middle of padding */

        assert_int_equal(dlpe_from_entry(&e, &kv), 0);
        assert_string_equal(kv_get(kv, "traddr"), "10.0.0.1");
        assert_string_equal(kv_get(kv, "trsvcid"), "8009");
        assert_string_equal(kv_get(kv, "subnqn"), "nqn.a");
}

static void test_dlp_decode_drops_bad_entries(void **state) {
        size_t size;
        _cleanup_free_ StasDlpHeader *log = new_log(6, &size);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;

        set_entry(&log->entries[0], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "0.0.0.0", "4420", "nqn.a");
        set_entry(&log->entries[1], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "::", "4420", "nqn.b");
        set_entry(&log->entries[2], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "", "4420", "nqn.c");
        set_entry(
                &log->entries[3],
                STAS_TRTYPE_TCP,
                STAS_SUBTYPE_NVME,
                "10.0.0.4",
                "4420",
                "nqn.\x01"
                "bad");
        set_entry(&log->entries[4], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.5\xff", "4420", "nqn.e");
        set_entry(&log->entries[5], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.6", "4420", "nqn.ok");

        assert_int_equal(dlp_decode(log, size, &l, NULL), 5);
        assert_int_equal(dlp_list_length(l), 1);
        assert_string_equal(kv_get(l[0], "subnqn"), "nqn.ok");
}

static void test_dlp_decode_numrec_larger_than_buffer(void **state) {
        size_t size;
        _cleanup_free_ StasDlpHeader *log = new_log(2, &size);
        _cleanup_(dlp_list_freep) StasKV **l = NULL, **empty = NULL;

        set_entry(&log->entries[0], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.1", "4420", "nqn.a");
        set_entry(&log->entries[1], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.2", "4420", "nqn.b");
        log->numrec = htole64(UINT64_MAX);

        /* only one and a half entries in the buffer: one decoded, nothing read past the end */
        assert_int_equal(dlp_decode(log, size - 512, &l, NULL), 0);
        assert_int_equal(dlp_list_length(l), 1);

        assert_int_equal(dlp_decode(log, 100, &empty, NULL), -EBADMSG);
        assert_int_equal(dlp_decode(log, sizeof(StasDlpHeader), &empty, NULL), 0);
        assert_int_equal(dlp_list_length(empty), 0);
}

static StasKV *dlpe(const char *subtype, const char *traddr, const char *subnqn) {
        StasKV *kv = kv_new();

        assert_non_null(kv);
        assert_int_equal(kv_set(kv, "trtype", "tcp"), 0);
        assert_int_equal(kv_set(kv, "traddr", traddr), 0);
        assert_int_equal(kv_set(kv, "trsvcid", "8009"), 0);
        assert_int_equal(kv_set(kv, "subnqn", subnqn), 0);
        assert_int_equal(kv_set(kv, "subtype", subtype), 0);
        assert_int_equal(kv_set(kv, "eflags", "0"), 0);
        return kv;
}

static void test_dlp_list_change_detection(void **state) {
        _cleanup_(dlp_list_freep) StasKV **a = NULL, **b = NULL, **c = NULL;

        assert_int_equal(dlp_list_append(&a, dlpe("nvme", "1.1.1.1", "nqn.a")), 0);
        assert_int_equal(dlp_list_append(&a, dlpe("referral", "2.2.2.2", "nqn.b")), 0);
        /* same content, other order: no change */
        assert_int_equal(dlp_list_append(&b, dlpe("referral", "2.2.2.2", "nqn.b")), 0);
        assert_int_equal(dlp_list_append(&b, dlpe("nvme", "1.1.1.1", "nqn.a")), 0);
        assert_true(dlp_list_equal(a, b));
        c = dlp_list_copy(a);
        assert_true(dlp_list_equal(a, c));
        /* one value changed */
        assert_int_equal(kv_set(c[1], "eflags", "4"), 0);
        assert_false(dlp_list_equal(a, c));
        /* duplicates count */
        assert_int_equal(dlp_list_append(&b, dlpe("nvme", "1.1.1.1", "nqn.a")), 0);
        assert_false(dlp_list_equal(a, b));
        assert_true(dlp_list_equal(NULL, NULL));
        assert_false(dlp_list_equal(a, NULL));
}

static void test_dlp_referral_and_ioc_tids(void **state) {
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        _cleanup_(dlp_tids_freep) StasTid **refs = NULL, **iocs = NULL;
        _cleanup_(tid_freep) StasTid *dc =
                tid_new("tcp", "9.9.9.9", "8009", NVME_DISC_WKNQN, "10.0.0.1", "eth0", "nqn.host");

        assert_int_equal(dlp_list_append(&l, dlpe("nvme", "1.1.1.1", "nqn.a")), 0);
        assert_int_equal(dlp_list_append(&l, dlpe("referral", "2.2.2.2", "nqn.b")), 0);
        assert_int_equal(dlp_list_append(&l, dlpe("discovery", "9.9.9.9", NVME_DISC_WKNQN)), 0);
        assert_int_equal(dlp_list_append(&l, dlpe("nvme", "1.1.1.1", "nqn.a")), 0); /* duplicate */
        assert_int_equal(dlp_list_append(&l, dlpe("nvme", "3.3.3.3", "nqn.c")), 0);

        assert_int_equal(dlp_referral_tids(l, dc, &refs), 1);
        assert_string_equal(refs[0]->transport, "tcp");
        assert_string_equal(refs[0]->traddr, "2.2.2.2");
        assert_string_equal(refs[0]->trsvcid, "8009");
        assert_string_equal(refs[0]->subsysnqn, "nqn.b");
        assert_string_equal(refs[0]->host_traddr, "10.0.0.1");
        assert_string_equal(refs[0]->host_iface, "eth0");
        assert_string_equal(refs[0]->host_nqn, "nqn.host");
        assert_null(refs[1]);

        assert_int_equal(dlp_ioc_tids(l, dc, &iocs), 2);
        assert_string_equal(iocs[0]->traddr, "1.1.1.1");
        assert_string_equal(iocs[1]->traddr, "3.3.3.3");
        assert_string_equal(iocs[1]->host_nqn, "nqn.host");
        assert_null(iocs[2]);
}

static void test_dlp_push_and_dedup_at_scale(void **state) {
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        _cleanup_(dlp_tids_freep) StasTid **refs = NULL;
        size_t n = 0, cap = 0;
        char addr[32];

        /* 3000 referrals, each listed three times, interleaved with IOCs: 3000 distinct TIDs */
        for (size_t round = 0; round < 3; round++)
                for (size_t i = 0; i < 3000; i++) {
                        snprintf(addr, sizeof addr, "10.1.%zu.%zu", i >> 8, i & 255);
                        assert_int_equal(
                                dlp_list_push(&l, &n, &cap, dlpe("referral", addr, NVME_DISC_WKNQN)), 0);
                        assert_int_equal(dlp_list_push(&l, &n, &cap, dlpe("nvme", addr, "nqn.io")), 0);
                }
        assert_int_equal(n, 18000);
        assert_true(cap >= n + 1);
        assert_int_equal(dlp_list_length(l), 18000);

        assert_int_equal(dlp_referral_tids(l, NULL, &refs), 3000);
        /* order follows the first occurrence */
        for (size_t i = 0; i < 3000; i++) {
                snprintf(addr, sizeof addr, "10.1.%zu.%zu", i >> 8, i & 255);
                assert_string_equal(refs[i]->traddr, addr);
        }
        assert_null(refs[3000]);
}

static void test_dlp_ncc_parsing(void **state) {
        _cleanup_(kv_freep) StasKV *e = dlpe("nvme", "1.1.1.1", "nqn.a");

        assert_false(dlpe_is_ncc(e));
        assert_int_equal(kv_set(e, "eflags", "5"), 0);
        assert_true(dlpe_is_ncc(e));
        assert_int_equal(kv_set(e, "eflags", "4x"), 0);
        assert_false(dlpe_is_ncc(e));
        assert_int_equal(kv_set(e, "eflags", ""), 0);
        assert_false(dlpe_is_ncc(e));
        assert_false(dlpe_has_usable_traddr(NULL));
}

/* ---- dlp_read(): a fake Get Log Page over a page held in memory ---- */

typedef struct FakeLog {
        StasDlpHeader *page; /* served from here; offsets past it read as zeroes */
        size_t size;
        StasDlpHeader *page2; /* served after the first command when set (a changing page) */
        size_t size2;
        bool genctr_every_read; /* every header read sees genctr + 1 */
        int fail_at;            /* command number (1-based) that fails with -EIO, 0: none */
        unsigned commands, rae_cleared, header_reads;
        bool last_rae;
        uint64_t max_off;
} FakeLog;

static int fake_get(void *userdata, uint64_t off, void *buf, uint32_t len, bool rae) {
        FakeLog *f = userdata;
        const uint8_t *src = (const uint8_t *) f->page;
        size_t size = f->size;

        f->commands++;
        f->last_rae = rae;
        f->rae_cleared += !rae;
        if (off + len > f->max_off)
                f->max_off = off + len;
        assert_true(len > 0 && len <= STAS_DLP_CHUNK);
        if (f->fail_at && (int) f->commands == f->fail_at)
                return -EIO;
        if (f->page2 && f->commands > 1) {
                src = (const uint8_t *) f->page2;
                size = f->size2;
        }
        memset(buf, 0, len);
        if (off < size)
                memcpy(buf, src + off, size - off < len ? size - off : len);
        if (off == 0) {
                f->header_reads++;
                if (f->genctr_every_read)
                        ((StasDlpHeader *) buf)->genctr = htole64(100 + f->header_reads);
        }
        return 0;
}

static StasDlpHeader *page_of(size_t n, size_t *size) {
        StasDlpHeader *log = new_log(n, size);
        char addr[32];

        for (size_t i = 0; i < n; i++) {
                snprintf(addr, sizeof addr, "10.9.%zu.%zu", i >> 8, i & 255);
                set_entry(&log->entries[i], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, addr, "4420", "nqn.read");
        }
        return log;
}

static void test_dlp_read_clears_rae_on_the_last_command(void **state) {
        /* 9 records: 9 KiB of entries, more than one 4 KiB command (libnvme 1.3 left RAE set) */
        FakeLog f = {};
        _cleanup_free_ StasDlpHeader *log = page_of(9, &f.size);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        StasDlpReport rep = {};

        f.page = log;
        assert_int_equal(dlp_read(fake_get, &f, STAS_DLP_MAX_RETRIES, &l, &rep), 0);
        assert_int_equal(dlp_list_length(l), 9);
        /* header, 3 chunks of entries, header again */
        assert_int_equal(f.commands, 5);
        assert_int_equal(rep.commands, 5);
        assert_int_equal(f.rae_cleared, 1);
        assert_false(f.last_rae);
        assert_int_equal(rep.genctr, 42);
        assert_int_equal(rep.numrec, 9);
        assert_int_equal(rep.read, 9);
        assert_int_equal(rep.attempts, 1);
        assert_int_equal(f.max_off, f.size);
        assert_false(dlp_report_describe(&rep, (char[8]){}, 8));
}

static void test_dlp_read_empty_page(void **state) {
        FakeLog f = {};
        _cleanup_free_ StasDlpHeader *log = page_of(2, &f.size);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        StasDlpReport rep = {};

        /* numrec 0 with entries present: nothing past the header is read or decoded */
        log->numrec = htole64(0);
        f.page = log;
        assert_int_equal(dlp_read(fake_get, &f, STAS_DLP_MAX_RETRIES, &l, &rep), 0);
        assert_int_equal(dlp_list_length(l), 0);
        assert_int_equal(f.commands, 2);
        assert_int_equal(f.max_off, STAS_DLP_HEADER_SIZE);
        assert_false(f.last_rae);
}

static void test_dlp_read_huge_numrec_is_bounded(void **state) {
        static const uint64_t claims[] = { (1ULL << 22) - 1, (1ULL << 22) + 1, UINT32_MAX, UINT64_MAX };

        for (size_t i = 0; i < ELEMENTSOF(claims); i++) {
                FakeLog f = {};
                _cleanup_free_ StasDlpHeader *log = page_of(3, &f.size);
                _cleanup_(dlp_list_freep) StasKV **l = NULL;
                StasDlpReport rep = {};
                char what[256];

                log->numrec = htole64(claims[i]);
                f.page = log;
                assert_int_equal(dlp_read(fake_get, &f, STAS_DLP_MAX_RETRIES, &l, &rep), 0);
                /* the 3 real entries; the zeroes after them are refused, nothing past the cap is read */
                assert_int_equal(dlp_list_length(l), 3);
                assert_int_equal(rep.read, STAS_DLP_MAX_ENTRIES);
                assert_int_equal(rep.numrec, claims[i]);
                assert_int_equal(rep.drops.over_cap, claims[i] - STAS_DLP_MAX_ENTRIES);
                assert_int_equal(rep.drops.bad_nqn, STAS_DLP_MAX_ENTRIES - 3);
                assert_int_equal(
                        f.max_off,
                        STAS_DLP_HEADER_SIZE + (uint64_t) STAS_DLP_MAX_ENTRIES * STAS_DLP_ENTRY_SIZE);
                assert_int_equal(
                        f.commands, 2 + STAS_DLP_MAX_ENTRIES * STAS_DLP_ENTRY_SIZE / STAS_DLP_CHUNK);
                assert_true(dlp_report_describe(&rep, what, sizeof(what)));
                assert_non_null(strstr(what, "read only the first 4096 of"));
        }
}

static void test_dlp_read_genctr_never_settles(void **state) {
        FakeLog f = { .genctr_every_read = true };
        _cleanup_free_ StasDlpHeader *log = page_of(2, &f.size);
        StasKV **l = NULL;
        StasDlpReport rep = {};

        f.page = log;
        assert_int_equal(dlp_read(fake_get, &f, 4, &l, &rep), -EAGAIN);
        assert_null(l);
        assert_int_equal(rep.attempts, 4);
        assert_int_equal(f.commands, 4 * 3);
        /* every pass ended with RAE cleared */
        assert_int_equal(f.rae_cleared, 4);
        assert_false(f.last_rae);
}

static void test_dlp_read_page_shrinks(void **state) {
        FakeLog f = {};
        _cleanup_free_ StasDlpHeader *big = page_of(5, &f.size);
        _cleanup_free_ StasDlpHeader *small = page_of(3, &f.size2);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        StasDlpReport rep = {};

        /* the header says 5 with genctr 42, the entries and the next header come from a 3-entry
         * page with the same genctr (a DC that does not bump it): the numrec check retries */
        f.page = big;
        f.page2 = small;
        assert_int_equal(dlp_read(fake_get, &f, STAS_DLP_MAX_RETRIES, &l, &rep), 0);
        assert_int_equal(rep.attempts, 2);
        assert_int_equal(dlp_list_length(l), 3);
        assert_int_equal(rep.numrec, 3);
        assert_int_equal(dlp_drops_refused(&rep.drops), 0);
}

static void test_dlp_read_error_stops(void **state) {
        FakeLog f = { .fail_at = 2 };
        _cleanup_free_ StasDlpHeader *log = page_of(9, &f.size);
        StasKV **l = NULL;

        f.page = log;
        assert_int_equal(dlp_read(fake_get, &f, STAS_DLP_MAX_RETRIES, &l, NULL), -EIO);
        assert_null(l);
        assert_int_equal(f.commands, 2);
        assert_int_equal(dlp_read(NULL, &f, 1, &l, NULL), -EINVAL);
}

/* ---- entries that would inject connect options ---- */

static void test_dlp_decode_refuses_injection(void **state) {
        size_t size;
        _cleanup_free_ StasDlpHeader *log = new_log(8, &size);
        _cleanup_(dlp_list_freep) StasKV **l = NULL;
        StasDlpDrops drops = {};
        StasDlpReport rep = {};
        char what[256];

        set_entry(
                &log->entries[0],
                STAS_TRTYPE_TCP,
                STAS_SUBTYPE_NVME,
                "10.0.0.1",
                "4420,host_iface=evil0",
                "nqn.a");
        set_entry(
                &log->entries[1],
                STAS_TRTYPE_TCP,
                STAS_SUBTYPE_NVME,
                "10.0.0.1",
                "4420",
                "nqn.2024-01.io.evil:x,host_traddr=203.0.113.9,nr_io_queues=1");
        set_entry(
                &log->entries[2],
                STAS_TRTYPE_TCP,
                STAS_SUBTYPE_NVME,
                "10.0.0.1,host_iface=evil0",
                "4420",
                "nqn.b");
        set_entry(&log->entries[3], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.1", "65536", "nqn.c");
        set_entry(&log->entries[4], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.1", "4420", "nqn.d e");
        set_entry(
                &log->entries[5],
                STAS_TRTYPE_TCP,
                STAS_SUBTYPE_NVME,
                "fe80::1",
                "4420",
                "nqn.ipv6-in-ipv4"); /* adrfam ipv4 */
        set_entry(&log->entries[6], STAS_TRTYPE_FC, STAS_SUBTYPE_NVME, "10.0.0.1", "", "nqn.fc");
        set_entry(&log->entries[7], STAS_TRTYPE_TCP, STAS_SUBTYPE_NVME, "10.0.0.7", "4420", "nqn.good");

        assert_int_equal(dlp_decode_ex(log, size, &l, NULL, &drops), 7);
        assert_int_equal(dlp_list_length(l), 1);
        assert_string_equal(kv_get(l[0], "subnqn"), "nqn.good");
        assert_int_equal(drops.bad_trsvcid, 2);
        assert_int_equal(drops.bad_nqn, 2);
        assert_int_equal(drops.bad_addr, 3);
        assert_int_equal(drops.first_index, 0);
        assert_string_equal(drops.first_field, "trsvcid");

        rep.read = 8;
        rep.drops = drops;
        assert_true(dlp_report_describe(&rep, what, sizeof(what)));
        assert_non_null(strstr(what, "skipped 7 of 8 entries"));
        assert_non_null(strstr(what, "first: entry 0, trsvcid '4420,host_iface=evil0'"));
        assert_int_equal(dlp_report_signature(&rep), dlp_report_signature(&rep));
        rep.drops.bad_nqn++;
        assert_true(dlp_report_signature(&rep) != 0);
}

static void test_dlpe_check_kv(void **state) {
        _cleanup_(kv_freep) StasKV *e = dlpe("nvme", "1.1.1.1", "nqn.a");
        const char *field = NULL;

        assert_int_equal(dlpe_check(e, &field), 0);
        assert_null(field);
        assert_int_equal(kv_set(e, "trsvcid", "8009,host_iface=x"), 0);
        assert_int_equal(dlpe_check(e, &field), -EINVAL);
        assert_string_equal(field, "trsvcid");
        assert_int_equal(kv_set(e, "trsvcid", "8009"), 0);
        assert_int_equal(kv_set(e, "subnqn", "nqn.a,b"), 0);
        assert_int_equal(dlpe_check(e, &field), -EINVAL);
        assert_string_equal(field, "subnqn");
        assert_int_equal(kv_set(e, "subnqn", "nqn.a"), 0);
        assert_int_equal(kv_set(e, "traddr", "1.1.1.1 host_iface=x"), 0);
        assert_int_equal(dlpe_check(e, &field), -EINVAL);
        assert_string_equal(field, "traddr");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dlp_decode_keys_and_values),
                cmocka_unit_test(test_dlp_decode_enum_names_and_unknown),
                cmocka_unit_test(test_dlp_decode_unterminated_fields),
                cmocka_unit_test(test_dlp_decode_drops_implausible_nqn),
                cmocka_unit_test(test_dlp_decode_entry_cap),
                cmocka_unit_test(test_dlp_push_and_dedup_at_scale),
                cmocka_unit_test(test_dlp_decode_padding_trimmed),
                cmocka_unit_test(test_dlp_decode_drops_bad_entries),
                cmocka_unit_test(test_dlp_decode_numrec_larger_than_buffer),
                cmocka_unit_test(test_dlp_list_change_detection),
                cmocka_unit_test(test_dlp_referral_and_ioc_tids),
                cmocka_unit_test(test_dlp_ncc_parsing),
                cmocka_unit_test(test_dlp_read_clears_rae_on_the_last_command),
                cmocka_unit_test(test_dlp_read_empty_page),
                cmocka_unit_test(test_dlp_read_huge_numrec_is_bounded),
                cmocka_unit_test(test_dlp_read_genctr_never_settles),
                cmocka_unit_test(test_dlp_read_page_shrinks),
                cmocka_unit_test(test_dlp_read_error_stops),
                cmocka_unit_test(test_dlp_decode_refuses_injection),
                cmocka_unit_test(test_dlpe_check_kv),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
