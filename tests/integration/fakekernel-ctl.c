/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fakekernel-ctl: drive the fake NVMe kernel from a test script (test-only).
 * Needs $FAKEKERNEL_ROOT (and $STAS_UEVENT_SOCKET for events to be delivered).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fk-core.h"

static int usage(void) {
        fprintf(stderr,
                "usage: fakekernel-ctl [--no-uevent] COMMAND ...\n"
                "  --no-uevent                the command's uevents are lost (connect, remove...)\n"
                "  connect OPTIONS            create a controller as a write to /dev/nvme-fabrics would\n"
                "                             (prints instance=N,cntlid=M; sends an add uevent)\n"
                "  remove nvmeN               the kernel drops the controller (sysfs dir + remove uevent)\n"
                "  overflow                   tell the listener that uevents were lost (datagram ENOBUFS)\n"
                "  uevent ACTION nvmeN [KEY=VALUE...]  send a uevent, e.g. change nvme0 NVME_AEN=0x70f002\n"
                "  aen nvmeN [HEX]            shorthand: change event with NVME_AEN (default 0x70f002)\n"
                "  event nvmeN connected|rediscover   shorthand: change event with NVME_EVENT\n"
                "  state nvmeN STATE          set the controller's state attribute\n"
                "  scenario FILE              atomically replace $FAKEKERNEL_SCENARIO with FILE\n");
        return 2;
}

static int instance_of(const char *name) {
        unsigned n;
        int len = 0;

        if (sscanf(name, "nvme%u%n", &n, &len) != 1 || name[len] != '\0')
                return -1;
        return (int) n;
}

static int install_scenario(const char *src) {
        const char *dst = getenv("FAKEKERNEL_SCENARIO");
        char tmp[4096], buf[65536];
        FILE *in, *out;
        size_t n;

        if (!dst) {
                fprintf(stderr, "FAKEKERNEL_SCENARIO is not set\n");
                return 1;
        }
        snprintf(tmp, sizeof tmp, "%s.tmp.%d", dst, (int) getpid());
        in = fopen(src, "re");
        if (!in) {
                perror(src);
                return 1;
        }
        out = fopen(tmp, "we");
        if (!out) {
                perror(tmp);
                fclose(in);
                return 1;
        }
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
                fwrite(buf, 1, n, out);
        fclose(in);
        if (fclose(out) != 0 || rename(tmp, dst) < 0) {
                perror(dst);
                unlink(tmp);
                return 1;
        }
        return 0;
}

int main(int argc, char **argv) {
        int inst, r;

        if (argc >= 2 && strcmp(argv[1], "--no-uevent") == 0) {
                fk_drop_uevents(true);
                argv++;
                argc--;
        }
        if (argc < 2)
                return usage();
        if (strcmp(argv[1], "scenario") == 0)
                return argc == 3 ? install_scenario(argv[2]) : usage();
        if (!fk_root()) {
                fprintf(stderr, "FAKEKERNEL_ROOT is not set (must be an absolute path)\n");
                return 1;
        }
        if (strcmp(argv[1], "connect") == 0) {
                char reply[256];
                if (argc != 3)
                        return usage();
                r = fk_connect(argv[2], strlen(argv[2]), reply, sizeof reply);
                if (r < 0) {
                        fprintf(stderr, "connect: %s\n", strerror(-r));
                        return 1;
                }
                fputs(reply, stdout);
                return 0;
        }
        if (strcmp(argv[1], "overflow") == 0) {
                if (argc != 2)
                        return usage();
                r = fk_uevent_overflow();
                if (r < 0) {
                        fprintf(stderr, "overflow: %s\n", strerror(-r));
                        return 1;
                }
                return 0;
        }
        if (argc < 3)
                return usage();
        if (strcmp(argv[1], "uevent") == 0) {
                if (argc < 4 || (inst = instance_of(argv[3])) < 0)
                        return usage();
                r = fk_uevent(argv[2], inst, argv + 4);
        } else {
                inst = instance_of(argv[2]);
                if (inst < 0)
                        return usage();
                if (strcmp(argv[1], "remove") == 0 && argc == 3)
                        r = fk_delete(inst);
                else if (strcmp(argv[1], "aen") == 0 && argc <= 4) {
                        char kv[64];
                        char *extra[] = { kv, NULL };
                        snprintf(kv, sizeof kv, "NVME_AEN=%s", argc == 4 ? argv[3] : "0x70f002");
                        r = fk_uevent("change", inst, extra);
                } else if (strcmp(argv[1], "event") == 0 && argc == 4) {
                        char kv[64];
                        char *extra[] = { kv, NULL };
                        snprintf(kv, sizeof kv, "NVME_EVENT=%s", argv[3]);
                        r = fk_uevent("change", inst, extra);
                } else if (strcmp(argv[1], "state") == 0 && argc == 4)
                        r = fk_set_state(inst, argv[3]);
                else
                        return usage();
        }
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        return 0;
}
