/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "stas/hash.h"

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4]) {
        v[0] += v[1];
        v[1] = ROTL64(v[1], 13) ^ v[0];
        v[0] = ROTL64(v[0], 32);
        v[2] += v[3];
        v[3] = ROTL64(v[3], 16) ^ v[2];
        v[0] += v[3];
        v[3] = ROTL64(v[3], 21) ^ v[0];
        v[2] += v[1];
        v[1] = ROTL64(v[1], 17) ^ v[2];
        v[2] = ROTL64(v[2], 32);
}

static void sip_absorb(uint64_t v[4], uint64_t m) {
        v[3] ^= m;
        sip_round(v);
        v[0] ^= m;
}

uint64_t stas_siphash13(const uint64_t key[2], uint64_t tweak, const char *s, size_t n) {
        uint64_t k0 = key[0] ^ tweak, k1 = key[1];
        uint64_t v[4] = {
                k0 ^ 0x736f6d6570736575ULL,
                k1 ^ 0x646f72616e646f6dULL,
                k0 ^ 0x6c7967656e657261ULL,
                k1 ^ 0x7465646279746573ULL,
        };
        const unsigned char *p = (const unsigned char *) s;
        uint64_t m;
        size_t i;

        for (i = 0; i + 8 <= n; i += 8) {
                m = 0;
                for (size_t j = 0; j < 8; j++)
                        m |= (uint64_t) p[i + j] << (8 * j);
                sip_absorb(v, m);
        }
        m = (uint64_t) (n & 0xff) << 56;
        for (size_t j = 0; i + j < n; j++)
                m |= (uint64_t) p[i + j] << (8 * j);
        sip_absorb(v, m);
        v[2] ^= 0xff;
        for (int r = 0; r < 3; r++)
                sip_round(v);
        return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void stas_hash_key_init(uint64_t key[2]) {
        if (getrandom(key, 2 * sizeof(uint64_t), GRND_NONBLOCK) != 2 * (ssize_t) sizeof(uint64_t)) {
                struct timespec ts = {};

                (void) clock_gettime(CLOCK_MONOTONIC, &ts);
                key[0] = (uint64_t) ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t) (uintptr_t) key;
                key[1] = (uint64_t) ts.tv_sec ^ ((uint64_t) getpid() << 32);
        }
}
