/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lkc.c - the last-known-config file: atomic save, validating load. See lkc.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "stas/lkc.h"
#include "stas/log.h"

static void json_putp(struct json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

static void json_tokener_freep(struct json_tokener **t) {
        if (*t)
                json_tokener_free(*t);
}

/* "dir" of "dir/file", "." for "file", "/" for "/file". */
static char *path_dirname(const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t) (slash - path));
}

static int write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t k = write(fd, buf, len);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += k;
                len -= (size_t) k;
        }
        return 0;
}

static int fsync_dir(const char *dir) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

/**
 * lkc_save() - write @data for @daemon to @path atomically. See lkc.h.
 * @path: the file
 * @daemon: "stafd" or "stacd" (any non-empty name)
 * @data: the payload; a reference is taken for the duration of the call only
 *
 * Return: 0 or -errno.
 */
int lkc_save(const char *path, const char *daemon, struct json_object *data) {
        _cleanup_json_ struct json_object *root = NULL;
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1;
        const char *text;
        int r;

        if (isempty(path) || isempty(daemon))
                return -EINVAL;

        dir = path_dirname(path);
        if (!dir || asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;

        root = json_object_new_object();
        if (!root)
                return -ENOMEM;
        if (json_object_object_add(root, "format", json_object_new_string(LKC_FORMAT)) < 0 ||
            json_object_object_add(root, "version", json_object_new_int(LKC_VERSION)) < 0 ||
            json_object_object_add(root, "daemon", json_object_new_string(daemon)) < 0 ||
            json_object_object_add(root, "data", json_object_get(data)) < 0)
                return -ENOMEM;
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_debug_errno(errno, "Cannot create %s: %m", dir);

        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return log_debug_errno(errno, "Cannot create a temporary file for %s: %m", path);

        r = write_all(fd, text, strlen(text));
        if (r >= 0)
                r = write_all(fd, "\n", 1);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return log_debug_errno(r, "Cannot write %s: %m", path);
        }

        /* The rename is durable only once the directory is synced. */
        r = fsync_dir(dir);
        if (r < 0)
                log_debug_errno(r, "Cannot sync directory %s, ignoring: %m", dir);
        return 0;
}

/* Read at most LKC_SIZE_MAX bytes. Return: 0 or -errno. */
static int read_file(int fd, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t) st.st_size > LKC_SIZE_MAX)
                return -EFBIG;

        for (;;) {
                ssize_t k;

                if (cap - len < 4096) {
                        char *n;

                        if (cap >= LKC_SIZE_MAX + 1)
                                return -EFBIG;
                        cap = cap ? cap * 2 : (size_t) st.st_size + 4096;
                        if (cap > LKC_SIZE_MAX + 1)
                                cap = LKC_SIZE_MAX + 1;
                        n = realloc(buf, cap + 1);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                }
                k = read(fd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > LKC_SIZE_MAX)
                        return -EFBIG;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int reject(const char *path, int error, const char *reason) {
        log_warning("Ignoring last known configuration %s: %s.", path, reason);
        return -error;
}

/**
 * lkc_load() - read and validate @path for @daemon. See lkc.h.
 * @path: the file
 * @daemon: the daemon that must have written it
 * @ret: receives a new reference to the payload
 *
 * Return: 0 or -errno (see lkc.h).
 */
int lkc_load(const char *path, const char *daemon, struct json_object **ret) {
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_json_ struct json_object *root = NULL;
        struct json_object *format, *version, *owner, *data;
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -1;
        enum json_tokener_error jerr;
        size_t len = 0, end;
        int r;

        if (isempty(path) || isempty(daemon) || !ret)
                return -EINVAL;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT)
                        return log_debug_errno(errno, "No last known configuration at %s.", path);
                r = -errno;
                log_warning_errno(r, "Ignoring last known configuration %s: %m", path);
                return r;
        }
        r = read_file(fd, &buf, &len);
        if (r == -EFBIG)
                return reject(path, EFBIG, "file too large");
        if (r == -EINVAL)
                return reject(path, EINVAL, "not a regular file");
        if (r < 0) {
                log_warning_errno(r, "Ignoring last known configuration %s: %m", path);
                return r;
        }

        if (len == 0)
                return reject(path, EINVAL, "empty file");
        if (memchr(buf, '\0', len))
                return reject(path, EINVAL, "not valid JSON (NUL byte)");

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, buf, (int) len);
        jerr = json_tokener_get_error(tok);
        if (jerr == json_tokener_continue)
                return reject(path, EINVAL, "not valid JSON (truncated)");
        if (jerr != json_tokener_success || !root)
                return reject(path, EINVAL, "not valid JSON");
        end = json_tokener_get_parse_end(tok);
        if (buf[end + strspn(buf + end, " \t\r\n")] != '\0')
                return reject(path, EINVAL, "not valid JSON (trailing data)");

        if (!json_object_is_type(root, json_type_object))
                return reject(path, EINVAL, "not a JSON object");
        if (!json_object_object_get_ex(root, "format", &format) ||
            !json_object_is_type(format, json_type_string) ||
            !streq(json_object_get_string(format), LKC_FORMAT))
                return reject(path, EINVAL, "unknown format");
        if (!json_object_object_get_ex(root, "version", &version) ||
            !json_object_is_type(version, json_type_int))
                return reject(path, EINVAL, "no version");
        if (json_object_get_int64(version) != LKC_VERSION) {
                log_warning(
                        "Ignoring last known configuration %s: unsupported version %" PRId64 ".",
                        path,
                        json_object_get_int64(version));
                return -EPROTONOSUPPORT;
        }
        if (!json_object_object_get_ex(root, "daemon", &owner) ||
            !json_object_is_type(owner, json_type_string))
                return reject(path, EINVAL, "no daemon name");
        if (!streq(json_object_get_string(owner), daemon)) {
                log_warning(
                        "Ignoring last known configuration %s: written by '%s', not '%s'.",
                        path,
                        json_object_get_string(owner),
                        daemon);
                return -EINVAL;
        }
        if (!json_object_object_get_ex(root, "data", &data))
                return reject(path, EINVAL, "no data");

        *ret = json_object_get(data);
        return 0;
}

/**
 * lkc_default_path() - the file @daemon uses by default. See lkc.h.
 *
 * Return: 0, -EINVAL or -ENOMEM.
 */
int lkc_default_path(const char *daemon, char **ret) {
        const char *rd = getenv("RUNTIME_DIRECTORY");
        size_t n = rd ? strcspn(rd, ":") : 0;
        int k;

        if (isempty(daemon) || !ret)
                return -EINVAL;
        if (n > 0)
                k = asprintf(ret, "%.*s/%s", (int) n, rd, LKC_FILENAME);
        else
                k = asprintf(ret, "%s/%s/%s", STAS_RUNDIR, daemon, LKC_FILENAME);
        return k < 0 ? -ENOMEM : 0;
}
