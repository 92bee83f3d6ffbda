import Glibc

/// The bytes of log entries being written: a growable buffer whose appends are plain stores and
/// `memcpy`s into memory it owns. An access entry is some fifty small appends, and on an array
/// each of them pays a uniqueness check and generic copying — most of what the entry cost.
/// Noncopyable: one owner (the loop's batch for a sink, or one process entry), freed once.
struct LogBuffer: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }

    /// Forgets the bytes, keeping the memory for the next ones.
    mutating func removeAll() { count = 0 }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    var string: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    // MARK: - Appending

    @inline(__always)
    private mutating func reserve(_ n: Int) {
        if count &+ n > capacity { grow(n) }
    }

    private mutating func grow(_ n: Int) {
        capacity = max(capacity * 2, count + n)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.initialize(from: base, count: count)
        base.deallocate()
        base = grown
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count &+= 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let start = bytes.baseAddress else { return }
        reserve(bytes.count)
        (base + count).initialize(from: start, count: bytes.count)
        count &+= bytes.count
    }

    @inline(__always)
    mutating func append(_ literal: StaticString) {
        append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// A string's UTF-8 as it is.
    mutating func append(utf8 text: String) {
        Self.withUTF8(text) { append($0) }
    }

    /// A string's bytes in place (native strings always have them; others are copied first).
    private static func withUTF8<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = text
        return copy.withUTF8(body)
    }

    /// Decimal digits, with a `-` for negative numbers.
    mutating func append(decimal value: Int) {
        if value < 0 { append(45) }
        append(unsigned: value.magnitude)
    }

    mutating func append(unsigned value: UInt) {
        if value < 10 { append(48 &+ UInt8(value)); return }
        var digits = 1, rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        append(value, width: digits)
    }

    /// `value` in exactly `width` digits, zero-padded (the caller knows it fits).
    private mutating func append(_ value: UInt, width: Int) {
        reserve(width)
        var v = value, i = count &+ width
        while i > count {
            i &-= 1
            base[i] = 48 &+ UInt8(v % 10)
            v /= 10
        }
        count &+= width
    }

    /// Seconds from nanoseconds, in decimal without an exponent and without trailing zeros
    /// (`0.000031298`, `1796654315.413953812`): the precision the clock has.
    mutating func append(seconds nanos: UInt64) {
        append(unsigned: UInt(nanos / 1_000_000_000))
        let fraction = UInt(nanos % 1_000_000_000)
        guard fraction > 0 else { return }
        append(46)
        append(fraction, width: 9)
        while base[count &- 1] == 48 { count &-= 1 }
    }

    // MARK: - JSON

    /// Appends `text` escaped as Go's encoder does (`"`, `\\`, control bytes, and `<`, `>`, `&`,
    /// U+2028 and U+2029, safe inside HTML), without quotes. Runs of plain bytes are copied at once.
    mutating func appendEscaped(_ text: String) {
        Self.withUTF8(text) { appendEscaped($0) }
    }

    mutating func appendEscaped(_ input: UnsafeBufferPointer<UInt8>) {
        var i = 0
        var run = 0  // start of the bytes copied as they are
        let n = input.count
        while i < n {
            let b = input[i]
            if Self.isPlain(b) { i += 1; continue }
            if run < i { append(UnsafeBufferPointer(rebasing: input[run..<i])) }
            switch b {
            case 34: append("\\\"")
            case 92: append("\\\\")
            case 10: append("\\n")
            case 13: append("\\r")
            case 9: append("\\t")
            case 60: append("\\u003c")
            case 62: append("\\u003e")
            case 38: append("\\u0026")
            case 0xE2 where i + 2 < n && input[i + 1] == 0x80 && (input[i + 2] == 0xA8 || input[i + 2] == 0xA9):
                append(input[i + 2] == 0xA8 ? "\\u2028" : "\\u2029")
                i += 2
            case 0xE2:
                append(b)
            default:
                append("\\u00")
                append(Self.hex(b >> 4))
                append(Self.hex(b & 15))
            }
            i += 1
            run = i
        }
        if run < n { append(UnsafeBufferPointer(rebasing: input[run..<n])) }
    }

    /// `"text"`, Go-escaped.
    mutating func appendQuoted(_ text: String) {
        append(34)
        appendEscaped(text)
        append(34)
    }

    /// Printable ASCII other than `"`, `\\`, `<`, `>`, `&`, and any byte of a multi-byte
    /// character but U+2028/U+2029's lead: bytes that go out in one copy with their neighbours.
    @inline(__always)
    private static func isPlain(_ b: UInt8) -> Bool {
        // Bit n of `low` is byte n (0–63), of `high` byte 64 + n: the same test as a chain of
        // comparisons, in one shift.
        let low: UInt64 = 0xAFFF_FFBB_0000_0000  // 0x20–0x3F but 0x22 ", 0x26 &, 0x3C <, 0x3E >
        let high: UInt64 = 0xFFFF_FFFF_EFFF_FFFF  // 0x40–0x7F but 0x5C, the backslash
        if b < 64 { return (low >> UInt64(b)) & 1 != 0 }
        if b < 128 { return (high >> UInt64(b &- 64)) & 1 != 0 }
        return b != 0xE2
    }

    private static func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }

    /// Go's `CanonicalMIMEHeaderKey`: `x-custom` → `X-Custom` (names with other bytes escaped as
    /// they are).
    mutating func appendCanonical(_ name: String) {
        let canonical = Self.withUTF8(name) { bytes -> Bool in
            for b in bytes where !(b == 45 || (b >= 48 && b <= 57) || (b | 0x20 >= 97 && b | 0x20 <= 122)) { return false }
            reserve(bytes.count)
            var upper = true
            for b in bytes {
                var c = b
                if upper { if c >= 97 && c <= 122 { c -= 32 } } else if c >= 65 && c <= 90 { c += 32 }
                base[count] = c
                count &+= 1
                upper = c == 45
            }
            return true
        }
        if !canonical { appendEscaped(name) }
    }
}
