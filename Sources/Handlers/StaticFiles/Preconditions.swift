import QuantumCore

/// RFC 9110 §13 conditional requests against a file's validators, in the order Go's
/// `http.ServeContent` (and so Caddy) evaluates them.
public struct Preconditions: Sendable {
    public enum Result: Equatable, Sendable { case proceed, notModified, preconditionFailed }

    public let etag: String?
    public let mtimeSeconds: Int?

    public init(etag: String?, mtimeSeconds: Int?) {
        self.etag = etag
        self.mtimeSeconds = mtimeSeconds
    }

    /// What the conditional headers of `request` ask for.
    public func evaluate(_ request: Request) -> Result {
        var check = ifMatch(request)
        if check == nil { check = ifUnmodifiedSince(request) }
        if check == false { return .preconditionFailed }
        let isGetOrHead = request.method == "GET" || request.method == "HEAD"
        switch ifNoneMatch(request) {
        case false?: return isGetOrHead ? .notModified : .preconditionFailed
        case nil: if isGetOrHead && ifModifiedSince(request) == false { return .notModified }
        default: break
        }
        return .proceed
    }

    /// Whether a `Range` may be honoured (`If-Range` absent or matching).
    public func rangeAllowed(_ request: Request) -> Bool {
        guard let ifRange = request.headers["if-range"] else { return true }
        if ifRange.hasPrefix("\"") || ifRange.hasPrefix("W/") {
            guard let etag, !ifRange.hasPrefix("W/") else { return false }
            return ifRange == etag
        }
        guard let mtimeSeconds, let t = HTTPDate.parse(ifRange) else { return false }
        return t == mtimeSeconds
    }

    private func ifMatch(_ request: Request) -> Bool? {
        let values = request.headers.values("if-match")
        if values.isEmpty { return nil }
        for tag in Self.tags(values) {
            if tag == "*" { return true }
            if let etag, !tag.hasPrefix("W/"), tag == etag { return true }
        }
        return false
    }

    private func ifNoneMatch(_ request: Request) -> Bool? {
        let values = request.headers.values("if-none-match")
        if values.isEmpty { return nil }
        for tag in Self.tags(values) {
            if tag == "*" { return false }
            if let etag, Self.weakEqual(tag, etag) { return false }
        }
        return true
    }

    private func ifModifiedSince(_ request: Request) -> Bool? {
        guard let mtimeSeconds, let text = request.headers["if-modified-since"], let t = HTTPDate.parse(text) else { return nil }
        return mtimeSeconds > t
    }

    private func ifUnmodifiedSince(_ request: Request) -> Bool? {
        guard let mtimeSeconds, let text = request.headers["if-unmodified-since"], let t = HTTPDate.parse(text) else { return nil }
        return mtimeSeconds <= t
    }

    static func tags(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { String($0.trimmingOWS()) }.filter { !$0.isEmpty }
    }

    static func weakEqual(_ a: String, _ b: String) -> Bool {
        func opaque(_ s: String) -> Substring { s.hasPrefix("W/") ? s.dropFirst(2) : Substring(s) }
        return opaque(a) == opaque(b)
    }
}

/// A `Range: bytes=...` header resolved against a size.
public enum ByteRanges {
    public enum Result: Equatable, Sendable { case full, unsatisfiable, ranges([Range<Int>]) }

    public static func parse(_ header: String, size: Int) -> Result {
        guard header.hasPrefix("bytes=") else { return .unsatisfiable }
        var ranges: [Range<Int>] = []
        var sawValid = false
        for part in header.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false) {
            let spec = part.trimmingOWS()
            if spec.isEmpty { continue }
            guard let dash = spec.firstIndex(of: "-") else { return .unsatisfiable }
            let first = spec[..<dash].trimmingOWS(), last = spec[spec.index(after: dash)...].trimmingOWS()
            if first.isEmpty {
                guard let n = Int(last), n >= 0 else { return .unsatisfiable }
                sawValid = true
                if n == 0 || size == 0 { continue }
                ranges.append(max(0, size - n)..<size)
            } else {
                guard let a = Int(first), a >= 0 else { return .unsatisfiable }
                var b = size - 1
                if !last.isEmpty {
                    guard let parsed = Int(last), parsed >= a else { return .unsatisfiable }
                    b = min(parsed, size - 1)
                }
                sawValid = true
                if a >= size { continue }
                ranges.append(a..<(b + 1))
            }
        }
        guard sawValid, !ranges.isEmpty else { return .unsatisfiable }
        // Like Go: ranges that add up to more than the file are answered with the whole file.
        if ranges.count > 1 && ranges.reduce(0, { $0 + $1.count }) > size { return .full }
        return .ranges(ranges)
    }
}
