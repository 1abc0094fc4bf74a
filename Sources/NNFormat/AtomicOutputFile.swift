// Files that never look complete when they are not (formats/nnck-v1.md section 5, and every other
// file nnkit writes: reports, logs, predictions). Bytes go to a hidden temporary sibling
// `.<name>.tmp-<pid>-<n>` in the destination's directory; `commit()` flushes, fsyncs it, renames it
// over the destination and fsyncs the directory. On error (`discard()`, or deinit without commit)
// the temporary file is removed and any previous file is left untouched. Streamed output (nninfer's
// predictions) and whole files in memory (`CheckpointWriter.writeAtomically`) both use this one type.
import Glibc

public enum OutputFileError: Error, CustomStringConvertible, Equatable {
    /// An operating-system call failed (`reason` is strerror's text).
    case io(file: String, operation: String, reason: String)

    public var description: String {
        switch self {
        case let .io(file, operation, reason): return "\(file): cannot \(operation): \(reason)"
        }
    }
}

/// Where predictions and other streamed text go: buffered writes to a file descriptor.
public class OutputStreamSink {
    /// Name used in error messages ("<stdout>" or the destination path).
    public let name: String
    fileprivate var descriptor: Int32
    private var pending: [UInt8] = []
    private let flushThreshold: Int

    /// Writes to an already-open descriptor (e.g. 1 for standard output), which is not closed.
    public init(descriptor: Int32, name: String, bufferSize: Int = 1 << 18) {
        self.descriptor = descriptor
        self.name = name
        self.flushThreshold = bufferSize
        pending.reserveCapacity(bufferSize)
    }

    public static func standardOutput() -> OutputStreamSink { OutputStreamSink(descriptor: 1, name: "<stdout>") }

    public func write(_ bytes: [UInt8]) throws {
        if pending.isEmpty && bytes.count >= flushThreshold {
            try bytes.withUnsafeBytes { try writeAll($0) }
            return
        }
        pending += bytes
        if pending.count >= flushThreshold { try flush() }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Hands buffered bytes to the operating system.
    public func flush() throws {
        guard !pending.isEmpty else { return }
        try pending.withUnsafeBytes { try writeAll($0) }
        pending.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ buffer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw OutputFileError.io(file: name, operation: "write", reason: String(cString: strerror(errno)))
            }
            offset += written
        }
    }

    /// Completes the output (for a file: makes it visible under its name).
    public func finish() throws { try flush() }
}

/// A file written through a temporary sibling and renamed into place by `commit()`.
public final class AtomicOutputFile: OutputStreamSink {
    public let path: String
    public let temporaryPath: String
    private var state: State = .open
    private var registrySlot: Int?

    private enum State { case open, committed, discarded }

    /// Installs now the SIGINT/SIGTERM/SIGHUP handlers that remove temporary files (otherwise the
    /// first `removeOnSignal` file does), so that a handler installed afterwards can chain to them.
    public static func installSignalCleanup() { TemporaryFileRegistry.installHandlers() }

