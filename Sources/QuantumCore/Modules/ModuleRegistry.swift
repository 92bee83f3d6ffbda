/// Every module type Quantum can load, by Caddy module ID. A value: build one at startup
/// (`StandardModules.registry` plus your own), then load configs with it.
public struct ModuleRegistry: Sendable {
    /// Decodes, provisions and validates one module from its JSON object; `register` makes these.
    public typealias Factory = @Sendable (any Decoder) throws -> any Module

    struct Entry: Sendable {
        let id: String
        let make: Factory
    }

    private var entries: [String: Entry] = [:]
    /// Endpoints modules add to the admin API.
    package internal(set) var adminRoutes: [AdminRoute] = []

    /// An empty registry, without even the standard modules: start from `StandardModules.registry` for those.
    public init() {}

    /// The namespaces configs load modules from: a module registered anywhere else could never
    /// be used.
    public static let namespaces = ["http.handlers", "http.matchers"]

    /// Registers `type` under its `moduleID`. An ID outside `namespaces`, or one already
    /// registered, is a programming error that stops the program at startup (as Caddy's
    /// `RegisterModule` panics); `replacing: true` replaces a registered module on purpose.
    public mutating func register<M: Module & Decodable>(_ type: M.Type, replacing: Bool = false) {
        let id = M.moduleID
        if let problem = registrationProblem(id, replacing: replacing) { preconditionFailure(problem) }
        entries[id] = Entry(id: id) { decoder in
            var module = try M(from: decoder)
            // Strict like Caddy even when the module's object was reached without `decode`
            // (a matcher set hands each matcher its own decoder).
            try (decoder as? ValueDecoder)?.rejectUnknownFields()
            let ctx = try decoder.provisionContext
            do {
                try module.provision(ctx)
                try module.validate()
            } catch let error as ConfigError where !error.path.isEmpty {
                // A module names its own field (`tokens[1]`): the path starts at the module.
                let base = ConfigPath.format(decoder.codingPath)
                let separator = base.isEmpty || error.path.hasPrefix("[") ? "" : "."
                throw ConfigError(path: base + separator + error.path, error.message)
            } catch let error as ConfigError {
                throw decoder.error("\(M.moduleName): \(error.message)")
            } catch {
                throw decoder.error("\(M.moduleName): \(error)")
            }
            let provisioned = module
            ctx.onCleanup { provisioned.cleanup() }
            return provisioned
        }
    }

    /// Why `id` cannot be registered (outside `namespaces`, or taken), or nil.
    public func registrationProblem(_ id: String, replacing: Bool = false) -> String? {
        let namespace = id.split(separator: ".", omittingEmptySubsequences: false).dropLast().joined(separator: ".")
        if !Self.namespaces.contains(namespace) || id.hasSuffix(".") {
            return "module ID \"\(id)\" is not in a namespace modules load from (\(Self.namespaces.joined(separator: ", ")))"
        }
        if !replacing && entries[id] != nil {
            return "module ID \"\(id)\" is already registered; register(_:replacing: true) replaces it"
        }
        return nil
    }

    /// All registered module IDs, sorted.
    public var moduleIDs: [String] { entries.keys.sorted() }

    /// Names registered in `namespace` (`http.handlers` → `file_server`, ...), sorted.
    public func names(in namespace: String) -> [String] {
        entries.keys.compactMap { id in
            guard id.hasPrefix(namespace + "."), !id.dropFirst(namespace.count + 1).contains(".") else { return nil }
            return String(id.dropFirst(namespace.count + 1))
        }.sorted()
    }

    /// Decodes the module `namespace.name` from `decoder`, or fails naming the known ones.
    public func load(namespace: String, name: String, kind: String, from decoder: any Decoder, keyPath: [any CodingKey]) throws -> any Module {
        guard let entry = entries[namespace + "." + name] else {
            let known = names(in: namespace)
            throw ConfigError(codingPath: keyPath, "unknown \(kind) \"\(name)\"" + Spelling.hint(for: name, known: known))
        }
        return try entry.make(decoder)
    }
}

/// Decodes a module chosen by an inline key (`"handler": "static_response"`).
struct InlineModuleKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

extension Decoder {
    /// Loads the module named by `inlineKey` in this object from `namespace`.
    public func decodeModule(namespace: String, inlineKey: String, kind: String) throws -> any Module {
        let container = try self.container(keyedBy: InlineModuleKey.self)
        let key = InlineModuleKey(inlineKey)
        guard container.contains(key) else { throw error("missing \"\(inlineKey)\": which \(kind) to use") }
        let name = try container.decode(String.self, forKey: key)
        return try provisionContext.registry.load(namespace: namespace, name: name, kind: kind, from: self, keyPath: codingPath + [key])
    }
}
