import QuantumCore

/// A `206` with several ranges as `multipart/byteranges` (RFC 9110 §14.6).
enum Multipart {
    static func response(_ info: FileInfo, ranges: [Range<Int>], contentType: String?, headers: HTTPFields) -> Response {
        let boundary = randomBoundary()
        var parts: [([UInt8], Range<Int>)] = []
        var length = 0
        for (i, r) in ranges.enumerated() {
            var head = (i == 0 ? "" : "\r\n") + "--\(boundary)\r\n"
            if let contentType { head += "Content-Type: \(contentType)\r\n" }
            head += "Content-Range: bytes \(r.lowerBound)-\(r.upperBound - 1)/\(info.size)\r\n\r\n"
            parts.append((Array(head.utf8), r))
            length += head.utf8.count + r.count
        }
        let tail = Array("\r\n--\(boundary)--\r\n".utf8)
        length += tail.count
        var out = headers
        out.set("Content-Type", "multipart/byteranges; boundary=\(boundary)")
        let file = info
        let pieces = parts
        return Response(status: 206, headers: out, body: .stream(length: length) { writer in
            for (head, r) in pieces {
                try await writer.write(head)
                var offset = r.lowerBound
                while offset < r.upperBound {
                    let count = min(64 * 1024, r.upperBound - offset)
                    let chunk: [UInt8]
                    if let content = file.content {
                        chunk = Array(content[offset..<offset + count])
                    } else {
                        let at = offset
                        chunk = try await BlockingPool.shared.run { try file.file.read(offset: at, count: count) }
                    }
                    try await writer.write(chunk)
                    offset += count
                }
            }
            try await writer.write(tail)
        })
    }

    static func randomBoundary() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<30).map { _ in String(UInt8.random(in: 0...15, using: &g), radix: 16) }.joined()
    }
}
