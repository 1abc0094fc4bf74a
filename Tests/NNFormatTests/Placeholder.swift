import XCTest

final class NNFormatTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
