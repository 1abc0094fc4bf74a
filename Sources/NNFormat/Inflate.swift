// Inflate: nnkit's own one-shot decoder of raw DEFLATE (RFC 1951) streams, used by the checkpoint
// reader for every compressed chunk.
//
// Why our own decoder. zlib's inflate is the bottleneck of loading a checkpoint: it decodes a
// Huffman-coded literal stream (the sign/exponent plane of float weights) at ~18 cycles per byte and
// copies the long distance-1 matches of zero planes one byte at a time. The reader knows, for every
// chunk, the whole stored stream (in memory) and the exact raw size, so this decoder does not
// stream: it decodes from one complete input buffer into one output buffer of exactly the declared
// size, and matches refer back into that output buffer itself (no sliding window). That allows a
// 64-bit bit buffer refilled 8 bytes at a time, two-level table-driven Huffman decoding (an 11-bit
// primary table for literals/lengths, 8-bit for distances, entries packing symbol, code length and
// extra-bit count as in libdeflate), entries that decode two short literal codes at once (the
// table lookup is the critical path, and exponent planes have ~3-bit codes), up to three entries
// per refill, a loop without per-symbol checks while far from both ends of input and output,
// 32-byte stores for distance-1 runs, 8-byte word copies for distances ≥ 8 and memcpy for stored
// blocks. zlib stays for compression, checksums and as the reference the tests compare against.
//
// What it accepts: exactly what zlib 1.2.13's raw inflate accepts when it must produce exactly
// `output.count` bytes from exactly the whole input (NNZlib's `Zlib.inflate(_:into:container: .raw)`),
// and it reports the same `ZlibError` with the same message and the same produced-byte counts:
//   - block type 3; stored LEN/NLEN mismatch; HLIT > 286 or HDIST > 30; an over-subscribed or
//     incomplete code-length, literal/length or distance code (incomplete is allowed, as in zlib's
//     inftrees.c, only for a literal/length or distance code whose longest code has length 1, and
//     an all-zero distance code is accepted until a distance is decoded); a repeat code 16 with no
//     previous length, a repeat past the code count; no code for end-of-block; literal/length
//     symbols 286, 287 and distance symbols 30, 31 (reachable in fixed blocks); a distance before
//     the start of the output. All are `.corrupt` with zlib's message.
//   - the stream must fill `output` exactly: more is `.outputTooLong` (nothing is ever written past
//     the end), fewer is `.outputShort`; input ending before the final block does is
//     `.truncatedStream`; whole bytes after the final block's last byte are `.trailingInput` (the
//     final byte's padding bits are ignored, as zlib does).
// The order of the checks follows zlib's: zlib reports a truncated stream as soon as it needs a bit
// the input does not have, so here every error and every write first checks that no bit past the
// input's end was used (see BitReader).
//
// Why it is bounded (release builds use -Ounchecked: there are no implicit checks left). Input: the
// bit buffer loads 8 bytes at once only when 8 remain, otherwise byte by byte, and past the end it
// appends zero bytes that are never read from memory and only counted (`virtualBytes`); every value
// taken from them is caught by the truncation check before it is used; the unchecked fast loop runs
// only while ≥ 16 input bytes remain, more than its refills can load. Output: near the end each
// literal checks for room and each match its length against the room left; the fast loop runs only
// while ≥ 290 bytes of room remain, more than one step writes (6 literals, or a 258-byte match plus
// a copy's ≤ 31-byte overshoot); every match checks its distance against the bytes produced, and
// the overshooting copies run only when their rounded-up length fits. Tables:
// code lengths are checked for over-subscription before any table is filled, table indices come
// from masks of the table's own size, and sub-table sizes are bounded (see `buildTable`). Every loop
// consumes at least one bit per step, so the input's length bounds the work.
//
// How it is tested: Tests/NNFormatTests/InflateTests.swift compares it with zlib (outputs, and the
// exact error for every truncation, thousands of bit flips and random byte strings) on streams of
// every level and strategy, plus one hand-made stream per rejection rule; Fuzz/Sources/fuzz-inflate
// does the same comparison under libFuzzer with address sanitizer.
import NNZlib

