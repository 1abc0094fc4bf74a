// Matrix products, row-major:  C = alpha · op(A) · op(B) + beta · C
//   op(A): m × k  (A stored m×k with leading dimension lda, or k×m when transA)
//   op(B): k × n  (B stored k×n with leading dimension ldb, or n×k when transB)
//   C:     m × n  (leading dimension ldc)
// beta == 0 overwrites C without reading it; k == 0 gives C = beta · C; m == 0 or n == 0 does nothing.
// With `bias` ([n]): C = alpha · op(A) · op(B) + bias in every row, beta ignored (a dense layer's
// z = x·W + b in one pass over C; bit-identical to filling C with b and using beta = 1).
// With `relu`: C = max(C, 0) as the last step (`z > 0 ? z : 0`, Activation.relu's formula), in the
// same pass: a dense layer and its ReLU at inference without a second pass over C.
// Results are bit-identical for any pool size (see GemmKernel.swift for the summation order).
// C must not overlap A or B.

import NNParallel

public enum Gemm {
    /// Rows of C computed together by the kernels: callers free to choose m (chunked inference)
    /// take a multiple of it, since a partial last tile runs a slower kernel.
    public static let rowTile = GemmBlocking.mr

    /// Single-precision product (cache-blocked, AVX when the build targets it, multi-threaded by
    /// blocks of C when `pool` has several threads and the product is large enough).
    public static func sgemm(
        transA: Bool, transB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>? = nil,
        relu: Bool = false,
        pool: WorkerPool = .serial
    ) {
        GemmEngine.run(GemmOperands(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: bias, relu: relu),
                       pool: pool)
    }
}

/// A matrix op(B) (k × n) packed once, for many products with the same B: a layer's weights at
/// inference. `Gemm.sgemm(…, packedB:)` then skips packing B on every call, with results
/// bit-identical to `sgemm` on the matrix itself.
public final class GemmPackedMatrix {
    public let k: Int
    public let n: Int
    /// Row-major k × n copy, for the paths that read B in place (narrow and tiny products).
    let values: UnsafeMutablePointer<Float>
    /// The packed path's panels (nil when n fits one vector: such products never take that path).
    let panels: GemmPackedPanels<Float>?

    /// Packs op(B): B stored k×n with leading dimension ldb, or n×k when transB.
    public init(transB: Bool = false, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int) {
        precondition(k > 0 && n > 0, "GemmPackedMatrix: empty matrix")
        self.k = k
        self.n = n
        values = .allocate(capacity: k * n)
        for p in 0..<k {
            for j in 0..<n { values[p * n + j] = transB ? b[j * ldb + p] : b[p * ldb + j] }
        }
        panels = n > Float.Vector.scalarCount ? GemmPackedPanels(b: b, ldb: ldb, transB: transB, k: k, n: n) : nil
    }

    deinit { values.deallocate() }
}

extension Gemm {
    /// C = op(A) · B (+ bias in every row, then max(C, 0) with `relu`) for a pre-packed B (m × k
    /// times k × n): the same result, bit for bit, as `sgemm` with alpha = 1 and beta = 0.
    public static func sgemm(
        transA: Bool = false,
        m: Int,
        a: UnsafePointer<Float>, lda: Int,
        packedB: GemmPackedMatrix,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>? = nil,
        relu: Bool = false,
        pool: WorkerPool = .serial
    ) {
        GemmEngine.run(GemmOperands(transA: transA, transB: false, m: m, n: packedB.n, k: packedB.k, alpha: 1,
                                    a: a, lda: lda, b: packedB.values, ldb: packedB.n, beta: 0, c: c, ldc: ldc,
                                    bias: bias, relu: relu),
                       pool: pool, prepacked: packedB.panels)
    }
}

extension Gemm {
    /// Double-precision twin of `sgemm`, same conventions (used by gradient checks and references).
    public static func dgemm(
        transA: Bool, transB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Double,
        a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double,
        c: UnsafeMutablePointer<Double>, ldc: Int,
        bias: UnsafePointer<Double>? = nil,
        pool: WorkerPool = .serial
    ) {
        GemmEngine.run(GemmOperands(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: bias),
                       pool: pool)
    }
}
