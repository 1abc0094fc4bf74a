import XCTest
@testable import NNEngine
import NNParallel

/// Checks Gemm.sgemm / Gemm.dgemm (and each internal path) against a naive triple loop that
/// accumulates in Double, with a rigorous error bound: |error| <= (k + 3)·eps·(|alpha|·Σ|a·b| + |beta·c|).
final class GemmTests: XCTestCase {
    /// Odd shapes crossing every tile edge (MR = 6, NR = 16 floats / 8 doubles) and K-block edge (256).
    static let shapes: [(m: Int, k: Int, n: Int)] = [
        (1, 1, 1), (7, 13, 5), (33, 65, 17), (100, 1, 3), (1, 300, 1),
        (6, 16, 16), (5, 15, 15), (12, 7, 32), (13, 9, 33), (18, 257, 8), (19, 513, 31), (145, 20, 17),
        // Edge tiles of every row count 1…5 (m mod 6), and the rebalanced last two tiles of
        // RowTiling (6 + r → two tiles of 3-5 rows for r = 1…3), including W1's m = 32 (4 + 4 rows)
        // with its narrow n = 10 output layer.
        (32, 64, 10), (14, 37, 20), (4, 70, 16),
    ]
    static let transposes = [(false, false), (true, false), (false, true), (true, true)]
    static let scalings: [(alpha: Double, beta: Double)] = [(1, 0), (0.5, 1), (-2, 0.25)]

    struct Case<T: GemmScalar> {
        let transA: Bool, transB: Bool
        let m: Int, n: Int, k: Int
        let lda: Int, ldb: Int, ldc: Int
        let alpha: T, beta: T
        var a: [T], b: [T], c: [T]

        init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, pad: Int, alpha: T, beta: T, seed: UInt64) {
            self.transA = transA; self.transB = transB
            self.m = m; self.n = n; self.k = k
            lda = (transA ? m : k) + pad
            ldb = (transB ? k : n) + pad
            ldc = n + pad
            self.alpha = alpha; self.beta = beta
            var state = seed
            func next() -> T {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return T(Int((state >> 33) % 2001) - 1000) / 1000
            }
            a = (0..<(transA ? k : m) * lda).map { _ in next() }
            b = (0..<(transB ? n : k) * ldb).map { _ in next() }
            c = (0..<m * ldc).map { _ in next() }
        }

        /// Checks only the first rows of C when set (the naive reference is slow in debug builds).
        var rowsToCheck: Int? = nil

        func aValue(_ i: Int, _ p: Int) -> Double { Double(transA ? a[p * lda + i] : a[i * lda + p]) }
        func bValue(_ p: Int, _ j: Int) -> Double { Double(transB ? b[j * ldb + p] : b[p * ldb + j]) }

