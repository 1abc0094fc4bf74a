// Element-wise loops in whole SIMD vectors (8 floats / 4 doubles, one AVX register).
//
// The loop bodies of optimizers and layers are written once, on vectors; `forEachVector` calls the
// body on full vectors and then once on the partial tail, where `loadLanes` reads only the valid
// lanes (the others are 0) and `storeLanes` writes only the valid lanes. Every lane does exactly
// the IEEE operations the scalar formula would, so results do not depend on the vector width.

/// LLVM's prefetch intrinsic (a hint; never faults), for the GEMM kernels and `gatherRows`:
/// rw 0 = read / 1 = write, locality 3 = keep in all cache levels, cacheType 1 = data.
@_silgen_name("llvm.prefetch.p0")
func cachePrefetch(_ address: UnsafeRawPointer, _ rw: Int32, _ locality: Int32, _ cacheType: Int32)

/// Calls `body(offset, lanes)` for offset = 0, W, 2W, … < count (W = T.Vector.scalarCount) with
/// lanes = min(W, count − offset).
@inline(__always)
func forEachVector<T: EngineScalar>(_: T.Type, count: Int, _ body: (_ offset: Int, _ lanes: Int) -> Void) {
    let width = T.Vector.scalarCount
    let whole = count / width * width
    var offset = 0
    while offset < whole {
        body(offset, width)  // `width` is a constant here, so the lane checks below fold away
        offset += width
    }
    if whole < count { body(whole, count - whole) }
}

/// p[0..<lanes] as a vector, lanes past `lanes` set to 0.
@inline(__always)
func loadLanes<T: EngineScalar>(_ p: UnsafePointer<T>, _ lanes: Int) -> T.Vector {
    if lanes == T.Vector.scalarCount { return UnsafeRawPointer(p).loadUnaligned(as: T.Vector.self) }
    var v = T.Vector()
    for l in 0..<lanes { v[l] = p[l] }
    return v
}

@inline(__always)
func loadLanes<T: EngineScalar>(_ p: UnsafeMutablePointer<T>, _ lanes: Int) -> T.Vector {
    loadLanes(UnsafePointer(p), lanes)
}

/// Writes the first `lanes` lanes of `v` to p[0..<lanes].
@inline(__always)
func storeLanes<T: EngineScalar>(_ v: T.Vector, _ p: UnsafeMutablePointer<T>, _ lanes: Int) {
    if lanes == T.Vector.scalarCount {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: T.Vector.self)
        return
    }
    for l in 0..<lanes { p[l] = v[l] }
}

/// Row gather (a batch in shuffled order): row r of `destination` = row `indices[r]` of `source`,
/// both row-major with `width` values a row. Rows are copied in whole vectors, and the row eight
/// places ahead is prefetched: a shuffled row is usually a cache miss, and a per-row memcpy call
/// with its miss took about 2% of a W2 training step.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func gatherRows<T: EngineScalar>(_ source: UnsafePointer<T>, width: Int, indices: UnsafeBufferPointer<Int>,
                                        into destination: UnsafeMutablePointer<T>) {
    let ahead = 8
    let rowBytes = width * MemoryLayout<T>.stride
    for r in 0..<indices.count {
        if r + ahead < indices.count, rowBytes > 0 {
            let next = UnsafeRawPointer(source + indices[r + ahead] * width)
            cachePrefetch(next, 0, 3, 1)
            cachePrefetch(next + (rowBytes - 1), 0, 3, 1)
        }
        let from = source + indices[r] * width, to = destination + r * width
        forEachVector(T.self, count: width) { offset, lanes in
            storeLanes(loadLanes(from + offset, lanes), to + offset, lanes)
        }
    }
}
