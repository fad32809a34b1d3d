/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lkc.h - the last-known-config store: one versioned JSON file per daemon, so a warm restart
 * keeps what the daemon knew (§5.13). The file is
 *   {"format":"stas-last-known-config","version":1,"daemon":"<daemon>","data":<json>}
 * written atomically (temporary file in the same directory, fsync, rename, fsync of the
 * directory): a reader sees the old or the new content, never a mix. The caller owns the shape
 * of "data". A file that is corrupt, of another format, daemon or version is reported with a
 * warning naming the file and the reason, and the caller starts empty. Nothing else here logs
 * above debug level.
 */
#pragma once

#include <json-c/json.h>

#define LKC_FORMAT "stas-last-known-config"
#define LKC_VERSION 1
#define LKC_FILENAME "last-known-config.json"
/* Refuse to load more than this: the file lives on a tmpfs and is never legitimately huge. */
#define LKC_SIZE_MAX (64u * 1024u * 1024u)

/*
 * lkc_save() - atomically replace @path with @data (NULL is stored as JSON null) wrapped for
 * @daemon. The directory of @path is created (one level, mode 0755) if missing.
 * Return: 0 or -errno (the previous file is then left untouched and no temporary file remains).
 */
int lkc_save(const char *path, const char *daemon, struct json_object *data);

/*
 * lkc_load() - read @path written for @daemon; *@ret receives a new reference to "data".
 * Return: 0; -ENOENT when there is no file (no log); -EINVAL for a corrupt or truncated file,
 * another format or another daemon; -EPROTONOSUPPORT for an unknown version; -EFBIG for a file
 * larger than LKC_SIZE_MAX; other -errno for read errors. Every error but -ENOENT is logged as a
 * warning naming the file. *@ret is untouched on error.
 */
int lkc_load(const char *path, const char *daemon, struct json_object **ret);

/*
 * lkc_default_path() - where @daemon keeps its file: the first entry of $RUNTIME_DIRECTORY (a
 * colon-separated list under systemd), else STAS_RUNDIR "/<daemon>"; then "/last-known-config.json".
 * Return: 0 or -ENOMEM / -EINVAL. Caller frees *@ret.
 */
int lkc_default_path(const char *daemon, char **ret);
