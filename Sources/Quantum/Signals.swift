import Glibc

/// Delivers SIGINT/SIGTERM/SIGUSR1 to async code: a handler writes the signal number to a
/// pipe (async-signal-safe, whichever thread receives it) and one thread reads the pipe.
public enum Signals {
    static let handled = [SIGINT, SIGTERM, SIGUSR1]
    nonisolated(unsafe) private static var pipeWriteFD: Int32 = -1

    /// Installs the handlers and forwards every handled signal to `sink`, from a dedicated thread.
    public static func forward(to sink: @escaping @Sendable (Int32) -> Void) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        pipeWriteFD = fds[1]
        for s in handled {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                var value = sig
                _ = write(Signals.pipeWriteFD, &value, 4)
            }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(s, &action, nil)
        }
        let readFD = fds[0]
        DetachedThread.start(name: "quantum-signals") {
            while true {
                var sig: Int32 = 0
                let n = read(readFD, &sig, 4)
                if n == 4 { sink(sig) } else if n < 0 && errno != EINTR { return }
            }
        }
    }
}
