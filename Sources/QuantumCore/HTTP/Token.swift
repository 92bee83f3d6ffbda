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
