/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-common.c - input readers, temporary files, logging and the fopen() sandbox (fuzz.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "stas/log.h"

static char tmpdir[PATH_MAX];

__attribute__((weak)) void fuzz_target_init(void) {
}

static void discard(int level, const char *line, void *userdata) {
}

void fuzz_init(void) {
        /* every message is formatted (its arguments are part of what is tested), none printed */
        log_set_max_level(LOG_DEBUG);
        if (!getenv("FUZZ_VERBOSE"))
                log_set_sink(discard, NULL);
        fuzz_target_init();
}

void fuzz_fail_at(const char *file, int line, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s:%d: ", file, line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        abort();
}

uint8_t fuzz_u8(FuzzInput *in) {
        if (in->n == 0)
                return 0;
        in->n--;
        return *in->p++;
}

uint16_t fuzz_u16(FuzzInput *in) {
        uint16_t lo = fuzz_u8(in);

        return (uint16_t) (lo | (uint16_t) fuzz_u8(in) << 8);
}

uint32_t fuzz_u32(FuzzInput *in) {
        uint32_t lo = fuzz_u16(in);

        return lo | (uint32_t) fuzz_u16(in) << 16;
}

char *fuzz_strndup(const void *data, size_t size) {
        char *s = malloc(size + 1);

        if (!s)
                abort();
        if (size > 0)
                memcpy(s, data, size);
        s[size] = 0;
        return s;
}

char *fuzz_field(FuzzInput *in) {
        const uint8_t *nul = in->n ? memchr(in->p, 0, in->n) : NULL;
        size_t len = nul ? (size_t) (nul - in->p) : in->n;
        char *s = fuzz_strndup(in->p, len);

        len += nul ? 1 : 0;
        in->p += len;
        in->n -= len;
        return s;
}

char *fuzz_rest(FuzzInput *in) {
        char *s = fuzz_strndup(in->p, in->n);

        in->p += in->n;
        in->n = 0;
        return s;
}

size_t fuzz_blob(FuzzInput *in, const uint8_t **ret) {
        size_t len = fuzz_u8(in);

        if (len > in->n)
                len = in->n;
        *ret = in->p;
        in->p += len;
        in->n -= len;
        return len;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void tmpdir_remove(void) {
        if (tmpdir[0])
                (void) nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void) {
        const char *base = getenv("TMPDIR");
        char real[PATH_MAX];

        if (tmpdir[0])
                return tmpdir;
        /* tmpfs when there is one: some targets write a file per input */
        if (isempty(base))
                base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(tmpdir, sizeof(tmpdir), "%s/stas-fuzz.XXXXXX", base);
        if (!mkdtemp(tmpdir)) {
                fprintf(stderr, "fuzz: cannot create a directory in %s: %m\n", base);
                abort();
        }
        if (!realpath(tmpdir, real)) /* the sandbox compares resolved paths */
                abort();
        snprintf(tmpdir, sizeof(tmpdir), "%s", real);
        atexit(tmpdir_remove);
        return tmpdir;
}

char *fuzz_path(const char *name) {
        char *p = NULL;

        if (asprintf(&p, "%s/%s", fuzz_tmpdir(), name) < 0)
                abort();
        return p;
}

static void mkdir_parents(const char *path) {
        _cleanup_free_ char *d = strdup(path);

        if (!d)
                abort();
        for (char *s = strchr(d + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                (void) mkdir(d, 0755);
                *s = '/';
        }
}

void fuzz_write_file(const char *path, const void *data, size_t size) {
        _cleanup_close_ int fd = -1;
        const char *p = data;

        mkdir_parents(path);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
                fprintf(stderr, "fuzz: cannot write %s: %m\n", path);
                abort();
        }
        while (size > 0) {
                ssize_t k = write(fd, p, size);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        fprintf(stderr, "fuzz: cannot write %s: %m\n", path);
                        abort();
                }
                p += k;
                size -= (size_t) k;
        }
}

static bool under(const char *path, const char *dir) {
        size_t n = strlen(dir);

        return n > 0 && strneq(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

/* Reading: only regular files, and none under /proc, /sys or /dev (e.g. /proc/kmsg blocks),
 * unless they are ours. Writing is left alone: libFuzzer writes its corpus and crash files with
 * fopen() too (the wrap covers the whole link), and libstas never writes through it. */
FILE *__wrap_fopen(const char *path, const char *mode) {
        char real[PATH_MAX];
        struct stat st;

        if (!path || !mode || strpbrk(mode, "wa+"))
                return __real_fopen(path, mode);
        if (!realpath(path, real))
                return NULL; /* errno set by realpath */
        if (!under(real, tmpdir) && (under(real, "/proc") || under(real, "/sys") || under(real, "/dev"))) {
                errno = EACCES;
                return NULL;
        }
        if (stat(real, &st) < 0)
                return NULL;
        if (!S_ISREG(st.st_mode)) {
                errno = EACCES;
                return NULL;
        }
        return __real_fopen(real, mode);
}
