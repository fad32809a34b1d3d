/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hash.h - a keyed hash for tables indexed by hostile data (config files, log page entries):
 * SipHash-1-3 with a random key per table, so no input can aim at one slot.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* stas_siphash13() - SipHash-1-3 of @s (@n bytes) under @key, with @tweak xored into the key. */
uint64_t stas_siphash13(const uint64_t key[2], uint64_t tweak, const char *s, size_t n);
/* stas_hash_key_init() - a random key (getrandom(); the clock and pid if that fails). */
void stas_hash_key_init(uint64_t key[2]);
