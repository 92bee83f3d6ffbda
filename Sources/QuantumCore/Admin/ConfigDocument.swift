/// The running config as the admin API sees it: raw JSON (with its `@id`s), read and edited by
/// path as Caddy's `/config/...` endpoints do. Paths start at `config`: `/config/apps/http/...`.
/// Object keys name members, numbers index arrays; POST appends to an array (a path ending in
/// `/...` appends each element of an array body) or sets a member; PUT creates (409 on an
/// existing key) or inserts at an index; PATCH replaces what exists (404 otherwise); DELETE
/// removes. A value type: an edit makes a new document, and the running one changes only once
/// the edited config has loaded.
package struct ConfigDocument: Sendable, Equatable {
    /// The config itself; `null` before any was loaded.
    public private(set) var config: JSONValue

    public init(_ config: JSONValue = .null) { self.config = config }

    /// The config as Caddy writes it (sorted keys, a trailing newline): what "unchanged" compares.
    public var canonical: String { GoJSON.encode(config) }

    /// The hash in an ETag (`"<path> <hash>"`) for `json` as read: 32-bit FNV-1a in hex, as
    /// Caddy 2.6.2's, so an ETag from either server fits the other's `If-Match` for the same config.
    public static func hash(_ json: String) -> String {
        var h: UInt32 = 0x811C_9DC5
        for byte in json.utf8 { h = (h ^ UInt32(byte)) &* 0x0100_0193 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    public enum Method: String, Sendable { case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE" }

    /// The value at `path` (`null` where an object has no such key).
    public func read(_ path: String) throws(AdminError) -> JSONValue {
        var copy = self
        return try copy.access(.get, path, body: nil) ?? .null
    }

    /// This document with `method` applied at `path` (`body` is the request's JSON, nil for DELETE).
    public func applying(_ method: Method, at path: String, body: JSONValue?) throws(AdminError) -> ConfigDocument {
        var copy = self
        _ = try copy.access(method, path, body: body)
        return copy
    }

    /// `@id` values and the config paths of the objects that carry them (`/config/apps/...`).
    public var ids: [String: String] {
        var index: [String: String] = [:]
        Self.index(config, at: "/config", into: &index)
        return index
    }

    private static func index(_ value: JSONValue, at path: String, into index: inout [String: String]) {
        switch value {
        case .object(let members):
            for (key, member) in members {
                if key == "@id" {
                    switch member {
                    case .string(let id): index[id] = path
                    case .number(let n): index[GoJSON.number(n)] = path
                    default: break
                    }
                }
                Self.index(member, at: path + "/" + key, into: &index)
            }
        case .array(let items):
            for (i, item) in items.enumerated() { Self.index(item, at: path + "/" + String(i), into: &index) }
        default:
            break
        }
    }

    // MARK: - Traversal

    private mutating func access(_ method: Method, _ path: String, body: JSONValue?) throws(AdminError) -> JSONValue? {
        let clean = path.trimmingSlashes()
        guard !clean.isEmpty else { throw AdminError(400, "no traversable path") }
        var parts = clean.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let ellipses = parts.last == "..."
        if ellipses { parts.removeLast() }
        var root = JSONValue.object([("config", config)])
        let edit = Edit(method: method, path: path, parts: parts, body: body ?? .null, ellipses: ellipses)
        let result = try edit.visit(&root, 0)
        if method != .get { config = root["config"] ?? .null }
        return result
    }

    /// One access walking down `parts`.
    private struct Edit {
        let method: Method
        let path: String
        let parts: [String]
        let body: JSONValue
        let ellipses: Bool

        func visit(_ node: inout JSONValue, _ i: Int) throws(AdminError) -> JSONValue? {
            guard i < parts.count else { return nil }
            let part = parts[i]
            switch node {
            case .object(var members):
                var result: JSONValue?
                if case .array(var array)? = members.value(part), i == parts.count - 2 {
                    result = try atIndex(&array)
                    members.set(part, .array(array))
                } else if i == parts.count - 1 {
                    result = try atKey(part, in: &members)
                } else {
                    var child = members.value(part)
                    if (child == nil || child == .null) && method == .put { child = .object([]) }
                    guard var next = child, next != .null else {
                        throw AdminError(400, "invalid traversal path at: " + parts[...(i + 1)].joined(separator: "/"))
                    }
                    result = try visit(&next, i + 1)
                    members.set(part, next)
                }
                node = .object(members)
                return result
            case .array(var items):
                let at = "/" + parts[...i].joined(separator: "/")
                guard let index = Int(part) else { throw AdminError(400, "[\(at)] invalid array index '\(part)'\(Self.atoiFailure(part))") }
                guard items.indices.contains(index) else { throw AdminError(400, "[\(at)] array index out of bounds: \(part)") }
                let result = try visit(&items[index], i + 1)
                node = .array(items)
                return result
            default:
                throw AdminError(400, "invalid traversal path at: " + parts[...i].joined(separator: "/"))
            }
        }

        /// The destination is an element of `array` (the path's last part is its index; none for POST).
        private func atIndex(_ array: inout [JSONValue]) throws(AdminError) -> JSONValue? {
            var index = 0
            if method != .post {
                let text = parts[parts.count - 1]
                guard let n = Int(text) else { throw AdminError(400, "[\(path)] invalid array index '\(text)'\(Self.atoiFailure(text))") }
                guard n >= 0, n <= array.count, method == .put || n < array.count else {
                    throw AdminError(400, "[\(path)] array index out of bounds: \(text)")
                }
                index = n
            }
            switch method {
            case .get: return array[index]
            case .post: array += try appended()
            case .put: array.insert(body, at: index)
            case .patch: array[index] = body
            case .delete: array.remove(at: index)
            }
            return nil
        }

        /// The destination is member `key` of an object.
        private func atKey(_ key: String, in members: inout [(String, JSONValue)]) throws(AdminError) -> JSONValue? {
            let existing = members.value(key)
            switch method {
            case .get:
                return existing ?? .null
            case .post:
                if case .array(let array)? = existing { members.set(key, .array(array + (try appended()))) } else { members.set(key, body) }
            case .put:
                if existing != nil { throw AdminError(409, "[\(path)] key already exists: \(key)") }
                members.set(key, body)
            case .patch:
                if existing == nil { throw AdminError(404, "[\(path)] key does not exist: \(key)") }
                members.set(key, body)
            case .delete:
                if existing == nil { throw AdminError(404, "[\(path)] key does not exist: \(key)") }
                members.removeAll { $0.0 == key }
            }
            return nil
        }

        /// Go's own words for a part that is not a number (Caddy passes them on).
        static func atoiFailure(_ text: String) -> String { ": strconv.Atoi: parsing \(GoJSON.quote(text)): invalid syntax" }

        /// What a POST adds to an array: the body, or with `/...` each element of it.
        private func appended() throws(AdminError) -> [JSONValue] {
            guard ellipses else { return [body] }
            guard case .array(let items) = body else { throw AdminError(400, "final element is not an array") }
            return items
        }
    }
}

private extension Array where Element == (String, JSONValue) {
    func value(_ key: String) -> JSONValue? { last { $0.0 == key }?.1 }

    mutating func set(_ key: String, _ value: JSONValue) {
        if let i = lastIndex(where: { $0.0 == key }) { self[i].1 = value } else { append((key, value)) }
    }
}

private extension String {
    func trimmingSlashes() -> String {
        var s = Substring(self)
        while s.hasPrefix("/") { s = s.dropFirst() }
        while s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }
}
