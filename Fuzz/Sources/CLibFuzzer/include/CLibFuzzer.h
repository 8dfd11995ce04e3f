#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, for a program with a `main` of its own (SwiftPM gives every executable
/// one): parses libFuzzer's flags from argv and fuzzes `callback` (llvm.org/docs/LibFuzzer.html,
/// "Using libFuzzer as a library").
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
