// A spin-wait hint for the worker pool (PAUSE: SSE2, every x86-64 CPU has it).
#ifndef CK_SPIN_H
#define CK_SPIN_H
static inline void ck_pause(void) { __builtin_ia32_pause(); }
#endif
