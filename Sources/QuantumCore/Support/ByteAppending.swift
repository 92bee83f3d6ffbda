extension Array where Element == UInt8 {
    /// Appends a string's UTF-8 bytes with one copy. The generic `append(contentsOf: s.utf8)`
    /// walks the view; response and request heads are built from many short strings.
    @inlinable
    public mutating func appendUTF8(_ string: String) {
        var string = string  // a native string is not copied: `withUTF8` reads it in place
        string.withUTF8 { append(contentsOf: $0) }
    }

    /// Appends a literal's bytes (no `swift_once` to reach them, unlike a static array).
    @inlinable
    public mutating func appendStatic(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}
