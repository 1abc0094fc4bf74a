// The GEMM engine behind `Gemm.sgemm` / `Gemm.dgemm`: one generic implementation, specialized for
// Float (SIMD8<Float>, one AVX register) and Double (SIMD4<Double>).
//
// Structure (Goto/BLIS): C is computed in MR × NR tiles (6 × 2 vectors: 6×16 floats, 6×8 doubles),
// 12 vector accumulators held in registers, one fused multiply-add per accumulator per k step.
// Narrow products (n ≤ one vector, e.g. a 4-class output layer and its weight gradient) use 6 × 1
// vector tiles instead: a 16-wide tile would spend three quarters of its multiply-adds on padding.
// Products pack a KC × NC panel of B and an MC × KC block of A into contiguous per-thread buffers
// (packing absorbs the transposes and zero-pads edge tiles); narrow products read A and B in place.
//
// Reproducibility rule, shared by every path: each C element is a sequence of K blocks whose
// boundaries depend only on k (`kBlocking`); within a block it is one accumulator updated with
// fused multiply-adds in increasing k, starting from zero; then C = alpha·acc + beta·C (or
// alpha·acc + bias[j] when a bias row is given) for the
// first block and C = alpha·acc + C for the others. Threads split C only (rows or columns), so the
// result is bit-identical for any thread count and for every code path (scalar, in-place, packed).

import NNParallel
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// The scalars the kernels are written for: EngineScalar's (its 256-bit `Vector` and lane-wise
/// `relu`), Float and Double.
protocol GemmScalar: EngineScalar {}

extension Float: GemmScalar {}
extension Double: GemmScalar {}

/// Tile and block sizes. Chosen for a core with 32 KiB L1d and 512 KiB L2 (Zen 3, also fine on
/// Intel client cores): a KC × NR sliver of B (16 KiB) stays in L1, an MC × KC block of A in L2.
enum GemmBlocking {
    static let mr = 6
    static let kc = 256
    static let mc = 144
    static let nc = 3072
    /// Each thread gets at least this many multiply-adds (~5 µs), else fewer threads are used:
    /// below that, waking a worker costs more than it saves.
    static let minMultiplyAddsPerThread = 1 << 18
    /// Problems up to this many multiply-adds use the plain scalar loop (no vector set-up cost).
    static let maxScalarMultiplyAdds = 512
}

/// Values from one packed B sliver (kc rows of NR) to the next: one row more than it holds. At
/// kc = 64 or 256 a sliver is a multiple of 4 KiB, so packing wrote its rows to addresses 4 KiB
/// apart, which alias in the L1 and in the store-to-load checks.
@inline(__always)
func gemmSliverStride<T: GemmScalar>(_: T.Type, kc: Int) -> Int {
    (kc + 1) * 2 * T.Vector.scalarCount
}

/// The K-block boundaries every path uses: `count` blocks of `size` (the last one shorter).
@inline(__always)
func kBlocking(_ k: Int) -> (count: Int, size: Int) {
    let count = max(1, (k + GemmBlocking.kc - 1) / GemmBlocking.kc)
    return (count, (k + count - 1) / count)
}

/// op(B) packed once for many products with the same B (a layer's weights at inference): the
/// KC × NC panels of every K block and column panel, exactly as `GemmEngine.packed` lays them out per
/// call (panel (column c, block b) at `offsets[c · blockCount + b]`, slivers of NR columns, zero
/// padded). The packed path then reads them instead of packing B again.
final class GemmPackedPanels<T: GemmScalar> {
    let k: Int, n: Int
    private let blockCount: Int
    private let offsets: [Int]
    private let storage: UnsafeMutablePointer<T>

    /// The packed path's panel width for n columns (shared with it, so the layouts agree).
    static func panelWidth(n: Int) -> Int {
        min(GemmBlocking.nc, gemmRoundUp(n, 2 * T.Vector.scalarCount))
    }

    /// Packs op(B), k × n (B stored k×n with leading dimension ldb, or n×k when transB).
    @_specialize(where T == Float)
    init(b: UnsafePointer<T>, ldb: Int, transB: Bool, k: Int, n: Int) {
        precondition(k > 0 && n > 0, "GemmPackedPanels: empty matrix")
        self.k = k
        self.n = n
        let nr = 2 * T.Vector.scalarCount
        let blocks = kBlocking(k)
        let ncMax = Self.panelWidth(n: n)
        blockCount = blocks.count
        var offsets: [Int] = []
        var total = 0
        for jc in stride(from: 0, to: n, by: ncMax) {
            let slivers = (min(ncMax, n - jc) + nr - 1) / nr
            for block in 0..<blocks.count {
                offsets.append(total)
                total += slivers * gemmSliverStride(T.self, kc: min(k, (block + 1) * blocks.size) - block * blocks.size)
            }
        }
        self.offsets = offsets
        storage = .allocate(capacity: total)
        // The panels as GemmEngine.packed packs them (B is the only operand read here).
        let dummyC = UnsafeMutablePointer<T>.allocate(capacity: 1)
        defer { dummyC.deallocate() }
        let op = GemmOperands<T>(transA: false, transB: transB, m: 0, n: n, k: k, alpha: 1,
                                 a: b, lda: 1, b: b, ldb: ldb, beta: 0, c: dummyC, ldc: 1)
        for (column, jc) in stride(from: 0, to: n, by: ncMax).enumerated() {
            let slivers = (min(ncMax, n - jc) + nr - 1) / nr
            for block in 0..<blocks.count {
                let p0 = block * blocks.size, kc = min(k, p0 + blocks.size) - p0
                GemmEngine.packBPanel(op, p0: p0, kc: kc, j0: jc, slivers: 0..<slivers,
                                      into: storage + offsets[column * blockCount + block])
            }
        }
    }

    deinit { storage.deallocate() }

    @inline(__always)
    func panel(column: Int, block: Int) -> UnsafePointer<T> {
        UnsafePointer(storage + offsets[column * blockCount + block])
    }
}

/// One GEMM call's operands, with op(A) and op(B) described by strides so every path reads them
/// the same way:  op(A)[i, p] = a[i·aRow + p·aCol],  op(B)[p, j] = b[p·bRow + j·bCol].
/// `bias` ([n], optional) is added to every row of C in place of beta·C (beta is then ignored).
/// `relu`: the final C is max(C, 0) (as `z > 0 ? z : 0`), applied when the last K block is written.
struct GemmOperands<T: GemmScalar> {
    let m: Int, n: Int, k: Int
    let alpha: T, beta: T
    let bias: UnsafePointer<T>?
    let relu: Bool
    /// Index of the last K block (`kBlocking`), the one whose update applies `relu`.
    let lastBlock: Int
    let a: UnsafePointer<T>, aRow: Int, aCol: Int
    let b: UnsafePointer<T>, bRow: Int, bCol: Int
    let c: UnsafeMutablePointer<T>, ldc: Int

