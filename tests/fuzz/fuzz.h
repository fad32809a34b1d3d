/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz.h - what the fuzz targets of tests/fuzz share. A target is one file, fuzz-<name>.c, that
 * defines fuzz_one() (and optionally fuzz_target_init()). It is linked twice:
 *   - with libfuzzer-main.c into the libFuzzer program fuzz-<name> (-Dfuzz=enabled, clang);
 *   - with replay.c into fuzz-replay-<name> (every build, gcc too), which feeds files and checks
 *     that the valid seeds are accepted; the unit tier runs it (tests/fuzz/meson.build).
 * A violated invariant calls fuzz_fail(): a crash for libFuzzer, a failure for the replay.
 *
 * Sandbox: both programs are linked with -Wl,--wrap=fopen, so the fopen() calls of libstas that
 * read (a fuzzed dhchap-secret-file= or file:// value names any path) only open regular files
 * outside /proc, /sys and /dev, plus anything under fuzz_tmpdir(). A FIFO, a tty or /proc/kmsg
 * would block the run; every other file is harmless to read. Writes pass through (libFuzzer's).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stas/macro.h"

/* Defined by each target: run one input; true when it was accepted (decoded into something the
 * daemons would use), false when it was rejected. */
bool fuzz_one(const uint8_t *data, size_t size);
/* Optional (weak default): called once before the first input. */
void fuzz_target_init(void);

/* Set up logging (discarded unless $FUZZ_VERBOSE is set; every level is formatted), then
 * fuzz_target_init(). Called by both mains. */
void fuzz_init(void);

_noreturn_ _printf_(3, 4) void fuzz_fail_at(const char *file, int line, const char *fmt, ...);
#define fuzz_fail(...) fuzz_fail_at(__FILE__, __LINE__, __VA_ARGS__)
/* fuzz_assert() - abort with the expression when @cond is false. */
#define fuzz_assert(cond)                                           \
        do {                                                        \
                if (!(cond))                                        \
                        fuzz_fail("invariant violated: %s", #cond); \
        } while (0)
/* fuzz_assert_streq() - abort when two strings (NULL-tolerant) differ, showing both. */
#define fuzz_assert_streq(a, b)                                                \
        do {                                                                   \
                const char *_a = (a), *_b = (b);                               \
                if (!streq_ptr(_a, _b))                                        \
                        fuzz_fail(                                             \
                                "invariant violated: %s == %s ('%s' != '%s')", \
                                #a,                                            \
                                #b,                                            \
                                strempty(_a),                                  \
                                strempty(_b));                                 \
        } while (0)

/* An input being consumed from the front. Readers past the end return empty values. */
typedef struct FuzzInput {
        const uint8_t *p;
        size_t n;
} FuzzInput;

static inline FuzzInput fuzz_input(const uint8_t *data, size_t size) {
        return (FuzzInput){ .p = data, .n = size };
}
uint8_t fuzz_u8(FuzzInput *in);
uint16_t fuzz_u16(FuzzInput *in); /* little endian */
uint32_t fuzz_u32(FuzzInput *in);
/* fuzz_field() - the bytes up to the next NUL (consumed) or the end, as a new string. */
char *fuzz_field(FuzzInput *in);
/* fuzz_rest() - everything left as a new string (it ends at an embedded NUL, if any). */
char *fuzz_rest(FuzzInput *in);
/* fuzz_blob() - a length byte, then up to that many bytes (borrowed); returns the length. */
size_t fuzz_blob(FuzzInput *in, const uint8_t **ret);

/* Text inputs: the bytes as a new NUL-terminated string (embedded NULs kept). Never NULL. */
char *fuzz_strndup(const void *data, size_t size);

/* fuzz_tmpdir() - a private directory, created on first use, removed at exit. */
const char *fuzz_tmpdir(void);
/* fuzz_path() - a new string "<fuzz_tmpdir()>/@name". */
char *fuzz_path(const char *name);
/* fuzz_write_file() - replace @path with @size bytes (parent directories created). */
void fuzz_write_file(const char *path, const void *data, size_t size);

/* the fopen() sandbox (see above) */
FILE *__real_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode);

/* the libFuzzer entry points (libfuzzer-main.c) */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
