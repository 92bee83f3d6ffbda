import Glibc
import QuantumCore

/// The built-in sync site's token when it listens beyond loopback: made at the first such start,
/// kept owner-only (0600) in the data directory, the same on every later start.
public struct SyncToken: Sendable {
    /// The token itself: what the page sends as `Authorization: Bearer`.
    public let value: String
    /// Where it is kept.
    public let path: String
    /// Made by this start (so shown now), rather than read from an earlier one.
    public let isNew: Bool

    static let fileName = "sync-token"

    static func loadOrCreate(in directory: String) throws -> SyncToken {
        let path = directory + "/" + fileName
        if FileIO.exists(path) {
            let words = String(decoding: try FileIO.readAll(path), as: UTF8.self).split(whereSeparator: \.isWhitespace)
            guard words.count == 1, let value = words.first, value.count >= 16 else {
                throw QuantumCommand.FileError(description: "\(path) does not hold a token; remove it and a new one is made")
            }
            _ = chmod(path, 0o600)
            return SyncToken(value: String(value), path: path, isNew: false)
        }
        try FileIO.makeDirectories(directory, mode: 0o700)
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        // URL-safe: it travels in a fragment and in `?token=`.
        let value = String(Base64.encode(bytes).map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        try FileIO.writeAtomically(Array((value + "\n").utf8), to: path, mode: 0o600)
        return SyncToken(value: value, path: path, isNew: true)
    }
}