        /// Runs the product with `run` and returns the resulting C.
        func compute(_ run: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void) -> [T] {
            var out = c
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in run(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!) }
                }
            }
            return out
        }

        func operands(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) -> GemmOperands<T> {
            GemmOperands(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                         a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }

        func check(_ result: [T], epsilon: Double, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
            for i in 0..<(rowsToCheck ?? m) {
                for j in 0..<ldc {
                    let got = Double(result[i * ldc + j])
                    if j >= n {
                        // Padding past n must be untouched.
                        if result[i * ldc + j] != c[i * ldc + j] {
                            XCTFail("\(label): C[\(i), \(j)] in the ldc padding was written", file: file, line: line)
                            return
                        }
                        continue
                    }
                    var sum = 0.0, magnitude = 0.0
                    for p in 0..<k {
                        sum += aValue(i, p) * bValue(p, j)
                        magnitude += abs(aValue(i, p) * bValue(p, j))
                    }
                    let old = Double(c[i * ldc + j])
                    let expected = Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * old)
                    let bound = Double(k + 3) * epsilon * (abs(Double(alpha)) * magnitude + abs(Double(beta) * old)) + 1e-30
                    if !(abs(got - expected) <= bound) {
                        XCTFail("\(label): C[\(i), \(j)] = \(got), expected \(expected) ± \(bound)", file: file, line: line)
                        return
                    }
                }
            }
        }
    }

    func testSgemmMatchesNaiveLoopOnOddShapes() {
        var seed: UInt64 = 1
        for (m, k, n) in Self.shapes {
            for (transA, transB) in Self.transposes {
                for (index, scaling) in Self.scalings.enumerated() {
                    seed += 1
                    let test = Case<Float>(transA: transA, transB: transB, m: m, n: n, k: k, pad: index,
                                           alpha: Float(scaling.alpha), beta: Float(scaling.beta), seed: seed)
                    let label = "sgemm \(m)x\(k)x\(n) transA=\(transA) transB=\(transB) alpha=\(scaling.alpha) beta=\(scaling.beta) pad=\(index)"
                    let result = test.compute { a, b, c in
                        Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: test.alpha,
                                   a: a, lda: test.lda, b: b, ldb: test.ldb, beta: test.beta, c: c, ldc: test.ldc)
                    }
                    test.check(result, epsilon: Double(Float.ulpOfOne), label)
                }
            }
        }
    }

    func testDgemmMatchesNaiveLoopOnOddShapes() {
        var seed: UInt64 = 100
        for (m, k, n) in Self.shapes {
            for (transA, transB) in Self.transposes {
                seed += 1
                let scaling = Self.scalings[Int(seed % 3)]
                let test = Case<Double>(transA: transA, transB: transB, m: m, n: n, k: k, pad: Int(seed % 2),
                                        alpha: scaling.alpha, beta: scaling.beta, seed: seed)
                let result = test.compute { a, b, c in
                    Gemm.dgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: test.alpha,
                               a: a, lda: test.lda, b: b, ldb: test.ldb, beta: test.beta, c: c, ldc: test.ldc)
                }
                test.check(result, epsilon: Double.ulpOfOne, "dgemm \(m)x\(k)x\(n) transA=\(transA) transB=\(transB)")
            }
        }
    }

    /// Every path gives the same bits as every other path, with 1, 2 or 3 threads, for both types:
    /// the summation order depends on k only.
    func testAllPathsAndThreadCountsAreBitIdentical() {
        let pools = [WorkerPool.serial, WorkerPool(threads: 2), WorkerPool(threads: 3)]
        let shapes = Self.shapes + [(7, 3, 3100), (20, 600, 20), (150, 30, 70)]
        var seed: UInt64 = 500
        for (m, k, n) in shapes {
            for (transA, transB) in Self.transposes {
                seed += 1
                let test = Case<Float>(transA: transA, transB: transB, m: m, n: n, k: k, pad: 1,
                                       alpha: 0.75, beta: seed % 2 == 0 ? 0 : 0.5, seed: seed)
                let reference = test.compute { a, b, c in
                    GemmEngine.run(test.operands(a, b, c), pool: .serial, path: .scalar)
                }
                test.check(reference, epsilon: Double(Float.ulpOfOne), "scalar path \(m)x\(k)x\(n)")
                for path in [GemmPath.inPlace, .packed] {
                    // Three threads (more than the cores) only on the smaller shapes: debug builds are slow.
                    for pool in pools where pool.threadCount < 3 || m * n * k < 50_000 {
                        let result = test.compute { a, b, c in
                            GemmEngine.run(test.operands(a, b, c), pool: pool, path: path, threads: pool.threadCount)
                        }
                        XCTAssertEqual(result, reference, "\(path) with \(pool.threadCount) threads, \(m)x\(k)x\(n) transA=\(transA) transB=\(transB)")
                    }
                }
                if m * n * k > 50_000 { continue }
                let public2 = test.compute { a, b, c in
                    Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: test.alpha, a: a, lda: test.lda,
                               b: b, ldb: test.ldb, beta: test.beta, c: c, ldc: test.ldc, pool: pools[1])
                }
                XCTAssertEqual(public2, reference, "sgemm with 2 threads \(m)x\(k)x\(n)")
            }
        }
        // Double: the same rule.
        let test = Case<Double>(transA: true, transB: false, m: 29, n: 19, k: 270, pad: 2, alpha: 1.5, beta: 1, seed: 9)
        let reference = test.compute { a, b, c in GemmEngine.run(test.operands(a, b, c), pool: .serial, path: .scalar) }
        for path in [GemmPath.inPlace, .packed] {
            let result = test.compute { a, b, c in GemmEngine.run(test.operands(a, b, c), pool: pools[1], path: path, threads: 2) }
            XCTAssertEqual(result, reference, "dgemm \(path)")
        }
    }

    /// Large enough for the default choice to use the packed path and both threads.
    func testLargeProductTwoThreadsBitIdenticalAndCorrect() {
        let test = Case<Float>(transA: false, transB: true, m: 100, n: 170, k: 260, pad: 0, alpha: 1, beta: 0, seed: 77)
        XCTAssertEqual(GemmPath.choose(m: 100, n: 170, k: 260, lanes: 8), .packed)
        let one = test.compute { a, b, c in
            Gemm.sgemm(transA: false, transB: true, m: 100, n: 170, k: 260, alpha: 1, a: a, lda: test.lda,
                       b: b, ldb: test.ldb, beta: 0, c: c, ldc: test.ldc)
        }
        let pool = WorkerPool(threads: 2)
        let two = test.compute { a, b, c in
            Gemm.sgemm(transA: false, transB: true, m: 100, n: 170, k: 260, alpha: 1, a: a, lda: test.lda,
                       b: b, ldb: test.ldb, beta: 0, c: c, ldc: test.ldc, pool: pool)
        }
        XCTAssertEqual(one, two)
        // Spot-check correctness on a few rows (the full check is slow in debug builds).
        var firstRows = test
        firstRows.rowsToCheck = 3
        firstRows.check(two, epsilon: Double(Float.ulpOfOne), "100x260x170 packed, rows 0..<3")
    }

    /// The ReLU epilogue gives exactly the bits of the product followed by Activation.relu's own
    /// pass, on every path and thread count, with and without a bias, across K blocks (the clamp
    /// must wait for the last one: k = 300 and 600 have two and three).
    func testReLUEpilogueEqualsProductThenReLU() {
        let pools = [WorkerPool.serial, WorkerPool(threads: 2)]
        var seed: UInt64 = 950
        for (m, k, n) in [(32, 64, 10), (7, 300, 40), (13, 9, 33), (20, 600, 20), (1, 1, 1)] {
            for withBias in [false, true] {
                seed += 1
                let test = Case<Float>(transA: seed % 3 == 0, transB: false, m: m, n: n, k: k, pad: 1,
                                       alpha: 1, beta: withBias ? 0 : 0.5, seed: seed)
                let bias = (0..<n).map { Float($0) * 0.37 - 3.5 }
                func operands(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                              _ biasPointer: UnsafePointer<Float>?, relu: Bool) -> GemmOperands<Float> {
                    GemmOperands(transA: test.transA, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: test.lda,
                                 b: b, ldb: test.ldb, beta: test.beta, c: c, ldc: test.ldc, bias: biasPointer, relu: relu)
                }
                let reference = bias.withUnsafeBufferPointer { biasPointer in
                    test.compute { a, b, c in
                        GemmEngine.run(operands(a, b, c, withBias ? biasPointer.baseAddress : nil, relu: false), pool: .serial, path: .scalar)
                        for i in 0..<m { Activation.relu.applyInPlace(c + i * test.ldc, rows: 1, width: n) }
                    }
                }
                XCTAssertTrue((0..<m).contains { i in (0..<n).contains { reference[i * test.ldc + $0] == 0 } } || m * n < 4,
                              "the case clamps nothing: \(m)x\(k)x\(n)")
                for path in [GemmPath.scalar, .inPlace, .packed] {
                    for pool in pools {
                        let result = bias.withUnsafeBufferPointer { biasPointer in
                            test.compute { a, b, c in
                                GemmEngine.run(operands(a, b, c, withBias ? biasPointer.baseAddress : nil, relu: true),
                                               pool: pool, path: path, threads: pool.threadCount)
                            }
                        }
                        if let index = result.indices.first(where: { result[$0].bitPattern != reference[$0].bitPattern }) {
                            XCTFail("\(path), \(pool.threadCount) threads, \(m)x\(k)x\(n) bias=\(withBias): C[\(index / test.ldc), \(index % test.ldc)] is \(result[index]), expected \(reference[index])")
                        }
                    }
                }
            }
        }
    }

    /// A bias row added by the product (dense layers) gives exactly the bits of filling C with the
    /// bias and accumulating with beta = 1, on every path and thread count, across K blocks.
    /// The ReLU epilogue clamps NaN to +0, as `Activation.relu` does (z > 0 ? z : 0), on every path.
    func testReLUEpilogueTurnsNaNIntoZero() {
        let (m, k, n) = (13, 20, 40)
        var test = Case<Float>(transA: false, transB: false, m: m, n: n, k: k, pad: 0, alpha: 1, beta: 0, seed: 77)
        test.a[3 * k + 5] = .nan            // row 3 of C is all NaN before the clamp
        test.b[7 * n + 2] = -.infinity      // column 2: −inf in most rows, NaN where A is 0
        for path in [GemmPath.scalar, .inPlace, .packed] {
            let result = test.compute { a, b, c in
                GemmEngine.run(GemmOperands(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k,
                                            b: b, ldb: n, beta: 0, c: c, ldc: n, relu: true),
                               pool: .serial, path: path)
            }
            for j in 0..<n { XCTAssertEqual(result[3 * n + j].bitPattern, Float(0).bitPattern, "\(path): row 3, column \(j)") }
            XCTAssertFalse(result.contains { $0.isNaN || $0 < 0 || $0.bitPattern == (-Float(0)).bitPattern }, "\(path)")
        }
    }

    /// A pre-packed B (GemmPackedMatrix) gives the same bits as sgemm on B itself: tiny, narrow and
    /// packed products, several K blocks, two column panels (n > NC = 3072), transposed B, with and
    /// without bias and ReLU, 1 and 2 threads.
    func testPrepackedBEqualsUnpackedProduct() {
        let pools = [WorkerPool.serial, WorkerPool(threads: 2)]
        var seed: UInt64 = 1200
        for (m, k, n) in [(2, 3, 5), (30, 40, 7), (60, 256, 256), (13, 600, 40), (3, 8, 3100)] {
            for transB in [false, true] {
                for (withBias, relu) in [(false, false), (true, true), (true, false)] {
                    seed += 1
                    let test = Case<Float>(transA: seed % 2 == 0, transB: transB, m: m, n: n, k: k, pad: 1,
                                           alpha: 1, beta: 0, seed: seed)
                    let bias = (0..<n).map { Float($0 % 17) * 0.3 - 2.5 }
                    let label = "\(m)x\(k)x\(n) transB=\(transB) bias=\(withBias) relu=\(relu)"
                    let reference = bias.withUnsafeBufferPointer { biasPointer in
                        test.compute { a, b, c in
                            Gemm.sgemm(transA: test.transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: test.lda,
                                       b: b, ldb: test.ldb, beta: 0, c: c, ldc: test.ldc,
                                       bias: withBias ? biasPointer.baseAddress : nil, relu: relu)
                        }
                    }
                    if !withBias && !relu && m * n * k < 100_000 { test.check(reference, epsilon: Double(Float.ulpOfOne), label) }
                    for pool in pools {
                        let result = bias.withUnsafeBufferPointer { biasPointer in
                            test.compute { a, b, c in
                                let packed = GemmPackedMatrix(transB: transB, k: k, n: n, b: b, ldb: test.ldb)
                                Gemm.sgemm(transA: test.transA, m: m, a: a, lda: test.lda, packedB: packed, c: c, ldc: test.ldc,
                                           bias: withBias ? biasPointer.baseAddress : nil, relu: relu, pool: pool)
                            }
                        }
                        if let index = result.indices.first(where: { result[$0].bitPattern != reference[$0].bitPattern }) {
                            XCTFail("\(label), \(pool.threadCount) threads: C[\(index / test.ldc), \(index % test.ldc)] is \(result[index]), expected \(reference[index])")
                        }
                    }
                }
            }
        }
    }

    func testBiasEpilogueEqualsBroadcastThenBetaOne() {
        let pools = [WorkerPool.serial, WorkerPool(threads: 2)]
        var seed: UInt64 = 900
        for (m, k, n) in [(32, 64, 10), (7, 300, 40), (13, 9, 33), (20, 600, 20), (1, 1, 1)] {
            for transA in [false, true] {
                seed += 1
                let test = Case<Float>(transA: transA, transB: false, m: m, n: n, k: k, pad: 1,
                                       alpha: 1, beta: 0, seed: seed)
                let bias = (0..<n).map { Float($0) * 0.37 - 1.5 }
                var broadcast = test
                for i in 0..<m { for j in 0..<n { broadcast.c[i * test.ldc + j] = bias[j] } }
                let reference = broadcast.compute { a, b, c in
                    GemmEngine.run(GemmOperands(transA: transA, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: test.lda,
                                                b: b, ldb: test.ldb, beta: 1, c: c, ldc: test.ldc), pool: .serial, path: .scalar)
                }
                for path in [GemmPath.scalar, .inPlace, .packed] {
                    for pool in pools {
                        let result = bias.withUnsafeBufferPointer { biasPointer in
                            test.compute { a, b, c in
                                GemmEngine.run(GemmOperands(transA: transA, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: test.lda,
                                                            b: b, ldb: test.ldb, beta: 0, c: c, ldc: test.ldc, bias: biasPointer.baseAddress!),
                                               pool: pool, path: path, threads: pool.threadCount)
                            }
                        }
                        for i in 0..<m {
                            for j in 0..<test.ldc where result[i * test.ldc + j].bitPattern != reference[i * test.ldc + j].bitPattern
                                && j < n {
                                XCTFail("\(path), \(pool.threadCount) threads, \(m)x\(k)x\(n) transA=\(transA): C[\(i), \(j)]")
                                return
                            }
                            // Padding past n stays as it was.
                            for j in n..<test.ldc where result[i * test.ldc + j] != test.c[i * test.ldc + j] {
                                XCTFail("\(path): padding C[\(i), \(j)] written")
                                return
                            }
                        }
                    }
                }
            }
        }
    }

    func testBetaZeroIgnoresNaNInC() {
        var c = [Float](repeating: .nan, count: 7 * 9)
        let a = [Float](repeating: 1, count: 7 * 4), b = [Float](repeating: 2, count: 4 * 9)
        for path in [GemmPath.scalar, .inPlace, .packed] {
            c = [Float](repeating: .nan, count: 7 * 9)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        let op = GemmOperands(transA: false, transB: false, m: 7, n: 9, k: 4, alpha: 1, a: pa.baseAddress!, lda: 4,
                                              b: pb.baseAddress!, ldb: 9, beta: 0, c: pc.baseAddress!, ldc: 9)
                        GemmEngine.run(op, pool: .serial, path: path)
                    }
                }
            }
            XCTAssertEqual(c, [Float](repeating: 8, count: 7 * 9), "\(path)")
        }
    }

    func testEmptyDimensions() {
        let a: [Float] = [1, 2, 3], b: [Float] = [4, 5, 6]
        var c: [Float] = [10, 20, 30, 40]
        // k = 0: C = beta · C.
        Gemm.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: a, lda: 1, b: b, ldb: 2,
                   beta: 0.5, c: &c, ldc: 2)
        XCTAssertEqual(c, [5, 10, 15, 20])
        Gemm.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: a, lda: 1, b: b, ldb: 2,
                   beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [0, 0, 0, 0])
        // m = 0 or n = 0: nothing is written.
        c = [10, 20, 30, 40]
        Gemm.sgemm(transA: false, transB: false, m: 0, n: 2, k: 3, alpha: 1, a: a, lda: 3, b: b, ldb: 2,
                   beta: 0, c: &c, ldc: 2)
        Gemm.sgemm(transA: false, transB: false, m: 2, n: 0, k: 3, alpha: 1, a: a, lda: 3, b: b, ldb: 1,
                   beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [10, 20, 30, 40])
    }

    /// Products at most one vector wide (n ≤ 8 floats / 4 doubles) take the in-place path with
    /// one-vector tiles: W2's output layer (256×256×4 forward, its weight gradient 256×4 over k = 256
    /// with A transposed) and every edge-row count, against the naive loop, and bit-identical to the
    /// scalar and packed paths (16-wide tiles) at 1 and 2 threads, across K blocks and with a bias row.
    func testNarrowOutputKernelMatchesNaiveAndOtherPaths() {
        XCTAssertEqual(GemmPath.choose(m: 256, n: 4, k: 256, lanes: 8), .inPlace)
        XCTAssertEqual(GemmPath.choose(m: 4096, n: 8, k: 512, lanes: 8), .inPlace)
        XCTAssertEqual(GemmPath.choose(m: 4096, n: 9, k: 512, lanes: 8), .packed)
        let pools = [WorkerPool.serial, WorkerPool(threads: 2)]
        var seed: UInt64 = 1300
        let shapes: [(m: Int, k: Int, n: Int)] = [(256, 256, 4), (1, 1, 1), (7, 13, 5), (11, 300, 8), (17, 40, 1),
                                                  (29, 9, 3), (64, 520, 7), (5, 64, 2)]
        for (m, k, n) in shapes {
            for (transA, transB) in Self.transposes {
                seed += 1
                var test = Case<Float>(transA: transA, transB: transB, m: m, n: n, k: k, pad: 1,
                                       alpha: seed % 3 == 0 ? 1 : 0.75, beta: seed % 2 == 0 ? 0 : 0.5, seed: seed)
                if m > 64 { test.rowsToCheck = 20 }
                let reference = test.compute { a, b, c in GemmEngine.run(test.operands(a, b, c), pool: .serial, path: .scalar) }
                let narrow = test.compute { a, b, c in GemmEngine.run(test.operands(a, b, c), pool: .serial, path: .inPlace) }
                test.check(narrow, epsilon: Double(Float.ulpOfOne), "narrow \(m)x\(k)x\(n) transA=\(transA) transB=\(transB)")
                XCTAssertEqual(narrow, reference, "narrow vs scalar \(m)x\(k)x\(n) transA=\(transA) transB=\(transB)")
                for pool in pools {
                    for path in [GemmPath.inPlace, .packed] {
                        let result = test.compute { a, b, c in
                            GemmEngine.run(test.operands(a, b, c), pool: pool, path: path, threads: pool.threadCount)
                        }
                        XCTAssertEqual(result, reference, "\(path), \(pool.threadCount) threads, \(m)x\(k)x\(n) transA=\(transA) transB=\(transB)")
                    }
                }
            }
        }
        // Bias epilogue on one-vector tiles: the bits of filling C with the bias and using beta = 1.
        let biasCase = Case<Float>(transA: false, transB: false, m: 31, n: 4, k: 270, pad: 1, alpha: 1, beta: 0, seed: 77)
        let bias: [Float] = [0.25, -1.5, 3, 0.125]
        let withBias = biasCase.compute { a, b, c in
            bias.withUnsafeBufferPointer { bp in
                Gemm.sgemm(transA: false, transB: false, m: 31, n: 4, k: 270, alpha: 1, a: a, lda: biasCase.lda,
                           b: b, ldb: biasCase.ldb, beta: 0, c: c, ldc: biasCase.ldc, bias: bp.baseAddress)
            }
        }
        let broadcast = biasCase.compute { a, b, c in
            for i in 0..<31 { for j in 0..<4 { c[i * biasCase.ldc + j] = bias[j] } }
            GemmEngine.run(GemmOperands(transA: false, transB: false, m: 31, n: 4, k: 270, alpha: 1, a: a, lda: biasCase.lda,
                                        b: b, ldb: biasCase.ldb, beta: 1, c: c, ldc: biasCase.ldc), pool: .serial, path: .scalar)
        }
        XCTAssertEqual(withBias, broadcast)
        // Double: one vector is 4 lanes, so n = 3 is narrow and n = 6 is not.
        for n in [3, 6] {
            let test = Case<Double>(transA: true, transB: true, m: 23, n: n, k: 261, pad: 2, alpha: 1.5, beta: 1, seed: 31)
            let reference = test.compute { a, b, c in GemmEngine.run(test.operands(a, b, c), pool: .serial, path: .scalar) }
            let result = test.compute { a, b, c in GemmEngine.run(test.operands(a, b, c), pool: pools[1], path: .inPlace, threads: 2) }
            XCTAssertEqual(result, reference, "dgemm in place n = \(n)")
            test.check(result, epsilon: Double.ulpOfOne, "dgemm in place n = \(n)")
        }
    }

    func testRowTilingCoversTheBlockWithoutShortTiles() {
        let mr = GemmBlocking.mr
        for rows in 1...200 {
            let tiling = RowTiling(rows: rows)
            // As many tiles as MR-row tiles would need: the packed A buffer and the row-block split
            // count tiles that way.
            XCTAssertEqual(tiling.count, (rows + mr - 1) / mr, "rows = \(rows)")
            var next = 0
            for t in 0..<tiling.count {
                let tile = tiling.tile(t)
                XCTAssertEqual(tile.start, next, "rows = \(rows), tile \(t)")
                XCTAssert((1...mr).contains(tile.rows), "rows = \(rows), tile \(t): \(tile.rows) rows")
                if rows >= mr { XCTAssertGreaterThanOrEqual(tile.rows, 3, "rows = \(rows), tile \(t)") }
                next += tile.rows
            }
            XCTAssertEqual(next, rows, "rows = \(rows)")
        }
        XCTAssertEqual((0..<6).map { RowTiling(rows: 32).tile($0).rows }, [6, 6, 6, 6, 4, 4])
        XCTAssertEqual((0..<2).map { RowTiling(rows: 7).tile($0).rows }, [4, 3])
        XCTAssertEqual((0..<2).map { RowTiling(rows: 9).tile($0).rows }, [5, 4])
        XCTAssertEqual((0..<2).map { RowTiling(rows: 10).tile($0).rows }, [6, 4])
    }

    func testKBlockingDependsOnlyOnK() {
        XCTAssertEqual(kBlocking(1).count, 1)
        XCTAssertEqual(kBlocking(256).count, 1)
        XCTAssertEqual(kBlocking(257).count, 2)
        XCTAssertEqual(kBlocking(784).size, 196)
        for k in [1, 255, 256, 257, 784, 1024, 1500] {
            let (count, size) = kBlocking(k)
            XCTAssertLessThanOrEqual(size, GemmBlocking.kc)
            XCTAssertGreaterThanOrEqual(count * size, k)
            XCTAssertLessThan((count - 1) * size, k, "k = \(k): the last block is empty")
        }
    }
}
