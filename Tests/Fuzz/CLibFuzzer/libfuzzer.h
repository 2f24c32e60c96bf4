#include <stddef.h>
#include <stdint.h>

/* libFuzzer's driver, linked in by -sanitize=fuzzer: runs the fuzzing loop with the flags in argv. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