public enum Inflate {
    /// Decodes the raw deflate stream `input` (exactly one complete stream) into `output`, which it
    /// must fill exactly. Never reads outside `input` or writes outside `output`. Throws `ZlibError`
    /// only. (Untyped `throws` in the public signatures: a typed one crashed Swift 6.3's ownership
    /// verifier at the reader's `catch let error as ZlibError`.)
    public static func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        let produced = try decodeUpTo(input, into: output)
        guard produced == output.count else { throw ZlibError.outputShort(produced: produced, expected: output.count) }
    }

    /// Decodes the raw deflate stream `input` into `output`; returns how many bytes it produced
    /// (≤ output.count). Throws `.outputTooLong` if the stream holds more. As `Zlib.inflateUpTo`.
    public static func decodeUpTo(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        // The tables on the stack (24 KiB): no heap block to allocate, free and perhaps fault in
        // again for every chunk. They are written before they are read; the 2 extra entries are an
        // address for empty buffers (which may have none), never read or written.
        try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Tables.totalCapacity + 2) { space in
            let tables = space.baseAddress!
            let scratch = UnsafeMutableRawPointer(tables + Tables.totalCapacity)
            var decoder = Decoder(input: (input.baseAddress ?? UnsafeRawPointer(scratch)).assumingMemoryBound(to: UInt8.self),
                                  inputCount: input.count,
                                  output: (output.baseAddress ?? scratch).assumingMemoryBound(to: UInt8.self),
                                  outputCount: output.count, tables: tables)
            return try decoder.run()
        }
    }
}

// MARK: - Table entries

/// One decode-table entry (UInt32):
///   bits 0–7   bits to drop: the code's length (for a sub-table pointer, the primary table's bits)
///   bits 8–11  extra bits after the code (lengths, distances) or the sub-table's index bits
///   bit 12     invalid symbol (with `exceptional`); with `literal`: a pair of literals, the second in
///              bits 24–31, the first code's length in bits 8–11 and both lengths' sum in bits 0–7
///   bit 13     sub-table pointer (with `exceptional`)
///   bit 14     exceptional: end-of-block alone, or with one of the two bits above
///   bit 15     literal
///   bits 16–31 the literal byte, length base, distance base, code-length symbol or sub-table offset
private enum Entry {
    static let invalid: UInt32 = 1 << 12
    static let pair: UInt32 = 1 << 12
    static let subtable: UInt32 = 1 << 13
    static let exceptional: UInt32 = 1 << 14
    static let literal: UInt32 = 1 << 15

    static let lengthBase: [UInt32] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [UInt32] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [UInt32] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                                         2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra: [UInt32] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// Everything of a symbol's entry but its bits to drop.
    static func of(_ symbol: Int, in kind: CodeKind) -> UInt32 {
        switch kind {
        case .codeLengths:
            return UInt32(symbol) << 16
        case .literalLength:
            if symbol < 256 { return literal | UInt32(symbol) << 16 }
            if symbol == 256 { return exceptional }
            // 286 and 287 have codes in fixed blocks but no meaning (zlib: "invalid literal/length code").
            guard symbol - 257 < lengthBase.count else { return exceptional | invalid }
            return lengthBase[symbol - 257] << 16 | lengthExtra[symbol - 257] << 8
        case .distance:
            // 30 and 31 likewise (zlib: "invalid distance code").
            guard symbol < distanceBase.count else { return exceptional | invalid }
            return distanceBase[symbol] << 16 | distanceExtra[symbol] << 8
        }
    }
}

private enum CodeKind { case codeLengths, literalLength, distance }

/// Where the three decode tables live in one allocation, and their sizes.
private enum Tables {
    // 10 bits, not libdeflate's 11: a table is built (and its literal pairs written) for every
    // block, ~16 K symbols, and on shuffled float planes that building was a third of the work.
    static let literalBits = 10
    static let distanceBits = 8
    static let codeLengthBits = 7
    // Sub-table room. A complete group of codes sharing a primary index whose longest code is d bits
    // beyond the primary needs a 2^d sub-table and holds at least d + 1 symbols; with d ≤ 15 − 10 = 5
    // that is at most 32/6 entries per symbol, so 288 literal/length symbols need ≤ 1536; with
    // d ≤ 15 − 8 = 7 at most 16 per symbol, so 32 distance symbols need ≤ 512. (`buildTable` still
    // checks the room it uses.)
    static let literalCapacity = (1 << literalBits) + 1536
    static let distanceCapacity = (1 << distanceBits) + 512
    static let codeLengthCapacity = 1 << codeLengthBits
    static let literalOffset = 0
    static let distanceOffset = literalCapacity
    static let codeLengthOffset = literalCapacity + distanceCapacity
    static let totalCapacity = literalCapacity + distanceCapacity + codeLengthCapacity
}

