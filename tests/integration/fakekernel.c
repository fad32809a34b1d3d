/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fakekernel.so: LD_PRELOAD shim that stands in for the NVMe host kernel (test-only).
 *
 * Interposes the libc entry points libnvme 1.3 and stas use (nm -D --undefined-only libnvme.so.1):
 * path calls on /sys/class/nvme*, /sys/devices/virtual/nvme* are redirected under $FAKEKERNEL_ROOT;
 * /dev/nvme-fabrics and /dev/nvmeN are backed by /dev/null descriptors whose read/write/ioctl are
 * answered by fk-core.c. With $FAKEKERNEL_ROOT unset every call passes straight through.
 */

#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nvme/ioctl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fk-core.h"

#define EXPORT __attribute__((visibility("default")))

#define REAL(name)                            \
        static __typeof__(&name) real_##name; \
        if (!real_##name)                     \
        real_##name = (__typeof__(&name)) dlsym(RTLD_NEXT, #name)

enum kind { K_NONE, K_FABRICS, K_CTRL, K_DELETE };

struct fake_fd {
        int fd;
        enum kind kind;
        int instance;
        bool written; /* fabrics: a connect string was written */
        char reply[4096];
        size_t len, pos; /* fabrics: pending read data */
        struct fake_fd *next;
};

static pthread_mutex_t fds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_fd *fds;

static struct fake_fd *fd_find_locked(int fd) {
        for (struct fake_fd *f = fds; f; f = f->next)
                if (f->fd == fd)
                        return f;
        return NULL;
}

static void fd_track(int fd, enum kind kind, int instance) {
        struct fake_fd *f = calloc(1, sizeof *f);

        if (!f)
                return;
        f->fd = fd;
        f->kind = kind;
        f->instance = instance;
        pthread_mutex_lock(&fds_lock);
        f->next = fds;
        fds = f;
        pthread_mutex_unlock(&fds_lock);
}

static void fd_untrack(int fd) {
        pthread_mutex_lock(&fds_lock);
        for (struct fake_fd **p = &fds; *p; p = &(*p)->next)
                if ((*p)->fd == fd) {
                        struct fake_fd *f = *p;
                        *p = f->next;
                        free(f);
                        break;
                }
        pthread_mutex_unlock(&fds_lock);
}

/* Fast check without the lock: nothing tracked → nothing to do. */
static bool any_tracked(void) {
        return __atomic_load_n(&fds, __ATOMIC_ACQUIRE) != NULL;
}

static int devnull(int flags) {
        REAL(open);
        return real_open("/dev/null", O_RDWR | (flags & O_CLOEXEC));
}

/* Returns a fake fd (>= 0), -1 with errno, or -2 for "not ours" (with *path possibly redirected). */
static int open_special(const char **path, char *buf, size_t n, int flags) {
        const char *orig = *path;
        int inst, fd;

        if (!fk_root() || !orig)
                return -2;
        if (strcmp(orig, "/dev/nvme-fabrics") == 0) {
                fd = devnull(flags);
                if (fd >= 0)
                        fd_track(fd, K_FABRICS, -1);
                return fd;
        }
        inst = fk_dev_instance(orig);
        if (inst >= 0) {
                if (!fk_ctrl_exists(inst)) {
                        errno = ENOENT;
                        return -1;
                }
                fd = devnull(flags);
                if (fd >= 0)
                        fd_track(fd, K_CTRL, inst);
                return fd;
        }
        *path = fk_redirect(orig, buf, n);
        if (*path != orig && (flags & O_ACCMODE) != O_RDONLY) {
                inst = fk_delete_path_instance(*path);
                if (inst >= 0) {
                        if (!fk_ctrl_exists(inst)) {
                                errno = ENOENT;
                                return -1;
                        }
                        fd = devnull(flags);
                        if (fd >= 0)
                                fd_track(fd, K_DELETE, inst);
                        return fd;
                }
        }
        return -2;
}

static mode_t get_mode(int flags, va_list ap) {
        return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

#define OPEN_BODY(fn, ...)                                   \
        char buf[PATH_MAX];                                  \
        int r = open_special(&path, buf, sizeof buf, flags); \
        if (r != -2)                                         \
                return r;                                    \
        REAL(fn);                                            \
        return real_##fn(__VA_ARGS__)

EXPORT int open(const char *path, int flags, ...) {
        va_list ap;
        va_start(ap, flags);
        mode_t mode = get_mode(flags, ap);
        va_end(ap);
        OPEN_BODY(open, path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...) {
        va_list ap;
        va_start(ap, flags);
        mode_t mode = get_mode(flags, ap);
        va_end(ap);
        OPEN_BODY(open64, path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...) {
        va_list ap;
        va_start(ap, flags);
        mode_t mode = get_mode(flags, ap);
        va_end(ap);
        OPEN_BODY(openat, dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...) {
        va_list ap;
        va_start(ap, flags);
        mode_t mode = get_mode(flags, ap);
        va_end(ap);
        OPEN_BODY(openat64, dirfd, path, flags, mode);
}

int __open_2(const char *path, int flags);
EXPORT int __open_2(const char *path, int flags) {
        return open(path, flags);
}

int __open64_2(const char *path, int flags);
EXPORT int __open64_2(const char *path, int flags) {
        return open64(path, flags);
}

EXPORT int close(int fd) {
        REAL(close);
        if (any_tracked())
                fd_untrack(fd);
        return real_close(fd);
}

EXPORT ssize_t write(int fd, const void *data, size_t count) {
        struct fake_fd *f;
        REAL(write);

        if (!any_tracked())
                return real_write(fd, data, count);
        pthread_mutex_lock(&fds_lock);
        f = fd_find_locked(fd);
        if (!f || f->kind == K_CTRL) {
                pthread_mutex_unlock(&fds_lock);
                return real_write(fd, data, count);
        }
        if (f->kind == K_FABRICS) {
                char reply[sizeof f->reply];
                int r;

                /* Connect can take long in a real kernel; do not hold the table lock meanwhile. */
                pthread_mutex_unlock(&fds_lock);
                r = fk_connect(data, count, reply, sizeof reply);
                pthread_mutex_lock(&fds_lock);
                f = fd_find_locked(fd);
                if (f) {
                        f->written = true;
                        f->len = f->pos = 0;
                        if (r >= 0) {
                                snprintf(f->reply, sizeof f->reply, "%s", reply);
                                f->len = strlen(f->reply);
                        }
                }
                pthread_mutex_unlock(&fds_lock);
                if (r < 0) {
                        errno = -r;
                        return -1;
                }
                return (ssize_t) count;
        }
        /* K_DELETE */
        {
                int inst = f->instance, r = 0;
                pthread_mutex_unlock(&fds_lock);
                if (count > 0 && ((const char *) data)[0] == '1')
                        r = fk_delete(inst);
                if (r < 0) {
                        errno = -r;
                        return -1;
                }
                return (ssize_t) count;
        }
}

EXPORT ssize_t read(int fd, void *data, size_t count) {
        struct fake_fd *f;
        ssize_t n;
        REAL(read);

        if (!any_tracked())
                return real_read(fd, data, count);
        pthread_mutex_lock(&fds_lock);
        f = fd_find_locked(fd);
        if (!f || f->kind != K_FABRICS) {
                pthread_mutex_unlock(&fds_lock);
                return real_read(fd, data, count);
        }
        if (!f->written && f->len == 0 && f->pos == 0) {
                /* fk_options_line() reads the scenario (our own read()): not under the lock */
                char line[sizeof f->reply];
                size_t l;

                pthread_mutex_unlock(&fds_lock);
                l = (size_t) fk_options_line(line, sizeof line);
                pthread_mutex_lock(&fds_lock);
                f = fd_find_locked(fd);
                if (!f) {
                        pthread_mutex_unlock(&fds_lock);
                        errno = EBADF;
                        return -1;
                }
                if (!f->written) {
                        memcpy(f->reply, line, l);
                        f->len = l;
                        f->written = true; /* the list is served once, then EOF */
                }
        }
        n = (ssize_t) (f->len - f->pos < count ? f->len - f->pos : count);
        memcpy(data, f->reply + f->pos, (size_t) n);
        f->pos += (size_t) n;
        pthread_mutex_unlock(&fds_lock);
        return n;
}

EXPORT int ioctl(int fd, unsigned long request, ...) {
        struct fake_fd *f;
        va_list ap;
        void *arg;
        int inst = -1, r;
        REAL(ioctl);

        va_start(ap, request);
        arg = va_arg(ap, void *);
        va_end(ap);
        if (any_tracked()) {
                pthread_mutex_lock(&fds_lock);
                f = fd_find_locked(fd);
                if (f && f->kind == K_CTRL)
                        inst = f->instance;
                pthread_mutex_unlock(&fds_lock);
        }
        if (inst < 0)
                return real_ioctl(fd, request, arg);
        if (request != NVME_IOCTL_ADMIN_CMD) {
                errno = ENOTTY;
                return -1;
        }
        r = fk_admin(inst, arg);
        if (r < 0) {
                errno = -r;
                return -1;
        }
        return r;
}

/* ---- FILE* ----------------------------------------------------------------------------------- */

struct cookie {
        int fd; /* a tracked fake fd; read/write go through the interposers above */
};

static ssize_t ck_read(void *c, char *buf, size_t n) {
        return read(((struct cookie *) c)->fd, buf, n);
}

static ssize_t ck_write(void *c, const char *buf, size_t n) {
        return write(((struct cookie *) c)->fd, buf, n);
}

static int ck_close(void *c) {
        int r = close(((struct cookie *) c)->fd);
        free(c);
        return r;
}

static FILE *fopen_common(const char *path, const char *mode, bool is64) {
        char buf[PATH_MAX];
        const char *p = path;
        int flags = strchr(mode, '+') ? O_RDWR : mode[0] == 'r' ? O_RDONLY : O_WRONLY;
        int fd = open_special(&p, buf, sizeof buf, flags | (strchr(mode, 'e') ? O_CLOEXEC : 0));
        REAL(fopen);
        REAL(fopen64);

        if (fd == -1)
                return NULL;
        if (fd >= 0) {
                struct cookie *c = malloc(sizeof *c);
                FILE *f;
                if (!c) {
                        close(fd);
                        errno = ENOMEM;
                        return NULL;
                }
                c->fd = fd;
                f = fopencookie(
                        c,
                        mode,
                        (cookie_io_functions_t){ .read = ck_read, .write = ck_write, .close = ck_close });
                if (!f) {
                        close(fd);
                        free(c);
                }
                return f;
        }
        return is64 ? real_fopen64(p, mode) : real_fopen(p, mode);
}

EXPORT FILE *fopen(const char *path, const char *mode) {
        return fopen_common(path, mode, false);
}

EXPORT FILE *fopen64(const char *path, const char *mode) {
        return fopen_common(path, mode, true);
}

/* ---- directories, stat, links ----------------------------------------------------------------- */

#define REDIR(p)              \
        char rbuf_[PATH_MAX]; \
        p = fk_redirect(p, rbuf_, sizeof rbuf_)

/* /dev/nvme-fabrics and existing /dev/nvmeN look like /dev/null (a char device). */
static const char *dev_alias(const char *p) {
        if (!fk_root() || !p)
                return p;
        if (strcmp(p, "/dev/nvme-fabrics") == 0)
                return "/dev/null";
        if (fk_dev_instance(p) >= 0)
                return fk_ctrl_exists(fk_dev_instance(p)) ? "/dev/null" : "/nonexistent/fakekernel";
        return p;
}

EXPORT DIR *opendir(const char *path) {
        REAL(opendir);
        REDIR(path);
        return real_opendir(path);
}

EXPORT int scandir(
        const char *path,
        struct dirent ***list,
        int (*sel)(const struct dirent *),
        int (*cmp)(const struct dirent **, const struct dirent **)) {
        REAL(scandir);
        REDIR(path);
        return real_scandir(path, list, sel, cmp);
}

EXPORT int scandir64(
        const char *path,
        struct dirent64 ***list,
        int (*sel)(const struct dirent64 *),
        int (*cmp)(const struct dirent64 **, const struct dirent64 **)) {
        REAL(scandir64);
        REDIR(path);
        return real_scandir64(path, list, sel, cmp);
}

EXPORT int stat(const char *path, struct stat *st) {
        REAL(stat);
        path = dev_alias(path);
        REDIR(path);
        return real_stat(path, st);
}

EXPORT int stat64(const char *path, struct stat64 *st) {
        REAL(stat64);
        path = dev_alias(path);
        REDIR(path);
        return real_stat64(path, st);
}

EXPORT int lstat(const char *path, struct stat *st) {
        REAL(lstat);
        path = dev_alias(path);
        REDIR(path);
        return real_lstat(path, st);
}

EXPORT int lstat64(const char *path, struct stat64 *st) {
        REAL(lstat64);
        path = dev_alias(path);
        REDIR(path);
        return real_lstat64(path, st);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags) {
        REAL(fstatat);
        path = dev_alias(path);
        REDIR(path);
        return real_fstatat(dirfd, path, st, flags);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
        REAL(fstatat64);
        path = dev_alias(path);
        REDIR(path);
        return real_fstatat64(dirfd, path, st, flags);
}

EXPORT int access(const char *path, int mode) {
        REAL(access);
        path = dev_alias(path);
        REDIR(path);
        return real_access(path, mode);
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags) {
        REAL(faccessat);
        path = dev_alias(path);
        REDIR(path);
        return real_faccessat(dirfd, path, mode, flags);
}

EXPORT char *realpath(const char *path, char *resolved) {
        REAL(realpath);
        REDIR(path);
        return real_realpath(path, resolved);
}

EXPORT ssize_t readlink(const char *path, char *buf, size_t n) {
        REAL(readlink);
        REDIR(path);
        return real_readlink(path, buf, n);
}

EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t n) {
        REAL(readlinkat);
        REDIR(path);
        return real_readlinkat(dirfd, path, buf, n);
}
