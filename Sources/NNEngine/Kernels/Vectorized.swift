// Element-wise loops in whole SIMD vectors (8 floats / 4 doubles, one AVX register).
//
// The loop bodies of optimizers and layers are written once, on vectors; `forEachVector` calls the
// body on full vectors and then once on the partial tail, where `loadLanes` reads only the valid
// lanes (the others are 0) and `storeLanes` writes only the valid lanes. Every lane does exactly
// the IEEE operations the scalar formula would, so results do not depend on the vector width.

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