    /// Creates the temporary file `.<name>.tmp-<pid>-<n>` next to `path`. With `removeOnSignal`, a
    /// SIGINT/SIGTERM/SIGHUP before `commit()` removes it (this installs handlers for those signals,
    /// so callers with their own SIGINT handling, such as nntrain's training loop, pass false).
    public init(path: String, removeOnSignal: Bool = true) throws {
        let (directory, base) = splitPath(path)
        var descriptor: Int32 = -1
        var temporary = ""
        for attempt in 0..<100 {
            temporary = "\(directory)/.\(base).tmp-\(getpid())-\(attempt)"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else {
            throw OutputFileError.io(file: path, operation: "create a temporary file in \(directory)", reason: String(cString: strerror(errno)))
        }
        self.path = path
        self.temporaryPath = temporary
        super.init(descriptor: descriptor, name: path)
        if removeOnSignal { registrySlot = TemporaryFileRegistry.register(temporary) }
    }

    deinit { discard() }

    /// Flushes, fsyncs and renames the temporary file over `path`, then fsyncs the directory.
    public func commit() throws {
        guard state == .open else { return }
        do {
            try flush()
            guard fsync(descriptor) == 0 else { throw failure("fsync", temporaryPath) }
            let closed = close(descriptor)
            descriptor = -1
            guard closed == 0 else { throw failure("close", temporaryPath) }
            guard rename(temporaryPath, path) == 0 else { throw failure("rename \(temporaryPath) into place", path) }
        } catch {
            discard()
            throw error
        }
        state = .committed
        unregister()
        let (directory, base) = splitPath(path)
        AtomicOutputFile.removeStaleTemporaries(directory: directory, base: base)
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            defer { close(directoryDescriptor) }
            guard fsync(directoryDescriptor) == 0 else { throw failure("fsync directory", directory) }
        }
    }

    public override func finish() throws { try commit() }

    /// Closes and removes the temporary file; `path` is left as it was. Safe to call twice.
    public func discard() {
        guard state == .open else { return }
        state = .discarded
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        unlink(temporaryPath)
        unregister()
    }

    /// A writer killed between creating its temporary file and the rename (SIGKILL, power loss)
    /// leaves ".BASE.tmp-PID-N" behind. After a successful write of the same path, remove those whose
    /// process no longer exists; a live process's file (a concurrent writer) is left alone.
    static func removeStaleTemporaries(directory: String, base: String) {
        guard let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        let prefix = ".\(base).tmp-"
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            guard name.hasPrefix(prefix) else { continue }
            let suffix = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
            guard suffix.count == 2, let pid = Int32(suffix[0]), pid > 0, UInt(suffix[1]) != nil, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink("\(directory)/\(name)") }
        }
    }

    private func unregister() {
        if let slot = registrySlot { TemporaryFileRegistry.unregister(slot) }
        registrySlot = nil
    }

    private func failure(_ operation: String, _ file: String) -> OutputFileError {
        .io(file: file, operation: operation, reason: String(cString: strerror(errno)))
    }
}

private func splitPath(_ path: String) -> (directory: String, base: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let directory = slash == path.startIndex ? "/" : String(path[..<slash])
    return (directory, String(path[path.index(after: slash)...]))
}

/// Temporary files to remove if the process is interrupted. The signal handler only reads a fixed
/// table of C strings and calls unlink (async-signal-safe), then re-raises with the default action.
enum TemporaryFileRegistry {
    static let capacity = 32
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        table.initialize(repeating: nil, count: capacity)
        return table
    }()
    nonisolated(unsafe) static var handlersInstalled = false
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Returns the slot used, or nil when the table is full (the file is then only removed on errors).
    static func register(_ path: String) -> Int? {
        installHandlers()
        for slot in 0..<capacity where slots[slot] == nil {
            slots[slot] = strdup(path)
            return slot
        }
        return nil
    }

    static func unregister(_ slot: Int) {
        let stored = slots[slot]
        slots[slot] = nil
        free(stored)
    }

    static func installHandlers() {
        guard !handlersInstalled else { return }
        handlersInstalled = true
        _ = slots
        for signal in signals {
            // An ignored signal (nohup, a background job of a script) stays ignored.
            var current = sigaction()
            sigaction(signal, nil, &current)
            if let handler = current.__sigaction_handler.sa_handler,
               unsafeBitCast(handler, to: UnsafeRawPointer.self) == unsafeBitCast(SIG_IGN, to: UnsafeRawPointer.self) {
                continue
            }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { received in
                TemporaryFileRegistry.removeAll()
                Glibc.signal(received, SIG_DFL)
                raise(received)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
    }

    static func removeAll() {
        for slot in 0..<capacity {
            if let path = slots[slot] { unlink(path) }
        }
    }
}
