/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Helpers for integration tests running under the fake kernel (fakekernel.so preloaded by meson).
 * fk_test_setup() makes a fresh temporary root (FAKEKERNEL_ROOT), scenario path
 * (FAKEKERNEL_SCENARIO = <root>/scenario.json) and a bound uevent socket (STAS_UEVENT_SOCKET =
 * <root>/uevent.sock, unless want_socket is false); fk_test_teardown() removes all of it.
 * Nothing outside the temporary root is touched.
 */

#include <stdbool.h>
#include <stddef.h>

struct fk_test {
        char root[64];
        char scenario[128];
        char sock_path[100];
        int sock; /* -1 when no uevent socket */
};

int fk_test_setup(struct fk_test *t, bool want_socket);
void fk_test_teardown(struct fk_test *t);

/* Writes the scenario file atomically (the fake re-reads it when it changes). */
int fk_test_scenario(struct fk_test *t, const char *json);

/* Contents of <root>/<name> (malloc'd, "" when absent). */
char *fk_test_read(struct fk_test *t, const char *name);

/* True when <root>/<rel> exists. */
bool fk_test_exists(struct fk_test *t, const char *rel);

/* Receives one uevent (waits up to 5 s); returns its pairs joined with '\n' (malloc'd) or NULL. */
char *fk_test_uevent(struct fk_test *t);

/* Runs fakekernel-ctl (path from $FAKEKERNEL_CTL) with the given arguments; returns its exit status. */
int fk_test_ctl(const char *const *argv);
