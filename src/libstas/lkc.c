/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lkc.c - the last-known-config file: atomic save, validating load. See lkc.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "stas/hostid.h"
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
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);

        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

/*
 * A new temporary file next to @path, "<path>.tmp.<pid>.<k>": created with O_EXCL|O_NOFOLLOW, so
 * whatever already has such a name (a FIFO, a symbolic link, a leftover) is never opened; the
 * next k is tried. Return: the descriptor (*@ret the name) or -errno.
 */
static int temp_create(const char *path, char **ret) {
        for (unsigned k = 0; k < LKC_TEMP_TRIES; k++) {
                _cleanup_free_ char *tmp = NULL;
                int fd;

                if (asprintf(&tmp, "%s.tmp.%d.%u", path, (int) getpid(), k) < 0)
                        return -ENOMEM;
                fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
                if (fd >= 0) {
                        *ret = TAKE_PTR(tmp);
                        return fd;
                }
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

/**
 * lkc_serialize() - the file's text for @data of @daemon. See lkc.h.
 * @daemon: "stafd" or "stacd" (any non-empty name)
 * @data: the payload; a reference is taken for the duration of the call only
 *
 * Return: a new string or NULL (errno EINVAL or ENOMEM).
 */
char *lkc_serialize(const char *daemon, struct json_object *data) {
        _cleanup_json_ struct json_object *root = NULL;
        const char *text;

        if (isempty(daemon)) {
                errno = EINVAL;
                return NULL;
        }
        root = json_object_new_object();
        if (!root || json_object_object_add(root, "format", json_object_new_string(LKC_FORMAT)) < 0 ||
            json_object_object_add(root, "version", json_object_new_int(LKC_VERSION)) < 0 ||
            json_object_object_add(root, "daemon", json_object_new_string(daemon)) < 0 ||
            json_object_object_add(root, "data", json_object_get(data)) < 0) {
                errno = ENOMEM;
                return NULL;
        }
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text || !(text = strdup(text))) {
                errno = ENOMEM;
                return NULL;
        }
        return (char *) text;
}

/**
 * lkc_write_text() - atomically replace @path with @text and a newline. See lkc.h.
 * @path: the file
 * @text: from lkc_serialize()
 *
 * Return: 0 or -errno.
 */
int lkc_write_text(const char *path, const char *text) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (isempty(path) || !text)
                return -EINVAL;
        dir = path_dirname(path);
        if (!dir)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_debug_errno(errno, "Cannot create %s: %m", dir);

        fd = temp_create(path, &tmp);
        if (fd < 0)
                return log_debug_errno(fd, "Cannot create a temporary file for %s: %m", path);

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

/**
 * lkc_save() - write @data for @daemon to @path atomically. See lkc.h.
 * @path: the file
 * @daemon: "stafd" or "stacd" (any non-empty name)
 * @data: the payload; a reference is taken for the duration of the call only
 *
 * Return: 0 or -errno.
 */
int lkc_save(const char *path, const char *daemon, struct json_object *data) {
        _cleanup_free_ char *text = NULL;

        if (isempty(path) || isempty(daemon))
                return -EINVAL;
        text = lkc_serialize(daemon, data);
        if (!text)
                return -errno;
        return lkc_write_text(path, text);
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

static int reject_st(LkcStatus *st, const char *path, int error, const char *reason) {
        if (!st || !st->quiet)
                log_warning("Ignoring last known configuration %s: %s.", path, reason);
        lkc_status_set(st, -error, "%s: %s (not restored)", path, reason);
        return -error;
}

#define reject(path, error, reason) reject_st(st, (path), (error), (reason))

static const char *file_type(mode_t mode) {
        return S_ISDIR(mode)     ? "a directory"
                : S_ISFIFO(mode) ? "a FIFO"
                : S_ISSOCK(mode) ? "a socket"
                : S_ISCHR(mode)  ? "a character device"
                : S_ISBLK(mode)  ? "a block device"
                : S_ISLNK(mode)  ? "a symbolic link"
                                 : "a special file";
}

/* Anything but a regular file at @path (its @mode from lstat() or fstat()): one warning. */
static int reject_type(LkcStatus *st, const char *path, mode_t mode) {
        char reason[96];

        snprintf(reason, sizeof reason, "it is %s, not a regular file", file_type(mode));
        return reject(path, S_ISDIR(mode) ? EISDIR : S_ISLNK(mode) ? ELOOP : EINVAL, reason);
}

/*
 * Open @path for reading without ever blocking or following a symbolic link: O_NONBLOCK makes a
 * FIFO open at once, O_NOFOLLOW refuses a link. Return: the descriptor of a regular file, or
 * -errno (logged, except -ENOENT).
 */
static int open_regular(LkcStatus *st, const char *path) {
        _cleanup_close_ int fd = -1;
        struct stat lst, fst;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT)
                        return log_debug_errno(r, "No last known configuration at %s.", path);
                /* a symbolic link (ELOOP), a socket (ENXIO), ...: say what is there */
                if (lstat(path, &lst) >= 0 && !S_ISREG(lst.st_mode))
                        return reject_type(st, path, lst.st_mode);
                if (!st || !st->quiet)
                        log_warning_errno(r, "Ignoring last known configuration %s: %m", path);
                lkc_status_set(st, r, "%s: %s (not restored)", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &fst) < 0) {
                r = -errno;
                if (!st || !st->quiet)
                        log_warning_errno(r, "Ignoring last known configuration %s: %m", path);
                lkc_status_set(st, r, "%s: %s (not restored)", path, strerror(-r));
                return r;
        }
        if (!S_ISREG(fst.st_mode))
                return reject_type(st, path, fst.st_mode);
        return TAKE_FD(fd);
}

