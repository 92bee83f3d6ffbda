import QuantumCore

/// Typed arguments for directive parsers: the next argument read as a duration, a byte size or
/// an integer, with Caddy's error when it is missing or malformed.
extension Dispenser {
    /// A Go/Caddy duration (`1m30s`, `2d`), as JSON nanoseconds.
    mutating func durationArg() throws -> JSONValue {
        let text = try arg()
        guard let ns = CaddyDuration.parse(text) else { throw err("parsing duration: time: invalid duration \"\(text)\"") }
        return .number(String(ns))
    }

    /// A size (`10MB`, `16KiB`), as JSON bytes.
    mutating func sizeArg() throws -> JSONValue {
        let text = try arg()
        guard let bytes = ByteSize.parse(text) else { throw err("invalid size: \(text)") }
        return .number(String(bytes))
    }

    /// An integer; `what` names it in the error.
    mutating func intArg(_ what: String) throws -> JSONValue {
        let text = try arg()
        guard let n = Int(text) else { throw err("bad \(what) '\(text)': strconv.Atoi: parsing \"\(text)\": invalid syntax") }
        return .int(n)
    }
}
