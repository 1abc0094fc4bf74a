// CRC-32 (zlib/ISO-HDLC polynomial) by carry-less multiplication, nnkit's own code.
// Reached only through NNZlib's CRC API (Zlib.crc32), which picks it when the CPU has PCLMULQDQ.
#ifndef NNKIT_CRC32_PCLMUL_H
#define NNKIT_CRC32_PCLMUL_H

#include <stddef.h>
#include <stdint.h>

/// 1 if this CPU can run nnkit_crc32_pclmul (x86-64 with PCLMULQDQ and SSE4.1), else 0.
int nnkit_crc32_pclmul_available(void);

/// Continues `crc` (a finished CRC-32 as zlib's crc32 takes and returns it; 0 to start) over the
/// first `length & ~15` bytes of `bytes` and returns the result. `length` must be at least 64.
/// The caller checksums the last `length & 15` bytes itself (with zlib), and must check
/// nnkit_crc32_pclmul_available() first.
uint32_t nnkit_crc32_pclmul(uint32_t crc, const unsigned char *bytes, size_t length);

#endif
