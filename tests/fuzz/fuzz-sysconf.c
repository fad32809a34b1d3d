/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-sysconf.c - /etc/stas/sys.conf (sysconf.c: sysconf_load(), from a file, with its file://
 * indirections) on the INI reader (conf.c). A root directory in the fuzz directory holds a
 * machine-id and /etc/nvme/hostnqn and hostid, which the defaults and the derivation read.
 * Input: the file content. Accepted: it loads and holds at least one key.
 * Invariants: the load succeeds exactly when the reader parses the text (a NUL byte fails the
 * file reader alone); a loaded sys.conf always has a valid host NQN and host ID, and no empty
 * host key or symbolic name (NULL instead).
 */
#include <errno.h>

#include "fuzz-ini.h"
#include "stas/sysconf.h"

static char *sys_path, *root;

void fuzz_target_init(void) {
        static const char hostnqn[] =
                "nqn.2014-08.org.nvmexpress:uuid:2b4b5bd4-3d1a-4c5c-9b3e-6f1c0b0e7a11\n";
        static const char hostid[] = "2b4b5bd4-3d1a-4c5c-9b3e-6f1c0b0e7a11\n";
        static const char mid[] = "2b4b5bd43d1a4c5c9b3e6f1c0b0e7a11\n";
        _cleanup_free_ char *p1 = NULL, *p2 = NULL, *p3 = NULL;

        sys_path = fuzz_path("sys.conf");
        root = fuzz_path("root");
        p1 = fuzz_path("root/etc/machine-id");
        p2 = fuzz_path("root/etc/nvme/hostnqn");
        p3 = fuzz_path("root/etc/nvme/hostid");
        fuzz_write_file(p1, mid, strlen(mid));
        fuzz_write_file(p2, hostnqn, strlen(hostnqn));
        fuzz_write_file(p3, hostid, strlen(hostid));
}

bool fuzz_one(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strndup(data, size);
        _cleanup_(ini_freep) StasIni *ini = NULL;
        _cleanup_(sysconf_freep) StasSysConf *s = NULL;
        bool parses;
        int r;

        parses = ini_parse_string(text, "sys.conf", &ini) == 0;
        if (parses)
                check_ini(ini);

        fuzz_write_file(sys_path, data, size);
        r = sysconf_load(sys_path, root, &s);
        if (r < 0) {
                fuzz_assert(r == -EINVAL);
                fuzz_assert(!parses || memchr(data, 0, size));
                return false;
        }
        fuzz_assert(parses);
        fuzz_assert(nqn_is_valid(s->hostnqn));
        fuzz_assert(uuid_is_valid(s->hostid));
        fuzz_assert(!s->hostkey || *s->hostkey);
        fuzz_assert(!s->symname || *s->symname);
        return ini->n_keys > 0;
}