// MARK: - Bit reader

/// A 64-bit buffer over the input, lowest bits first. `available` bits are counted in `buffer`;
/// bits above them are either zero or the true next bits of the input. Past the input's end it
/// appends zero bytes without reading memory and counts them in `virtualBytes`; `overran` tells
/// whether any bit used so far came from them (the stream is then truncated).
private struct BitReader {
    let base: UnsafePointer<UInt8>
    let count: Int
    /// The next input byte to load (≤ count).
    var position = 0
    var buffer: UInt64 = 0
    var available = 0
    var virtualBytes = 0

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    /// Ensures `available` ≥ 56.
    @inline(__always) mutating func refill() {
        if position &+ 8 <= count {
            // Fast path: one unaligned 8-byte load, inside the input since position + 8 ≤ count.
            let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
            buffer |= word &<< UInt64(available)
            let bytes = (63 &- available) &>> 3
            position &+= bytes
            available &+= bytes &<< 3
        } else {
            refillCarefully()
        }
    }

    /// `refill` without its check: only when position + 8 ≤ count.
    @inline(__always) mutating func refillFast() {
        let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
        buffer |= word &<< UInt64(available)
        let bytes = (63 &- available) &>> 3
        position &+= bytes
        available &+= bytes &<< 3
    }

    /// The last 7 bytes, then zero bytes that are only counted.
    @inline(never) mutating func refillCarefully() {
        while available <= 56 {
            var byte: UInt64 = 0
            if position < count {
                byte = UInt64(base[position])
                position &+= 1
            } else {
                virtualBytes &+= 1
            }
            buffer |= byte &<< UInt64(available)
            available &+= 8
        }
    }

    /// Whether a bit past the input's end has been consumed.
    @inline(__always) var overran: Bool { available < virtualBytes &<< 3 }

    @inline(__always) func peek(_ mask: Int) -> Int { Int(truncatingIfNeeded: buffer) & mask }

    /// Drops `bits` (≤ available) bits.
    @inline(__always) mutating func consume(_ bits: Int) {
        buffer &>>= UInt64(bits)
        available &-= bits
    }

    /// Drops the bits counted in a table entry's low byte. The shift takes the whole entry: `&>>`
    /// uses its low 6 bits, which are the count (< 16); one instruction less on the decode chain.
    @inline(__always) mutating func consume(_ entry: UInt32) {
        buffer &>>= UInt64(entry)
        available &-= Int(entry & 0xFF)
    }

    /// Takes the next `bits` (≤ available, < 32) bits as a number.
    @inline(__always) mutating func take(_ bits: Int) -> Int {
        let value = Int(truncatingIfNeeded: buffer) & ((1 &<< bits) &- 1)
        consume(bits)
        return value
    }

    /// Takes `bits` (≤ 32) bits, refilling first if needed.
    @inline(__always) mutating func read(_ bits: Int) -> Int {
        if available < bits { refill() }
        return take(bits)
    }

    /// Drops the bits up to the next byte boundary and returns the input index of the byte there
    /// (> count when the stream overran), emptying the buffer: the caller reads bytes directly.
    mutating func alignToByte() -> Int {
        consume(available & 7)
        let next = position &+ virtualBytes &- (available &>> 3)
        buffer = 0
        available = 0
        virtualBytes = 0
        position = min(next, count)
        return next
    }
}

// MARK: - Decoder

private struct Decoder {
    var bits: BitReader
    let output: UnsafeMutablePointer<UInt8>
    let outputCount: Int
    var produced = 0
    let tables: UnsafeMutablePointer<UInt32>
    /// Whether the literal/length and distance tables hold the fixed codes (to build them once).
    var tablesAreFixed = false
    /// Code lengths of the current dynamic block: literal/length codes, then distance codes.
    var lengths = [UInt8](repeating: 0, count: 286 + 30)

    init(input: UnsafePointer<UInt8>, inputCount: Int, output: UnsafeMutablePointer<UInt8>, outputCount: Int,
         tables: UnsafeMutablePointer<UInt32>) {
        bits = BitReader(base: input, count: inputCount)
        self.output = output
        self.outputCount = outputCount
        self.tables = tables
    }

