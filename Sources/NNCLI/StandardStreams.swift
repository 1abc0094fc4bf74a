import Glibc

/// Writing to standard error and checking whether a stream is a terminal, without Foundation.
public enum StandardStreams {
    /// Writes `text` to standard error as is (no newline added).
    public static func printError(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { if errno == EINTR { continue }; return }
                offset += written
            }
        }
    }

    public static var standardErrorIsTerminal: Bool { isatty(2) == 1 }
    public static var standardOutputIsTerminal: Bool { isatty(1) == 1 }
}
