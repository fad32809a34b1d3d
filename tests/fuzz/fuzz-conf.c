/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-conf.c - the INI reader (ini.c) with both daemons' option tables (conf.c with stafd-conf.c
 * and stacd-conf.c); sys.conf has its own target (fuzz-sysconf.c: its loader reads a file).
 * Input: the file content. Accepted: it parses and holds at least one key.
 * Invariants: the reader's output is what ini.h describes (lower-case, trimmed keys in a known
 * section; trimmed, single-line values; continuations only after a value); both option tables
 * load exactly the texts the reader parses; a loaded StasConf stays within its documented ranges.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>

#include "fuzz-ini.h"
#include "stacd-conf.h"
#include "stafd-conf.h"
#include "stas/conf.h"

static void check_conf(const StasConf *c) {
        /* stacd's table: never empty; stafd has none */
        fuzz_assert(c->schema == &stafd_conf_schema || (c->disconnect_trtypes && c->disconnect_trtypes[0]));
        for (char **t = c->disconnect_trtypes; t && *t; t++) {
                fuzz_assert(streq(*t, "tcp") || streq(*t, "rdma") || streq(*t, "fc"));
                for (char **u = t + 1; *u; u++)
                        fuzz_assert(!streq(*t, *u));
        }
        fuzz_assert(c->connect_attempts_on_ncc == 0 || c->connect_attempts_on_ncc >= 2);
        fuzz_assert(isfinite(c->zeroconf_persistence_sec));
        fuzz_assert(c->zeroconf_persistence_sec >= 0 || c->zeroconf_persistence_sec == -1);
        fuzz_assert(
                c->global.queue_size == STAS_OPT_UNSET ||
                (c->global.queue_size >= 16 && c->global.queue_size <= 1024));
        fuzz_assert(!c->global.dhchap_secret && !c->global.dhchap_ctrl_secret);
        for (size_t i = 0; i < c->n_controllers; i++) {
                const char *t = kv_get(c->controllers[i], "transport");

                fuzz_assert(c->controller_lines[i] > 0);
                fuzz_assert(
                        t && (streq(t, "tcp") || streq(t, "rdma") || streq(t, "fc") || streq(t, "loop")));
        }
        for (size_t i = 0; i < c->n_excludes; i++)
                fuzz_assert(c->excludes[i]->n > 0 && c->exclude_lines[i] > 0);
}

bool fuzz_one(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strndup(data, size);
        _cleanup_(ini_freep) StasIni *ini = NULL;
        bool parses;
        int r;

        r = ini_parse_string(text, "fuzz.conf", &ini);
        fuzz_assert(r == 0 || r == -EINVAL);
        parses = r == 0;
        if (parses)
                check_ini(ini);

        for (int d = 0; d < 2; d++) {
                _cleanup_(stas_conf_freep) StasConf *c = NULL;

                r = stas_conf_load_string(
                        d ? &stacd_conf_schema : &stafd_conf_schema, text, "fuzz.conf", &c);
                fuzz_assert(parses ? r == 0 : r == -EINVAL);
                if (c)
                        check_conf(c);
        }
        return parses && ini->n_keys > 0;
}