    /// zlib reports a truncated stream as soon as it needs a bit the input lacks, before it looks
    /// at what the bits mean: check this before every error and every write.
    @inline(__always) func checkNotOverrun() throws(ZlibError) {
        if bits.overran { throw .truncatedStream(produced: produced) }
    }

    mutating func run() throws(ZlibError) -> Int {
        var final = false
        while !final {
            bits.refill()
            final = bits.take(1) == 1
            let type = bits.take(2)
            try checkNotOverrun()
            switch type {
            case 0:
                try copyStoredBlock()
                continue
            case 1:
                if !tablesAreFixed { buildFixedTables() }
            case 2:
                try readDynamicTables()
            default:
                throw .corrupt(message: "invalid block type")
            }
            try decodeHuffmanBlock()
        }
        // The final block's last byte may hold padding bits; whole bytes after it are trailing.
        let end = bits.alignToByte()
        guard end <= bits.count else { throw .truncatedStream(produced: produced) }
        guard end == bits.count else { throw .trailingInput(unused: bits.count - end) }
        return produced
    }

    // MARK: Stored blocks

    mutating func copyStoredBlock() throws(ZlibError) {
        let start = bits.alignToByte()
        guard start <= bits.count, bits.count - start >= 4 else { throw .truncatedStream(produced: produced) }
        let header = bits.base + start
        let length = Int(header[0]) | Int(header[1]) << 8
        let complement = Int(header[2]) | Int(header[3]) << 8
        guard length == complement ^ 0xFFFF else { throw .corrupt(message: "invalid stored block lengths") }
        let dataStart = start + 4
        let inputLeft = bits.count - dataStart
        let room = outputCount - produced
        // As zlib: copy what fits; input running out first is truncation, room running out first is
        // too long (zlib only reports truncation when input ran out with room left or exactly full).
        let copied = min(length, inputLeft, room)
        UnsafeMutableRawPointer(output + produced).copyMemory(from: bits.base + dataStart, byteCount: copied)
        produced += copied
        bits.position = dataStart + copied
        guard copied == length else {
            if inputLeft <= room { throw .truncatedStream(produced: produced) }
            throw .outputTooLong(limit: outputCount)
        }
    }

    // MARK: Tables

