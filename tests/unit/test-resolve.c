/* SPDX-License-Identifier: Apache-2.0 */
/* test-resolve - host names in traddr: the selection rule, and lookups on worker tasks. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-helpers.h"
#include "stas/ini.h"
#include "stas/kvv.h"
#include "stas/log.h"
#include "stas/resolve.h"

static void test_resolve_needed(void **state) {
        assert_true(resolve_needed("tcp", "dc.example.com"));
        assert_true(resolve_needed("rdma", "localhost"));
        assert_false(resolve_needed("tcp", "192.168.1.1"));
        assert_false(resolve_needed("tcp", "fe80::1"));
        assert_false(resolve_needed("tcp", "::ffff:10.0.0.1"));
        assert_false(resolve_needed("tcp", ""));
        assert_false(resolve_needed("tcp", NULL));
        assert_false(resolve_needed("fc", "nn-0x1:pn-0x2"));
        assert_false(resolve_needed("loop", "x"));
}

/* a getaddrinfo()-like list: "4:a.b.c.d" / "6:addr" items */
typedef struct Fake {
        struct addrinfo ai[4];
        struct sockaddr_in sin[4];
        struct sockaddr_in6 sin6[4];
} Fake;

static struct addrinfo *mk(Fake *f, ...) {
        va_list ap;
        const char *s;
        size_t n = 0;

        memset(f, 0, sizeof *f);
        va_start(ap, f);
        while ((s = va_arg(ap, const char *)) && n < 4) {
                struct addrinfo *a = &f->ai[n];

                if (s[0] == '4') {
                        a->ai_family = AF_INET;
                        f->sin[n].sin_family = AF_INET;
                        assert_int_equal(inet_pton(AF_INET, s + 2, &f->sin[n].sin_addr), 1);
                        a->ai_addr = (struct sockaddr *) &f->sin[n];
                } else {
                        a->ai_family = AF_INET6;
                        f->sin6[n].sin6_family = AF_INET6;
                        assert_int_equal(inet_pton(AF_INET6, s + 2, &f->sin6[n].sin6_addr), 1);
                        a->ai_addr = (struct sockaddr *) &f->sin6[n];
                }
                if (n > 0)
                        f->ai[n - 1].ai_next = a;
                n++;
        }
        va_end(ap);
        return n ? &f->ai[0] : NULL;
}

static void expect_pick(struct addrinfo *ai, StasIpFamily fam, bool v6first, const char *want) {
        char *got = NULL;

        if (!want) {
                assert_int_equal(resolve_pick(ai, fam, v6first, &got), -EADDRNOTAVAIL);
                assert_null(got);
                return;
        }
        assert_int_equal(resolve_pick(ai, fam, v6first, &got), 0);
        assert_string_equal(got, want);
        free(got);
}

/* §5.1: first IPv4 if IPv4 is enabled, else first IPv6; ipv6+ipv4 prefers IPv6 */
static void test_resolve_pick(void **state) {
        Fake f;
        struct addrinfo *ai = mk(&f, "6:2001:db8::1", "4:192.0.2.1", "6:2001:db8::2", "4:192.0.2.2", NULL);

        expect_pick(ai, STAS_IPFAM_BOTH, false, "192.0.2.1");
        expect_pick(ai, STAS_IPFAM_V4, false, "192.0.2.1");
        expect_pick(ai, STAS_IPFAM_V6, true, "2001:db8::1");
        expect_pick(ai, STAS_IPFAM_BOTH, true, "2001:db8::1");

        ai = mk(&f, "6:2001:db8::7", NULL);
        expect_pick(ai, STAS_IPFAM_BOTH, false, "2001:db8::7"); /* no IPv4 result: the IPv6 one */
        expect_pick(ai, STAS_IPFAM_V4, false, NULL);            /* IPv6 disabled: nothing */

        ai = mk(&f, "4:198.51.100.3", NULL);
        expect_pick(ai, STAS_IPFAM_BOTH, true, "198.51.100.3");
        expect_pick(ai, STAS_IPFAM_V6, true, NULL);
        expect_pick(NULL, STAS_IPFAM_BOTH, false, NULL);
}

static StasKV *entry(const char *transport, const char *traddr) {
        StasKV *kv = kv_new();

        assert_non_null(kv);
        assert_int_equal(kv_set(kv, "transport", transport), 0);
        assert_int_equal(kv_set(kv, "traddr", traddr), 0);
        assert_int_equal(kv_set(kv, "trsvcid", "8009"), 0);
        return kv;
}

typedef struct Ctx {
        unsigned done, failed, excluded_calls;
        int last_error;
} Ctx;

static bool excl(const StasKV *e, void *ud) {
        ((Ctx *) ud)->excluded_calls++;
        return streq(kv_get(e, "traddr"), "excluded.example");
}

static void failed(const StasKV *e, int error, void *ud) {
        Ctx *c = ud;

        c->failed++;
        c->last_error = error;
}

static void on_done(StasResolver *r, void *ud) {
        ((Ctx *) ud)->done++;
}

