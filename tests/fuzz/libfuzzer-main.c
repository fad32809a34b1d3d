/* SPDX-License-Identifier: Apache-2.0 */
/* libfuzzer-main.c - the libFuzzer entry points of every fuzz-<name> program (fuzz.h). */
#include "fuzz.h"

const char *__ubsan_default_options(void);

/* undefined behaviour is a crash, not a message (the run scripts need not set UBSAN_OPTIONS) */
const char *__ubsan_default_options(void) {
        return "halt_on_error=1:print_stacktrace=1";
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_init();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        (void) fuzz_one(data, size);
        return 0;
}
