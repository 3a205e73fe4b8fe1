/* What every kernel of the program set shares: its random input generator and the hash of its result. */
#ifndef KERNEL_COMMON_H
#define KERNEL_COMMON_H

#include <stdint.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL /* FNV-1a 64-bit offset basis (Fowler, Noll, Vo) */
#define FNV_PRIME 0x100000001b3ULL       /* FNV 64-bit prime */

/* xorshift64 with shifts (13, 7, 17): Marsaglia, "Xorshift RNGs", J. Stat. Softw. 8(14), 2003. */
static inline uint64_t rng_next(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* One FNV-1a step over a 64-bit word: the running checksum of a kernel's result. */
static inline uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * FNV_PRIME; }

#endif
