/// Decodes `Decodable` types from a `JSONValue` the way Caddy decodes config: strictly.
///
/// Every object a type decodes must have all of its keys consumed, or decoding fails with
/// `unknown field` and the JSON path. `@id` keys are ignored, as Caddy strips them; other `@`
/// keys are unknown fields like any other.
package struct ConfigDecoder {
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try ValueDecoder.unbox(type, value, path: [], userInfo: userInfo)
    }
}

final class UsedKeys { var keys: Set<String> = []; var asked = false; var knownKeys: [String]? }

struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]
    let used: UsedKeys

    static func unbox<T: Decodable>(_ type: T.Type, _ value: JSONValue, path: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        let decoder = ValueDecoder(value: value, codingPath: path, userInfo: userInfo, used: UsedKeys())
        let result: T
        do {
            result = try T(from: decoder)
        } catch let error as ConfigError {
            throw error
        } catch let error as DecodingError {
            throw ConfigError(codingPath: path, "\(error)")
        } catch {
            throw ConfigError(codingPath: path, "\(error)")
        }
        try decoder.rejectUnknownFields()
        return result
    }

    /// After a type decoded this object: fails on the first member it did not read.
    func rejectUnknownFields() throws {
        guard case .object(let members) = value, used.asked else { return }
        for (key, _) in members where !used.keys.contains(key) && key != "@id" {
            var message = "unknown field \"\(key)\""
            if let known = used.knownKeys, !known.isEmpty { message += Spelling.hint(for: key, known: known, label: " fields") }
            throw ConfigError(codingPath: codingPath, message)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw ConfigError(codingPath: codingPath, "expected an object, found \(value.kindName)")
        }
        used.asked = true
        if let cases = Key.self as? any (CodingKey & CaseIterable).Type {
            used.knownKeys = (used.knownKeys ?? []) + Self.names(of: cases)
        }
        var dict: [String: JSONValue] = [:]
        for (k, v) in members { dict[k] = v }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: dict, order: members.map(\.0), decoder: self))
    }

    private static func names<K: CodingKey & CaseIterable>(of type: K.Type) -> [String] {
        type.allCases.map(\.stringValue)
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else {
            throw ConfigError(codingPath: codingPath, "expected an array, found \(value.kindName)")
        }
        return UnkeyedContainer(items: items, decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(decoder: self) }

    // MARK: Primitives

    func mismatch(_ expected: String) -> ConfigError {
        ConfigError(codingPath: codingPath, "expected \(expected), found \(value.kindName)")
    }

    func decodeBool() throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch("a boolean") }
        return b
    }

    func decodeString() throws -> String {
        guard case .string(let s) = value else { throw mismatch("a string") }
        return s
    }

    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .number(let text) = value else { throw mismatch("an integer") }
        if let v = I(text) { return v }
        if let d = Double(text), d.rounded() == d, let v = I(exactly: d) { return v }
        throw ConfigError(codingPath: codingPath, "\(text) is not a valid integer here")
    }

    func decodeDouble() throws -> Double {
        guard case .number(let text) = value, let d = Double(text) else { throw mismatch("a number") }
        return d
    }

    func decodeAny<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is Bool.Type: return try decodeBool() as! T
        case is String.Type: return try decodeString() as! T
        case is Int.Type: return try decodeInteger(Int.self) as! T
        case is Int64.Type: return try decodeInteger(Int64.self) as! T
        case is UInt64.Type: return try decodeInteger(UInt64.self) as! T
        case is Int32.Type: return try decodeInteger(Int32.self) as! T
        case is UInt16.Type: return try decodeInteger(UInt16.self) as! T
        case is UInt32.Type: return try decodeInteger(UInt32.self) as! T
        case is Double.Type: return try decodeDouble() as! T
        default: return try ValueDecoder.unbox(type, value, path: codingPath, userInfo: userInfo)
        }
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let order: [String]
    let decoder: ValueDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { order.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func child(_ key: Key) throws -> ValueDecoder {
        decoder.used.keys.insert(key.stringValue)
        guard let v = members[key.stringValue] else {
            throw ConfigError(codingPath: codingPath, "missing required field \"\(key.stringValue)\"")
        }
        return ValueDecoder(value: v, codingPath: codingPath + [key], userInfo: decoder.userInfo, used: UsedKeys())
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        decoder.used.keys.insert(key.stringValue)
        if case .null = members[key.stringValue] ?? .null { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeAny(type) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        decoder.used.keys.insert(key.stringValue)
        guard let v = members[key.stringValue] else { return nil }
        if case .null = v { return nil }
        return try child(key).decodeAny(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }

    func superDecoder() throws -> any Decoder { decoder }

    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let decoder: ValueDecoder
    var currentIndex = 0

    init(items: [JSONValue], decoder: ValueDecoder) {
        self.items = items
        self.decoder = decoder
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func nextDecoder() throws -> ValueDecoder {
        guard !isAtEnd else { throw ConfigError(codingPath: codingPath, "too few array elements") }
        let d = ValueDecoder(value: items[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)], userInfo: decoder.userInfo, used: UsedKeys())
        currentIndex += 1
        return d
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, case .null = items[currentIndex] { currentIndex += 1; return true }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try nextDecoder().decodeAny(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try nextDecoder().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try nextDecoder().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try nextDecoder() }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { if case .null = decoder.value { return true }; return false }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.decodeBool() }
    func decode(_ type: String.Type) throws -> String { try decoder.decodeString() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.decodeDouble() }
    func decode(_ type: Float.Type) throws -> Float { Float(try decoder.decodeDouble()) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decodeInteger(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.decodeInteger(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.decodeInteger(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decodeInteger(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decodeInteger(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.decodeInteger(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeAny(type) }
}

extension Decoder {
    /// The raw JSON of this value (for modules that inspect their config's shape).
    public func jsonValue() throws -> JSONValue {
        if let d = self as? ValueDecoder { return d.value }
        return try singleValueContainer().decode(JSONValue.self)
    }

    /// A config error at this decoder's path.
    public func error(_ message: String) -> ConfigError { ConfigError(codingPath: codingPath, message) }

    /// `value` decoded as `T` with this decoder's context (registry, provisioning), as if it
    /// were in the config here: for modules that build configuration of their own (the
    /// `expression` matcher's matcher functions).
    package func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try ValueDecoder.unbox(type, value, path: codingPath, userInfo: userInfo)
    }
}
