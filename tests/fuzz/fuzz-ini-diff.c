/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-ini-diff.c - DIFFERENTIAL: what stasadm's editor writes (ini_edit_set(), ini-edit.c) must
 * read back, through the daemons' reader (ini_parse_string(), ini.c; sysconf_load() for [Host];
 * stas_conf_parse_entry() for [Controllers] controller=), as exactly the edit.
 * Input: section, key and value, each up to a NUL byte, then the text.
 * Accepted: the text parses and ini_edit_set() takes the arguments.
 * Invariants: the edited text parses; [section] key (lower-cased, as the reader names it) has
 * exactly one value, the one written; every other key keeps all its values and no key or
 * section appears from nowhere; a second identical edit changes nothing (byte-identical); and
 * the daemons see the value: sys.conf's [Host] symname/nqn/id, a stafd.conf controller= entry.
 */
#include <ctype.h>
#include <errno.h>

#include "fuzz.h"
#include "stafd-conf.h"
#include "stas/ini.h"
#include "ini-edit.h"
#include "stas/conf.h"
#include "stas/sysconf.h"

static char *sys_path, *root;

void fuzz_target_init(void) {
        sys_path = fuzz_path("sys.conf");
        root = fuzz_path("root"); /* empty: no host files, a missing identity is derived */
}

static bool same_values(const StasIniKey *a, const StasIniKey *b) {
        if (a->n_values != b->n_values)
                return false;
        for (size_t i = 0; i < a->n_values; i++)
                if (!streq_ptr(a->values[i].value, b->values[i].value) ||
                    a->values[i].continuation != b->values[i].continuation)
                        return false;
        return true;
}

static bool is_target(const StasIniKey *k, const char *section, const char *lkey) {
        return streq(k->section, section) && streq(k->key, lkey);
}

static void check_others(
        const StasIni *before, const StasIni *after, const char *section, const char *lkey) {
        for (size_t i = 0; i < before->n_keys; i++) {
                const StasIniKey *k = &before->keys[i], *k2;

                if (is_target(k, section, lkey))
                        continue;
                k2 = ini_find(after, k->section, k->key);
                if (!k2 || !same_values(k, k2))
                        fuzz_fail(
                                "the edit changed [%s] %s (%zu values before, %zu after)",
                                k->section,
                                k->key,
                                k->n_values,
                                k2 ? k2->n_values : 0);
        }
        for (size_t i = 0; i < after->n_keys; i++) {
                const StasIniKey *k = &after->keys[i];

                if (!is_target(k, section, lkey) && !ini_find(before, k->section, k->key))
                        fuzz_fail("the edit created [%s] %s", k->section, k->key);
        }
        for (size_t i = 0; i < before->n_sections; i++)
                fuzz_assert(ini_has_section(after, before->sections[i].name));
        for (size_t i = 0; i < after->n_sections; i++)
                if (!streq(after->sections[i].name, section) &&
                    !ini_has_section(before, after->sections[i].name))
                        fuzz_fail("the edit created the section [%s]", after->sections[i].name);
}

/* sys.conf as stafd and stacd load it: [Host] values that are used as written. */
static void check_sysconf(const char *text, const char *lkey, const char *value) {
        _cleanup_(sysconf_freep) StasSysConf *s = NULL;
        const char *got;

        if (strneq(value, "file://", 7) || isempty(value))
                return;
        if (streq(lkey, "symname"))
                ;
        else if (streq(lkey, "nqn") && nqn_is_valid(value))
                ;
        else if (streq(lkey, "id") && uuid_is_valid(value))
                ;
        else
                return;
        fuzz_write_file(sys_path, text, strlen(text));
        fuzz_assert(sysconf_load(sys_path, root, &s) == 0);
        got = streq(lkey, "symname") ? s->symname : streq(lkey, "nqn") ? s->hostnqn : s->hostid;
        fuzz_assert_streq(got, value);
}

/* stafd.conf as stafd loads it: the one controller= entry is the value, parsed. */
static void check_controller(const char *text, const char *value) {
        _cleanup_(stas_conf_freep) StasConf *c = NULL;
        _cleanup_(kv_freep) StasKV *kv = NULL;

        fuzz_assert(stas_conf_load_string(&stafd_conf_schema, text, "fuzz.conf", &c) == 0);
        if (stas_conf_parse_entry(&stafd_conf_schema, false, value, "fuzz.conf", 1, &kv) < 0) {
                fuzz_assert(c->n_controllers == 0);
                return;
        }
        fuzz_assert(c->n_controllers == 1);
        fuzz_assert(kv_equal(c->controllers[0], kv));
}

bool fuzz_one(const uint8_t *data, size_t size) {
        FuzzInput in = fuzz_input(data, size);
        _cleanup_free_ char *section = fuzz_field(&in), *key = fuzz_field(&in), *value = fuzz_field(&in);
        _cleanup_free_ char *text = fuzz_rest(&in), *out = NULL, *again = NULL, *lkey = NULL;
        _cleanup_(ini_freep) StasIni *before = NULL, *after = NULL;
        const StasIniKey *k;
        int r;

        if (ini_parse_string(text, "before", &before) < 0)
                return false;
        r = ini_edit_set(text, section, key, value, &out);
        if (r < 0) {
                fuzz_assert(r == -EINVAL);
                return false;
        }
        if (ini_parse_string(out, "after", &after) < 0)
                fuzz_fail("the edited text no longer parses:\n%s", out);

        lkey = strdup(key);
        if (!lkey)
                abort();
        for (char *c = lkey; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        k = ini_find(after, section, lkey);
        if (!k || k->n_values != 1 || !streq_ptr(k->values[0].value, value))
                fuzz_fail(
                        "[%s] %s reads back as %zu value(s), the first '%s', not '%s':\n%s",
                        section,
                        lkey,
                        k ? k->n_values : 0,
                        k ? strempty(k->values[0].value) : "",
                        value,
                        out);
        check_others(before, after, section, lkey);

        fuzz_assert(ini_edit_set(out, section, key, value, &again) == 0);
        fuzz_assert_streq(again, out);

        if (streq(section, "Host"))
                check_sysconf(out, lkey, value);
        if (streq(section, "Controllers") && streq(lkey, "controller"))
                check_controller(out, value);
        return true;
}
