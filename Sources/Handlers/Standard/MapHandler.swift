import QuantumCore

/// `map`: sets placeholders (`destinations`) from what `source` renders to, through a table —
/// the first mapping whose `input` equals it, or whose `input_regexp` matches it (outputs may
/// use `${1}`/`${name}` captures), gives the outputs; otherwise `defaults`. A `null` output
/// leaves that destination to later mappings and the default, as in Caddy 2.6.2. Caddy works
/// the value out when a destination is first read; here it is worked out when the request
/// passes, from the same request.
public struct MapHandler: HandlerModule {
    public static let moduleID = "http.handlers.map"

    public var source: String?
    public var destinations: [String]?
    public var mappings: [Mapping]?
    public var defaults: [String]?

    public struct Mapping: Decodable, Sendable {
        public var input: String?
        public var inputRegexp: String?
        /// One per destination; `null` passes.
        public var outputs: [JSONValue]?
        enum CodingKeys: String, CodingKey, CaseIterable { case input, inputRegexp = "input_regexp", outputs }
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case source, destinations, mappings, defaults }

    /// Destination placeholder names, braces removed.
    private var names: [String] = []
    /// Each mapping's `input_regexp`, compiled.
    private var patterns: [Pattern?] = []
    /// Each mapping's outputs as text (nil: `null`), and as templates for exact inputs; the
    /// defaults as templates — parsed once, not per request.
    private var texts: [[String?]] = []
    private var templates: [[Template?]] = []
    private var defaultTemplates: [Template] = []
    private var sourceTemplate = Template("")

    public mutating func provision(_ context: ProvisionContext) throws {
        sourceTemplate = Template(source ?? "")
        texts = (mappings ?? []).map { ($0.outputs ?? []).map(Self.text) }
        templates = zip(mappings ?? [], texts).map { m, outputs in outputs.map { text in m.inputRegexp == nil ? text.map(Template.init) : nil } }
        defaultTemplates = (defaults ?? []).map(Template.init)
        patterns = try (mappings ?? []).enumerated().map { i, m in
            do { return try m.inputRegexp.map(Pattern.init) } catch let e as ConfigError {
                throw ConfigError(path: "mappings[\(i)].input_regexp", e.message)
            }
        }
        names = try (destinations ?? []).enumerated().map { i, destination in
            guard destination.hasPrefix("{"), destination.hasSuffix("}"), destination.filter({ $0 == "{" }).count == 1 else {
                throw ConfigError(path: "destinations[\(i)]", "a destination must be a placeholder and only a placeholder, like {my_var}")
            }
            return String(destination.dropFirst().dropLast())
        }
    }

    public func validate() throws {
        var seen: [String: Int] = [:]
        for (i, m) in (mappings ?? []).enumerated() {
            if m.inputRegexp != nil && !(m.input ?? "").isEmpty {
                throw ConfigError(path: "mappings[\(i)]", "a mapping has input or input_regexp, not both")
            }
            let input = m.inputRegexp ?? m.input ?? ""
            if let previous = seen[input] {
                throw ConfigError(path: "mappings[\(i)]", "duplicate input \"\(input)\" (mapping \(previous) has it)")
            }
            seen[input] = i
            if (m.outputs ?? []).count != names.count {
                throw ConfigError(path: "mappings[\(i)].outputs", "\((m.outputs ?? []).count) outputs for \(names.count) destinations")
            }
        }
        if let defaults, defaults.count > names.count {
            throw ConfigError(path: "defaults", "\(defaults.count) defaults for \(names.count) destinations")
        }
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        guard !names.isEmpty else { return try await next(request, context) }
        let input = sourceTemplate.render(request, context)
        var context = context
        for (i, name) in names.enumerated() {
            if let value = value(for: i, input: input, request, context) { context.placeholders[name] = value }
        }
        return try await next(request, context)
    }

    /// Destination `index`'s value for `input`: the first mapping with an output for it that
    /// matches, else the default (nil: none).
    private func value(for index: Int, input: String, _ request: Request, _ context: Context) -> String? {
        for (i, m) in (mappings ?? []).enumerated() {
            guard let text = texts[i][index] else { continue }
            if let regex = patterns[i] {
                if let expanded = regex.expanded(text, firstMatchIn: input) { return expanded }
            } else if input == (m.input ?? ""), let template = templates[i][index] {
                return template.render(request, context)
            }
        }
        return index < defaultTemplates.count ? defaultTemplates[index].render(request, context) : nil
    }

    /// An output as Caddy's `ToString` writes it (nil for `null`).
    private static func text(_ value: JSONValue) -> String? {
        switch value {
        case .null: nil
        case .string(let s): s
        case .number(let n): n
        case .bool(let b): b ? "true" : "false"
        default: value.serialized
        }
    }
}
