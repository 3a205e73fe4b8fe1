/* Bare-metal start-up for the RV64IM kernels (archsim/traces/rv64.py runs them).

   _start sets the global pointer (for linker relaxation of small-data accesses) and the stack pointer
   (_stack_top, from link.ld), calls `uint64_t run_kernel(void)`, stores its checksum (a0) to the 8-byte
   `result` symbol, and exits through `ecall` with a7 = 93 (the exit call number of the RISC-V Linux and
   newlib ABIs) and the checksum still in a0.

   .bss is not cleared here: the loader zero-fills every byte of a PT_LOAD segment past its file size, as
   the ELF specification requires, so the kernels' traces do not begin with a clearing loop. */

    .file "crt0.S"
    .section .text.init, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, _stack_top
    call run_kernel
    la t0, result
    sd a0, 0(t0)
    li a7, 93
    ecall
1:  j 1b
    .size _start, . - _start

    .section .bss.result, "aw", @nobits
    .globl result
    .type result, @object
    .balign 8
result:
    .zero 8
    .size result, 8
