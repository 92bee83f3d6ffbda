import CZstd

/// zstd through libzstd's streaming API.
final class ZstdCompressor: Compressor {
    private let context: OpaquePointer

    init(level: Int) throws {
        guard let c = ZSTD_createCCtx() else { throw CompressionError(description: "ZSTD_createCCtx failed") }
        context = c
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level))
    }

    deinit { ZSTD_freeCCtx(context) }

    func compress(_ input: [UInt8], flush: Bool, finish: Bool) throws -> [UInt8] {
        var out: [UInt8] = []
        let mode = finish ? ZSTD_e_end : (flush ? ZSTD_e_flush : ZSTD_e_continue)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        try input.withUnsafeBytes { inRaw in
            var inBuffer = ZSTD_inBuffer(src: inRaw.baseAddress, size: inRaw.count, pos: 0)
            while true {
                var remaining = 0
                let produced: Int = try chunk.withUnsafeMutableBytes { outRaw in
                    var outBuffer = ZSTD_outBuffer(dst: outRaw.baseAddress, size: outRaw.count, pos: 0)
                    remaining = ZSTD_compressStream2(context, &outBuffer, &inBuffer, mode)
                    if ZSTD_isError(remaining) != 0 { throw CompressionError(description: "zstd failed") }
                    return outBuffer.pos
                }
                out += chunk[0..<produced]
                let done = mode == ZSTD_e_continue ? inBuffer.pos == inBuffer.size : remaining == 0
                if done { break }
            }
        }
        return out
    }
}
