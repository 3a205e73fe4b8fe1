/* Open-addressing hash table with linear probing: inserts, then lookups of present and absent keys.
 *
 * Input: a xorshift64 generator seeded with 0xa54ff53a5f1d36f1 gives M nonzero 64-bit keys, inserted in
 * order with value = insertion index (a key seen again overwrites its value); then Q lookups, even ones of
 * an inserted key (index = next output mod M) and odd ones of a fresh generator output (absent unless it
 * collides). Table of 2^B slots of (key, value), key 0 = empty; slot = Fibonacci hash
 * (key * 0x9e3779b97f4a7c15) >> (64 - B) (Knuth, TAOCP vol. 3, sec. 6.4). B = 14, M = 8192, Q = 16384
 * (load factor 1/2); SMALL: B = 11, M = 1024, Q = 2048.
 * Checksum: FNV-1a-style fold (h = (h ^ v) * 0x100000001b3 from 0xcbf29ce484222325) of each lookup's
 * result in order: the value found, or 2^64 - 1 when the key is absent.
 *
 * Freestanding C99: only <stdint.h>, <stddef.h> and the shared kernel_common.h, static arrays, no library calls. */
#include <stddef.h>
#include <stdint.h>

#include "kernel_common.h"

#ifdef SMALL
#define B 11
#define M 1024
#define Q 2048
#else
#define B 14
#define M 8192
#define Q 16384
#endif

#define SLOTS ((size_t)1 << B)
#define SEED 0xa54ff53a5f1d36f1ULL
#define FIB 0x9e3779b97f4a7c15ULL
#define ABSENT 0xffffffffffffffffULL

static uint64_t keys[SLOTS];
static uint64_t values[SLOTS];
static uint64_t inserted[M];

static size_t slot_of(uint64_t key) { return (size_t)((key * FIB) >> (64 - B)); }

static void insert(uint64_t key, uint64_t value) {
    size_t i = slot_of(key);
    while (keys[i] != 0 && keys[i] != key) i = (i + 1) & (SLOTS - 1);
    keys[i] = key;
    values[i] = value;
}

static uint64_t lookup(uint64_t key) {
    size_t i = slot_of(key);
    while (keys[i] != 0) {
        if (keys[i] == key) return values[i];
        i = (i + 1) & (SLOTS - 1);
    }
    return ABSENT;
}

uint64_t run_kernel(void) {
    for (size_t i = 0; i < SLOTS; i++) keys[i] = 0;
    uint64_t s = SEED;
    for (size_t i = 0; i < M; i++) {
        inserted[i] = rng_next(&s);
        insert(inserted[i], i);
    }
    uint64_t h = FNV_OFFSET;
    for (size_t q = 0; q < Q; q++) {
        uint64_t r = rng_next(&s);
        uint64_t key = (q & 1) == 0 ? inserted[r % M] : r;
        h = mix(h, lookup(key));
    }
    return h;
}
