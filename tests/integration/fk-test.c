/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fk-test.h"

extern char **environ;

int fk_test_setup(struct fk_test *t, bool want_socket) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        memset(t, 0, sizeof *t);
        t->sock = -1;
        snprintf(t->root, sizeof t->root, "/tmp/stas-fk-XXXXXX");
        const char *root = mkdtemp(t->root);
        if (!root)
                return -errno;
        snprintf(t->scenario, sizeof t->scenario, "%s/scenario.json", root);
        setenv("FAKEKERNEL_ROOT", t->root, 1);
        setenv("FAKEKERNEL_SCENARIO", t->scenario, 1);
        if (!want_socket) {
                unsetenv("STAS_UEVENT_SOCKET");
                return 0;
        }
        snprintf(t->sock_path, sizeof t->sock_path, "%s/uevent.sock", root);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", t->sock_path);
        t->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (t->sock < 0 || bind(t->sock, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        setenv("STAS_UEVENT_SOCKET", t->sock_path, 1);
        return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p);
}

void fk_test_teardown(struct fk_test *t) {
        if (t->sock >= 0)
                close(t->sock);
        if (t->root[0])
                nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        unsetenv("FAKEKERNEL_ROOT");
        unsetenv("FAKEKERNEL_SCENARIO");
        unsetenv("STAS_UEVENT_SOCKET");
        t->root[0] = '\0';
        t->sock = -1;
}

int fk_test_scenario(struct fk_test *t, const char *json) {
        char tmp[160];
        FILE *f;

        snprintf(tmp, sizeof tmp, "%s.tmp", t->scenario);
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        fputs(json, f);
        if (fclose(f) != 0)
                return -errno;
        return rename(tmp, t->scenario) < 0 ? -errno : 0;
}

char *fk_test_read(struct fk_test *t, const char *name) {
        char p[600], *buf = NULL;
        size_t n = 0;
        FILE *f, *m;

        snprintf(p, sizeof p, "%s/%s", t->root, name);
        m = open_memstream(&buf, &n);
        f = fopen(p, "re");
        if (f) {
                int c;
                while ((c = fgetc(f)) != EOF)
                        fputc(c, m);
                fclose(f);
        }
        fclose(m);
        return buf;
}

bool fk_test_exists(struct fk_test *t, const char *rel) {
        char p[600];
        struct stat st;

        snprintf(p, sizeof p, "%s/%s", t->root, rel);
        return lstat(p, &st) == 0;
}

char *fk_test_uevent(struct fk_test *t) {
        struct pollfd p = { .fd = t->sock, .events = POLLIN };
        char buf[8192];
        ssize_t n;

        if (t->sock < 0 || poll(&p, 1, 5000) != 1)
                return NULL;
        n = recv(t->sock, buf, sizeof buf - 1, 0);
        if (n < 0)
                return NULL;
        for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0')
                        buf[i] = '\n';
        buf[n] = '\0';
        return strdup(buf);
}

int fk_test_ctl(const char *const *argv) {
        const char *ctl = getenv("FAKEKERNEL_CTL");
        const char *args[16] = { ctl };
        pid_t pid;
        int st, i;

        if (!ctl)
                return -1;
        for (i = 0; argv[i] && i < 14; i++)
                args[i + 1] = argv[i];
        args[i + 1] = NULL;
        if (posix_spawn(&pid, ctl, NULL, NULL, (char *const *) args, environ) != 0)
                return -1;
        if (waitpid(pid, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
