import QuantumCore

/// `encode`: compresses responses (gzip, zstd, br) that the client accepts and whose content
/// type is compressible, streaming bodies of unknown length. Like Caddy it never compresses
/// twice, never 206/304, drops `Content-Length`, marks the ETag with the encoding, and adds
/// `Vary: Accept-Encoding`. A HEAD gets the head its GET would: the same `Content-Encoding` and
/// ETag, and the same `Content-Length` where the GET has one (a body held in memory, compressed
/// to count it); a streamed body is never run for HEAD, so neither has a length then.
public struct Encode: HandlerModule {
    public static let moduleID = "http.handlers.encode"

    /// Caddy's default `match`: text and the structured/compressible application types.
    static let defaultTypes = [
        "application/atom+xml*", "application/eot*", "application/font*", "application/geo+json*", "application/graphql+json*",
        "application/javascript*", "application/json*", "application/ld+json*", "application/manifest+json*",
        "application/opentype*", "application/otf*", "application/rss+xml*", "application/truetype*", "application/ttf*",
        "application/vnd.api+json*", "application/vnd.ms-fontobject*", "application/wasm*", "application/x-httpd-cgi*",
        "application/x-javascript*", "application/x-opentype*", "application/x-otf*", "application/x-perl*",
        "application/x-protobuf*", "application/x-ttf*", "application/xhtml+xml*", "application/xml*", "font/*",
        "image/svg+xml*", "image/vnd.microsoft.icon*", "image/x-icon*", "multipart/bag*", "multipart/mixed*", "text/*",
    ]

    public struct Options: Decodable, Sendable {
        public var level: JSONValue?
        public var quality: Int?
        public var checksum: Bool?
        public var windowSize: JSONValue?
        enum CodingKeys: String, CodingKey, CaseIterable { case level, quality, checksum, windowSize = "window_size" }
    }

    public var encodings: [String: Options]?
    public var prefer: [String]?
    public var minimumLength: Int?
    public var match: JSONValue?

    enum CodingKeys: String, CodingKey, CaseIterable { case encodings, prefer, minimumLength = "minimum_length", match }

    private var order: [ContentEncoding] = []
    private var levels: [ContentEncoding: Int] = [:]
    private var types: [String] = Encode.defaultTypes
    private var statusCodes: [Int] = []

