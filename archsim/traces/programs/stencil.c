/* Two-dimensional five-point Jacobi stencil (the smoothing sweep of PDE solvers and image filters).
 *
 * Input: an (N + 2) x (N + 2) int32 grid, every cell (boundary included) drawn uniformly from [0, 65535]
 * by a xorshift64 generator seeded with 0xbb67ae8584caa73b, row by row. Each of T sweeps writes the
 * interior of the other grid (ping-pong) as out = (4 c + n + s + e + w) >> 3; the boundary is fixed.
 * N = 64, T = 16 (SMALL: N = 32, T = 6).
 * Checksum: FNV-1a-style fold of the interior of the final grid in row-major order (h = (h ^ v) *
 * 0x100000001b3 from 0xcbf29ce484222325).
 *
 * Freestanding C99: only <stdint.h>, <stddef.h> and the shared kernel_common.h, static arrays, no library calls. */
#include <stddef.h>
#include <stdint.h>

#include "kernel_common.h"

#ifdef SMALL
#define N 32
#define T 6
#else
#define N 64
#define T 16
#endif

#define SEED 0xbb67ae8584caa73bULL

static int32_t grid[2][N + 2][N + 2];

uint64_t run_kernel(void) {
    uint64_t s = SEED;
    for (size_t i = 0; i < N + 2; i++)
        for (size_t j = 0; j < N + 2; j++) {
            int32_t v = (int32_t)(rng_next(&s) >> 48);
            grid[0][i][j] = v;
            grid[1][i][j] = v;
        }
    for (size_t t = 0; t < T; t++) {
        int32_t (*src)[N + 2] = grid[t & 1];
        int32_t (*dst)[N + 2] = grid[(t + 1) & 1];
        for (size_t i = 1; i <= N; i++)
            for (size_t j = 1; j <= N; j++)
                dst[i][j] = (4 * src[i][j] + src[i - 1][j] + src[i + 1][j] + src[i][j - 1] + src[i][j + 1]) >> 3;
    }
    int32_t (*out)[N + 2] = grid[T & 1];
    uint64_t h = FNV_OFFSET;
    for (size_t i = 1; i <= N; i++)
        for (size_t j = 1; j <= N; j++) h = mix(h, (uint64_t)(int64_t)out[i][j]);
    return h;
}
