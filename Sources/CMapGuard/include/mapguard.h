#ifndef INFTOP_MAPGUARD_H
#define INFTOP_MAPGUARD_H
#include <stddef.h>

/// Files inftop reads through mmap (safetensors, GGUF) fault with SIGBUS when someone truncates
/// or replaces them on disk while they are mapped. mapguard keeps the mapped ranges and their
/// paths in a fixed table; its SIGBUS handler finds the range the fault hit, restores the
/// terminal (the tty modes saved at install; the alternate screen left, the cursor shown), writes
/// one line naming the file to stderr and ends the process with status 2. A SIGBUS outside every
/// range gets the default action.

/// Installs the handler and saves the terminal's modes (call once, before the dashboard starts).
void mapguard_install(void);
/// Records a mapping of `path` at `base` (`size` bytes); returns 0, or -1 when the table is full
/// (the mapping still works, a fault in it just is not named).
int mapguard_register(const char *path, const void *base, size_t size);
/// Forgets the mapping at `base` (before munmap).
void mapguard_unregister(const void *base);

#endif
