// CRC-32 by folding with carry-less multiplication (PCLMULQDQ), after Gopal et al., "Fast CRC
// Computation for Generic Polynomials Using PCLMULQDQ Instruction" (Intel, 2009), in its
// bit-reflected form (zlib's CRC-32 is reflected: bit 0 of each byte is the highest power of x).
//
// Idea: the message is a polynomial M(x) over GF(2) and its CRC is M(x)·x^32 mod P(x). A 128-bit
// piece A followed by more data D of length L bits contributes A·x^L, and A·x^L ≡ (A·(x^L mod P))
// (mod P); splitting A into 64-bit halves H, Lo, A·x^L ≡ H·(x^(L+64) mod P) + Lo·(x^L mod P): two
// carry-less 64×32-bit products give a ≤ 96-bit value congruent to A moved L bits further, which is
// XORed into the data there. So four 128-bit accumulators walk over the input 64 bytes at a time,
// are folded into one, then the last 128 bits are reduced to 64, to 32 bits, and a Barrett
// reduction computes the remainder mod P.
//
// Constants (reflected, as the 33-bit values PCLMULQDQ needs in the reflected domain; each is
// bit-reverse(x^n mod P, 32 bits) << 1, or for μ and P the reversed 33-bit polynomials):
//   fold by 512 bits: x^(512+32), x^(512-32) mod P;  fold by 128 bits: x^(128+32), x^(128-32) mod P;
//   128 → 64 bits: x^64 mod P;  Barrett: P' = reverse(P), μ' = reverse(floor(x^64 / P)).
// They are checked the only way that matters: the tests compare every result with zlib's crc32.
//
// Built with per-function target attributes, not compiler flags, so the package needs no unsafe
// flags and the rest of the binary still runs on CPUs without PCLMULQDQ (they never call this).
#include "crc32_pclmul.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define NNKIT_CRC_TARGET __attribute__((target("pclmul,sse4.1")))

int nnkit_crc32_pclmul_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

/// One fold step: `accumulator` (128 bits) moved forward by the distance encoded in `constants`
/// (low lane: multiplier for the low 64 bits, high lane: for the high 64 bits), XORed with `data`.
NNKIT_CRC_TARGET static inline __m128i fold(__m128i accumulator, __m128i constants, __m128i data) {
    __m128i low = _mm_clmulepi64_si128(accumulator, constants, 0x00);
    __m128i high = _mm_clmulepi64_si128(accumulator, constants, 0x11);
    return _mm_xor_si128(_mm_xor_si128(low, high), data);
}

NNKIT_CRC_TARGET uint32_t nnkit_crc32_pclmul(uint32_t crc, const unsigned char *bytes, size_t length) {
    const __m128i fold512 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);  // x^(512-32), x^(512+32) mod P
    const __m128i fold128 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);  // x^(128-32), x^(128+32) mod P
    const __m128i fold64 = _mm_set_epi64x(0, 0x163cd6124);             // x^64 mod P
    const __m128i barrett = _mm_set_epi64x(0x1f7011641, 0x1db710641);  // μ', P'
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);                // bits 0..31 of each lane

    // zlib's crc32 takes and returns the complemented register; the folding works on the register.
    __m128i x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)bytes), _mm_cvtsi32_si128((int)~crc));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(bytes + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(bytes + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(bytes + 48));
    bytes += 64;
    length -= 64;

    // Four independent accumulators, each moved 512 bits ahead per step (hides the multiply latency).
    while (length >= 64) {
        x0 = fold(x0, fold512, _mm_loadu_si128((const __m128i *)bytes));
        x1 = fold(x1, fold512, _mm_loadu_si128((const __m128i *)(bytes + 16)));
        x2 = fold(x2, fold512, _mm_loadu_si128((const __m128i *)(bytes + 32)));
        x3 = fold(x3, fold512, _mm_loadu_si128((const __m128i *)(bytes + 48)));
        bytes += 64;
        length -= 64;
    }

    // Into one accumulator, then the remaining whole 16-byte blocks.
    __m128i x = fold(x0, fold128, x1);
    x = fold(x, fold128, x2);
    x = fold(x, fold128, x3);
    while (length >= 16) {
        x = fold(x, fold128, _mm_loadu_si128((const __m128i *)bytes));
        bytes += 16;
        length -= 16;
    }

    // 128 → 96 bits: the low 64 bits times x^(128-32) mod P, plus the high 64 bits moved down.
    x = _mm_xor_si128(_mm_clmulepi64_si128(x, fold128, 0x10), _mm_srli_si128(x, 8));
    // 96 → 64 bits: the low 32 bits times x^64 mod P, plus the upper 64 bits moved down.
    x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32), fold64, 0x00), _mm_srli_si128(x, 4));
    // Barrett reduction of the 64-bit value mod P: q = floor(x·μ / x^64), remainder = x − q·P.
    __m128i q = _mm_clmulepi64_si128(_mm_and_si128(x, low32), barrett, 0x10);
    __m128i qp = _mm_clmulepi64_si128(_mm_and_si128(q, low32), barrett, 0x00);
    x = _mm_xor_si128(x, qp);
    return ~(uint32_t)_mm_extract_epi32(x, 1);
}

#else

int nnkit_crc32_pclmul_available(void) { return 0; }

uint32_t nnkit_crc32_pclmul(uint32_t crc, const unsigned char *bytes, size_t length) {
    (void)bytes;
    (void)length;
    return crc;  // Never called: NNZlib checks nnkit_crc32_pclmul_available() first.
}

#endif
