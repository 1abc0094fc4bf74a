// Portable versions of csv_scan.h's SIMD helpers: for CPUs (or builds) without AVX2 / SSSE3, and
// as the reference the tests compare the SIMD versions with.
#include "csv_scan.h"

uint64_t nnkit_csv_delimiters64_portable(const uint8_t *p, uint8_t delimiter, uint64_t *recordStops) {
    uint64_t fieldMask = 0, recordMask = 0;
    for (int i = 0; i < 64; i++) {
        const uint8_t byte = p[i];
        if (byte == delimiter) {
            fieldMask |= (uint64_t)1 << i;
        } else if (byte == '"' || byte == '\r' || byte == '\n' || byte == 0) {
            recordMask |= (uint64_t)1 << i;
        }
    }
    *recordStops = recordMask;
    return fieldMask;
}

int nnkit_short_decimal16_portable(const uint8_t *p, int length, NNKitShortDecimal *out) {
    const int negative = p[0] == '-';
    int i = (negative || p[0] == '+') ? 1 : 0;
    uint64_t mantissa = 0;
    int digits = 0, fractionDigits = 0, point = 0;
    for (; i < length; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            mantissa = mantissa * 10 + (uint64_t)(p[i] - '0');
            digits++;
            fractionDigits += point;
        } else if (p[i] == '.' && !point) {
            point = 1;
        } else {
            return 0;
        }
    }
    if (digits == 0) return 0;
    out->mantissa = mantissa;
    out->fractionDigits = fractionDigits;
    out->negative = negative;
    return 1;
}