/* without workers names fail (reported, dropped); literals pass; exclusions apply first */
static void test_resolve_entries_no_pool(void **state) {
        StasKV *e[3] = { entry("tcp", "10.0.0.1"),
                         entry("tcp", "dc.example"),
                         entry("tcp", "excluded.example") };
        _cleanup_(resolver_freep) StasResolver *r = NULL;
        _cleanup_(kvv_freep) StasKV **out = NULL;
        Ctx c = {};

        assert_int_equal(resolver_new(NULL, on_done, &c, &r), 0);
        assert_int_equal(
                resolver_resolve_entries(r, e, 3, STAS_IPFAM_BOTH, false, excl, failed, &c, &out), 0);
        assert_int_equal(kvv_length(out), 1);
        assert_string_equal(kv_get(out[0], "traddr"), "10.0.0.1");
        assert_int_equal(c.failed, 1);
        assert_int_equal(c.last_error, -ENOSYS);
        assert_non_null(resolve_strerror(c.last_error));
        assert_int_equal(c.done, 0);
        /* no resolver at all: the same */
        out = kvv_free(out);
        assert_int_equal(
                resolver_resolve_entries(NULL, e, 3, STAS_IPFAM_BOTH, false, NULL, failed, &c, &out), 0);
        assert_int_equal(kvv_length(out), 1);
        assert_int_equal(c.failed, 3);
        for (size_t i = 0; i < 3; i++)
                kv_free(e[i]);
}

/* a real lookup of localhost on a worker: -EINPROGRESS, done once, then the address */
static void test_resolve_entries_localhost(void **state) {
        StasKV *e[2] = { entry("tcp", "localhost"), entry("tcp", "192.0.2.9") };
        _cleanup_(sd_event_unrefp) sd_event *ev = NULL;
        _cleanup_(task_pool_freep) StasTaskPool *pool = NULL;
        _cleanup_(resolver_freep) StasResolver *r = NULL;
        _cleanup_(kvv_freep) StasKV **out = NULL;
        Ctx c = {};

        assert_int_equal(sd_event_new(&ev), 0);
        assert_int_equal(task_pool_new(ev, 2, &pool), 0);
        assert_int_equal(resolver_new(pool, on_done, &c, &r), 0);
        assert_int_equal(
                resolver_resolve_entries(r, e, 2, STAS_IPFAM_V4, false, NULL, failed, &c, &out),
                -EINPROGRESS);
        assert_null(out);
        assert_int_equal(resolver_pending(r), 1);
        /* asking again while in flight starts nothing new */
        assert_int_equal(
                resolver_resolve_entries(r, e, 2, STAS_IPFAM_V4, false, NULL, failed, &c, &out),
                -EINPROGRESS);
        assert_int_equal(resolver_pending(r), 1);
        while (c.done == 0)
                assert_true(sd_event_run(ev, UINT64_MAX) >= 0);
        assert_int_equal(c.done, 1);
        assert_int_equal(resolver_pending(r), 0);
        assert_int_equal(resolver_resolve_entries(r, e, 2, STAS_IPFAM_V4, false, NULL, failed, &c, &out), 0);
        assert_int_equal(c.failed, 0);
        assert_int_equal(kvv_length(out), 2);
        assert_string_equal(kv_get(out[0], "traddr"), "127.0.0.1");
        assert_string_equal(kv_get(out[0], "trsvcid"), "8009");
        assert_string_equal(kv_get(out[1], "traddr"), "192.0.2.9");

        /* after a reset the next pass asks again; freeing with a lookup outstanding is clean */
        resolver_reset(r);
        out = kvv_free(out);
        assert_int_equal(
                resolver_resolve_entries(r, e, 2, STAS_IPFAM_V4, false, NULL, failed, &c, &out),
                -EINPROGRESS);
        r = resolver_free(r);
        assert_int_equal(c.done, 1);
        for (size_t i = 0; i < 2; i++)
                kv_free(e[i]);
}

/* the conf wrapper uses the configured entries and ip-family and logs each failure as an error */
static void test_resolve_conf(void **state) {
        static const StasConfSchema schema = { .name = "t.conf" }; /* [Controllers] only */
        StasConf *conf = NULL;
        _cleanup_(kvv_freep) StasKV **out = NULL;
        LogCapture logs;
        unsigned errors;

        assert_int_equal(
                stas_conf_load_string(
                        &schema,
                        "[Controllers]\ncontroller=transport=tcp;traddr=dc.example\n"
                        "controller=transport=tcp;traddr=10.0.0.1\n",
                        "t.conf",
                        &conf),
                0);
        log_capture_start_at(&logs, log_get_max_level());
        assert_int_equal(resolver_resolve_conf(NULL, conf, NULL, NULL, &out), 0);
        errors = log_capture_count_has(&logs, LOG_ERR, "dc.example");
        log_capture_stop(&logs);
        assert_int_equal(errors, 1);
        assert_int_equal(kvv_length(out), 1);
        assert_string_equal(kv_get(out[0], "traddr"), "10.0.0.1");
        stas_conf_free(conf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resolve_needed),
                cmocka_unit_test(test_resolve_pick),
                cmocka_unit_test(test_resolve_entries_no_pool),
                cmocka_unit_test(test_resolve_entries_localhost),
                cmocka_unit_test(test_resolve_conf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
