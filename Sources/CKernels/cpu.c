#include "CKernels.h"
#include <cpuid.h>

int ck_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) {
    unsigned int max = __get_cpuid_max(leaf & 0x80000000u, 0);
    if (max < leaf) { regs[0] = regs[1] = regs[2] = regs[3] = 0; return 0; }
    __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
    return 1;
}

uint64_t ck_xcr0(void) {
    uint32_t r[4];
    if (!ck_cpuid(1, 0, r) || !(r[2] & (1u << 27))) return 0;  // OSXSAVE
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
