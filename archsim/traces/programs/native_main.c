/* Native driver of one trace program: runs the kernel once and prints its checksum in decimal.
 *
 * The two stores to hwcost_trace_marker bracket the kernel in a memory trace: every access between the
 * first store (value 1) and the second (value 2) belongs to run_kernel(); the marker's address is read from
 * the executable's symbol table. */
#include <stdint.h>
#include <stdio.h>

uint64_t run_kernel(void);

volatile uint64_t hwcost_trace_marker;

int main(void) {
    hwcost_trace_marker = 1;
    uint64_t checksum = run_kernel();
    hwcost_trace_marker = 2;
    printf("%llu\n", (unsigned long long)checksum);
    return 0;
}
