import QuantumCaddyfile
import QuantumCore

/// A config file as the JSON Quantum runs: JSON as is, a Caddyfile adapted. Which one is
/// `--adapter` (`caddyfile`, or `json`), else the file's name: `Caddyfile`, `Caddyfile.*` (not
/// `*.json`) and `*.caddyfile` are Caddyfiles, as Caddy decides.
enum ConfigSource {
    struct UnknownAdapter: Error, CustomStringConvertible {
        let name: String
        var description: String { "unrecognized config adapter: \(name)" }
    }

    /// The adapter a file needs: "caddyfile", or nil for JSON.
    static func adapter(for path: String, explicit: String?) throws -> String? {
        if let explicit {
            switch explicit {
            case "caddyfile": return "caddyfile"
            case "json", "": return nil
            default: throw UnknownAdapter(name: explicit)
            }
        }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        if base.hasSuffix(".json") { return nil }
        return base.hasPrefix("Caddyfile") || base.hasSuffix(".caddyfile") ? "caddyfile" : nil
    }

    /// JSON for `bytes` read from `path`; a Caddyfile's warnings go to the process log.
    static func json(_ bytes: [UInt8], path: String, adapter: String?) throws -> [UInt8] {
        guard adapter == "caddyfile" else { return bytes }
        return Array(try adaptCaddyfile(bytes, file: path).utf8)
    }

    /// Adapts Caddyfile text to compact JSON, logging its warnings as Caddy logs them.
    static func adaptCaddyfile(_ bytes: [UInt8], file: String) throws -> String {
        let result = try CaddyfileAdapter.adapt(String(decoding: bytes, as: UTF8.self), file: file)
        for warning in result.warnings {
            var fields: KeyValuePairs<String, ProcessLog.Value> = [:]
            if warning.line > 0 { fields = ["file": .string(warning.file), "line": .int(warning.line)] }
            ProcessLog.write(nil, .warn, logger: "caddyfile", warning.message, fields)
        }
        return result.config.serialized
    }
}
