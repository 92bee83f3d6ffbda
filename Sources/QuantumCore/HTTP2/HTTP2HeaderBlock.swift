import CNGHTTP2

/// Header fields laid out in one buffer for `nghttp2_submit_response` (which copies them).
struct HTTP2HeaderBlock {
    private var bytes: [UInt8] = []
    private var spans: [(name: Range<Int>, value: Range<Int>)] = []

    init() {
        bytes.reserveCapacity(256)
        spans.reserveCapacity(8)
    }

    /// Adds a field; `name` must already be lowercase (HTTP/2 requires it).
    mutating func add(_ name: String, _ value: String) {
        let n = bytes.count
        bytes.appendUTF8(name)
        let v = bytes.count
        bytes.appendUTF8(value)
        spans.append((n..<v, v..<bytes.count))
    }

    /// Calls `body` with an `nghttp2_nv` array pointing into the buffer.
    mutating func withNV<R>(_ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        let spans = self.spans
        return bytes.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!  // never empty: `:status` comes first
            let nv = spans.map { s in
                nghttp2_nv(name: base + s.name.lowerBound, value: base + s.value.lowerBound,
                           namelen: s.name.count, valuelen: s.value.count, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return nv.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
        }
    }
}
