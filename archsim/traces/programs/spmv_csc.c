/* Sparse matrix-vector products y = W x with the pruned first layer of LeNet-300-100 in compressed sparse
 * columns (EIE's layout and dataflow: Han et al., ISCA'16, Sec. III; each nonzero input activation x_j is
 * broadcast and column j of W is scanned, zero activations are skipped).
 *
 * Weights: "lenet300_fc1.h", generated from data/lenet300_fc1.npz (trained, magnitude-pruned to the 8%
 * density of Deep Compression Table 2, int16 codes with one scale; see archsim/traces/program_set.py):
 * FC1_ROWS = 300 outputs, FC1_COLS = 784 inputs, FC1_NNZ nonzeros, fc1_col_ptr[FC1_COLS + 1],
 * fc1_row_idx[FC1_NNZ], fc1_values[FC1_NNZ].
 * Input: BATCH vectors of 784 unsigned 8-bit activations from a xorshift64 generator seeded with
 * 0x9b05688c2b3e6c1f, one output per activation (vector by vector, j = 0 .. 783): r = output, x_j = 0 unless
 * r & 3 == 0, then x_j = (r >> 32) & 255 (about one activation in four nonzero, an assumption near the
 * 19% of nonzero MNIST pixels). BATCH = 20 (SMALL: 2). Accumulation in int64, so it never overflows.
 * Checksum: FNV-1a-style fold (h = (h ^ v) * 0x100000001b3 from 0xcbf29ce484222325) of y_0 .. y_299 of
 * every vector in order, each y_i as a 64-bit two's complement word.
 *
 * Freestanding C99: <stdint.h>, <stddef.h>, kernel_common.h and the generated weight header, static arrays,
 * no library calls. */
#include <stddef.h>
#include <stdint.h>

#include "kernel_common.h"

#include "lenet300_fc1.h"

#ifdef SMALL
#define BATCH 2
#else
#define BATCH 20
#endif

#define SEED 0x9b05688c2b3e6c1fULL

static uint8_t x[FC1_COLS];
static int64_t y[FC1_ROWS];

uint64_t run_kernel(void) {
    uint64_t s = SEED;
    uint64_t h = FNV_OFFSET;
    for (size_t b = 0; b < BATCH; b++) {
        for (size_t j = 0; j < FC1_COLS; j++) {
            uint64_t r = rng_next(&s);
            x[j] = (r & 3) == 0 ? (uint8_t)(r >> 32) : 0;
        }
        for (size_t i = 0; i < FC1_ROWS; i++) y[i] = 0;
        for (size_t j = 0; j < FC1_COLS; j++) {
            int64_t xj = x[j];
            if (xj == 0) continue;
            for (int32_t k = fc1_col_ptr[j]; k < fc1_col_ptr[j + 1]; k++) y[fc1_row_idx[k]] += fc1_values[k] * xj;
        }
        for (size_t i = 0; i < FC1_ROWS; i++) h = mix(h, (uint64_t)y[i]);
    }
    return h;
}
