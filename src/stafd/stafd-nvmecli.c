/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-nvmecli.c - stafd's interop with nvme-cli. See stafd-nvmecli.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "stafd-nvmecli.h"
#include "stas/log.h"
#include "stas/macro.h"

extern char **environ;

/* ---- nvme-cli udev rule override (§5.11) */

/* read up to @size bytes (short only at end of file); -errno on error */
static ssize_t read_full(int fd, char *buf, size_t size) {
        size_t n = 0;

        while (n < size) {
                ssize_t k = read(fd, buf + n, size - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        return (ssize_t) n;
}

/* 1 when the file at @path has exactly the content of @fd (read from its start), 0 if not, -errno */
static int file_equals_fd(const char *path, int fd) {
        _cleanup_close_ int other = -EBADF;
        char a[4096], b[4096];

        other = open(path, O_RDONLY | O_CLOEXEC);
        if (other < 0)
                return -errno;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        for (;;) {
                ssize_t na = read_full(fd, a, sizeof a), nb = read_full(other, b, sizeof b);

                if (na < 0 || nb < 0)
                        return na < 0 ? (int) na : (int) nb;
                if (na != nb || memcmp(a, b, (size_t) na) != 0)
                        return 0;
                if (na == 0)
                        return 1;
        }
}

/**
 * nvmecli_rule_install() - see stafd-nvmecli.h.
 *
 * Return: the path installed or taken over, or NULL.
 */
char *nvmecli_rule_install(void) {
        const char *dir = getenv("STAS_UDEV_RULES_DIR"), *tpl = getenv("STAS_UDEV_RULE_TEMPLATE");
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        char buf[4096];
        ssize_t n;

        if (isempty(dir))
                dir = "/run/udev/rules.d";
        if (isempty(tpl))
                tpl = STAS_DATADIR "/" UDEV_RULE_NAME;
        if (asprintf(&path, "%s/" UDEV_RULE_NAME, dir) < 0 ||
            asprintf(&tmp, "%s/.#" UDEV_RULE_NAME, dir) < 0) {
                log_oom();
                return NULL;
        }
        in = open(tpl, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
                log_warning_errno(errno, "Cannot read the udev rule template %s: %m", tpl);
                return NULL;
        }
        if (access(path, F_OK) == 0) {
                /*
                 * Left by a stafd that did not exit cleanly (its content is the template: ours to
                 * remove at exit), or someone else's file (left alone).
                 */
                if (file_equals_fd(path, in) > 0) {
                        log_debug("%s exists with the template's content; taking it over.", path);
                        return TAKE_PTR(path);
                }
                log_notice("%s exists and differs from %s; leaving it alone.", path, tpl);
                return NULL;
        }
        if (lseek(in, 0, SEEK_SET) < 0) {
                log_warning_errno(errno, "Cannot read the udev rule template %s: %m", tpl);
                return NULL;
        }
        (void) mkdir(dir, 0755);
        out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0) {
                log_warning_errno(errno, "Cannot write %s: %m", tmp);
                return NULL;
        }
        while ((n = read(in, buf, sizeof buf)) > 0)
                if (write(out, buf, n) != n) {
                        n = -1;
                        break;
                }
        if (n < 0 || rename(tmp, path) < 0) {
                log_warning_errno(errno, "Cannot install %s: %m", path);
                (void) unlink(tmp);
                return NULL;
        }
        log_debug("Installed %s (masks nvme-cli's autoconnect rule).", path);
        return TAKE_PTR(path);
}

/**
 * nvmecli_rule_remove() - see stafd-nvmecli.h.
 * @path: what nvmecli_rule_install() returned (freed and cleared)
 */
void nvmecli_rule_remove(char **path) {
        if (!*path)
                return;
        if (unlink(*path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove %s: %m", *path);
        free(*path);
        *path = NULL;
}

/* ---- interop with nvme-cli's nvmf-connect@.service (§5.11) */

static int append_opt(char **s, const char *key, const char *value) {
        char *n = NULL;

        if (isempty(value) || streq(value, "none"))
                return 0;
        if (asprintf(&n, "%s%s--%s\\x3d%s", strempty(*s), isempty(*s) ? "" : "\\x09", key, value) < 0)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        sd_event_source_unref(s);
        return 0;
}

/**
 * nvmecli_foreign_dc() - see stafd-nvmecli.h.
 * @event: the loop (reaps the child)
 * @ev: the uevent
 */
void nvmecli_foreign_dc(sd_event *event, const StasUevent *ev) {
        _cleanup_(nvmedev_freep) StasNvmeDevice *dev = NULL;
        _cleanup_free_ char *opts = NULL, *unit = NULL;
        const char *systemctl = getenv("STAS_SYSTEMCTL");
        pid_t pid;
        int r;

        if (nvmedev_read(NULL, ev->sysname, &dev) < 0 || !nvmedev_is_dc(dev))
                return;
        if (isempty(systemctl))
                systemctl = STAS_SYSTEMCTL;
        if (append_opt(&opts, "device", ev->sysname) < 0 ||
            append_opt(&opts, "host-traddr", ev->host_traddr) < 0 ||
            append_opt(&opts, "host-iface", ev->host_iface) < 0 ||
            asprintf(&unit, "nvmf-connect@%s.service", opts) < 0) {
                log_oom();
                return;
        }
        char *argv[] = {
                (char *) systemctl, (char *) "--quiet", (char *) "--no-block", (char *) "restart", unit, NULL
        };
        /* our blocked signals (SIGTERM, SIGINT, SIGHUP, SIGCHLD) must not reach systemctl */
        posix_spawnattr_t attr;
        sigset_t none, all;

        sigemptyset(&none);
        sigfillset(&all);
        r = posix_spawnattr_init(&attr);
        if (r == 0) {
                r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
                r = r ?: posix_spawnattr_setsigmask(&attr, &none);
                r = r ?: posix_spawnattr_setsigdefault(&attr, &all);
                r = r ?: posix_spawn(&pid, systemctl, NULL, &attr, argv, environ);
                (void) posix_spawnattr_destroy(&attr);
        }
        if (r != 0) {
                log_warning_errno(r, "Cannot run %s restart %s: %m", systemctl, unit);
                return;
        }
        log_info("%s is not managed by stafd: %s restart %s", ev->sysname, systemctl, unit);
        if (sd_event_add_child(event, NULL, pid, WEXITED, on_child, NULL) < 0)
                (void) waitpid(pid, NULL, WNOHANG);
}
