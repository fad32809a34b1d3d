/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lkc.h - the last-known-config store: one versioned JSON file per daemon, so a warm restart
 * keeps what the daemon knew (§5.13). The file is
 *   {"format":"stas-last-known-config","version":1,"daemon":"<daemon>","data":<json>}
 * written atomically (temporary file in the same directory, fsync, rename, fsync of the
 * directory): a reader sees the old or the new content, never a mix. The caller owns the shape
 * of "data". A file that is corrupt, of another format, daemon or version, or not a regular
 * file at all (a FIFO, socket, device, directory or symbolic link: never read, never waited
 * on) is reported with a warning naming the file and the reason, and the caller starts empty.
 * A daemon keeps an LkcStatus so that a state file that cannot be written is warned about once,
 * not at every save, and shown by process_info. Nothing else here logs above debug level.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "stas/macro.h"

#define LKC_FORMAT "stas-last-known-config"
#define LKC_VERSION 1
#define LKC_FILENAME "last-known-config.json"
/* Refuse to load more than this: the file lives on a tmpfs and is never legitimately huge. */
#define LKC_SIZE_MAX (64u * 1024u * 1024u)
/* Temporary names tried per save ("<path>.tmp.<pid>.<k>", k < this) before giving up. */
#define LKC_TEMP_TRIES 16

/*
 * LkcStatus - what is wrong with a daemon's state file, for process_info ("last known config
 * error"): the -errno of the last problem (0: none) and its description. A save that works
 * clears it.
 */
typedef struct LkcStatus {
        int error;
        char text[512];
        bool save_failed; /* the last save failed (the next good one says so) */
        bool quiet;       /* set by the caller: lkc_load_status() records problems without logging */
} LkcStatus;

/*
 * lkc_save() - atomically replace @path with @data (NULL is stored as JSON null) wrapped for
 * @daemon. The directory of @path is created (one level, mode 0755) if missing. The temporary
 * file is created with O_EXCL|O_NOFOLLOW (see LKC_TEMP_TRIES), so nothing already in the
 * directory is ever opened and the call never blocks on a FIFO; rename() then replaces
 * whatever non-directory was at @path (a FIFO, socket, device or symbolic link: not followed).
 * Return: 0 or -errno, e.g. -EISDIR for a directory at @path (the previous file is then left
 * untouched and no temporary file remains). Logs at debug level only.
 */
int lkc_save(const char *path, const char *daemon, struct json_object *data);

/*
 * lkc_save_status() - lkc_save(), for a daemon that saves again and again: a failure is
 * warned about once per distinct error (also when lkc_load_status() already warned about the
 * same one, e.g. a directory at @path), later identical ones at debug level; the first save
 * that works after a failure logs it at info level. @st records the problem or is cleared.
 */
int lkc_save_status(const char *path, const char *daemon, LkcStatus *st, struct json_object *data);

/*
 * lkc_status_record() - what lkc_save_status() does with the result @r (0 or -errno) of a save
 * of @path made some other way (lkc-writer.h writes off the loop and records on it).
 * Return: @r (0 for success).
 */
int lkc_status_record(LkcStatus *st, const char *path, int r);

/*
 * lkc_serialize() and lkc_write_text() - lkc_save() in two halves: the text of the file (a
 * new string; NULL with errno EINVAL or ENOMEM), made where @data lives, and the atomic write
 * of that text (0 or -errno), which may run on any thread: it touches nothing but the file
 * system and logs at debug level only.
 */
char *lkc_serialize(const char *daemon, struct json_object *data);
int lkc_write_text(const char *path, const char *text);

/*
 * lkc_load_status() - read @path written for @daemon; *@ret receives a new reference to "data".
 * The file is opened with O_NONBLOCK|O_NOFOLLOW and must be a regular file: a FIFO, socket,
 * device, directory or symbolic link there is never read (nor waited on) and is warned about
 * once, naming what it is ("it is a FIFO, not a regular file").
 * Return: 0; -ENOENT when there is no file (no log); -EISDIR for a directory, -ELOOP for a
 * symbolic link, -EINVAL for another non-regular file, a corrupt or truncated file, another
 * format or another daemon; -EPROTONOSUPPORT for an unknown version; -EFBIG for a file larger
 * than LKC_SIZE_MAX; other -errno for read errors. Every error but -ENOENT is logged as one
 * warning naming the file, and recorded in @st (when not NULL). *@ret is untouched on error.
 */
int lkc_load_status(const char *path, const char *daemon, LkcStatus *st, struct json_object **ret);
/* lkc_load() - lkc_load_status() without a status. */
int lkc_load(const char *path, const char *daemon, struct json_object **ret);

/* lkc_status_set() - record @error (-errno) and its printf-style description in @st (may be NULL). */
void lkc_status_set(LkcStatus *st, int error, const char *fmt, ...) _printf_(3, 4);

/*
 * lkc_default_path() - where @daemon keeps its file: the first entry of $RUNTIME_DIRECTORY (a
 * colon-separated list under systemd), else STAS_RUNDIR "/<daemon>"; then "/last-known-config.json".
 * Return: 0 or -ENOMEM / -EINVAL. Caller frees *@ret.
 */
int lkc_default_path(const char *daemon, char **ret);

/*
 * The random host UUID (hostid.h) kept with a daemon's state, so that a daemon restarted in the
 * same boot keeps the host NQN of the connections it left (issue 9, failure 9).
 * lkc_host_uuid_add() - add it to @data, the daemon's document, if this process uses one.
 * Return: 0 or -ENOMEM.
 * lkc_host_uuid_restore() - before sys.conf is first read: take the one saved in @path (if any
 * and valid; a bad value is one warning; a bad or missing file is left, silently, to the
 * restore of the state itself).
 */
#define LKC_HOST_UUID_KEY "random-host-uuid"
int lkc_host_uuid_add(struct json_object *data);
void lkc_host_uuid_restore(const char *path, const char *daemon);
