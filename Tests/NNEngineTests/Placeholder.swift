import XCTest

final class NNEngineTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