    mutating func buildFixedTables() {
        var fixed = [UInt8](repeating: 8, count: 288 + 32)
        for symbol in 0..<288 { fixed[symbol] = symbol < 144 ? 8 : symbol < 256 ? 9 : symbol < 280 ? 7 : 8 }
        for symbol in 288..<320 { fixed[symbol] = 5 }
        fixed.withUnsafeBufferPointer { all in
            // Both codes are complete: building cannot fail.
            _ = Decoder.buildTable(tables + Tables.literalOffset, capacity: Tables.literalCapacity, rootBits: Tables.literalBits,
                                   lengths: all.baseAddress!, count: 288, kind: .literalLength)
            _ = Decoder.buildTable(tables + Tables.distanceOffset, capacity: Tables.distanceCapacity, rootBits: Tables.distanceBits,
                                   lengths: all.baseAddress! + 288, count: 32, kind: .distance)
        }
        tablesAreFixed = true
    }

    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// Reads a dynamic block's header (RFC 1951 3.2.7) and builds its tables, checking as zlib does.
    mutating func readDynamicTables() throws(ZlibError) {
        tablesAreFixed = false
        let literalCount = 257 + bits.read(5)
        let distanceCount = 1 + bits.read(5)
        let codeLengthCount = 4 + bits.read(4)
        try checkNotOverrun()
        guard literalCount <= 286, distanceCount <= 30 else { throw .corrupt(message: "too many length or distance symbols") }

        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for index in 0..<codeLengthCount { codeLengthLengths[Decoder.codeLengthOrder[index]] = UInt8(bits.read(3)) }
        try checkNotOverrun()
        let codeLengthTable = tables + Tables.codeLengthOffset
        let built = codeLengthLengths.withUnsafeBufferPointer {
            Decoder.buildTable(codeLengthTable, capacity: Tables.codeLengthCapacity, rootBits: Tables.codeLengthBits,
                               lengths: $0.baseAddress!, count: 19, kind: .codeLengths)
        }
        guard built == .complete || built == .empty else { throw .corrupt(message: "invalid code lengths set") }

        // The code lengths, repeats included. (An empty code-length code decodes, as in zlib, every
        // symbol as length 0 from one bit; the missing end-of-block code is reported below.)
        let total = literalCount + distanceCount
        var count = 0
        let mask = (1 << Tables.codeLengthBits) - 1
        while count < total {
            bits.refill()
            let entry = codeLengthTable[bits.peek(mask)]
            bits.consume(Int(entry & 0xFF))
            let symbol = Int(entry >> 16)
            if symbol < 16 {
                try checkNotOverrun()
                lengths[count] = UInt8(symbol)
                count += 1
                continue
            }
            let value: UInt8
            let repeats: Int
            switch symbol {
            case 16:
                let extra = bits.take(2)
                try checkNotOverrun()
                guard count > 0 else { throw .corrupt(message: "invalid bit length repeat") }
                value = lengths[count - 1]
                repeats = 3 + extra
            case 17:
                repeats = 3 + bits.take(3)
                value = 0
            default:
                repeats = 11 + bits.take(7)
                value = 0
            }
            try checkNotOverrun()
            guard repeats <= total - count else { throw .corrupt(message: "invalid bit length repeat") }
            for index in count..<(count + repeats) { lengths[index] = value }
            count += repeats
        }
        guard lengths[256] != 0 else { throw .corrupt(message: "invalid code -- missing end-of-block") }

        let literalBuilt = lengths.withUnsafeBufferPointer {
            Decoder.buildTable(tables + Tables.literalOffset, capacity: Tables.literalCapacity, rootBits: Tables.literalBits,
                               lengths: $0.baseAddress!, count: literalCount, kind: .literalLength)
        }
        // zlib accepts an incomplete literal/length code only if its one code has length 1.
        guard literalBuilt == .complete || literalBuilt == .singleShortCode else { throw .corrupt(message: "invalid literal/lengths set") }
        let distanceBuilt = lengths.withUnsafeBufferPointer {
            Decoder.buildTable(tables + Tables.distanceOffset, capacity: Tables.distanceCapacity, rootBits: Tables.distanceBits,
                               lengths: $0.baseAddress! + literalCount, count: distanceCount, kind: .distance)
        }
        // For distances also the empty code (a block of literals only): decoding a distance fails.
        guard distanceBuilt != .invalid else { throw .corrupt(message: "invalid distances set") }
    }

    enum BuildResult { case complete, singleShortCode, empty, invalid }

    /// The low `count` (1…15) bits of `code` < 2^count in reverse order, without a loop.
    @inline(__always)
    static func reverseBits(_ code: Int, count: Int) -> Int {
        var x = UInt32(truncatingIfNeeded: code)
        x = (x & 0x5555) << 1 | (x >> 1) & 0x5555
        x = (x & 0x3333) << 2 | (x >> 2) & 0x3333
        x = (x & 0x0F0F) << 4 | (x >> 4) & 0x0F0F
        x = (x & 0x00FF) << 8 | (x >> 8) & 0x00FF
        return Int(x >> UInt32(16 - count))
    }

    /// table[start], table[start + step], … below `end` = value. A plain loop: `stride(from:to:by:)`
    /// compiled to 14 instructions a store (overflow and sign checks), and these fills were most of
    /// the time spent building tables, one set per deflate block (12% of loading a trained-like
    /// C1 checkpoint).
    @inline(__always)
    static func fillEvery(_ step: Int, from start: Int, below end: Int, in table: UnsafeMutablePointer<UInt32>, with value: UInt32) {
        var slot = start
        while slot < end {
            table[slot] = value
            slot &+= step
        }
    }

