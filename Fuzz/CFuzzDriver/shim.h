// libFuzzer's entry for programs with their own main (compiler-rt's libclang_rt.fuzzer_no_main,
// linked by scripts/fuzz.sh): runs the fuzzing loop over `UserCb` with libFuzzer's arguments.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
