import XCTest
@testable import NNData
#if canImport(Glibc)
import Glibc
#endif

/// The repository root, found from this file's path (Tests/NNDataTests/TestSupport.swift).
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

func fixturePath(_ relative: String) -> String { repositoryRoot + "/fixtures/" + relative }

/// A fresh temporary directory, removed at the end of the test.
func makeTemporaryDirectory(_ testCase: XCTestCase) -> String {
    var template = Array("/tmp/nndata-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    testCase.addTeardownBlock { _ = system("rm -rf '\(path)'") }
    return path
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(descriptor >= 0, "cannot create \(path)")
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            precondition(written > 0)
            offset += written
        }
    }
    close(descriptor)
}

func readFile(_ path: String) -> [UInt8] {
    let descriptor = open(path, O_RDONLY)
    precondition(descriptor >= 0, "cannot open \(path)")
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var block = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = block.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
        if count <= 0 { break }
        bytes.append(contentsOf: block[0..<count])
    }
    return bytes
}

/// The error `body` throws, as its user-facing message (fails the test if nothing is thrown).
func errorMessage(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) -> String? {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
        return nil
    } catch {
        return String(describing: error)
    }
}

/// Every record via the streaming reader with a tiny block size (exercises the refill paths).
func streamRecords(bytes: [UInt8], source: String, format: CSVFormat = CSVFormat(), blockSize: Int = 3,
                   batch: Int = 2) throws -> (header: CSVHeader, records: [[String]]) {
    var pipeEnds: [Int32] = [0, 0]
    precondition(pipe(&pipeEnds) == 0)
    // Write from a temporary file instead of a pipe when large, to avoid blocking.
    let directory = "/tmp/nndata-stream-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    mkdir(directory, 0o755)
    defer { _ = system("rm -rf '\(directory)'") }
    close(pipeEnds[0]); close(pipeEnds[1])
    writeFile(directory + "/input.csv", bytes)
    let descriptor = open(directory + "/input.csv", O_RDONLY)
    let reader = try CSVStreamReader(fileDescriptor: descriptor, source: source, format: format,
                                     blockSize: blockSize, closeWhenDone: true)
    let plan = ColumnPlan.text(header: reader.header)
    var records: [[String]] = []
    while let rows = try reader.nextBatch(plan: plan, maxRows: batch) {
        for row in 0..<rows.rowCount { records.append(rows.keep.map { $0[row] }) }
    }
    return (reader.header, records)
}
