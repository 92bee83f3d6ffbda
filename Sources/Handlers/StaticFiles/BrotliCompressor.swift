import CBrotli

/// Brotli through libbrotlienc's streaming API.
final class BrotliCompressor: Compressor {
    private let state: OpaquePointer

    init(quality: Int) throws {
        guard let s = BrotliEncoderCreateInstance(nil, nil, nil) else { throw CompressionError(description: "brotli init failed") }
        state = s
        BrotliEncoderSetParameter(state, BROTLI_PARAM_QUALITY, UInt32(max(0, min(11, quality))))
    }

    deinit { BrotliEncoderDestroyInstance(state) }

    func compress(_ input: [UInt8], flush: Bool, finish: Bool) throws -> [UInt8] {
        var out: [UInt8] = []
        let op = finish ? BROTLI_OPERATION_FINISH : (flush ? BROTLI_OPERATION_FLUSH : BROTLI_OPERATION_PROCESS)
        try input.withUnsafeBytes { inRaw in
            var availableIn = inRaw.count
            var nextIn = inRaw.bindMemory(to: UInt8.self).baseAddress
            while true {
                var availableOut = 0
                var nextOut: UnsafeMutablePointer<UInt8>?
                guard BrotliEncoderCompressStream(state, op, &availableIn, &nextIn, &availableOut, &nextOut, nil) == BROTLI_TRUE else {
                    throw CompressionError(description: "brotli failed")
                }
                var size = 0
                if let p = BrotliEncoderTakeOutput(state, &size), size > 0 { out += UnsafeBufferPointer(start: p, count: size) }
                let pending = BrotliEncoderHasMoreOutput(state) == BROTLI_TRUE
                if availableIn == 0 && !pending && (!finish || BrotliEncoderIsFinished(state) == BROTLI_TRUE) { break }
            }
        }
        return out
    }
}
