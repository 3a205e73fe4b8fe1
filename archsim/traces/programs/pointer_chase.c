/* Pointer-chasing walk around one random cycle of cache-line-sized nodes (dependent loads, no locality:
 * the latency-bound access pattern of linked lists and graph traversals).
 *
 * Input: N nodes of 64 bytes (an index of the next node, a 32-bit payload, padding to one 64-byte line).
 * A xorshift64 generator seeded with 0x510e527fade682d1 shuffles the node order (Fisher-Yates, Knuth TAOCP
 * vol. 2, Algorithm 3.4.2 P, with j = output mod (i + 1)), the nodes are linked in that order into one
 * cycle through all N, and node i gets payload = upper 32 bits of the next output, for i = 0 .. N - 1.
 * The walk starts at node 0 and follows STEPS links, adding up the payloads of the nodes it leaves.
 * N = 4096 (256 KiB), STEPS = 65536 (16 laps); SMALL: N = 1024 (64 KiB), STEPS = 4096.
 * Checksum: FNV-1a-style fold (h = (h ^ v) * 0x100000001b3 from 0xcbf29ce484222325) of the 64-bit payload
 * sum and then the index of the node where the walk ends.
 *
 * Freestanding C99: only <stdint.h>, <stddef.h> and the shared kernel_common.h, static arrays, no library calls. */
#include <stddef.h>
#include <stdint.h>

#include "kernel_common.h"

#ifdef SMALL
#define N 1024
#define STEPS 4096
#else
#define N 4096
#define STEPS 65536
#endif

#define SEED 0x510e527fade682d1ULL

struct node {
    uint32_t next;
    uint32_t payload;
    uint32_t pad[14];
};

static struct node nodes[N];
static uint32_t order[N];

uint64_t run_kernel(void) {
    uint64_t s = SEED;
    for (size_t i = 0; i < N; i++) order[i] = (uint32_t)i;
    for (size_t i = N - 1; i > 0; i--) {
        size_t j = (size_t)(rng_next(&s) % (i + 1));
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < N; i++) nodes[order[i]].next = order[(i + 1) % N];
    for (size_t i = 0; i < N; i++) nodes[i].payload = (uint32_t)(rng_next(&s) >> 32);
    uint64_t sum = 0;
    uint32_t p = 0;
    for (size_t step = 0; step < STEPS; step++) {
        sum += nodes[p].payload;
        p = nodes[p].next;
    }
    return mix(mix(FNV_OFFSET, sum), p);
}
