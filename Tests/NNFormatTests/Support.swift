import Foundation
import XCTest
@testable import NNFormat

/// Runs a program; returns (exit status, stdout, stderr).
func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    // Through env so PATH decides which python3 (the one with numpy/jsonschema) runs.
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting so a full pipe cannot block the child.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Asserts that `body` throws a CheckpointError accepted by `matches`; reports the error otherwise.
func assertCheckpointError<T>(_ body: @autoclosure () throws -> T, _ label: String, file: StaticString = #filePath, line: UInt = #line,
                              _ matches: (CheckpointError) -> Bool) {
    do {
        _ = try body()
        XCTFail("\(label): expected an error, got success", file: file, line: line)
    } catch let error as CheckpointError {
        XCTAssertTrue(matches(error), "\(label): unexpected error: \(error)", file: file, line: line)
    } catch {
        XCTFail("\(label): not a CheckpointError: \(error)", file: file, line: line)
    }
}

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "nnformat-tests-\(getpid())-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
