/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay.c - main() of fuzz-replay-<name>: runs the target's fuzz_one() over files, without
 * libFuzzer (any compiler, valgrind, the ASan build). The unit tier uses it to check that every
 * valid seed is still accepted and that no regression input crashes.
 *
 *   fuzz-replay-NAME [--valid|--any|--open] PATH...
 *
 * PATH is a file or a directory (its regular files, not its subdirectories, in name order). The
 * mode applies to the paths after it (default --any):
 *   --valid  each input must be accepted; at least one is required (a seed directory that
 *            decodes nothing proves nothing);
 *   --any    each input must run without a crash or a violated invariant (accepted or not);
 *   --open   known open bugs: each input is run in a child process and must still fail there;
 *            one that passes is reported as fixed (move it out of open/, next to the others).
 * A missing --any or --open directory is only mentioned (a target may have no regression yet).
 * Exit status: 0 all good, 1 a check failed, 2 usage error; a crash aborts as usual.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fuzz.h"

typedef enum Mode {
        MODE_VALID,
        MODE_ANY,
        MODE_OPEN,
} Mode;

typedef struct Counts {
        unsigned valid, valid_ok, any, any_accepted, open, open_ok, failed;
} Counts;

static int read_all(const char *path, uint8_t **ret, size_t *ret_n) {
        _cleanup_fclose_ FILE *f = __real_fopen(path, "re");
        uint8_t *buf = NULL;
        size_t n = 0, cap = 0;

        if (!f)
                return -errno;
        for (;;) {
                size_t k;

                if (n == cap) {
                        uint8_t *t = realloc(buf, cap = cap ? cap * 2 : 4096);
                        if (!t) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = t;
                }
                k = fread(buf + n, 1, cap - n, f);
                n += k;
                if (k == 0)
                        break;
        }
        if (ferror(f)) {
                free(buf);
                return -EIO;
        }
        *ret = buf;
        *ret_n = n;
        return 0;
}

/* Run @path in a child: true if it failed there (crash, abort or non-zero exit). */
static bool fails_in_child(const uint8_t *data, size_t n) {
        int status;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(1);
        }
        if (pid == 0) {
                (void) fuzz_one(data, n);
                _exit(0);
        }
        if (waitpid(pid, &status, 0) < 0) {
                perror("waitpid");
                exit(1);
        }
        return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static void run_file(const char *path, Mode mode, Counts *c) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t n = 0;
        int r;

        r = read_all(path, &data, &n);
        if (r < 0) {
                fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-r));
                c->failed++;
                return;
        }
        switch (mode) {
        case MODE_VALID:
                c->valid++;
                if (fuzz_one(data, n))
                        c->valid_ok++;
                else {
                        fprintf(stderr, "%s: FAIL: a valid seed was rejected\n", path);
                        c->failed++;
                }
                break;
        case MODE_ANY:
                c->any++;
                c->any_accepted += fuzz_one(data, n);
                break;
        case MODE_OPEN:
                c->open++;
                if (!fails_in_child(data, n)) {
                        fprintf(stderr,
                                "%s: FAIL: this known open bug no longer reproduces: move the file out of open/\n",
                                path);
                        c->failed++;
                } else {
                        fprintf(stderr, "%s: known open bug, still reproduces (see above)\n", path);
                        c->open_ok++;
                }
                break;
        }
}

static int by_name(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

static void run_path(const char *path, Mode mode, Counts *c) {
        struct dirent **names = NULL;
        struct stat st;
        int n;

        if (stat(path, &st) < 0) {
                if (mode == MODE_VALID) {
                        fprintf(stderr, "%s: FAIL: %s\n", path, strerror(errno));
                        c->failed++;
                } else
                        fprintf(stderr, "%s: absent, nothing to replay\n", path);
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                run_file(path, mode, c);
                return;
        }
        n = scandir(path, &names, NULL, by_name);
        if (n < 0) {
                fprintf(stderr, "%s: FAIL: %s\n", path, strerror(errno));
                c->failed++;
                return;
        }
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;

                if (names[i]->d_name[0] != '.' && asprintf(&p, "%s/%s", path, names[i]->d_name) >= 0 &&
                    stat(p, &st) == 0 && S_ISREG(st.st_mode))
                        run_file(p, mode, c);
                free(names[i]);
        }
        free(names);
}

int main(int argc, char **argv) {
        const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        Mode mode = MODE_ANY;
        bool want_valid = false;
        Counts c = {};

        if (argc < 2) {
                fprintf(stderr, "Usage: %s [--valid|--any|--open] PATH...\n", prog);
                return 2;
        }
        fuzz_init();
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--valid"))
                        mode = MODE_VALID, want_valid = true;
                else if (streq(argv[i], "--any"))
                        mode = MODE_ANY;
                else if (streq(argv[i], "--open"))
                        mode = MODE_OPEN;
                else if (argv[i][0] == '-') {
                        fprintf(stderr, "%s: unknown option %s\n", prog, argv[i]);
                        return 2;
                } else
                        run_path(argv[i], mode, &c);
        }
        if (want_valid && c.valid == 0) {
                fprintf(stderr, "%s: FAIL: no valid seed to check\n", prog);
                c.failed++;
        }
        printf("%s: %u/%u valid seeds accepted, %u other inputs ran (%u accepted), %u/%u open bugs "
               "reproduced, %u failures\n",
               prog,
               c.valid_ok,
               c.valid,
               c.any,
               c.any_accepted,
               c.open_ok,
               c.open,
               c.failed);
        return c.failed ? 1 : 0;
}
