/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-log.c - the log writer: escaping of control characters and non-UTF-8 bytes, redaction of
 * DH-HMAC-CHAP secrets, one line per message, through the test sink and the real stderr target.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/uio.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "stas/log.h"
#include "stas/message-ids.h"
#include "stas/tid.h"
#include "test-helpers.h"

/* log_escape() of @n bytes at @in equals @want, and log_is_plain() says whether it is @in itself. */
static void expect_n(const char *in, size_t n, const char *want) {
        char out[4 * 256 + 1];
        size_t len;

        assert_true(n <= 256);
        len = log_escape(in, n, out, sizeof out);
        assert_string_equal(out, want);
        assert_int_equal(len, strlen(want));
        assert_int_equal(log_is_plain(in, n), n == strlen(want) && memcmp(in, want, n) == 0);
}

#define expect(in, want) expect_n((in), strlen(in), (want))

static void test_log_escape_plain(void **state) {
        expect("", "");
        expect("Connected to controller (tcp, 192.0.2.1, 4420) (nvme0).",
               "Connected to controller (tcp, 192.0.2.1, 4420) (nvme0).");
        expect("back\\slash stays", "back\\slash stays");
        expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
        expect("\xc2\xa0 NBSP is printable", "\xc2\xa0 NBSP is printable");
        expect("DHHC-1 without a colon, DHHC:01", "DHHC-1 without a colon, DHHC:01");
}

