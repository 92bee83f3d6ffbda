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

    /// Formats a Caddyfile: printed, written back (`overwrite`), or as a diff (`diff`). Like
    /// `caddy fmt`, an unformatted file with `--diff` exits 1 so CI can use it.
    func fmt(path: String, overwrite: Bool, diff: Bool) throws -> Int32 {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path) } catch { throw QuantumCommand.FileError(description: "reading input file: \(error)") }
        let input = String(decoding: bytes, as: UTF8.self)
        let formatted = CaddyfileFormatter.format(input)
        if overwrite {
            do { try FileIO.writeAtomically(Array(formatted.utf8), to: path) } catch {
                throw QuantumCommand.FileError(description: "overwriting formatted file: \(error)")
            }
            return 0
        }
        if diff {
            let lines = CaddyfileFormatter.diff(input, formatted)
            for line in lines { out(line) }
            return lines.isEmpty ? 0 : 1
        }
        out(formatted.hasSuffix("\n") ? String(formatted.dropLast()) : formatted)
        return 0
    }
}
