import QuantumCore

/// A streaming compressor for one response body (`encode`).
public protocol Compressor: AnyObject {
    /// Compresses `input`; `flush` pushes out everything so far (for streamed bodies), `finish`
    /// ends the stream. Returns the bytes produced (possibly none before a flush).
    func compress(_ input: [UInt8], flush: Bool, finish: Bool) throws -> [UInt8]
}

/// The encodings `encode` can produce, by the names `Accept-Encoding` uses.
public enum ContentEncoding: String, Sendable, CaseIterable {
    case gzip, zstd, br

    /// A fresh compressor at `level` (nil: the encoding's default).
    func compressor(level: Int?) throws -> any Compressor {
        switch self {
        case .gzip: try GzipCompressor(level: level ?? 5)
        case .zstd: try ZstdCompressor(level: level ?? 3)
        case .br: try BrotliCompressor(quality: level ?? 4)
        }
    }
}

struct CompressionError: Error, CustomStringConvertible {
    let description: String
}
