import XCTest

final class NNToolsTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