    /// Fills a decode table for the canonical Huffman code of `lengths[0..<count]` (each ≤ 15):
    /// a primary table indexed by the next `rootBits` input bits, and for codes longer than that,
    /// sub-tables indexed by the bits after them. Returns `.invalid` (table unusable) for an
    /// over-subscribed code or an incomplete one other than a single code of length 1 (zlib's
    /// inftrees.c rules); `.empty` when no symbol has a code. Unused entries (an incomplete or empty
    /// code) decode as invalid symbols of 1 bit, as zlib's tables do.
    static func buildTable(_ table: UnsafeMutablePointer<UInt32>, capacity: Int, rootBits: Int,
                           lengths: UnsafePointer<UInt8>, count: Int, kind: CodeKind) -> BuildResult {
        // Work space on the stack (a table is built per block): counts, next codes and offsets
        // by length, then the symbols in canonical order and their codes.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 48 + 2 * count) { work in
            let lengthCounts = work.baseAddress!
            let nextCode = lengthCounts + 16
            let offsets = nextCode + 16
            let sortedSymbols = offsets + 16
            let reversedCodes = sortedSymbols + count
            lengthCounts.initialize(repeating: 0, count: 48)
            for symbol in 0..<count { lengthCounts[Int(lengths[symbol] & 15)] += 1 }
            lengthCounts[0] = 0
            let rootSize = 1 << rootBits
            let unused = Entry.exceptional | Entry.invalid | 1
            guard let maxLength = (1...15).last(where: { lengthCounts[$0] > 0 }) else {
                table.update(repeating: unused, count: rootSize)
                return .empty
            }
            var left = 1
            for length in 1...15 {
                left = left << 1 - lengthCounts[length]
                if left < 0 { return .invalid }
            }
            if left > 0 && maxLength != 1 { return .invalid }
            // A complete code covers every primary entry; an incomplete one (one code of length 1) half.
            if left > 0 { table.update(repeating: unused, count: rootSize) }

            // Symbols in canonical order (by length, then symbol) with their codes, bit-reversed since
            // deflate sends codes most significant bit first into a least-significant-first stream.
            var code = 0
            for length in 1...15 {
                code = (code + lengthCounts[length - 1]) << 1
                nextCode[length] = code
            }
            for length in 1..<15 { offsets[length + 1] = offsets[length] + lengthCounts[length] }
            let used = offsets[15] + lengthCounts[15]
            for symbol in 0..<count where lengths[symbol] != 0 {
                let length = Int(lengths[symbol])
                let slot = offsets[length]
                offsets[length] += 1
                sortedSymbols[slot] = symbol
                reversedCodes[slot] = reverseBits(nextCode[length], count: length)
                nextCode[length] += 1
            }

            let rootMask = rootSize - 1
            var nextSubtable = rootSize
            var subtableStart = 0
            var subtableBits = 0
            var currentPrefix = -1
            for index in 0..<used {
                let symbol = sortedSymbols[index]
                let length = Int(lengths[symbol])
                let reversed = reversedCodes[index]
                let entry = Entry.of(symbol, in: kind)
                if length <= rootBits {
                    fillEvery(1 << length, from: reversed, below: rootSize, in: table, with: entry | UInt32(length))
                    continue
                }
                let prefix = reversed & rootMask
                if prefix != currentPrefix {
                    // Codes sharing a prefix are consecutive in canonical order, the longest last.
                    var last = index
                    while last + 1 < used && reversedCodes[last + 1] & rootMask == prefix { last += 1 }
                    subtableBits = Int(lengths[sortedSymbols[last]]) - rootBits
                    subtableStart = nextSubtable
                    guard subtableStart + (1 << subtableBits) <= capacity else { return .invalid }  // cannot happen (see Tables)
                    nextSubtable += 1 << subtableBits
                    currentPrefix = prefix
                    table[prefix] = Entry.exceptional | Entry.subtable | UInt32(subtableStart) << 16 | UInt32(subtableBits) << 8 | UInt32(rootBits)
                }
                let remaining = length - rootBits
                fillEvery(1 << remaining, from: reversed >> rootBits, below: 1 << subtableBits, in: table + subtableStart,
                          with: entry | UInt32(remaining))
            }
            if kind == .literalLength { pairLiterals() }
            return left > 0 ? .singleShortCode : .complete

            /// Entries whose index holds two whole literal codes decode both at once: on streams of
            /// short literal codes (the exponent plane of float weights: ~3 bits a byte) that halves
            /// the table lookups, the decoder's critical path. The first code is the index's low
            /// bits, the second the bits after it; both must end within the index. Writes only the
            /// entries of such pairs (over the first literal's own entries).
            func pairLiterals() {
                for first in 0..<used where sortedSymbols[first] < 256 {
                    let firstLength = Int(lengths[sortedSymbols[first]])
                    guard firstLength < rootBits else { break }  // canonical order: longer codes follow
                    for second in 0..<used where sortedSymbols[second] < 256 {
                        let total = firstLength + Int(lengths[sortedSymbols[second]])
                        guard total <= rootBits else { break }
                        let entry = Entry.literal | Entry.pair | UInt32(sortedSymbols[second]) << 24 | UInt32(sortedSymbols[first]) << 16
                            | UInt32(firstLength) << 8 | UInt32(total)
                        fillEvery(1 << total, from: reversedCodes[first] | reversedCodes[second] << firstLength, below: rootSize,
                                  in: table, with: entry)
                    }
                }
            }
        }
    }

    // MARK: Huffman blocks

    /// Decodes one block with the current tables, up to and including its end-of-block code.
    mutating func decodeHuffmanBlock() throws(ZlibError) {
        let literalTable = UnsafePointer(tables + Tables.literalOffset)
        let distanceTable = UnsafePointer(tables + Tables.distanceOffset)
        while true {
            if try Decoder.decodeSymbols(&bits, &produced, output: output, outputCount: outputCount,
                                         literalTable: literalTable, distanceTable: distanceTable, careful: false) { return }
            if try Decoder.decodeSymbols(&bits, &produced, output: output, outputCount: outputCount,
                                         literalTable: literalTable, distanceTable: distanceTable, careful: true) { return }
        }
    }

    /// Decodes symbols of a Huffman block while the stream is far from both ends (`careful: false`)
    /// or near one (`careful: true`); returns true at the end-of-block code, false when the other
    /// mode must take over. Far from the ends most checks are unnecessary: with ≥ 16 input bytes
    /// left, a step's ≤ 2 refills (≤ 7 bytes each) load real bytes only, so no bit comes from past
    /// the end; with ≥ 290 bytes of room, its ≤ 6 literals or one match (≤ 258 bytes, a copy
    /// overshooting ≤ 31) fit. Only the distance is always checked. The compiler makes one copy of
    /// this function for each mode. Each step decodes up to three literal entries (each one or two
    /// literals), or a match, or the end-of-block code.
    @inline(__always)
    static func decodeSymbols(_ bitsInOut: inout BitReader, _ producedInOut: inout Int, output: UnsafeMutablePointer<UInt8>, outputCount: Int,
                              literalTable: UnsafePointer<UInt32>, distanceTable: UnsafePointer<UInt32>, careful: Bool) throws(ZlibError) -> Bool {
        // Locals in the loop, so they stay in registers.
        var bits = bitsInOut
        var produced = producedInOut
        defer {
            bitsInOut = bits
            producedInOut = produced
        }
        let literalMask = (1 << Tables.literalBits) - 1
        let distanceMask = (1 << Tables.distanceBits) - 1
        @inline(__always) func refill(_ bits: inout BitReader) {
            if careful { bits.refill() } else { bits.refillFast() }
        }
        /// Writes one byte: checks first, when careful, that its code's bits were real and it fits.
        @inline(__always) func write(_ byte: UInt32, after bitCount: UInt32, _ bits: inout BitReader, _ produced: inout Int) throws(ZlibError) {
            bits.consume(bitCount)
            if bits.overran { throw .truncatedStream(produced: produced) }
            guard produced < outputCount else { throw .outputTooLong(limit: outputCount) }
            output[produced] = UInt8(truncatingIfNeeded: byte)
            produced &+= 1
        }
        /// Writes a literal entry's one or two bytes.
        @inline(__always) func literal(_ entry: UInt32, _ bits: inout BitReader, _ produced: inout Int) throws(ZlibError) {
            if careful {
                // A pair byte by byte: zlib would write the first even if the second's bits are missing.
                if entry & Entry.pair != 0 {
                    let firstLength = (entry >> 8) & 0xF
                    try write(entry >> 16, after: firstLength, &bits, &produced)
                    try write(entry >> 24, after: (entry & 0xFF) - firstLength, &bits, &produced)
                } else {
                    try write(entry >> 16, after: entry, &bits, &produced)
                }
                return
            }
            // Both bytes stored either way (room checked by the caller); the count says how many are kept.
            bits.consume(entry)
            UnsafeMutableRawPointer(output + produced).storeBytes(of: UInt16(truncatingIfNeeded: entry >> 16), as: UInt16.self)
            produced &+= 1 &+ Int((entry >> 12) & 1)
        }

        while true {
            let far = bits.position &+ 16 <= bits.count && outputCount &- produced >= 258 + 32
            if far == careful { return false }
            // ≥ 56 bits: enough for three literals (≤ 15 bits each), or one length (≤ 15 + 5) and
            // one distance (≤ 15 + 13).
            refill(&bits)
            var entry = literalTable[bits.peek(literalMask)]
            if entry & Entry.literal != 0 {
                try literal(entry, &bits, &produced)
                entry = literalTable[bits.peek(literalMask)]
                if entry & Entry.literal != 0 {
                    try literal(entry, &bits, &produced)
                    entry = literalTable[bits.peek(literalMask)]
                    if entry & Entry.literal != 0 {
                        try literal(entry, &bits, &produced)
                        continue
                    }
                }
                // The entry (from ≤ 15 bits that were already in the buffer) stays valid: a refill
                // only adds bits above the ones it saw.
                refill(&bits)
            }
            if entry & Entry.exceptional != 0 {
                if entry & Entry.subtable != 0 {
                    bits.consume(entry)
                    let subtableMask = (1 << Int((entry >> 8) & 0xF)) - 1
                    entry = literalTable[Int(entry >> 16) + bits.peek(subtableMask)]
                    if entry & Entry.literal != 0 {
                        try literal(entry, &bits, &produced)
                        continue
                    }
                }
                if entry & Entry.exceptional != 0 {
                    bits.consume(entry)
                    if bits.overran { throw .truncatedStream(produced: produced) }
                    if entry & Entry.invalid != 0 { throw .corrupt(message: "invalid literal/length code") }
                    return true  // end of block
                }
            }

            // A length, then its distance.
            bits.consume(entry)
            let length = Int(entry >> 16) &+ bits.take(Int((entry >> 8) & 0xF))
            if careful && bits.overran { throw .truncatedStream(produced: produced) }
            var distanceEntry = distanceTable[bits.peek(distanceMask)]
            if distanceEntry & Entry.exceptional != 0 {
                if distanceEntry & Entry.subtable != 0 {
                    bits.consume(distanceEntry)
                    let subtableMask = (1 << Int((distanceEntry >> 8) & 0xF)) - 1
                    distanceEntry = distanceTable[Int(distanceEntry >> 16) + bits.peek(subtableMask)]
                }
                if distanceEntry & Entry.exceptional != 0 {
                    bits.consume(distanceEntry)
                    if bits.overran { throw .truncatedStream(produced: produced) }
                    throw .corrupt(message: "invalid distance code")
                }
            }
            bits.consume(distanceEntry)
            let distance = Int(distanceEntry >> 16) &+ bits.take(Int((distanceEntry >> 8) & 0xF))
            if careful && bits.overran { throw .truncatedStream(produced: produced) }
            guard distance <= produced else { throw .corrupt(message: "invalid distance too far back") }
            let room = outputCount &- produced
            if careful { guard length <= room else { throw .outputTooLong(limit: outputCount) } }
            Decoder.copyMatch(output + produced, distance: distance, length: length, room: room)
            produced &+= length
        }
    }

    /// Copies `length` bytes from `distance` bytes back to `destination` (regions may overlap:
    /// the copy repeats the last `distance` bytes). Writes nothing past `destination + room`
    /// (length ≤ room, 1 ≤ distance ≤ bytes before `destination`).
    @inline(__always) static func copyMatch(_ destination: UnsafeMutablePointer<UInt8>, distance: Int, length: Int, room: Int) {
        var target = destination
        var source = destination - distance
        let end = destination + length
        if distance == 1 && room &- length >= 32 {
            // A run of one byte (the zero planes of trained weights): 32-byte stores, the last
            // running ≤ 31 bytes past `end`, inside the room.
            let run = SIMD32<UInt8>(repeating: source.pointee)
            repeat {
                UnsafeMutableRawPointer(target).storeBytes(of: run, as: SIMD32<UInt8>.self)
                target += 32
            } while target < end
        } else if distance >= 8 && room &- length >= 8 {
            // 8 bytes at a time: each load reads bytes already final (distance ≥ 8); the last store
            // may run ≤ 7 bytes past `end`, still inside the room, and later output overwrites them.
            repeat {
                UnsafeMutableRawPointer(target).storeBytes(of: UnsafeRawPointer(source).loadUnaligned(as: UInt64.self), as: UInt64.self)
                target += 8
                source += 8
            } while target < end
        } else {
            repeat {
                target.pointee = source.pointee
                target += 1
                source += 1
            } while target < end
        }
    }
}
