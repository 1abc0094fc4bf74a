// Single-precision matrix product, row-major:  C = alpha · op(A) · op(B) + beta · C
//   op(A): m × k  (A stored m×k with leading dimension lda, or k×m when transA)
//   op(B): k × n  (B stored k×n with leading dimension ldb, or n×k when transB)
//   C:     m × n  (leading dimension ldc)
// NOTE: placeholder implementation (naive); the kernels issue replaces the body, not the API.

import NNParallel

public enum Gemm {
    public static func sgemm(
        transA: Bool, transB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        pool: WorkerPool = .serial
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += av * bv
                }
                let old = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * sum + old
            }
        }
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
        pool: WorkerPool = .serial
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Double = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += av * bv
                }
                let old = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * sum + old
            }
        }
    }
}
