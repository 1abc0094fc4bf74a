import Foundation
import XCTest

/// Runs the built command-line tools, as a user would, and captures what they print.
///
/// The binaries come from `NNKIT_BIN_DIR` when set (scripts/test.sh points it at the release
/// build), otherwise from the folder holding this test bundle (the debug build `swift test` made).
enum ToolRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutBytes: Data
    }

    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["NNKIT_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // …/debug/nnkitPackageTests.xctest is a file on Linux; on other layouts climb to the bin folder.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("nntrain").path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }

    /// The repository root (for fixtures).
    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url = url.deletingLastPathComponent() }
        return url
    }()

    static func fixture(_ relativePath: String) -> String {
        repositoryRoot.appendingPathComponent("fixtures").appendingPathComponent(relativePath).path
    }

    /// Runs `tool` with `arguments`; `stdin` is fed to its standard input (empty when nil).
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
                    currentDirectory: URL? = nil, timeout: TimeInterval = 300) throws -> Result {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent(tool)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        // Files, not pipes: a tool printing a lot must never block on a full pipe.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nnkit-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        let inURL = scratch.appendingPathComponent("stdin")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        FileManager.default.createFile(atPath: inURL.path, contents: stdin ?? Data())
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let input = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                XCTFail("\(tool) \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        try out.close(); try err.close(); try input.close()
        let outData = try Data(contentsOf: outURL)
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
                      stdoutBytes: outData)
    }

    /// A fresh temporary directory, removed when the test ends.
    static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nnkit-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
