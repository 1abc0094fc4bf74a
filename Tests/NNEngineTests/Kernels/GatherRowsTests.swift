import XCTest
@testable import NNEngine

/// `gatherRows` (the training loop's batch gather) against a plain element copy: widths around the
/// vector width (whole vectors and partial tails), batches shorter and longer than the prefetch
/// distance, repeated and last-row indices, both scalar types.
final class GatherRowsTests: XCTestCase {
    func check<T: EngineScalar>(_: T.Type, width: Int, indices: [Int], rowCount: Int, file: StaticString = #filePath, line: UInt = #line) {
        let source = (0..<rowCount * width).map { T($0) + T(1) / T(4) }
        var gathered = [T](repeating: -1, count: indices.count * width + 3)  // 3 guard values after the batch
        source.withUnsafeBufferPointer { s in
            indices.withUnsafeBufferPointer { i in
                gathered.withUnsafeMutableBufferPointer { gatherRows(s.baseAddress!, width: width, indices: i, into: $0.baseAddress!) }
            }
        }
        var expected = indices.flatMap { source[$0 * width ..< ($0 + 1) * width] }
        expected += [-1, -1, -1]
        XCTAssertEqual(gathered, expected, "\(T.self) width \(width), \(indices.count) rows", file: file, line: line)
    }

    func testEqualsPlainCopy() {
        let rowCount = 40
        let batches: [[Int]] = [[], [39], [3, 0, 3], Array((0..<rowCount).reversed()), (0..<25).map { ($0 * 17) % rowCount } + [39, 39]]
        for width in [1, 3, 4, 7, 8, 9, 16, 33] {
            for indices in batches {
                check(Float.self, width: width, indices: indices, rowCount: rowCount)
                check(Double.self, width: width, indices: indices, rowCount: rowCount)
            }
        }
    }
}
