extension Array where Element == UInt8 {
    /// Appends a string's UTF-8 bytes with one copy. The generic `append(contentsOf: s.utf8)`
    /// walks the view; response and request heads are built from many short strings. Reads the
    /// string where it is (`withUTF8` would need a mutable copy: a retain and a release a call).
    @inlinable
    package mutating func appendUTF8(_ string: String) {
        if string.utf8.withContiguousStorageIfAvailable({ append(contentsOf: $0) }) == nil {
            append(contentsOf: string.utf8)  // not stored as UTF-8 (bridged): walked
        }
    }

    /// Appends a literal's bytes (no `swift_once` to reach them, unlike a static array).
    @inlinable
    package mutating func appendStatic(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}
