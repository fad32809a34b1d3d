/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ini-edit.h - line-preserving edits of INI files such as /etc/stas/sys.conf. Unlike a
 * parse-and-rewrite, an edit changes only the lines it must: comments, blank lines, order,
 * spelling of other keys and every other byte stay as they were.
 *
 * The syntax understood is the one the stas config parser accepts (configparser-like):
 * - a section header is a line whose first non-blank character is '[' and which contains a
 *   closing ']'; the name is the text between '[' and the last ']', compared case-sensitively;
 *   a section name may appear several times (the instances are merged);
 * - a comment line starts (after optional blanks) with '#' or ';';
 * - any other non-blank line is an option; its name is the text before the first '=' (or the
 *   whole line when there is no '='), trimmed and compared case-insensitively;
 * - a non-blank, non-comment line indented deeper than the option line before it is a
 *   continuation of that option and belongs to it.
 * A trailing '\r' is ignored for parsing and kept in untouched lines. New lines end in '\n'.
 * Text containing NUL bytes is refused (-EINVAL) rather than silently truncated.
 * Nothing here logs above debug level.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "stas/macro.h"

/*
 * ini_edit_set() - return a copy of @text with "[@section] @key = @value" set.
 * @text: the current file content (NULL = empty).
 * The first occurrence of @key in @section is replaced in place (its indentation is kept, its
 * continuation lines dropped); later occurrences in any instance of @section are removed so the
 * result is unambiguous. If @key is absent it is appended after the last option or comment of
 * the last instance of @section; if the section is absent, "[@section]" is appended at the end,
 * separated from previous content by a blank line.
 * @ret: malloc'ed result.
 * Return: 1 if the text changed, 0 if it was already so (@ret still set), -EINVAL on a bad
 * section/key/value (empty, containing a newline, '=' in a key, ']' in a section) or -ENOMEM.
 */
int ini_edit_set(const char *text, const char *section, const char *key, const char *value, char **ret);

/*
 * ini_edit_remove() - return a copy of @text without any "@key" option (and its continuation
 * lines) in any instance of @section. Other sections and the section header stay.
 * Return: number of option lines removed (0 = unchanged), or -EINVAL / -ENOMEM.
 */
int ini_edit_remove(const char *text, const char *section, const char *key, char **ret);

/*
 * ini_edit_file_set() - ini_edit_set() on the file @path, created (with missing parent
 * directories, mode 0644) if absent. The file is replaced atomically (temporary file in the
 * same directory, fsync, rename) and keeps its permission bits; a symlink is followed.
 * Nothing is written when the content is unchanged.
 * Return: 0 or -errno.
 */
int ini_edit_file_set(const char *path, const char *section, const char *key, const char *value);

/*
 * ini_edit_file_remove() - ini_edit_remove() on the file @path. A missing file is not an
 * error (nothing to remove). Return: number of option lines removed, or -errno.
 */
int ini_edit_file_remove(const char *path, const char *section, const char *key);

/*
 * write_file_atomic() - replace @path with the @len bytes at @data: temporary file in the same
 * directory, fsync, rename. Missing parent directories are created (0755). An existing file's
 * permission bits are kept, else @mode is used. A symlink at @path is followed.
 * Return: 0 or -errno.
 */
int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);

/*
 * read_text_file() - read the whole file @path into a NUL-terminated malloc'ed string.
 * Return: 0, -ENOENT if missing, -EINVAL if it contains a NUL byte or is larger than 16 MiB,
 * or another -errno.
 */
int read_text_file(const char *path, char **ret);