static void test_log_escape_control_characters(void **state) {
        expect("1.2.3.4\n<1>forged", "1.2.3.4\\n<1>forged");
        expect("a\r\tb", "a\\r\\tb");
        expect("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
        expect("del\x7f", "del\\x7f");
        expect("\x01\x1f", "\\x01\\x1f");
        expect_n("nul\0byte", 8, "nul\\x00byte");
        /* C1 controls (U+0080-U+009F, e.g. CSI U+009B) are well-formed UTF-8 but still escaped */
        expect("csi\xc2\x9b"
               "31m",
               "csi\\xc2\\x9b31m");
        expect("nel\xc2\x85", "nel\\xc2\\x85");
}

static void test_log_escape_invalid_utf8(void **state) {
        expect("key\xff\xfe", "key\\xff\\xfe");
        expect("truncated \xc3", "truncated \\xc3");
        expect("\xe2\x82 cut", "\\xe2\\x82 cut");
        expect("overlong \xc0\xaf \xe0\x80\xaf", "overlong \\xc0\\xaf \\xe0\\x80\\xaf");
        expect("surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80");
        expect("too big \xf4\x90\x80\x80", "too big \\xf4\\x90\\x80\\x80");
        expect("\x80 lone continuation", "\\x80 lone continuation");
        /* a pickle header, as a state file of nvme-stas would start */
        expect("\x80\x04\x95\x10", "\\x80\\x04\\x95\\x10");
}

static void test_log_redacts_secrets(void **state) {
        expect("Invalid value 'DHHC-1:01:aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=:' for kato",
               "Invalid value '(secret)' for kato");
        expect("dhchap_secret=DHHC-1:00:abc=:,nqn=x", "dhchap_secret=(secret),nqn=x");
        expect("key=dhhc-1:02:xyz;next", "key=(secret);next");
        expect("DhHc-1:03:zzz and more", "(secret) and more");
        expect("two DHHC-1:a DHHC-1:b", "two (secret) (secret)");
        expect("DHHC-1:", "(secret)");
        /* the token ends at a control character, which is escaped */
        expect("DHHC-1:01:ab\ncd", "(secret)\\ncd");
        expect("\"DHHC-1:01:ab\"", "\"(secret)\"");
}

static void test_log_escape_truncates(void **state) {
        char out[8];

        assert_int_equal(log_escape("abc\ndefgh", 9, out, sizeof out), 10);
        assert_string_equal(out, "abc\\nde");
        assert_int_equal(log_escape("\x01\x02", 2, out, 5), 8);
        assert_string_equal(out, "\\x01");
        assert_int_equal(log_escape("xyz", 3, out, 1), 3);
        assert_string_equal(out, "");
}

/* Through log_internal(): every target, the test sink included, gets the escaped line. */
static void test_log_sink_gets_escaped_line(void **state) {
        LogCapture cap;
        char big[LOG_LINE_MAX + 100];

        log_capture_start(&cap);
        log_info("traddr '%s' restored", "1.2.3.4\n<1>forged");
        log_warning("key '%s': bad", "k\xff\x1b");
        log_info("ends with its own newline\n\n");
        log_error_errno(EINVAL, "secret %s: %m", "DHHC-1:01:c2VjcmV0:");
        memset(big, '\x01', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        log_info("%s", big); /* truncated first, then every byte escaped: one whole line */
        assert_int_equal(cap.n_lines, 5);
        assert_true(log_capture_has(&cap, LOG_INFO, "traddr '1.2.3.4\\n<1>forged' restored"));
        assert_true(log_capture_has(&cap, LOG_WARNING, "key 'k\\xff\\x1b': bad"));
        assert_true(log_capture_has(&cap, LOG_INFO, "ends with its own newline"));
        assert_false(log_capture_has(&cap, -1, "newline\\n"));
        assert_true(log_capture_has(&cap, LOG_ERR, "secret (secret) Invalid argument"));
        assert_null(strstr(cap.text, "c2VjcmV0"));
        {
                const char *last = strstr(cap.text, "\\x01");
                const char *eol = last ? strchr(last, '\n') : NULL;

                assert_non_null(eol);
                assert_int_equal(eol - last, 4 * (LOG_LINE_MAX - 1));
        }
        /* the capture adds one '\n' per line: the messages brought none of their own */
        {
                unsigned nl = 0;

                for (const char *p = cap.text; *p; p++)
                        nl += *p == '\n';
                assert_int_equal(nl, 5);
        }
        log_capture_stop(&cap);
}

/* Run @fn with stderr redirected into a pipe; return what was written (malloc'ed). */
static char *capture_stderr(void (*fn)(void)) {
        int p[2], saved;
        char *buf = calloc(1, 65536);
        size_t len = 0;
        ssize_t k;

        assert_non_null(buf);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        assert_true(saved >= 0);
        assert_true(dup2(p[1], STDERR_FILENO) >= 0);
        close(p[1]);
        fn();
        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        while ((k = read(p[0], buf + len, 65535 - len)) > 0)
                len += (size_t) k;
        close(p[0]);
        return buf;
}

static void log_forged(void) {
        log_set_sink(NULL, NULL);
        log_open("stastest", LOG_TARGET_STDERR);
        log_set_max_level(LOG_INFO);
        log_info("Ignoring entry with traddr '%s'.", "1.2.3.4\n<1>forged\x1b[2J");
        log_set_max_level(LOG_DEBUG);
        log_debug("debug %s", "a\nb");
        log_warning("hostkey %s", "dhhc-1:00:aGVsbG8=:");
        log_set_max_level(LOG_INFO);
}

/* The real stderr target with "<N>" prefixes (what journald parses): one line per message. */
static void test_log_stderr_one_line_per_message(void **state) {
        char *out = capture_stderr(log_forged), *l2, *l3;

        assert_non_null(
                strstr(out, "<6>stastest: Ignoring entry with traddr '1.2.3.4\\n<1>forged\\x1b[2J'.\n"));
        assert_null(strstr(out, "\n<1>"));
        l2 = strchr(out, '\n') + 1;
        assert_int_equal(strncmp(l2, "<7>stastest: debug a\\nb (", 25), 0);
        l3 = strchr(l2, '\n') + 1;
        assert_string_equal(l3, "<4>stastest: hostkey (secret)\n");
        free(out);
}

/* the journal protocol, interposed (libstas is linked statically): what the journal gets */
static char journal_got[8192];
static int journal_result;
int sd_journal_sendv(const struct iovec *iov, int n) {
        size_t o = 0;

        journal_got[0] = 0;
        for (int i = 0; i < n; i++)
                o += (size_t) snprintf(
                        journal_got + o,
                        sizeof(journal_got) - o,
                        "%.*s|",
                        (int) iov[i].iov_len,
                        (const char *) iov[i].iov_base);
        return journal_result;
}

static void log_to_journal(void) {
        StasTid *t = tid_new("tcp", "10.0.0.1\n<1>x", "4420", "nqn.sub", "", "", "");
        log_set_sink(NULL, NULL);
        log_open("stastest", LOG_TARGET_JOURNAL);
        log_ctrl(LOG_INFO, STAS_MESSAGE_CONNECTED, t, "nvme3", "Connected to %s.", "a\nb");
        log_open("stastest", LOG_TARGET_STDERR);
        tid_free(t);
}

/* The journal target: the standard fields, the event's fields, all escaped; empty ones left out. */
static void test_log_journal_fields(void **state) {
        char *out;

        journal_result = 0;
        out = capture_stderr(log_to_journal);
        assert_string_equal(out, ""); /* nothing on stderr */
        assert_non_null(
                strstr(journal_got, "PRIORITY=6|MESSAGE=Connected to a\\nb.|SYSLOG_IDENTIFIER=stastest|"));
        assert_non_null(strstr(journal_got, "|CODE_FILE="));
        assert_non_null(strstr(journal_got, "|CODE_FUNC=log_to_journal|"));
        assert_non_null(strstr(journal_got, "|MESSAGE_ID=" STAS_MESSAGE_CONNECTED "|"));
        assert_non_null(strstr(journal_got, "|NVME_TRADDR=10.0.0.1\\n<1>x|"));
        assert_non_null(strstr(journal_got, "|NVME_DEVICE=nvme3|"));
        assert_null(strstr(journal_got, "NVME_HOST_IFACE"));
        free(out);
        /* the journal refuses: the line goes to stderr */
        journal_result = -ECONNREFUSED;
        out = capture_stderr(log_to_journal);
        assert_non_null(strstr(out, "<6>stastest: Connected to a\\nb.\n"));
        free(out);
}

/* $JOURNAL_STREAM names stderr's device and inode: stderr is the journal. */
static void test_log_stderr_is_journal(void **state) {
        struct stat st;
        char v[64];

        assert_int_equal(fstat(STDERR_FILENO, &st), 0);
        unsetenv("JOURNAL_STREAM");
        assert_false(log_stderr_is_journal());
        snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
        setenv("JOURNAL_STREAM", v, 1);
        assert_true(log_stderr_is_journal());
        snprintf(
                v,
                sizeof(v),
                "%llu:%llu",
                (unsigned long long) st.st_dev,
                (unsigned long long) st.st_ino + 1);
        setenv("JOURNAL_STREAM", v, 1);
        assert_false(log_stderr_is_journal());
        setenv("JOURNAL_STREAM", "garbage", 1);
        assert_false(log_stderr_is_journal());
        unsetenv("JOURNAL_STREAM");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_log_escape_plain),
                cmocka_unit_test(test_log_escape_control_characters),
                cmocka_unit_test(test_log_escape_invalid_utf8),
                cmocka_unit_test(test_log_redacts_secrets),
                cmocka_unit_test(test_log_escape_truncates),
                cmocka_unit_test(test_log_sink_gets_escaped_line),
                cmocka_unit_test(test_log_stderr_one_line_per_message),
                cmocka_unit_test(test_log_journal_fields),
                cmocka_unit_test(test_log_stderr_is_journal),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
