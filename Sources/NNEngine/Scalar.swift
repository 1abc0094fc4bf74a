// The scalar types the engine runs in: Float for training and inference (fast), Double for gradient
// checks and references. All layer code is generic over `EngineScalar`, so the gradient check runs
// exactly the same code as training, only in higher precision.

import Glibc
import NNParallel
#if arch(x86_64)
// The compiler's x86 intrinsics (a Clang module of the toolchain, not a package): SIMD square roots.
import _Builtin_intrinsics.intel
#endif

public protocol EngineScalar: BinaryFloatingPoint, SIMDScalar, Codable, CustomStringConvertible
{
    /// The 256-bit vector of this scalar (SIMD8<Float>, SIMD4<Double>): element-wise loops use it.
    associatedtype Vector: SIMD where Vector.Scalar == Self
    /// Row-major C = alpha·op(A)·op(B) + beta·C (or + bias in every row); dispatches to
    /// `Gemm.sgemm` / `Gemm.dgemm`.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int, bias: UnsafePointer<Self>?, pool: WorkerPool)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    /// Lane-wise correctly rounded √ (one vsqrtps/vsqrtpd). `Vector.squareRoot()` calls libm's
    /// sqrtf once per lane (errno semantics keep LLVM from vectorizing it): 8× slower in Adam.
    static func squareRoot(_ v: Vector) -> Vector
    /// Lane-wise ReLU, `z > 0 ? z : 0` (NaN and −0 become +0), as one vmaxps/vmaxpd(z, 0), whose
    /// operand order gives exactly that. Written with Swift's SIMD operations in generic code, the
    /// comparison and select are lowered lane by lane through memory.
    static func relu(_ v: Vector) -> Vector
}

extension EngineScalar {
    /// `gemm` without a bias row (the form callers used before the bias epilogue existed).
    @inline(__always) public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int, pool: WorkerPool
    ) {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
             b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: nil, pool: pool)
    }
}

extension Float: EngineScalar {
    public typealias Vector = SIMD8<Float>
    @inline(__always) public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, pool: WorkerPool
    ) {
        Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                   b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: bias, pool: pool)
    }
    @inline(__always) public static func exp(_ x: Float) -> Float { Glibc.expf(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { Glibc.logf(x) }
    @inline(__always) public static func log1p(_ x: Float) -> Float { Glibc.log1pf(x) }
    @inline(__always) public static func tanh(_ x: Float) -> Float { Glibc.tanhf(x) }
    @inline(__always) public static func cos(_ x: Float) -> Float { Glibc.cosf(x) }
    @inline(__always) public static func squareRoot(_ v: SIMD8<Float>) -> SIMD8<Float> {
        #if arch(x86_64)
        // Two SSE halves (baseline x86-64); LLVM merges them into one vsqrtps ymm under AVX.
        return SIMD8(lowHalf: _mm_sqrt_ps(v.lowHalf), highHalf: _mm_sqrt_ps(v.highHalf))
        #else
        return v.squareRoot()
        #endif
    }
    @inline(__always) public static func relu(_ v: SIMD8<Float>) -> SIMD8<Float> {
        #if arch(x86_64)
        // MAXPS(a, b) = a > b ? a : b, lane by lane; two SSE halves merge into one vmaxps ymm under AVX.
        let zero = _mm_setzero_ps()
        return SIMD8(lowHalf: _mm_max_ps(v.lowHalf, zero), highHalf: _mm_max_ps(v.highHalf, zero))
        #else
        var r = v
        for i in r.indices { r[i] = v[i] > 0 ? v[i] : 0 }
        return r
        #endif
    }
}

extension Double: EngineScalar {
    public typealias Vector = SIMD4<Double>
    @inline(__always) public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int, bias: UnsafePointer<Double>?, pool: WorkerPool
    ) {
        Gemm.dgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                   b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: bias, pool: pool)
    }
    @inline(__always) public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Glibc.log(x) }
    @inline(__always) public static func log1p(_ x: Double) -> Double { Glibc.log1p(x) }
    @inline(__always) public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    @inline(__always) public static func cos(_ x: Double) -> Double { Glibc.cos(x) }
    @inline(__always) public static func squareRoot(_ v: SIMD4<Double>) -> SIMD4<Double> {
        #if arch(x86_64)
        return SIMD4(lowHalf: _mm_sqrt_pd(v.lowHalf), highHalf: _mm_sqrt_pd(v.highHalf))
        #else
        return v.squareRoot()
        #endif
    }
    @inline(__always) public static func relu(_ v: SIMD4<Double>) -> SIMD4<Double> {
        #if arch(x86_64)
        let zero = _mm_setzero_pd()
        return SIMD4(lowHalf: _mm_max_pd(v.lowHalf, zero), highHalf: _mm_max_pd(v.highHalf, zero))
        #else
        var r = v
        for i in r.indices { r[i] = v[i] > 0 ? v[i] : 0 }
        return r
        #endif
    }
}

/// A fixed-size, heap-allocated array of scalars with a stable address, owned by a layer or an
/// optimizer. Hot loops use `pointer` directly (no copy-on-write checks, no allocation).
public final class EngineTensor<T: EngineScalar> {
    /// Stable name within its layer, e.g. "weight", "running_var".
    public let name: String
    /// Shape, row-major, e.g. [inputs, outputs] for a dense weight.
    public let shape: [Int]
    public let count: Int
    public let pointer: UnsafeMutablePointer<T>

    public init(name: String, shape: [Int], fill: T = 0) {
        self.name = name
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.pointer = .allocate(capacity: Swift.max(count, 1))
        pointer.initialize(repeating: fill, count: Swift.max(count, 1))
    }

    deinit { pointer.deallocate() }

    public var buffer: UnsafeMutableBufferPointer<T> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// A copy of the values, row-major.
    public var values: [T] { Array(buffer) }

    /// Replaces the values; throws if the element count does not match the shape. Inlinable so it
    /// is specialized where it is called: unspecialized, each element's conversion went through the
    /// generic BinaryFloatingPoint initializer (about 19 ns a value: nninfer took 0.17 s instead of
    /// 0.11 s to start on a 3.2M-parameter model).
    @inlinable
    public func setValues<S: BinaryFloatingPoint>(_ newValues: [S]) throws {
        guard newValues.count == count else {
            throw EngineError.tensorSizeMismatch(name: name, shape: shape, found: newValues.count)
        }
        for i in 0..<count { pointer[i] = T(newValues[i]) }
    }

    func fill(_ value: T) { pointer.update(repeating: value, count: count) }
}