    public mutating func provision(_ context: ProvisionContext) throws {
        let configured = encodings ?? [:]
        for (name, options) in configured {
            guard let encoding = ContentEncoding(rawValue: name) else {
                throw ConfigError(path: "", "unknown encoding \"\(name)\"; known: br, gzip, zstd")
            }
            switch options.level {
            case .number(let n)?: levels[encoding] = Int(Double(n) ?? 0)
            case .string(let s)?:
                let named = ["fastest": 1, "better": encoding == .zstd ? 7 : 7, "best": encoding == .gzip ? 9 : (encoding == .zstd ? 19 : 11)]
                if s != "default" { guard let v = named[s] else { throw ConfigError(path: "", "invalid level \"\(s)\"") }; levels[encoding] = v }
            default: if let q = options.quality { levels[encoding] = q }
            }
        }
        let names = prefer ?? ContentEncoding.allCases.map(\.rawValue).filter { configured[$0] != nil } + configured.keys.sorted().filter { n in !ContentEncoding.allCases.map(\.rawValue).contains(n) }
        order = names.compactMap { n in configured[n] == nil ? nil : ContentEncoding(rawValue: n) }
        for n in prefer ?? [] where configured[n] == nil { throw ConfigError(path: "", "prefer names \"\(n)\", which is not in encodings") }
        if let match {
            guard case .object(let members) = match else { throw ConfigError(path: "", "match must be an object") }
            for (key, value) in members {
                switch (key, value) {
                case ("headers", .object(let headers)):
                    types = []
                    for (name, patterns) in headers where name.equalsIgnoringASCIICase("content-type") {
                        if case .array(let items) = patterns { types = items.compactMap { if case .string(let s) = $0 { s } else { nil } } }
                    }
                case ("status_code", .array(let codes)):
                    statusCodes = codes.compactMap { if case .number(let n) = $0 { Int(n) } else { nil } }
                default: throw ConfigError(path: "", "match: unknown field \"\(key)\"")
                }
            }
        }
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let chosen = Encodings.preferred(request.headers.values("accept-encoding"), among: order.map(\.rawValue)).first.flatMap(ContentEncoding.init)
        var inner = request
        if let chosen { Self.stripEncodingFromValidators(&inner.headers, chosen) }
        var response = try await next(inner, context)
        guard compressibleType(response) else { return response }
        Self.addVary(&response.headers)
        guard let chosen, shouldEncode(response, request) else { return response }
        let level = levels[chosen]
        switch response.body {
        case .empty:
            return response
        case .bytes(let bytes):
            if bytes.count < (minimumLength ?? 512) { return response }
            let compressor = try chosen.compressor(level: level)
            response.body = .bytes(try compressor.compress(bytes, flush: false, finish: true))
        case .file(let region):
            if region.length < (minimumLength ?? 512) { return response }
            response.body = .stream(length: nil) { writer in
                let compressor = try chosen.compressor(level: level)
                var offset = region.offset
                let end = region.offset + region.length
                while offset < end {
                    let count = min(64 * 1024, end - offset), at = offset
                    let chunk = try await BlockingPool.shared.run { try region.file.read(offset: at, count: count) }
                    if chunk.isEmpty { break }
                    let out = try compressor.compress(chunk, flush: false, finish: false)
                    if !out.isEmpty { try await writer.write(out) }
                    offset += chunk.count
                }
                try await writer.write(try compressor.compress([], flush: false, finish: true))
            }
        case .stream(let length, let producer):
            if let length, length < (minimumLength ?? 512) { return response }
            response.body = .stream(length: nil) { writer in
                let compressing = CompressingWriter(inner: writer, compressor: try chosen.compressor(level: level))
                try await producer(compressing)
                try await writer.write(try compressing.compressor.compress([], flush: false, finish: true))
            }
        }
        response.headers.set("Content-Encoding", chosen.rawValue)
        response.headers.remove("Content-Length")
        if let etag = response.headers["etag"], etag.hasSuffix("\"") {
            response.headers.set("Etag", String(etag.dropLast()) + "-" + chosen.rawValue + "\"")
        }
        return response
    }

    private func compressibleType(_ response: Response) -> Bool {
        guard let type = response.headers["content-type"] else { return false }
        return types.contains { Wildcard.match($0, type, ignoringCase: true) }
    }

    private func shouldEncode(_ response: Response, _ request: Request) -> Bool {
        if response.upgrade != nil { return false }
        let status = response.status
        if status < 200 || status == 204 || status == 206 || status == 304 { return false }
        if !statusCodes.isEmpty && !statusCodes.contains(where: { $0 < 10 ? status / 100 == $0 : status == $0 }) { return false }
        if response.headers.contains("content-encoding") { return false }
        if response.headers.values("cache-control").contains(where: { $0.asciiLowercased().contains("no-transform") }) { return false }
        return true
    }

    static func addVary(_ headers: inout HTTPFields) {
        if headers.values("vary").contains(where: { v in v.split(separator: ",").contains { $0.trimmingOWS().equalsIgnoringASCIICase("accept-encoding") } }) { return }
        headers.add("Vary", "Accept-Encoding")
    }

    /// Validators the client got from an encoded response carry `-ENC`; the handler behind us
    /// knows them without it.
    static func stripEncodingFromValidators(_ headers: inout HTTPFields, _ encoding: ContentEncoding) {
        let suffix = "-" + encoding.rawValue + "\""
        headers.mapValues { field in
            guard field.name.equalsIgnoringASCIICase("if-none-match") || field.name.equalsIgnoringASCIICase("if-match") else { return field.value }
            return field.value.replacing(suffix, with: "\"")
        }
    }
}

/// Compresses what a streamed body writes, flushing each write so streams (SSE) keep flowing.
/// `@unchecked Sendable`: the compressor's state is used only by the body's one producer, one write at a time.
final class CompressingWriter: ResponseBodyWriter, @unchecked Sendable {
    let inner: any ResponseBodyWriter
    let compressor: any Compressor

    init(inner: any ResponseBodyWriter, compressor: any Compressor) {
        self.inner = inner
        self.compressor = compressor
    }

    nonisolated(nonsending) func write(_ bytes: [UInt8]) async throws {
        let out = try compressor.compress(bytes, flush: true, finish: false)
        if !out.isEmpty { try await inner.write(out) }
    }
}
