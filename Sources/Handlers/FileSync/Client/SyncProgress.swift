import Glibc
import QuantumCore

/// Reports a full sync's progress: a bar redrawn in place on a terminal, one plain line per
/// step otherwise (logs and pipes should not fill with carriage returns).
///
/// Unchecked Sendable: one client's full compare drives it, one step at a time. The shared
/// `silent` instance never touches its counters, so clients may share it.
public final class SyncProgress: @unchecked Sendable {
    public enum Style: Sendable { case bar, lines, silent }

    private let style: Style
    private let write: @Sendable (String) -> Void
    private var total = 0
    private var done = 0
    private var bytes = 0
    // The transfer under way: its name, size when known, when the bar was last drawn.
    private var transferName = ""
    private var transferSize: Int?
    private var drawnAt: UInt64 = 0

    /// `write` gets text without a trailing newline for the bar, whole lines otherwise.
    public init(style: Style, write: @escaping @Sendable (String) -> Void) {
        self.style = style
        self.write = write
    }

    /// A bar when standard output is a terminal, lines otherwise.
    public static func standardOutput() -> SyncProgress {
        let tty = isatty(1) == 1
        return SyncProgress(style: tty ? .bar : .lines) { text in
            var s = tty ? text : text + "\n"
            s.withUTF8 { _ = Glibc.write(1, $0.baseAddress, $0.count) }
        }
    }

    public static let silent = SyncProgress(style: .silent) { _ in }

    func begin(steps: Int) {
        if style == .silent { return }
        total = steps
        done = 0
        bytes = 0
        if style == .lines && steps > 0 { write("sync: \(steps) change\(steps == 1 ? "" : "s") to make") }
    }

    func step(_ what: String, bytes moved: Int = 0) {
        if style == .silent { return }
        done += 1
        bytes += moved
        switch style {
        case .silent: break
        case .lines: write("[\(done)/\(total)] \(what)")
        case .bar:
            let width = 30
            let filled = total == 0 ? width : width * done / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            var name = what
            if name.count > 40 { name = "…" + name.suffix(39) }
            write("\r\u{1B}[K[\(bar)] \(done)/\(total) \(Self.format(bytes: bytes)) \(name)")
        }
    }

    /// A download or upload starts (`size` when known beforehand).
    func beginTransfer(_ name: String, size: Int? = nil) {
        guard style == .bar, total > 0 else { return }
        transferName = name
        transferSize = size
    }

    /// `count` bytes of the transfer under way have moved: on a terminal the bar shows them,
    /// redrawn at most ten times a second (a large file shows it is moving).
    func transferred(_ count: Int) {
        guard style == .bar, total > 0 else { return }
        let now = SystemClock.monotonicNanos()
        guard now &- drawnAt >= 100_000_000 else { return }
        drawnAt = now
        var name = transferName
        if name.count > 30 { name = "…" + name.suffix(29) }
        let of = transferSize.map { " of " + Self.format(bytes: $0) } ?? ""
        write("\r\u{1B}[K[\(done)/\(total)] \(name): \(Self.format(bytes: count))\(of)")
    }

    func finish(_ summary: String) {
        switch style {
        case .silent: break
        case .lines: write(summary)
        case .bar: write((total > 0 ? "\r\u{1B}[K" : "") + summary + "\n")
        }
    }

    static func format(bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes) / 1024, unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return String(Int(value * 10) / 10) + "." + String(Int(value * 10) % 10) + " " + units[unit]
    }
}
