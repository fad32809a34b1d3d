/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-ini-edit.c - stasadm's sys.conf editor on its own (ini-edit.c: ini_edit_set(),
 * ini_edit_remove()), on any text.
 * Input: section, key and value, each up to a NUL byte, then the text.
 * Accepted: ini_edit_set() takes the arguments.
 * Invariants (ini-edit.h): results are 0/1 (set), a count (remove), -EINVAL, or -EBADMSG exactly
 * when the daemons' reader (ini_parse_string()) rejects the text; "unchanged" means
 * byte-identical; a second identical set or remove changes nothing; set then remove leaves no
 * such option for a further remove; after a set exactly one option line has the key; the key in
 * upper case names the same option.
 */
#include <ctype.h>
#include <errno.h>

#include "fuzz.h"
#include "stas/ini.h"
#include "ini-edit.h"

/* -EBADMSG from the editor exactly when the reader refuses the text: one grammar. */
static bool reader_refuses(const char *text) {
        _cleanup_(ini_freep) StasIni *ini = NULL;

        return ini_parse_string(text, "text", &ini) < 0;
}

static void check_remove(const char *text, const char *section, const char *key) {
        _cleanup_free_ char *out = NULL, *again = NULL;
        int r;

        r = ini_edit_remove(text, section, key, &out);
        if (r == -EINVAL)
                return;
        if (r == -EBADMSG) {
                fuzz_assert(reader_refuses(text));
                return;
        }
        fuzz_assert(r >= 0 && out);
        if (r == 0)
                fuzz_assert_streq(out, text);
        fuzz_assert(ini_edit_remove(out, section, key, &again) == 0);
        fuzz_assert_streq(again, out);
}

/* The key in upper case names the same option: removing it from @out gives @removed. */
static void check_case(const char *out, const char *section, const char *key, const char *removed) {
        _cleanup_free_ char *upper = strdup(key), *again = NULL;

        if (!upper)
                abort();
        for (char *c = upper; *c; c++)
                *c = (char) toupper((unsigned char) *c);
        fuzz_assert(ini_edit_remove(out, section, upper, &again) == 1);
        fuzz_assert_streq(again, removed);
}

bool fuzz_one(const uint8_t *data, size_t size) {
        FuzzInput in = fuzz_input(data, size);
        _cleanup_free_ char *section = fuzz_field(&in), *key = fuzz_field(&in), *value = fuzz_field(&in);
        _cleanup_free_ char *text = fuzz_rest(&in), *out = NULL, *again = NULL, *removed = NULL;
        int r;

        check_remove(text, section, key);

        r = ini_edit_set(text, section, key, value, &out);
        if (r == -EBADMSG) {
                fuzz_assert(reader_refuses(text));
                return false;
        }
        if (r < 0) {
                fuzz_assert(r == -EINVAL);
                return false;
        }
        fuzz_assert(!reader_refuses(text));
        fuzz_assert(r == 0 || r == 1);
        fuzz_assert(out);
        fuzz_assert((r == 0) == streq(out, text));

        fuzz_assert(ini_edit_set(out, section, key, value, &again) == 0);
        fuzz_assert_streq(again, out);

        fuzz_assert(ini_edit_remove(out, section, key, &removed) == 1);
        check_remove(removed, section, key);
        check_case(out, section, key, removed);
        return true;
}
