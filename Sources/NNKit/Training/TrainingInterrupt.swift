// Ctrl-C during training: the first SIGINT sets a flag the training loop polls between batches (it
// then saves what was learned); the second ends the process at once, leaving the output untouched
// (checkpoints are written atomically, so an interrupted write leaves the old file in place).
import Glibc

/// Number of SIGINTs received since `TrainingInterrupt.install()`. Written only by the handler.
nonisolated(unsafe) private var interruptsReceived: sig_atomic_t = 0

public enum TrainingInterrupt {
    /// Installs the SIGINT handler (with `sigaction`; no Foundation).
    public static func install() {
        interruptsReceived = 0
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            interruptsReceived += 1
            if interruptsReceived >= 2 {
                // Only async-signal-safe calls here: write and _exit.
                let message: StaticString = "\nnntrain: interrupted twice; stopped without writing the output\n"
                _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
                _exit(130)
            }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
    }

    /// True once a SIGINT has arrived.
    @inline(__always)
    public static var requested: Bool { interruptsReceived > 0 }

    /// Restores the default SIGINT behaviour (e.g. after training, while writing the report).
    public static func uninstall() {
        signal(SIGINT, SIG_DFL)
    }
}