/**
 * lkc_load_status() - read and validate @path for @daemon. See lkc.h.
 * @path: the file
 * @daemon: the daemon that must have written it
 * @st: where a problem is recorded (NULL: nowhere)
 * @ret: receives a new reference to the payload
 *
 * Return: 0 or -errno (see lkc.h).
 */
int lkc_load_status(const char *path, const char *daemon, LkcStatus *st, struct json_object **ret) {
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

        fd = open_regular(st, path);
        if (fd < 0)
                return fd;
        r = read_file(fd, &buf, &len);
        if (r == -EFBIG)
                return reject(path, EFBIG, "file too large");
        if (r < 0) {
                if (!st || !st->quiet)
                        log_warning_errno(r, "Ignoring last known configuration %s: %m", path);
                lkc_status_set(st, r, "%s: %s (not restored)", path, strerror(-r));
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
                char reason[64];

                snprintf(
                        reason,
                        sizeof reason,
                        "unsupported version %" PRId64,
                        json_object_get_int64(version));
                return reject(path, EPROTONOSUPPORT, reason);
        }
        if (!json_object_object_get_ex(root, "daemon", &owner) ||
            !json_object_is_type(owner, json_type_string))
                return reject(path, EINVAL, "no daemon name");
        if (!streq(json_object_get_string(owner), daemon)) {
                _cleanup_free_ char *reason = NULL;

                if (asprintf(&reason, "written by '%s', not '%s'", json_object_get_string(owner), daemon) <
                    0)
                        return -ENOMEM;
                return reject(path, EINVAL, reason);
        }
        if (!json_object_object_get_ex(root, "data", &data))
                return reject(path, EINVAL, "no data");

        *ret = json_object_get(data);
        return 0;
}

int lkc_load(const char *path, const char *daemon, struct json_object **ret) {
        return lkc_load_status(path, daemon, NULL, ret);
}

/**
 * lkc_status_set() - record a problem in @st (NULL: nothing). See lkc.h.
 * @st: the status
 * @error: its -errno
 * @fmt: its description
 */
void lkc_status_set(LkcStatus *st, int error, const char *fmt, ...) {
        va_list ap;

        if (!st)
                return;
        st->error = error;
        va_start(ap, fmt);
        vsnprintf(st->text, sizeof st->text, fmt, ap);
        va_end(ap);
}

/**
 * lkc_save_status() - lkc_save(), warning once per problem. See lkc.h.
 * @path: the file
 * @daemon: the daemon
 * @st: the state file's status (the caller keeps it between calls)
 * @data: the payload
 *
 * Return: 0 or -errno.
 */
int lkc_save_status(const char *path, const char *daemon, LkcStatus *st, struct json_object *data) {
        return lkc_status_record(st, path, lkc_save(path, daemon, data));
}

/**
 * lkc_status_record() - the outcome @r of a save of @path, into @st. See lkc.h.
 * @st: the state file's status
 * @path: the file
 * @r: 0 or -errno
 *
 * Return: @r, or 0 for any r >= 0.
 */
int lkc_status_record(LkcStatus *st, const char *path, int r) {
        if (r >= 0) {
                if (st->save_failed)
                        log_info("Wrote the last known configuration %s again.", path);
                *st = (LkcStatus){};
                return 0;
        }
        if (r != st->error)
                log_warning_errno(r, "Cannot write the last known configuration %s: %m", path);
        else
                log_debug_errno(r, "Cannot write the last known configuration %s: %m", path);
        errno = -r;
        lkc_status_set(st, r, "cannot write %s: %m", path);
        st->save_failed = true;
        return r;
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

/**
 * lkc_host_uuid_add() - see lkc.h.
 * @data: the daemon's document
 *
 * Return: 0 or -ENOMEM.
 */
int lkc_host_uuid_add(struct json_object *data) {
        const char *uuid = hostnqn_random_uuid();
        json_object *s;

        if (!uuid)
                return 0;
        s = json_object_new_string(uuid);
        if (!s || json_object_object_add(data, LKC_HOST_UUID_KEY, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

/**
 * lkc_host_uuid_restore() - see lkc.h.
 * @path: the state file
 * @daemon: its daemon
 */
void lkc_host_uuid_restore(const char *path, const char *daemon) {
        _cleanup_json_ json_object *data = NULL;
        json_object *v;
        int r;

        LkcStatus quiet = { .quiet = true };

        /* quietly: a bad file is reported once, by the restore of the state itself */
        if (isempty(path) || lkc_load_status(path, daemon, &quiet, &data) < 0)
                return;
        if (!json_object_object_get_ex(data, LKC_HOST_UUID_KEY, &v))
                return;
        r = hostnqn_random_uuid_restore(json_object_get_string(v));
        if (r < 0)
                log_warning_errno(r, "%s: ignoring the saved random host UUID: %m", path);
        else
                log_debug("%s: the random host NQN of the previous run is kept.", path);
}
