/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-ini.h - what ini.h promises about a parsed INI text, checked by the INI targets. */
#pragma once

#include <ctype.h>

#include "fuzz.h"
#include "stas/ini.h"

static inline bool fuzz_ini_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static inline bool fuzz_ini_trimmed(const char *s) {
        size_t n = strlen(s);

        return n == 0 || (!fuzz_ini_blank(s[0]) && !fuzz_ini_blank(s[n - 1]));
}

static inline void check_ini(const StasIni *ini) {
        for (size_t i = 0; i < ini->n_sections; i++)
                fuzz_assert(!strchr(ini->sections[i].name, '\n'));
        for (size_t i = 0; i < ini->n_keys; i++) {
                const StasIniKey *k = &ini->keys[i];

                fuzz_assert(ini_has_section(ini, k->section));
                fuzz_assert(!isempty(k->key) && fuzz_ini_trimmed(k->key) && !strchr(k->key, '='));
                fuzz_assert(!strchr(k->key, '\n'));
                for (const char *c = k->key; *c; c++)
                        fuzz_assert(!isupper((unsigned char) *c));
                fuzz_assert(ini_find(ini, k->section, k->key) == k);
                fuzz_assert(k->n_values > 0 && !k->values[0].continuation);
                for (size_t j = 0; j < k->n_values; j++) {
                        const StasIniValue *v = &k->values[j];

                        fuzz_assert(v->line > 0);
                        fuzz_assert(j == 0 || v->line > k->values[j - 1].line);
                        fuzz_assert(!v->value || (fuzz_ini_trimmed(v->value) && !strchr(v->value, '\n')));
                        fuzz_assert(!v->continuation || (v->value && *v->value && k->values[j - 1].value));
                }
        }
}
