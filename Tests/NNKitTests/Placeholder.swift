import XCTest

final class NNKitTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
