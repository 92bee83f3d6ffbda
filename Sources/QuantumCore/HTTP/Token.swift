/// Byte classes of RFC 9110 §5.6.
enum Token {
    /// `tchar`: the characters of a token (method, header name): ALPHA, DIGIT and
    /// ``!#$%&'*+-.^_`|~``, as two 64-bit masks (bytes 0–63 and 64–127). Literal constants, not
    /// a lookup table: a global array costs a lazy-initialisation check on every byte.
    @inline(__always) static func isTChar(_ b: UInt8) -> Bool {
        let low: UInt64 = 0x03ff_6cfa_0000_0000, high: UInt64 = 0x57ff_ffff_c7ff_fffe
        if b < 64 { return (low >> UInt64(b)) & 1 != 0 }
        if b < 128 { return (high >> UInt64(b - 64)) & 1 != 0 }
        return false
    }

    /// A field-value byte: HTAB, SP, VCHAR or obs-text.
    @inline(__always) static func isFieldValueByte(_ b: UInt8) -> Bool { b == 9 || (b >= 32 && b != 127) }

    @inline(__always) static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}

/// Eight bytes tested at once (SWAR): each test sets the high bit of the bytes that match, and
/// the lowest set bit always marks a true match (bits above it may be false ones, from borrows).
/// Header scanning uses it: lines are short, and a word per step beats a byte or a call per line.
enum ByteWord {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always) static func load(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UnsafeRawPointer(p).loadUnaligned(as: UInt64.self).littleEndian
    }

    /// Flags the bytes equal to `byte`.
    @inline(__always) static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & highs
    }

    /// Flags the bytes below `limit` (at most 128).
    @inline(__always) static func below(_ word: UInt64, _ limit: UInt8) -> UInt64 {
        (word &- ones &* UInt64(limit)) & ~word & highs
    }

    /// The index in the word of the lowest flagged byte.
    @inline(__always) static func firstFlagged(_ flags: UInt64) -> Int { flags.trailingZeroBitCount >> 3 }
}