    init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T,
         a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
         beta: T, c: UnsafeMutablePointer<T>, ldc: Int, bias: UnsafePointer<T>? = nil, relu: Bool = false) {
        self.m = m; self.n = n; self.k = k
        self.alpha = alpha; self.beta = beta; self.bias = bias
        self.relu = relu; self.lastBlock = kBlocking(k).count - 1
        self.a = a; self.aRow = transA ? 1 : lda; self.aCol = transA ? lda : 1
        self.b = b; self.bRow = transB ? 1 : ldb; self.bCol = transB ? ldb : 1
        self.c = c; self.ldc = ldc
    }

    /// How K block `block` writes its accumulators to C, for the tile starting at column j0: the
    /// first block applies beta (or the bias), later ones add to C; the last one applies `relu`.
    @inline(__always)
    func update(block: Int, column j0: Int) -> TileUpdate<T> {
        let clamp = relu && block == lastBlock
        if block > 0 { return TileUpdate(alpha: alpha, beta: 1, bias: nil, relu: clamp) }
        return TileUpdate(alpha: alpha, beta: beta, bias: bias.map { $0 + j0 }, relu: clamp)
    }
}

/// C = alpha·acc + bias[j] when `bias` is set (it points at the tile's first column), else
/// C = alpha·acc + beta·C, with beta == 0 not reading C; then max(C, 0) when `relu`.
struct TileUpdate<T: GemmScalar> {
    let alpha: T, beta: T
    let bias: UnsafePointer<T>?
    let relu: Bool

    @inline(__always)
    func value(_ acc: T, old: T, column j: Int) -> T {
        let z: T
        if let bias { z = alpha * acc + bias[j] } else { z = beta == 0 ? alpha * acc : alpha * acc + beta * old }
        return relu ? NNEngine.relu(z) : z
    }
}

/// How the packed path cuts a block of `rows` rows into tiles (packed A tile t at t·MR·kc): tiles
/// of MR rows, except that a last tile of 1-3 rows is merged with the one before and the pair cut
/// into two nearly equal tiles (6 + 2 → 4 + 4, 6 + 1 → 4 + 3, 6 + 3 → 5 + 4). Each accumulator is
/// one chain of dependent multiply-adds (the reproducibility rule), so a tile of r rows has 2r
/// chains; with 4-cycle FMA latency and two FMA units, 8 chains keep the core busy and 4 only
/// half: a 2-row tile took as long per k as 4 rows, two 4-row tiles take as long as 8.
struct RowTiling {
    let count: Int
    private let rows: Int, firstMerged: Int, mergedRows: Int

    @inline(__always)
    init(rows: Int) {
        let mr = GemmBlocking.mr
        let full = rows / mr, rest = rows % mr
        self.rows = rows
        count = full + (rest > 0 ? 1 : 0)
        if rest > 0 && rest < 4 && full > 0 {
            firstMerged = full - 1
            mergedRows = mr + rest
        } else {
            firstMerged = count
            mergedRows = 0
        }
    }

    /// Tile t's first row within the block and its row count.
    @inline(__always)
    func tile(_ t: Int) -> (start: Int, rows: Int) {
        let mr = GemmBlocking.mr
        let start = t * mr
        if t < firstMerged { return (start, min(mr, rows - start)) }
        let firstHalf = (mergedRows + 1) / 2
        return t == firstMerged ? (start, firstHalf) : (start - mr + firstHalf, mergedRows - firstHalf)
    }
}

/// The three ways to compute a product; all give bit-identical results (the reproducibility rule),
/// so the choice is purely about speed. Tests force each one.
enum GemmPath {
    case scalar, inPlace, packed

    /// `lanes`: the scalars in one vector (8 floats, 4 doubles).
    static func choose(m: Int, n: Int, k: Int, lanes: Int) -> GemmPath {
        let multiplyAdds = m * n * k
        if multiplyAdds <= GemmBlocking.maxScalarMultiplyAdds { return .scalar }
        // One column sliver: each row of A is read exactly once in place, packing it would only add a pass.
        if n <= lanes { return .inPlace }
        // Otherwise packing pays even for small products (32×64×128 ran as fast or faster packed,
        // 256×32×256 ~30% faster): in place, B rows 1 KiB apart share a few L1 sets and the six
        // A row offsets spill registers, while packed A offsets are constants.
        return .packed
    }
}

