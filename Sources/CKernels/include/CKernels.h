// C kernels and CPU queries: only what Swift cannot emit (cpuid, xgetbv, and intrinsics such as
// vpmaddubsw / vpdpbusd). Each function that uses an ISA carries its own
// __attribute__((target(...))), so the target is built without -m flags and nothing here runs an
// instruction before the caller has checked the CPU (InftopEngine's CPUFeatures).
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdint.h>
#include "ck_int8.h"
#include "ck_quant.h"

/// cpuid(leaf, subleaf) into regs[0..3] = eax, ebx, ecx, edx; returns 0 if the leaf is above the
/// CPU's maximum.
int ck_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

/// XCR0 (which register states the OS saves on a context switch), or 0 when OSXSAVE is off.
uint64_t ck_xcr0(void);

#include "ck_gemm512.h"
#include "ck_spin.h"
#include "ck_sparse.h"

#endif
