import Glibc

/// The name a conflict's losing version is kept under, on both sides:
/// `report.txt` → `report (conflict laptop 2026-11-27 031502).txt`.
///
/// The extension stays last so the copy still opens with the same program; the time is UTC and
/// has no colons (invalid in names on some systems the folder may be copied to). The client id
/// names whose version lost, so people can tell the copies of several clients apart.
public enum ConflictNaming {
    /// `attempt` > 1 tells apart copies made in the same second (`... 031502 2).txt`).
    public static func name(for path: String, client: String, epochSeconds: Int, attempt: Int = 1) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let file = slash.map { String(path[path.index(after: $0)...]) } ?? path
        // A leading dot is a hidden file's name, not an extension (".env" has none).
        var stem = file, ext = ""
        if let dot = file.lastIndex(of: "."), dot != file.startIndex {
            stem = String(file[..<dot])
            ext = String(file[dot...])
        }
        let who = String(client.map { $0 == "/" || $0.asciiValue.map { $0 < 0x20 } == true ? "-" : $0 })
        let n = attempt > 1 ? " \(attempt)" : ""
        return "\(directory)\(stem) (conflict \(who) \(stamp(epochSeconds))\(n))\(ext)"
    }

    /// Whether a name is a conflict copy (for people and tools listing them).
    public static func isConflictCopy(_ path: String) -> Bool { path.contains(" (conflict ") }

    static func stamp(_ epochSeconds: Int) -> String {
        var t = time_t(epochSeconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ n: Int = 2) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1))-\(pad(tm.tm_mday)) \(pad(tm.tm_hour))\(pad(tm.tm_min))\(pad(tm.tm_sec))"
    }
}
