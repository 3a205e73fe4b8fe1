/* The four memory functions GCC may emit calls to even in freestanding code (GCC manual, "Standards": "GCC
   requires the freestanding environment provide memcpy, memmove, memset and memcmp"), for the bare-metal
   RV64IM kernels. Byte loops, so the traces show plain loads and stores. GCC would turn these very loops
   back into calls to themselves (-ftree-loop-distribute-patterns, on at -O2), hence the attribute. */

#include <stddef.h>

#define NO_LOOP_CALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LOOP_CALLS void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

NO_LOOP_CALLS void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    d += n;
    s += n;
    while (n--) *--d = *--s;
  }
  return dst;
}

NO_LOOP_CALLS void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

NO_LOOP_CALLS int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *p = a, *q = b;
  for (; n; n--, p++, q++) {
    if (*p != *q) return *p < *q ? -1 : 1;
  }
  return 0;
}
