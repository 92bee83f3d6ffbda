/// Where header fields are written one by one: a list of strings, or bytes on their way out.
package protocol HeaderFieldSink {
    mutating func add(_ name: String, _ value: String)
}

/// An ordered list of header fields; names compare case-insensitively (ASCII), repeats kept.
public struct HTTPFields: Sendable, Sequence, Equatable, HeaderFieldSink {
    /// One header line; `==` compares names exactly (case-sensitively), unlike the lookups.
    public struct Field: Sendable, Equatable {
        /// As received or set, case preserved (HTTP/2 requests arrive with it lowercased).
        public var name: String
        /// The field value as one string; repeated fields stay separate `Field`s.
        public var value: String
        /// Neither part is validated here: keep line breaks out of values you build.
        public init(name: String, value: String) { self.name = name; self.value = value }
    }

    /// Every field in order; read-only so edits go through the case-insensitive methods.
    public private(set) var fields: [Field] = []

    /// No fields.
    public init() {}
    /// No fields yet, with room for `capacity` without reallocating.
    public init(capacity: Int) { fields.reserveCapacity(capacity) }
    /// Fields from (name, value) pairs, in order, repeats kept: `HTTPFields([("Vary", "Accept")])`.
    public init(_ pairs: [(String, String)]) { fields = pairs.map { Field(name: $0.0, value: $0.1) } }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
    /// The number of fields, repeats counted.
    public var count: Int { fields.count }
    /// True when there are no fields at all.
    public var isEmpty: Bool { fields.isEmpty }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        get { fields.first { $0.name.equalsIgnoringASCIICase(name) }?.value }
        set {
            if let newValue { set(name, newValue) } else { remove(name) }
        }
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.compactMap { $0.name.equalsIgnoringASCIICase(name) ? $0.value : nil }
    }

    /// True when at least one field is named `name` (case-insensitive).
    public func contains(_ name: String) -> Bool { fields.contains { $0.name.equalsIgnoringASCIICase(name) } }

    /// Appends a field, keeping any others of the same name (for `Set-Cookie`, `Vary`); `set` replaces.
    public mutating func add(_ name: String, _ value: String) { fields.append(Field(name: name, value: value)) }

    /// Replaces every field `name` by one with `value` (at the first one's position).
    public mutating func set(_ name: String, _ value: String) {
        if let i = fields.firstIndex(where: { $0.name.equalsIgnoringASCIICase(name) }) {
            fields[i].value = value
            var j = fields.count - 1
            while j > i { if fields[j].name.equalsIgnoringASCIICase(name) { fields.remove(at: j) }; j -= 1 }
        } else {
            fields.append(Field(name: name, value: value))
        }
    }

    /// Removes every field named `name` (case-insensitive); no effect when there is none.
    public mutating func remove(_ name: String) { fields.removeAll { $0.name.equalsIgnoringASCIICase(name) } }

    /// Removes the fields `predicate` picks, keeping the others in order.
    public mutating func removeAll(where predicate: (Field) -> Bool) { fields.removeAll(where: predicate) }

    /// Rewrites every field's value in place (names and order kept), e.g. to fill placeholders.
    public mutating func mapValues(_ transform: (Field) -> String) {
        for i in fields.indices { fields[i].value = transform(fields[i]) }
    }

    /// True when a comma-separated header `name` contains `token` (case-insensitive).
    public func hasToken(_ token: String, in name: String) -> Bool {
        containsToken(in: name) { ASCII.equalIgnoringCase($0, token.utf8) }
    }

    /// Calls `body` with each comma-separated token of the fields `name` — as bytes, spaces and
    /// tabs trimmed, empty ones skipped — until it returns true. Allocates nothing: this runs on
    /// `Connection` and `TE` for every proxied request.
    public func containsToken(in name: String, where body: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        for field in fields where field.name.equalsIgnoringASCIICase(name) {
            var value = field.value
            let found = value.withUTF8 { bytes -> Bool in
                var i = 0
                while i < bytes.count {
                    var end = i
                    while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
                    var a = i, b = end
                    while a < b && (bytes[a] == 32 || bytes[a] == 9) { a += 1 }
                    while b > a && (bytes[b - 1] == 32 || bytes[b - 1] == 9) { b -= 1 }
                    if a < b && body(UnsafeBufferPointer(rebasing: bytes[a..<b])) { return true }
                    i = end + 1
                }
                return false
            }
            if found { return true }
        }
        return false
    }
}

extension StringProtocol {
    /// ASCII case-insensitive equality, without allocating.
    @inlinable
    package func equalsIgnoringASCIICase<S: StringProtocol>(_ other: S) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        if let fast = a.withContiguousStorageIfAvailable({ pa in
            b.withContiguousStorageIfAvailable { pb in ASCII.equalIgnoringCase(pa, pb) }
        }), let result = fast {
            return result
        }
        return ASCII.equalIgnoringCase(a, b)
    }

    /// The string without leading and trailing spaces and tabs.
    @inlinable
    package func trimmingOWS() -> Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }

    /// ASCII lowercase copy (the same string when nothing changes).
    @inlinable
    package func asciiLowercased() -> String {
        var hasUpper = false
        for b in utf8 where b >= 65 && b <= 90 { hasUpper = true; break }
        if !hasUpper { return String(self) }
        return String(decoding: utf8.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

/// Byte-level ASCII helpers.
@usableFromInline
package enum ASCII {
    @inlinable
    public static func equalIgnoringCase<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        var i = a.startIndex, j = b.startIndex
        while i != a.endIndex {
            let x = a[i], y = b[j]
            if x != y {
                let l = x | 0x20
                if l != y | 0x20 || l < UInt8(ascii: "a") || l > UInt8(ascii: "z") { return false }
            }
            a.formIndex(after: &i)
            b.formIndex(after: &j)
        }
        return true
    }
}

extension HTTPFields {
    /// Go's `CanonicalHeaderKey` (`x-user` → `X-User`), as Caddy keys its header maps: each
    /// dash-separated word capitalised; a name with a byte no token may hold is left as it is.
    package static func canonicalName(_ name: String) -> String {
        let bytes = Array(name.utf8)
        func isToken(_ b: UInt8) -> Bool {
            (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
        guard bytes.allSatisfy(isToken) else { return name }
        var upper = true
        return String(decoding: bytes.map { b -> UInt8 in
            var c = b
            if upper && c >= 97 && c <= 122 { c -= 32 } else if !upper && c >= 65 && c <= 90 { c += 32 }
            upper = c == 45
            return c
        }, as: UTF8.self)
    }
}
