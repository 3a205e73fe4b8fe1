/* Dense integer matrix product C = A B (the GEMM at the heart of every dense layer).
 *
 * Input: A and B, N x N, int16 entries drawn uniformly from [-128, 127] by a xorshift64 generator seeded
 * with 0x6a09e667f3bcc908 (A first, row by row, then B). Products fit in int32: |C| <= N * 128 * 128.
 * Loop order i-k-j (row-major, unit stride through B and C). N = 48 (SMALL: 22).
 * Checksum: FNV-1a-style fold of the N x N entries of C in row-major order (each entry sign-extended to
 * 64 bits, h = (h ^ v) * 0x100000001b3 starting from 0xcbf29ce484222325).
 *
 * Freestanding C99: only <stdint.h>, <stddef.h> and the shared kernel_common.h, static arrays, no library calls. */
#include <stddef.h>
#include <stdint.h>

#include "kernel_common.h"

#ifdef SMALL
#define N 22
#else
#define N 48
#endif

#define SEED 0x6a09e667f3bcc908ULL

static int16_t a[N][N];
static int16_t b[N][N];
static int32_t c[N][N];

uint64_t run_kernel(void) {
    uint64_t s = SEED;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) a[i][j] = (int16_t)(int8_t)(rng_next(&s) >> 56);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) b[i][j] = (int16_t)(int8_t)(rng_next(&s) >> 56);
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < N; j++) c[i][j] = 0;
        for (size_t k = 0; k < N; k++) {
            int32_t aik = a[i][k];
            for (size_t j = 0; j < N; j++) c[i][j] += aik * (int32_t)b[k][j];
        }
    }
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) h = mix(h, (uint64_t)(int64_t)c[i][j]);
    return h;
}
