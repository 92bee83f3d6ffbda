/// A configuration problem: where in the JSON (`apps.http.servers.srv0.routes[1]`) and why.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    /// The JSON path of the field at fault, as Caddy prints it (`apps.http.servers.srv0.routes[1]`); "" for the root.
    public let path: String
    /// What is wrong, for the user to read; printed after the path.
    public let message: String

    /// For a path already formatted; from inside `init(from:)`, prefer `init(codingPath:_:)`.
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    /// Names the field at fault by a decoder's `codingPath`, so handlers need not format it.
    public init(codingPath: [any CodingKey], _ message: String) {
        self.init(path: ConfigPath.format(codingPath), message)
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Formats coding paths the way users read JSON: `apps.http.servers.srv0.routes[1].handle[0]`.
public enum ConfigPath {
    /// Keys join with dots and array indices print as `[n]`; an empty path gives "".
    public static func format(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let i = key.intValue, key.stringValue == "[\(i)]" || key is IndexKey {
                out += "[\(i)]"
            } else {
                if !out.isEmpty { out += "." }
                out += key.stringValue
            }
        }
        return out
    }
}

/// An array index in a coding path.
package struct IndexKey: CodingKey, Sendable {
    public let intValue: Int?
    public var stringValue: String { "[\(intValue ?? 0)]" }
    public init(_ i: Int) { intValue = i }
    public init?(intValue: Int) { self.intValue = intValue }
    public init?(stringValue: String) { return nil }
}

/// An object key in a coding path.
package struct NameKey: CodingKey, Hashable, Sendable {
    public let stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { return nil }
}
