/* Bottom-up merge sort of 32-bit unsigned keys (stable, N log2 N moves, two ping-pong buffers).
 *
 * Input: N keys, key i = the upper 32 bits of the i-th output of a xorshift64 generator seeded with
 * 0x3c6ef372fe94f82b. Runs of width 1, 2, 4, ... are merged from one buffer into the other until one run
 * is left. N = 4096 (SMALL: 512).
 * Checksum: FNV-1a-style fold of the sorted keys in increasing order (h = (h ^ key) * 0x100000001b3 from
 * 0xcbf29ce484222325); it depends only on the multiset of keys, not on the algorithm.
 *
 * Freestanding C99: only <stdint.h>, <stddef.h> and the shared kernel_common.h, static arrays, no library calls. */
#include <stddef.h>
#include <stdint.h>

#include "kernel_common.h"

#ifdef SMALL
#define N 512
#else
#define N 4096
#endif

#define SEED 0x3c6ef372fe94f82bULL

static uint32_t buf[2][N];

/* Merge src[lo, mid) and src[mid, hi) into dst[lo, hi). */
static void merge(const uint32_t *src, uint32_t *dst, size_t lo, size_t mid, size_t hi) {
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) dst[k++] = src[j] < src[i] ? src[j++] : src[i++];
    while (i < mid) dst[k++] = src[i++];
    while (j < hi) dst[k++] = src[j++];
}

uint64_t run_kernel(void) {
    uint64_t s = SEED;
    for (size_t i = 0; i < N; i++) buf[0][i] = (uint32_t)(rng_next(&s) >> 32);
    size_t from = 0;
    for (size_t width = 1; width < N; width *= 2) {
        const uint32_t *src = buf[from];
        uint32_t *dst = buf[from ^ 1];
        for (size_t lo = 0; lo < N; lo += 2 * width) {
            size_t mid = lo + width < N ? lo + width : N;
            size_t hi = lo + 2 * width < N ? lo + 2 * width : N;
            merge(src, dst, lo, mid, hi);
        }
        from ^= 1;
    }
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < N; i++) h = mix(h, buf[from][i]);
    return h;
}
