import CZlib

/// gzip through zlib (`deflate` with a gzip wrapper).
final class GzipCompressor: Compressor {
    private var stream = z_stream()

    init(level: Int) throws {
        guard cz_deflate_init2(&stream, Int32(max(1, min(9, level))), 15 + 16, 8) == Z_OK else {
            throw CompressionError(description: "deflateInit2 failed")
        }
    }

    deinit { deflateEnd(&stream) }

    func compress(_ input: [UInt8], flush: Bool, finish: Bool) throws -> [UInt8] {
        var out: [UInt8] = []
        let mode = finish ? Z_FINISH : (flush ? Z_SYNC_FLUSH : Z_NO_FLUSH)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var input = input
        try input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            repeat {
                let produced: Int = try chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    let rc = deflate(&stream, mode)
                    guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                        throw CompressionError(description: "deflate failed (\(rc))")
                    }
                    return outBuf.count - Int(stream.avail_out)
                }
                out += chunk[0..<produced]
            } while stream.avail_out == 0
            stream.next_in = nil
        }
        return out
    }
}
