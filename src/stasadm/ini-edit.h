/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ini-edit.h - line-preserving edits of INI files such as /etc/stas/sys.conf. Unlike a
 * parse-and-rewrite, an edit changes only the lines it must: comments, blank lines, order,
 * spelling of other keys and every other byte stay as they were.
 *
 * The grammar is the daemons' own (ini_lex_line(), ini.h): every line is a blank line, a
 * comment, a section header, an option or a continuation line in exactly the way the daemons'
 * reader sees it, and a text the reader rejects (a line that is none of these, see ini.h) is
 * not edited: -EBADMSG (ini_check_syntax() names the line). Section names are compared
 * case-sensitively (repeated sections are one section), option names ASCII case-insensitively;
 * an option owns its continuation lines, also across blank and comment lines.
 * Guarantees (what a differential test of editor and reader checks): reading the result with
 * ini_parse_string() gives [@section] @key exactly one value, @value (no continuation), and
 * every other section, key and value as before; repeating the same edit on the result changes
 * nothing (byte-identical, return 0).
 * Untouched lines keep their bytes, "\r\n" and "\r" terminators included; a replaced line keeps
 * its terminator, new lines end in "\n". Texts longer than INI_MAX_SIZE (1 MiB, the reader's
 * limit) are refused (-EFBIG), as is text containing NUL bytes (read_text_file()).
 * Nothing here logs above debug level.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "stas/macro.h"

/*
 * ini_edit_set() - return a copy of @text with "[@section] @key = @value" set. This is "apply
 * stasadm's edit to a text" for a differential test against the daemons' reader
 * (ini_parse_string()): stasadm edits sys.conf only through it and ini_edit_remove().
 * @text: the current file content (NULL = empty).
 * The first occurrence of @key in @section is replaced in place (its indentation and line
 * terminator are kept, its continuation lines dropped); later occurrences in any instance of
 * @section are removed so the result is unambiguous. If @key is absent it is appended after the
 * last option, continuation or comment of the last instance of @section, indented like the
 * section header that follows (if any); if the section is absent, "[@section]" is appended at
 * the end, separated from previous content by a blank line. The line is written
 * "key = value" ("key =" for an empty value, "key=#..." for a value starting with '#').
 * @ret: malloc'ed result.
 * Return: 1 if the text changed, 0 if it was already so (@ret still set), -EINVAL on a
 * section, key or value that would not read back as given (empty section or key, a line break,
 * '=' or a leading '[', '#' or ';' in a key, blanks around a key or value, an inline comment
 * "<blank>#", ']' in a section), -EBADMSG when the reader rejects @text, -EFBIG, -ENOMEM.
 */
int ini_edit_set(const char *text, const char *section, const char *key, const char *value, char **ret);

/*
 * ini_edit_remove() - return a copy of @text without any "@key" option (and its continuation
 * lines) in any instance of @section. Other sections and the section header stay. Reading the
 * result gives no [@section] @key and every other key as before.
 * Return: number of option lines removed (0 = unchanged), or -EINVAL / -EBADMSG / -EFBIG /
 * -ENOMEM as ini_edit_set().
 */
int ini_edit_remove(const char *text, const char *section, const char *key, char **ret);

/*
 * ini_edit_file_set() - ini_edit_set() on the file @path, created (with missing parent
 * directories, mode 0644) if absent. The file is replaced atomically (temporary file in the
 * same directory, fsync, rename) and keeps its permission bits; a symlink is followed.
 * Nothing is written when the content is unchanged.
 * Return: 0 or -errno (-EBADMSG: the file has a syntax error, see ini_check_syntax()).
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
