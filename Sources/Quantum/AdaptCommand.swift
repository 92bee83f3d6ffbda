import Glibc
import QuantumCaddyfile
import QuantumCore

/// `quantum adapt` and `quantum fmt`: a Caddyfile as the JSON it stands for, and formatted as
/// `caddy fmt` formats it.
struct AdaptCommand {
    let out: @Sendable (String) -> Void
    let err: @Sendable (String) -> Void

    /// Prints the JSON; `validate` also provisions it with `provision`.
    func adapt(path: String, adapter: String?, pretty: Bool, validate: ((_ json: [UInt8]) throws -> Void)?) throws -> Int32 {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path) } catch { throw QuantumCommand.FileError(description: "reading input file: \(error)") }
        let json = try ConfigSource.json(bytes, path: path, adapter: try ConfigSource.adapter(for: path, explicit: adapter ?? "caddyfile"))
        let value = try JSONParser.parse(json)
        if let validate { try validate(json) }
        out(pretty ? value.pretty : value.serialized)
        return 0
    }

    /// Formats a Caddyfile: printed, written back (`overwrite`: the file keeps its mode, and an
    /// already formatted one is not touched), or as a diff (`diff`, lines marked as `caddy fmt
    /// --diff` marks them).
    func fmt(path: String, overwrite: Bool, diff: Bool) throws -> Int32 {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path) } catch { throw QuantumCommand.FileError(description: "reading input file: \(error)") }
        let input = String(decoding: bytes, as: UTF8.self)
        let formatted = CaddyfileFormatter.format(input)
        if overwrite {
            if formatted == input { return 0 }
            var info = stat()
            let mode = stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o644
            do { try FileIO.writeAtomically(Array(formatted.utf8), to: path, mode: mode) } catch {
                throw QuantumCommand.FileError(description: "overwriting formatted file: \(error)")
            }
            return 0
        }
        if diff {
            for line in CaddyfileFormatter.diff(input, formatted) { out(line) }
            return 0
        }
        out(formatted.hasSuffix("\n") ? String(formatted.dropLast()) : formatted)
        return 0
    }
}
