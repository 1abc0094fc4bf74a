// Ctrl-C during nninfer: a one-line message says what was not written, then the interrupt goes on
// to the handler that was there before — the atomic output files' one, which removes their
// temporary files (so an interrupted --output never looks complete and leaves nothing behind) —
// and the process ends by SIGINT, as an interrupted program should (the shell sees status 130 and
// a calling script stops too).
//
// Unlike training there is nothing worth finishing: stopping between batches would only delay
// the exit (and could not, while blocked reading a pipe). Only async-signal-safe calls run in the
// handler: write, sigaction, raise.
import Glibc
import NNFormat

/// The message the handler writes, prepared before installation (a handler must not allocate).
nonisolated(unsafe) private var interruptMessage: UnsafeMutablePointer<CChar>?
nonisolated(unsafe) private var interruptMessageLength = 0
/// The SIGINT action replaced by ours, restored by the handler before it re-raises the signal.
nonisolated(unsafe) private var previousAction = sigaction()

private func handleInterrupt(_ signal: Int32) {
    if let message = interruptMessage { _ = write(2, message, interruptMessageLength) }
    // SIGINT is blocked while this runs: the re-raised one reaches the previous action on return.
    sigaction(SIGINT, &previousAction, nil)
    raise(SIGINT)
}

public enum InferenceInterrupt {
    /// Makes SIGINT print `message` (one line) to standard error before the atomic output files'
    /// SIGINT action runs (it removes their temporary files and ends the process); an ignored SIGINT
    /// stays ignored. That action is installed first, here, so that an `AtomicOutputFile` created
    /// later (e.g. for --metrics) cannot replace this handler. Calling it again replaces the message;
    /// a message is a few bytes, kept for the process's lifetime (a handler on another thread may
    /// still read it).
    public static func install(message: String) {
        AtomicOutputFile.installSignalCleanup()
        let text = strdup(message + "\n")
        interruptMessage = text
        interruptMessageLength = text.map { strlen($0) } ?? 0
        var current = sigaction()
        sigaction(SIGINT, nil, &current)
        let ours: @convention(c) (Int32) -> Void = handleInterrupt
        if let installed = current.__sigaction_handler.sa_handler {
            let address = unsafeBitCast(installed, to: UnsafeRawPointer.self)
            if address == unsafeBitCast(ours, to: UnsafeRawPointer.self) { return }  // only the message changed
            // Ignored SIGINT (a background job of a script, nohup): stay ignored, say nothing.
            if address == unsafeBitCast(SIG_IGN, to: UnsafeRawPointer.self) { return }
        }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = ours
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, &previousAction)
    }
}
