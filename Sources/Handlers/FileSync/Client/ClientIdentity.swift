import Glibc
import QuantumCore

/// The default client id: `HOSTNAME-xxxxxx`, made once per folder and kept in
/// `DIR/.quantum-sync-client/client-id`.
///
/// Not the bare host name: two folders synced from one machine would then share an id, and
/// each would ignore the other's changes as its own. Stable across restarts, so the server's
/// `source_client` and the conflict copies keep naming the same client.
public enum ClientIdentity {
    public static func stored(in localPath: String) throws -> String {
        let directory = localPath + "/" + LocalTree.stateDirectoryName
        let file = directory + "/client-id"
        if let bytes = try? FileIO.readAll(file) {
            let id = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0.isWhitespace || $0.isNewline }).first ?? ""
            if !id.isEmpty && id.utf8.count <= 256 { return String(id) }
        }
        let id = hostName() + "-" + String(UUIDv4.make().prefix(6))
        try LocalTree.makeDirectories(directory)
        try LocalTree.writeAtomically(Array((id + "\n").utf8), to: file)
        return id
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "client" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "client" : name
    }
}
