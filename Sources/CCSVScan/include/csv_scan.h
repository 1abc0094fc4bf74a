// SIMD helpers for the CSV row parser (NNData's RowAssembler), nnkit's own code. C because Swift
// cannot express the instructions they rest on (PMOVMSKB, PSHUFB, PMADDUBSW): Swift's SIMD types
// compile comparisons and masks to per-lane loops. Static inline, so that Swift inlines them into
// the row loop; they use whatever the importing module is compiled for (NNData: -target-cpu
// native), and without AVX2 / SSSE3 they call the portable versions in csv_scan.c, which give the
// same results (the tests compare both).
#ifndef NNKIT_CSV_SCAN_H
#define NNKIT_CSV_SCAN_H

#include <stdint.h>

#if defined(__AVX2__) || defined(__SSSE3__)
#include <immintrin.h>
#endif

/// Bit i (i < 64) set where p[i] is the delimiter; `*recordStops` gets the bits where p[i] is
/// CR, LF, a quote or NUL: a plain record ends there, or needs the general parser. Reads p[0..<64].
uint64_t nnkit_csv_delimiters64_portable(const uint8_t *p, uint8_t delimiter, uint64_t *recordStops);

/// A field of the form [+-]? digits [. digits?] or [+-]? . digits (at least one digit, at most 16
/// bytes): its digits as an integer, how many of them follow the point, and the sign.
typedef struct {
    uint64_t mantissa;
    int32_t fractionDigits;
    int32_t negative;
} NNKitShortDecimal;

/// 1 and `*out` filled when p[0..<length] has the form above, else 0. 1 ≤ length ≤ 16; reads p[0..<16].
int nnkit_short_decimal16_portable(const uint8_t *p, int length, NNKitShortDecimal *out);

static inline uint64_t nnkit_csv_delimiters64(const uint8_t *p, uint8_t delimiter, uint64_t *recordStops) {
#if defined(__AVX2__)
    const __m256i delimiters = _mm256_set1_epi8((char)delimiter);
    const __m256i quotes = _mm256_set1_epi8('"');
    const __m256i carriageReturns = _mm256_set1_epi8('\r');
    const __m256i lineFeeds = _mm256_set1_epi8('\n');
    const __m256i zeros = _mm256_setzero_si256();
    uint64_t fieldMask = 0, recordMask = 0;
    for (int half = 0; half < 2; half++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(p + 32 * half));
        const __m256i stops = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, quotes), _mm256_cmpeq_epi8(v, zeros)),
            _mm256_or_si256(_mm256_cmpeq_epi8(v, carriageReturns), _mm256_cmpeq_epi8(v, lineFeeds)));
        fieldMask |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, delimiters)) << (32 * half);
        recordMask |= (uint64_t)(uint32_t)_mm256_movemask_epi8(stops) << (32 * half);
    }
    *recordStops = recordMask;
    return fieldMask;
#else
    return nnkit_csv_delimiters64_portable(p, delimiter, recordStops);
#endif
}

static inline int nnkit_short_decimal16(const uint8_t *p, int length, NNKitShortDecimal *out) {
#if defined(__SSSE3__)
    // Byte tables read at an offset: 16 bytes from alignDigits + length move the field's last byte
    // to lane 15 (lanes before the field get 0x80, which PSHUFB turns into 0); 16 bytes from
    // dropPoint + k are 1 in the lanes 0 … 15 - k, 0 after (all 0 for k = 32).
    static const int8_t alignDigits[32] = {
        -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static const int8_t dropPoint[48] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const __m128i v = _mm_loadu_si128((const __m128i *)p);
    const __m128i values = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const __m128i isDigit = _mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values);
    const uint32_t field = (1u << length) - 1;
    const uint32_t digits = (uint32_t)_mm_movemask_epi8(isDigit) & field;
    const uint32_t points = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))) & field;
    const int negative = p[0] == '-';
    const uint32_t sign = (uint32_t)(negative | (p[0] == '+'));  // bit 0 when there is a sign
    // Every byte a digit, except a sign first and at most one point; and some digit.
    if (digits == 0 || (field & ~(digits | points | sign)) != 0 || (points & (points - 1)) != 0) return 0;
    // k digits after the point: shifted to the top of 32 bits, the point's bit is at 31 - k.
    // Without a point k = 32, which drops nothing and gives k & 31 = 0 fraction digits.
    const uint32_t top = points << (32 - length);
    const int k = top ? __builtin_clz(top) : 32;
    // Sign and point to 0, digits right-aligned (lane 15 the last), the point's lane (15 - k)
    // filled from the lanes before it: 16 decimal digits with leading zeros.
    __m128i d = _mm_shuffle_epi8(_mm_and_si128(values, isDigit), _mm_loadu_si128((const __m128i *)(alignDigits + length)));
    const __m128i lanes = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    d = _mm_shuffle_epi8(d, _mm_sub_epi8(lanes, _mm_loadu_si128((const __m128i *)(dropPoint + k))));
    // Pairs, fours, eights of digits: 2 × 8-digit values in the low two 32-bit lanes.
    __m128i pairs = _mm_maddubs_epi16(d, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
    __m128i fours = _mm_madd_epi16(pairs, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
    __m128i eights = _mm_madd_epi16(_mm_packs_epi32(fours, fours), _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1));
    const uint64_t both = (uint64_t)_mm_cvtsi128_si64(eights);
    out->mantissa = (both & 0xFFFFFFFF) * 100000000 + (both >> 32);
    out->fractionDigits = k & 31;
    out->negative = negative;
    return 1;
#else
    return nnkit_short_decimal16_portable(p, length, out);
#endif
}

#endif
