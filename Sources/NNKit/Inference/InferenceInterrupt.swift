// Ctrl-C during nninfer: the run stops at once, the temporary files of atomic outputs are removed
// (so an interrupted --output never looks complete and leaves nothing behind), a one-line message
// says so, and the process exits with status 130 (128 + SIGINT, the shell's convention).
//
// Unlike training there is nothing worth finishing: stopping between batches would only delay
// the exit (and could not, while blocked reading a pipe). The handler therefore does everything
// itself, with async-signal-safe calls only: unlink (through TemporaryFileRegistry), write, _exit.
import Glibc

/// The message the handler writes, prepared before installation (a handler must not allocate).
nonisolated(unsafe) private var interruptMessage: UnsafeMutablePointer<CChar>?
nonisolated(unsafe) private var interruptMessageLength = 0

public enum InferenceInterrupt {
    /// The exit status of an interrupted run.
    public static let exitStatus: Int32 = 130

    /// Makes SIGINT remove the registered temporary files, print `message` (one line) to standard
    /// error and exit with `exitStatus`. Call it after the first `AtomicOutputFile` is created: its
    /// registry installs its own SIGINT/SIGTERM/SIGHUP handlers once per process, and this one must
    /// come later to replace the SIGINT one (SIGTERM and SIGHUP keep the registry's behaviour).
    /// Calling it again replaces the message (a few bytes, kept for the process's lifetime).
    public static func install(message: String) {
        _ = TemporaryFileRegistry.slots  // initialized here, never lazily inside the handler
        // Never freed: a handler running on another thread may still read the previous message.
        let text = strdup(message + "\n")
        interruptMessage = text
        interruptMessageLength = text.map { strlen($0) } ?? 0
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            TemporaryFileRegistry.removeAll()
            if let message = interruptMessage { _ = write(2, message, interruptMessageLength) }
            _exit(130)  // exitStatus (a literal: no global access in the handler)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
    }
}