enum GemmEngine {
    /// `path` and `threads` override the size-based choices (tests use them on small shapes).
    /// `prepacked`: op(B) already packed (GemmPackedPanels of this k and n), read by the packed path.
    /// Specialized here for builds without whole-module optimization (tests), where callers in
    /// other files would run the generic code.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func run<T: GemmScalar>(_ op: GemmOperands<T>, pool: WorkerPool, prepacked: GemmPackedPanels<T>? = nil,
                                   path forcedPath: GemmPath? = nil, threads forcedThreads: Int? = nil) {
        if op.m <= 0 || op.n <= 0 { return }
        if op.k <= 0 {
            scaleC(op)
            return
        }
        let threads = forcedThreads.map { max(1, min($0, pool.threadCount)) }
            ?? threadsWorthUsing(op.m * op.n * op.k, pool)
        switch forcedPath ?? GemmPath.choose(m: op.m, n: op.n, k: op.k, lanes: T.Vector.scalarCount) {
        case .scalar: scalar(op)
        case .inPlace: inPlace(op, pool: pool, threads: threads)
        case .packed: packed(op, pool: pool, threads: threads, prepacked: prepacked)
        }
    }

    @inline(__always)
    static func threadsWorthUsing(_ multiplyAdds: Int, _ pool: WorkerPool) -> Int {
        max(1, min(pool.threadCount, multiplyAdds / GemmBlocking.minMultiplyAddsPerThread))
    }

    /// k = 0: C = beta·C (beta = 0 writes zeros, ignoring whatever C held), or C = bias; then the ReLU.
    static func scaleC<T: GemmScalar>(_ op: GemmOperands<T>) {
        for i in 0..<op.m {
            let row = op.c + i * op.ldc
            for j in 0..<op.n {
                let z = op.bias.map { $0[j] } ?? (op.beta == 0 ? 0 : op.beta * row[j])
                row[j] = op.relu ? relu(z) : z
            }
        }
    }

    /// Plain loops for tiny products, following the reproducibility rule exactly.
    static func scalar<T: GemmScalar>(_ op: GemmOperands<T>) {
        let blocks = kBlocking(op.k)
        for block in 0..<blocks.count {
            let p0 = block * blocks.size, p1 = min(op.k, p0 + blocks.size)
            let update = op.update(block: block, column: 0)
            for i in 0..<op.m {
                for j in 0..<op.n {
                    var acc: T = 0
                    for p in p0..<p1 {
                        acc = acc.addingProduct(op.a[i * op.aRow + p * op.aCol], op.b[p * op.bRow + j * op.bCol])
                    }
                    let cij = op.c + i * op.ldc + j
                    cij.pointee = update.value(acc, old: cij.pointee, column: j)
                }
            }
        }
    }

    // MARK: In place (narrow products)

    /// A read in place, B read in place when its rows are contiguous (not transposed); otherwise,
    /// and for a partial last column sliver, B is packed once into the caller's scratch.
    /// Slivers are one vector wide (narrow tiles, see the top); wider products forced onto this
    /// path (tests) take several slivers.
    static func inPlace<T: GemmScalar>(_ op: GemmOperands<T>, pool: WorkerPool, threads: Int) {
        let nr = T.Vector.scalarCount
        let rowTiles = (op.m + GemmBlocking.mr - 1) / GemmBlocking.mr
        let slivers = (op.n + nr - 1) / nr
        let fullSliversInPlace = op.bCol == 1 ? op.n / nr : 0

        // Packed slivers fullSliversInPlace..<slivers, each a kc × nr panel per K block, laid
        // out [sliver][k][nr] with kStride nr (K blocks are consecutive in k).
        let packedSlivers = slivers - fullSliversInPlace
        var packedB: UnsafeMutablePointer<T>? = nil
        if packedSlivers > 0 {
            let raw = GemmScratch.current.buffer(.packedB, bytes: packedSlivers * op.k * nr * MemoryLayout<T>.stride)
            let panel = raw.bindMemory(to: T.self, capacity: packedSlivers * op.k * nr)
            for s in 0..<packedSlivers {
                packBSliver(op, p0: 0, kc: op.k, j0: (fullSliversInPlace + s) * nr, width: nr, into: panel + s * op.k * nr)
            }
            packedB = panel
        }

        // The closures below are passed straight to the pool (non-escaping, so their contexts live
        // on the stack): a step of small products allocates nothing.
        let b = UnsafePointer(packedB)
        if threads <= 1 {
            inPlaceTiles(op, packedB: b, fullSliversInPlace: fullSliversInPlace, slivers: 0..<slivers, tiles: 0..<rowTiles)
        } else if slivers >= threads {
            pool.parallelFor(total: slivers, parts: threads) {
                inPlaceTiles(op, packedB: b, fullSliversInPlace: fullSliversInPlace, slivers: $0, tiles: 0..<rowTiles)
            }
        } else {
            pool.parallelFor(total: rowTiles, parts: threads) {
                inPlaceTiles(op, packedB: b, fullSliversInPlace: fullSliversInPlace, slivers: 0..<slivers, tiles: $0)
            }
        }
    }

    /// The in-place path's work on column slivers `sliverRange` × row tiles `tileRange`, every K block.
    /// Slivers below `fullSliversInPlace` read B in place; the others read `packedB` (see `inPlace`).
    @inline(__always)
    static func inPlaceTiles<T: GemmScalar>(_ op: GemmOperands<T>, packedB: UnsafePointer<T>?, fullSliversInPlace: Int,
                                            slivers sliverRange: Range<Int>, tiles tileRange: Range<Int>) {
        let nr = T.Vector.scalarCount
        let blocks = kBlocking(op.k)
        let aRowOffsets = clampedOffsets(rowStride: op.aRow, rows: GemmBlocking.mr)
        for block in 0..<blocks.count {
            let p0 = block * blocks.size, kc = min(op.k, p0 + blocks.size) - p0
            for s in sliverRange {
                let j0 = s * nr
                let bSliver: UnsafePointer<T>, bStride: Int
                if s < fullSliversInPlace {
                    bSliver = op.b + p0 * op.bRow + j0
                    bStride = op.bRow
                } else {
                    bSliver = packedB! + (s - fullSliversInPlace) * op.k * nr + p0 * nr
                    bStride = nr
                }
                let cols = min(nr, op.n - j0)
                for t in tileRange {
                    let i0 = t * GemmBlocking.mr
                    let rows = min(GemmBlocking.mr, op.m - i0)
                    let offsets = rows == GemmBlocking.mr ? aRowOffsets : clampedOffsets(rowStride: op.aRow, rows: rows)
                    let a = op.a + i0 * op.aRow + p0 * op.aCol, c = op.c + i0 * op.ldc + j0
                    let update = op.update(block: block, column: j0)
                    if op.aCol == 1 && rows == GemmBlocking.mr {
                        narrowRowMajorTile(kc: kc, a: a, aRowOffsets: offsets, b: bSliver, bKStride: bStride,
                                           c: c, ldc: op.ldc, cols: cols, update: update)
                    } else {
                        narrowMicroTile(kc: kc, a: a, aRowOffsets: offsets, aKStride: op.aCol, b: bSliver, bKStride: bStride,
                                        c: c, ldc: op.ldc, rows: rows, cols: cols, update: update)
                    }
                }
            }
        }
    }

    // MARK: Packed (large problems)

    static func packed<T: GemmScalar>(_ op: GemmOperands<T>, pool: WorkerPool, threads: Int,
                                      prepacked: GemmPackedPanels<T>? = nil) {
        let nr = 2 * T.Vector.scalarCount
        let mr = GemmBlocking.mr
        let blocks = kBlocking(op.k)
        let ncMax = GemmPackedPanels<T>.panelWidth(n: op.n)
        let panelCount = (ncMax + nr - 1) / nr * gemmSliverStride(T.self, kc: blocks.size)
        let scratchPanel = prepacked != nil ? nil : GemmScratch.current.buffer(.packedB, bytes: panelCount * MemoryLayout<T>.stride)
            .bindMemory(to: T.self, capacity: panelCount)
        let usePool = threads > 1 ? pool : WorkerPool.serial

        // Work items are (row block, column group) pairs. Either split rows among threads (row
        // blocks rounded up to a multiple of the thread count, one column group), or split the
        // column slivers (each thread then packs the whole A block too): whichever shares whole
        // tiles more evenly, e.g. m = 256 has 43 row tiles but n = 256 has 16 slivers.
        let rowTiles = (op.m + mr - 1) / mr
        let sliversPerPanel = (ncMax + nr - 1) / nr
        var rowBlockCount = (op.m + GemmBlocking.mc - 1) / GemmBlocking.mc
        var columnGroups = 1
        if threads > 1 {
            func imbalance(_ parts: Int) -> Double {
                Double((parts + threads - 1) / threads * threads) / Double(parts)
            }
            // Splitting columns makes every thread pack the whole A block, while it computes only
            // n/threads columns of it. Packing one element costs about as much as NR multiply-adds
            // (2 FMA × 8 lanes per cycle against ~1 element per cycle), so the extra packing is worth
            // threads·NR/n of the work: 12% at n = 256 with 2 threads (a 2% guess here made
            // (256, 784, 256) split columns and scale worse than the 22/21 row-tile split).
            let repacking = Double(threads * nr) / Double(ncMax)
            if rowTiles < threads || imbalance(sliversPerPanel) + repacking < imbalance(rowTiles) {
                columnGroups = threads
            } else {
                rowBlockCount = gemmRoundUp(rowBlockCount, threads)
            }
        }
        // Whole row tiles shared as evenly as possible among the row blocks (the first ones one tile
        // longer): threads that take equal numbers of blocks get equal work (blocks of 132 rows left
        // 1024 rows split 528/496 between two threads).
        rowBlockCount = min(rowBlockCount, rowTiles)
        let tileBase = rowTiles / rowBlockCount, tileExtra = rowTiles % rowBlockCount

        for (panelColumn, jc) in stride(from: 0, to: op.n, by: ncMax).enumerated() {
            let nc = min(ncMax, op.n - jc)
            let slivers = (nc + nr - 1) / nr
            for block in 0..<blocks.count {
                let p0 = block * blocks.size, kc = min(op.k, p0 + blocks.size) - p0

                let panel: UnsafePointer<T>
                if let prepacked {
                    panel = prepacked.panel(column: panelColumn, block: block)
                } else {
                    let scratch = scratchPanel!
                    usePool.parallelFor(total: slivers, parts: threads) { range in
                        packBPanel(op, p0: p0, kc: kc, j0: jc, slivers: range, into: scratch)
                    }
                    panel = UnsafePointer(scratch)
                }

                usePool.parallelFor(rowBlockCount * columnGroups) { item in
                    let rowBlock = item / columnGroups, group = item % columnGroups
                    let tiles = tileBase + (rowBlock < tileExtra ? 1 : 0)
                    let i0 = (rowBlock * tileBase + min(rowBlock, tileExtra)) * mr
                    let mc = min(tiles * mr, op.m - i0)
                    let base = slivers / columnGroups, extra = slivers % columnGroups
                    let sliverStart = group * base + min(group, extra)
                    let sliverEnd = sliverStart + base + (group < extra ? 1 : 0)
                    if sliverStart == sliverEnd { return }

                    let packedA = GemmScratch.current.buffer(.packedA, bytes: tiles * mr * kc * MemoryLayout<T>.stride)
                        .bindMemory(to: T.self, capacity: tiles * mr * kc)
                    let tiling = RowTiling(rows: mc)
                    for t in 0..<tiling.count {
                        let tile = tiling.tile(t)
                        packATile(op, i0: i0 + tile.start, rowsLeft: tile.rows, p0: p0, kc: kc, into: packedA + t * mr * kc)
                    }
                    for s in sliverStart..<sliverEnd {
                        let j0 = jc + s * nr
                        packedBlockTimesSliver(kc: kc, packedA: UnsafePointer(packedA), tiling: tiling, bSliver: panel + s * gemmSliverStride(T.self, kc: kc),
                                               c: op.c + i0 * op.ldc + j0, ldc: op.ldc, cols: min(nr, op.n - j0),
                                               update: op.update(block: block, column: j0))
                    }
                }
            }
        }
    }

    /// C[0..<rows, 0..<cols] (as `update` says) from a packed A block cut into tiles as `tiling`
    /// says (packed by `packATile` tile by tile) and one packed B sliver: the packed path's
    /// innermost loops. Out of line on purpose: inlined into the large
    /// caller, the compiler sometimes outlined the tile kernel on its own, where the constant A
    /// offsets became spilled variables (10% slower).
    @inline(never)
    static func packedBlockTimesSliver<T: GemmScalar>(kc: Int, packedA: UnsafePointer<T>, tiling: RowTiling, bSliver: UnsafePointer<T>,
                                                      c: UnsafeMutablePointer<T>, ldc: Int, cols: Int, update: TileUpdate<T>) {
        for t in 0..<tiling.count {
            let tile = tiling.tile(t)
            microTile(kc: kc, a: packedA + t * GemmBlocking.mr * kc, b: bSliver,
                      c: c + tile.start * ldc, ldc: ldc, rows: tile.rows, cols: cols, update: update)
        }
    }

    // MARK: Packing

    /// Packs slivers `range` of the panel op(B)[p0..<p0+kc, j0...] (two vectors wide, sliver s at
    /// `panel + s·kc·NR`). Row-major B is copied row by row across the slivers, reading memory in
    /// order: sliver by sliver, its rows (often 1 KiB apart) defeated the hardware prefetcher.
    @inline(__always)
    static func packBPanel<T: GemmScalar>(_ op: GemmOperands<T>, p0: Int, kc: Int, j0: Int, slivers range: Range<Int>,
                                          into panel: UnsafeMutablePointer<T>) {
        typealias V = T.Vector
        let nr = 2 * V.scalarCount
        // Slivers wholly inside B; the last one may be partial (zero-padded by packBSliver).
        let full = op.bCol == 1 ? min(range.upperBound, (op.n - j0) / nr) : range.lowerBound
        if full > range.lowerBound {
            let highOffset = V.scalarCount * MemoryLayout<T>.stride
            for p in 0..<kc {
                let src = UnsafeRawPointer(op.b + (p0 + p) * op.bRow + j0)
                let out = UnsafeMutableRawPointer(panel + p * nr)
                for s in range.lowerBound..<full {
                    let from = src + s * nr * MemoryLayout<T>.stride, to = out + s * gemmSliverStride(T.self, kc: kc) * MemoryLayout<T>.stride
                    to.storeBytes(of: from.loadUnaligned(as: V.self), as: V.self)
                    to.storeBytes(of: from.loadUnaligned(fromByteOffset: highOffset, as: V.self), toByteOffset: highOffset, as: V.self)
                }
            }
        }
        for s in max(full, range.lowerBound)..<range.upperBound {
            // The width as a literal expression: a constant, so the copy unrolls.
            packBSliver(op, p0: p0, kc: kc, j0: j0 + s * nr, width: 2 * T.Vector.scalarCount, into: panel + s * gemmSliverStride(T.self, kc: kc))
        }
    }

    /// Packs op(B)[p0..<p0+kc, j0..<j0+nr] as kc rows of nr (`width`: one or two vectors)
    /// contiguous values, zero-padding columns past n.
    @inline(__always)
    static func packBSliver<T: GemmScalar>(_ op: GemmOperands<T>, p0: Int, kc: Int, j0: Int, width nr: Int,
                                           into dst: UnsafeMutablePointer<T>) {
        let lanes = T.Vector.scalarCount
        let cols = min(nr, op.n - j0)
        if op.bCol == 1 && cols == nr {
            var src = op.b + p0 * op.bRow + j0
            var out = dst
            for _ in 0..<kc {
                for v in stride(from: 0, to: nr, by: lanes) {
                    let vector = UnsafeRawPointer(src + v).loadUnaligned(as: T.Vector.self)
                    UnsafeMutableRawPointer(out + v).storeBytes(of: vector, as: T.Vector.self)
                }
                src += op.bRow
                out += nr
            }
        } else if op.bCol == 1 {
            for p in 0..<kc {
                let src = op.b + (p0 + p) * op.bRow + j0
                let out = dst + p * nr
                for j in 0..<nr { out[j] = j < cols ? src[j] : 0 }
            }
        } else if T.self == Float.self && op.bRow == 1 && cols == nr && nr == 16 {
            packTransposedFloatSliver(UnsafeRawPointer(op.b + p0 + j0 * op.bCol).assumingMemoryBound(to: Float.self), ldb: op.bCol,
                                      kc: kc, into: UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self))
        } else {
            // Transposed B: each column of op(B) is contiguous in memory.
            for j in 0..<nr {
                if j < cols {
                    let src = op.b + p0 * op.bRow + (j0 + j) * op.bCol
                    for p in 0..<kc { dst[p * nr + j] = src[p * op.bRow] }
                } else {
                    for p in 0..<kc { dst[p * nr + j] = 0 }
                }
            }
        }
    }

    /// Packs op(A)[i0..<i0+MR, p0..<p0+kc] as kc columns of MR contiguous values, zero-padding rows
    /// past the block (`rowsLeft` rows remain from i0).
    @inline(__always)
    static func packATile<T: GemmScalar>(_ op: GemmOperands<T>, i0: Int, rowsLeft: Int, p0: Int, kc: Int, into dst: UnsafeMutablePointer<T>) {
        let mr = GemmBlocking.mr
        let rows = min(mr, rowsLeft)
        if T.self == Float.self && op.aCol == 1 {
            // Row-major A; an edge tile's missing rows repeat its last row (never read: edge tiles
            // run a kernel for exactly their rows).
            packRowMajorFloatTile(UnsafeRawPointer(op.a + i0 * op.aRow + p0).assumingMemoryBound(to: Float.self),
                                  rowOffsets: clampedOffsets(rowStride: op.aRow, rows: rows), kc: kc,
                                  into: UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self))
        } else if op.aRow == 1 && rows == mr {
            // Transposed A, full tile: the MR = 6 values of one k are contiguous, copied as a 4- and
            // a 2-vector (an element loop compiled to 12 scalar moves per k).
            for p in 0..<kc {
                let src = UnsafeRawPointer(op.a + i0 + (p0 + p) * op.aCol)
                let out = UnsafeMutableRawPointer(dst + p * mr)
                let four = 4 * MemoryLayout<T>.stride
                out.storeBytes(of: src.loadUnaligned(as: SIMD4<T>.self), as: SIMD4<T>.self)
                out.storeBytes(of: src.loadUnaligned(fromByteOffset: four, as: SIMD2<T>.self), toByteOffset: four, as: SIMD2<T>.self)
            }
        } else if op.aRow == 1 {
            // Transposed A, edge tile: zero rows past the block.
            for p in 0..<kc {
                let src = op.a + i0 + (p0 + p) * op.aCol
                let out = dst + p * mr
                for r in 0..<mr { out[r] = r < rows ? src[r] : 0 }
            }
        } else {
            for r in 0..<mr {
                if r < rows {
                    let src = op.a + (i0 + r) * op.aRow + p0 * op.aCol
                    for p in 0..<kc { dst[p * mr + r] = src[p * op.aCol] }
                } else {
                    for p in 0..<kc { dst[p * mr + r] = 0 }
                }
            }
        }
    }

    /// `packATile` for a tile of row-major Float A (its six rows at `rowOffsets`): eight k at a time,
    /// the 6 × 8 block is transposed in registers (two 4 × 4 transposes for rows 0-3, an interleave for
    /// rows 4-5) and written with 16 contiguous stores instead of 48 scattered ones.
    @inline(__always)
    static func packRowMajorFloatTile(_ a: UnsafePointer<Float>, rowOffsets: (Int, Int, Int, Int, Int, Int), kc: Int,
                                      into dst: UnsafeMutablePointer<Float>) {
        typealias V4 = SIMD4<Float>
        typealias V2 = SIMD2<Float>
        let (o0, o1, o2, o3, o4, o5) = rowOffsets
        var p = 0
        var out = UnsafeMutableRawPointer(dst)
        while p + 8 <= kc {
            let rows = (UnsafeRawPointer(a + o0 + p).loadUnaligned(as: SIMD8<Float>.self),
                        UnsafeRawPointer(a + o1 + p).loadUnaligned(as: SIMD8<Float>.self),
                        UnsafeRawPointer(a + o2 + p).loadUnaligned(as: SIMD8<Float>.self),
                        UnsafeRawPointer(a + o3 + p).loadUnaligned(as: SIMD8<Float>.self),
                        UnsafeRawPointer(a + o4 + p).loadUnaligned(as: SIMD8<Float>.self),
                        UnsafeRawPointer(a + o5 + p).loadUnaligned(as: SIMD8<Float>.self))
            for half in 0..<2 {
                let r0 = half == 0 ? rows.0.lowHalf : rows.0.highHalf, r1 = half == 0 ? rows.1.lowHalf : rows.1.highHalf
                let r2 = half == 0 ? rows.2.lowHalf : rows.2.highHalf, r3 = half == 0 ? rows.3.lowHalf : rows.3.highHalf
                let r4 = half == 0 ? rows.4.lowHalf : rows.4.highHalf, r5 = half == 0 ? rows.5.lowHalf : rows.5.highHalf
                // 4 × 4 transpose of rows 0-3: unpack pairs, then move 64-bit halves.
                let lo01 = V4(r0[0], r1[0], r0[1], r1[1]), hi01 = V4(r0[2], r1[2], r0[3], r1[3])
                let lo23 = V4(r2[0], r3[0], r2[1], r3[1]), hi23 = V4(r2[2], r3[2], r2[3], r3[3])
                let lo45 = V4(r4[0], r5[0], r4[1], r5[1]), hi45 = V4(r4[2], r5[2], r4[3], r5[3])
                let columns = (V4(lowHalf: lo01.lowHalf, highHalf: lo23.lowHalf), V4(lowHalf: lo01.highHalf, highHalf: lo23.highHalf),
                               V4(lowHalf: hi01.lowHalf, highHalf: hi23.lowHalf), V4(lowHalf: hi01.highHalf, highHalf: hi23.highHalf))
                let tails: (V2, V2, V2, V2) = (lo45.lowHalf, lo45.highHalf, hi45.lowHalf, hi45.highHalf)
                out.storeBytes(of: columns.0, as: V4.self); out.storeBytes(of: tails.0, toByteOffset: 16, as: V2.self)
                out.storeBytes(of: columns.1, toByteOffset: 24, as: V4.self); out.storeBytes(of: tails.1, toByteOffset: 40, as: V2.self)
                out.storeBytes(of: columns.2, toByteOffset: 48, as: V4.self); out.storeBytes(of: tails.2, toByteOffset: 64, as: V2.self)
                out.storeBytes(of: columns.3, toByteOffset: 72, as: V4.self); out.storeBytes(of: tails.3, toByteOffset: 88, as: V2.self)
                out += 96
            }
            p += 8
        }
        let tail = UnsafeMutablePointer<Float>(out.assumingMemoryBound(to: Float.self))
        for q in 0..<(kc - p) {
            tail[q * 6] = a[o0 + p + q]; tail[q * 6 + 1] = a[o1 + p + q]; tail[q * 6 + 2] = a[o2 + p + q]
            tail[q * 6 + 3] = a[o3 + p + q]; tail[q * 6 + 4] = a[o4 + p + q]; tail[q * 6 + 5] = a[o5 + p + q]
        }
    }

    /// `packBSliver` for a full 16-column sliver of transposed Float B (the backward pass's
    /// dX = dZ·Wᵀ): column j of op(B) is row j of `b` (`ldb` apart). Eight k at a time, each 8 × 8
    /// block is transposed in registers and written as eight contiguous vectors, instead of 64
    /// scattered single-value stores.
    @inline(__always)
    static func packTransposedFloatSliver(_ b: UnsafePointer<Float>, ldb: Int, kc: Int, into dst: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        var p = 0
        while p + 8 <= kc {
            for half in 0..<2 {
                // r_j: column j's eight values at k = p..<p+8.
                let column = UnsafeRawPointer(b + half * 8 * ldb + p)
                let stride = ldb * MemoryLayout<Float>.stride
                let r0 = column.loadUnaligned(as: V.self), r1 = column.loadUnaligned(fromByteOffset: stride, as: V.self)
                let r2 = column.loadUnaligned(fromByteOffset: 2 * stride, as: V.self), r3 = column.loadUnaligned(fromByteOffset: 3 * stride, as: V.self)
                let r4 = column.loadUnaligned(fromByteOffset: 4 * stride, as: V.self), r5 = column.loadUnaligned(fromByteOffset: 5 * stride, as: V.self)
                let r6 = column.loadUnaligned(fromByteOffset: 6 * stride, as: V.self), r7 = column.loadUnaligned(fromByteOffset: 7 * stride, as: V.self)
                let c = transposed8x8((r0, r1, r2, r3, r4, r5, r6, r7))
                let out = UnsafeMutableRawPointer(dst + p * 16 + half * 8)
                let row = 16 * MemoryLayout<Float>.stride
                out.storeBytes(of: c.0, as: V.self)
                out.storeBytes(of: c.1, toByteOffset: row, as: V.self)
                out.storeBytes(of: c.2, toByteOffset: 2 * row, as: V.self)
                out.storeBytes(of: c.3, toByteOffset: 3 * row, as: V.self)
                out.storeBytes(of: c.4, toByteOffset: 4 * row, as: V.self)
                out.storeBytes(of: c.5, toByteOffset: 5 * row, as: V.self)
                out.storeBytes(of: c.6, toByteOffset: 6 * row, as: V.self)
                out.storeBytes(of: c.7, toByteOffset: 7 * row, as: V.self)
            }
            p += 8
        }
        for q in p..<kc {
            for j in 0..<16 { dst[q * 16 + j] = b[j * ldb + q] }
        }
    }

    /// The 8 × 8 transpose of rows r0…r7: result q holds (r0[q], r1[q], …, r7[q]).
    @inline(__always)
    static func transposed8x8(_ r: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
                                    SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>))
        -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        #if arch(x86_64)
        // The usual AVX sequence, one instruction per step (written as generic SIMD element
        // initializers, LLVM merged the steps into long blend/insert chains with spills):
        // interleave row pairs (unpcklps/unpckhps), then 64-bit pairs (unpcklpd/unpckhpd), which
        // leaves k = q in the low 128-bit half and k = q + 4 in the high one; then swap halves.
        func pairs(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
            (_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b))
        }
        func quads(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
            let a = _mm256_castps_pd(a), b = _mm256_castps_pd(b)
            return (_mm256_castpd_ps(_mm256_unpacklo_pd(a, b)), _mm256_castpd_ps(_mm256_unpackhi_pd(a, b)))
        }
        let (t0, t1) = pairs(r.0, r.1), (t2, t3) = pairs(r.2, r.3), (t4, t5) = pairs(r.4, r.5), (t6, t7) = pairs(r.6, r.7)
        // u0: k 0 | 4 of rows 0-3, u1: k 1 | 5, u2: k 2 | 6, u3: k 3 | 7; u4-u7 the same for rows 4-7.
        let (u0, u1) = quads(t0, t2), (u2, u3) = quads(t1, t3), (u4, u5) = quads(t4, t6), (u6, u7) = quads(t5, t7)
        return (SIMD8(lowHalf: u0.lowHalf, highHalf: u4.lowHalf), SIMD8(lowHalf: u1.lowHalf, highHalf: u5.lowHalf),
                SIMD8(lowHalf: u2.lowHalf, highHalf: u6.lowHalf), SIMD8(lowHalf: u3.lowHalf, highHalf: u7.lowHalf),
                SIMD8(lowHalf: u0.highHalf, highHalf: u4.highHalf), SIMD8(lowHalf: u1.highHalf, highHalf: u5.highHalf),
                SIMD8(lowHalf: u2.highHalf, highHalf: u6.highHalf), SIMD8(lowHalf: u3.highHalf, highHalf: u7.highHalf))
        #else
        func column(_ q: Int) -> SIMD8<Float> { SIMD8(r.0[q], r.1[q], r.2[q], r.3[q], r.4[q], r.5[q], r.6[q], r.7[q]) }
        return (column(0), column(1), column(2), column(3), column(4), column(5), column(6), column(7))
        #endif
    }

    /// Offsets of MR rows for reading A in place; rows past `rows` repeat the last valid row so
    /// every load stays inside A (their results are discarded).
    @inline(__always)
    static func clampedOffsets(rowStride: Int, rows: Int) -> (Int, Int, Int, Int, Int, Int) {
        let last = rows - 1
        return (0, min(1, last) * rowStride, min(2, last) * rowStride,
                min(3, last) * rowStride, min(4, last) * rowStride, min(5, last) * rowStride)
    }

    // MARK: Micro-kernel

    /// C[0..<rows, 0..<cols] = alpha · (A·B) + beta · C (or + bias, see TileUpdate) for one MR × NR tile
    /// of packed operands: A as kc columns of MR values (`packATile`), B as kc rows of NR values
    /// (`packBPanel`, NR values readable even past `cols`). beta == 0 means C is not read.
    /// Full tiles run the 6-row kernel inlined here; tiles of r < 6 rows (`RowTiling`: W1's m = 32
    /// ends with two of 4 rows) call a kernel for exactly r rows, where a 6-row kernel would waste
    /// the padding rows' work. Both see the packed strides and A offsets as literals, so the
    /// unrolled loop addresses A and B with constant displacements.
    @inline(__always)
    static func microTile<T: GemmScalar>(
        kc: Int, a: UnsafePointer<T>, b: UnsafePointer<T>,
        c: UnsafeMutablePointer<T>, ldc: Int, rows: Int, cols: Int,
        update: TileUpdate<T>
    ) {
        if rows == GemmBlocking.mr {
            microTileRows(GemmBlocking.mr, 2, kc: kc, a: a, aRowOffsets: (0, 1, 2, 3, 4, 5), aKStride: GemmBlocking.mr,
                          b: b, bKStride: 2 * T.Vector.scalarCount, c: c, ldc: ldc, cols: cols, update: update)
        } else {
            edgeRowsTile(kc: kc, a: a, b: b, c: c, ldc: ldc, rows: rows, cols: cols, update: update)
        }
    }

    /// `microTile` for a tile one vector wide (NR = W; narrow products, see the top).
    /// The one- and two-vector kernels (this and `microTile`, `narrowEdgeRowsTile` and
    /// `edgeRowsTile`) are written out twice on purpose. Merged behind a width parameter, the Float
    /// edge kernel lost its constant-offset unrolling (138 FMA instructions became 30, in a loop);
    /// merged behind one dispatcher taking the width, nninfer's 256 → 4 output layer took twice
    /// the time.
    @inline(__always)
    static func narrowMicroTile<T: GemmScalar>(
        kc: Int,
        a: UnsafePointer<T>, aRowOffsets: (Int, Int, Int, Int, Int, Int), aKStride: Int,
        b: UnsafePointer<T>, bKStride: Int,
        c: UnsafeMutablePointer<T>, ldc: Int, rows: Int, cols: Int,
        update: TileUpdate<T>
    ) {
        if rows == GemmBlocking.mr {
            microTileRows(GemmBlocking.mr, 1, kc: kc, a: a, aRowOffsets: aRowOffsets, aKStride: aKStride, b: b, bKStride: bKStride,
                          c: c, ldc: ldc, cols: cols, update: update)
        } else {
            narrowEdgeRowsTile(kc: kc, a: a, aRowOffsets: aRowOffsets, aKStride: aKStride, b: b, bKStride: bKStride,
                               c: c, ldc: ldc, rows: rows, cols: cols, update: update)
        }
    }

    /// `narrowMicroTile` for six rows of a row-major A (k stride 1), e.g. nninfer's output layer.
    /// Its own function, with the stride a literal: the unrolled loop then addresses A as row
    /// offsets plus constant displacements. With the stride a variable, LLVM kept one offset per
    /// (row, unrolled k step) on the stack and reloaded each before its broadcast.
    @inline(never)
    static func narrowRowMajorTile<T: GemmScalar>(
        kc: Int, a: UnsafePointer<T>, aRowOffsets: (Int, Int, Int, Int, Int, Int),
        b: UnsafePointer<T>, bKStride: Int, c: UnsafeMutablePointer<T>, ldc: Int, cols: Int, update: TileUpdate<T>
    ) {
        microTileRows(GemmBlocking.mr, 1, kc: kc, a: a, aRowOffsets: aRowOffsets, aKStride: 1, b: b, bKStride: bKStride,
                      c: c, ldc: ldc, cols: cols, update: update)
    }

    /// `microTile` for 1…5 rows of a one-vector tile (the last tile of a narrow product).
    @inline(never)
    static func narrowEdgeRowsTile<T: GemmScalar>(
        kc: Int,
        a: UnsafePointer<T>, aRowOffsets: (Int, Int, Int, Int, Int, Int), aKStride: Int,
        b: UnsafePointer<T>, bKStride: Int,
        c: UnsafeMutablePointer<T>, ldc: Int, rows: Int, cols: Int,
        update: TileUpdate<T>
    ) {
        switch rows {
        case 5: microTileRows(5, 1, kc: kc, a: a, aRowOffsets: aRowOffsets, aKStride: aKStride, b: b, bKStride: bKStride,
                              c: c, ldc: ldc, cols: cols, update: update)
        case 4: microTileRows(4, 1, kc: kc, a: a, aRowOffsets: aRowOffsets, aKStride: aKStride, b: b, bKStride: bKStride,
                              c: c, ldc: ldc, cols: cols, update: update)
        case 3: microTileRows(3, 1, kc: kc, a: a, aRowOffsets: aRowOffsets, aKStride: aKStride, b: b, bKStride: bKStride,
                              c: c, ldc: ldc, cols: cols, update: update)
        case 2: microTileRows(2, 1, kc: kc, a: a, aRowOffsets: aRowOffsets, aKStride: aKStride, b: b, bKStride: bKStride,
                              c: c, ldc: ldc, cols: cols, update: update)
        default: microTileRows(1, 1, kc: kc, a: a, aRowOffsets: aRowOffsets, aKStride: aKStride, b: b, bKStride: bKStride,
                               c: c, ldc: ldc, cols: cols, update: update)
        }
    }

    /// `microTile` for 1…5 rows, one specialized kernel per row count (`RowTiling` leaves 1-2 row
    /// tiles only in blocks of fewer than MR rows). The packed layout is spelled out here rather
    /// than passed in: as arguments of this out-of-line function the strides were variables, and
    /// the loop reloaded spilled A offsets from the stack at every k.
    @inline(never)
    static func edgeRowsTile<T: GemmScalar>(
        kc: Int, a: UnsafePointer<T>, b: UnsafePointer<T>,
        c: UnsafeMutablePointer<T>, ldc: Int, rows: Int, cols: Int,
        update: TileUpdate<T>
    ) {
        let offsets = (0, 1, 2, 3, 4, 5), mr = GemmBlocking.mr, nr = 2 * T.Vector.scalarCount
        switch rows {
        case 5: microTileRows(5, 2, kc: kc, a: a, aRowOffsets: offsets, aKStride: mr, b: b, bKStride: nr,
                              c: c, ldc: ldc, cols: cols, update: update)
        case 4: microTileRows(4, 2, kc: kc, a: a, aRowOffsets: offsets, aKStride: mr, b: b, bKStride: nr,
                              c: c, ldc: ldc, cols: cols, update: update)
        case 3: microTileRows(3, 2, kc: kc, a: a, aRowOffsets: offsets, aKStride: mr, b: b, bKStride: nr,
                              c: c, ldc: ldc, cols: cols, update: update)
        case 2: microTileRows(2, 2, kc: kc, a: a, aRowOffsets: offsets, aKStride: mr, b: b, bKStride: nr,
                              c: c, ldc: ldc, cols: cols, update: update)
        default: microTileRows(1, 2, kc: kc, a: a, aRowOffsets: offsets, aKStride: mr, b: b, bKStride: nr,
                               c: c, ldc: ldc, cols: cols, update: update)
        }
    }

    /// The micro-kernel for `rows` (1…MR) rows of `vectors` (1 or 2) vectors; always inlined with
    /// constant `rows` and `vectors`, so the `rows > r` and `vectors > 1` tests below are resolved at
    /// compile time and unused accumulators disappear.
    @inline(__always)
    static func microTileRows<T: GemmScalar>(
        _ rows: Int, _ vectors: Int, kc: Int,
        a: UnsafePointer<T>, aRowOffsets: (Int, Int, Int, Int, Int, Int), aKStride: Int,
        b: UnsafePointer<T>, bKStride: Int,
        c: UnsafeMutablePointer<T>, ldc: Int, cols: Int,
        update: TileUpdate<T>
    ) {
        typealias V = T.Vector
        let lanes = V.scalarCount
        let (o0, o1, o2, o3, o4, o5) = aRowOffsets
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var pa = a, pb = UnsafeRawPointer(b)
        let highOffset = lanes * MemoryLayout<T>.stride
        let bStep = bKStride * MemoryLayout<T>.stride
        // C is only touched after the loop: start fetching its rows now.
        for r in 0..<rows {
            cachePrefetch(UnsafeRawPointer(c + r * ldc), 1, 3, 1)
            cachePrefetch(UnsafeRawPointer(c + r * ldc + vectors * lanes - 1), 1, 3, 1)
        }
        // B rows 8 steps ahead: the first tile of a sliver would otherwise wait on L2/L3 latency.
        let bAhead = 8 * bStep
        for _ in 0..<kc {
            cachePrefetch(pb + bAhead, 0, 3, 1)
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = vectors > 1 ? pb.loadUnaligned(fromByteOffset: highOffset, as: V.self) : V()
            var x = V(repeating: pa[o0])
            c00 = c00.addingProduct(x, b0); if vectors > 1 { c01 = c01.addingProduct(x, b1) }
            if rows > 1 {
                x = V(repeating: pa[o1])
                c10 = c10.addingProduct(x, b0); if vectors > 1 { c11 = c11.addingProduct(x, b1) }
            }
            if rows > 2 {
                x = V(repeating: pa[o2])
                c20 = c20.addingProduct(x, b0); if vectors > 1 { c21 = c21.addingProduct(x, b1) }
            }
            if rows > 3 {
                x = V(repeating: pa[o3])
                c30 = c30.addingProduct(x, b0); if vectors > 1 { c31 = c31.addingProduct(x, b1) }
            }
            if rows > 4 {
                x = V(repeating: pa[o4])
                c40 = c40.addingProduct(x, b0); if vectors > 1 { c41 = c41.addingProduct(x, b1) }
            }
            if rows > 5 {
                x = V(repeating: pa[o5])
                c50 = c50.addingProduct(x, b0); if vectors > 1 { c51 = c51.addingProduct(x, b1) }
            }
            pa += aKStride
            pb += bStep
        }

        if cols == vectors * lanes {
            storeRow(c, vectors, c00, c01, update)
            if rows > 1 { storeRow(c + ldc, vectors, c10, c11, update) }
            if rows > 2 { storeRow(c + 2 * ldc, vectors, c20, c21, update) }
            if rows > 3 { storeRow(c + 3 * ldc, vectors, c30, c31, update) }
            if rows > 4 { storeRow(c + 4 * ldc, vectors, c40, c41, update) }
            if rows > 5 { storeRow(c + 5 * ldc, vectors, c50, c51, update) }
            return
        }
        // Edge tile: spill the accumulators, then update only the valid part of C.
        withUnsafeTemporaryAllocation(of: V.self, capacity: 12) { tile in
            tile[0] = c00; tile[1] = c01; tile[2] = c10; tile[3] = c11; tile[4] = c20; tile[5] = c21
            tile[6] = c30; tile[7] = c31; tile[8] = c40; tile[9] = c41; tile[10] = c50; tile[11] = c51
            let values = UnsafeRawPointer(tile.baseAddress!).assumingMemoryBound(to: T.self)
            for r in 0..<rows {
                let cRow = c + r * ldc
                let accRow = values + r * 2 * lanes
                for j in 0..<cols {
                    cRow[j] = update.value(accRow[j], old: cRow[j], column: j)
                }
            }
        }
    }

    /// One full row of a tile (`vectors` = 1 or 2 vectors: `low`, then `high`) written to C as `update` says.
    @inline(__always)
    static func storeRow<T: GemmScalar>(_ c: UnsafeMutablePointer<T>, _ vectors: Int, _ low: T.Vector, _ high: T.Vector,
                                        _ update: TileUpdate<T>) {
        typealias V = T.Vector
        let raw = UnsafeMutableRawPointer(c)
        let highOffset = V.scalarCount * MemoryLayout<T>.stride
        // alpha = 1 (every caller but the gradient scaling) skips the multiply, beta = 1 (later K
        // blocks) the other: both products are exact there, and the generic vector product compiles
        // to lane shuffles in this function. Unfused, so the bits equal the scalar path's.
        let scaled = update.alpha == 1 ? (low, high) : (V(repeating: update.alpha) * low, V(repeating: update.alpha) * high)
        var newLow = scaled.0
        var newHigh = vectors > 1 ? scaled.1 : V()
        if let bias = update.bias {
            let biasRaw = UnsafeRawPointer(bias)
            newLow = newLow + biasRaw.loadUnaligned(as: V.self)
            if vectors > 1 { newHigh = newHigh + biasRaw.loadUnaligned(fromByteOffset: highOffset, as: V.self) }
        } else if update.beta != 0 {
            let betaV = V(repeating: update.beta), unscaledOld = update.beta == 1
            let oldLow = UnsafeRawPointer(raw).loadUnaligned(as: V.self)
            newLow = newLow + (unscaledOld ? oldLow : betaV * oldLow)
            if vectors > 1 {
                let oldHigh = UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: highOffset, as: V.self)
                newHigh = newHigh + (unscaledOld ? oldHigh : betaV * oldHigh)
            }
        }
        if update.relu {
            newLow = T.relu(newLow)
            if vectors > 1 { newHigh = T.relu(newHigh) }
        }
        raw.storeBytes(of: newLow, as: V.self)
        if vectors > 1 { raw.storeBytes(of: newHigh, toByteOffset: highOffset, as: V.self) }
    }
}
