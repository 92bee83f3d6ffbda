import CZlib

/// permessage-deflate (RFC 7692) as configured: whether to offer or accept it, and with what.
public struct WebSocketCompression: Sendable, Equatable {
    /// Reset our compressor after every message (`server_no_context_takeover` for a server,
    /// `client_no_context_takeover` for a client): less memory kept, worse ratio.
    public var noContextTakeover: Bool
    /// Ask the peer to reset its compressor after every message.
    public var requestPeerNoContextTakeover: Bool
    /// Our LZ77 window (8...15); lower costs less memory per connection. The defaults (12 and
    /// memory level 5) keep a compressor near 40 KiB instead of zlib's 256 KiB.
    public var maxWindowBits: Int
    /// The window we ask the peer to stay within (8...15; 15 asks nothing).
    public var peerMaxWindowBits: Int
    /// zlib compression level (0...9, -1 = zlib's default).
    public var level: Int
    /// zlib memLevel (1...9): memory for the compressor's internal state.
    public var memoryLevel: Int

    /// Out-of-range values are clamped to the ranges above rather than refused.
    public init(noContextTakeover: Bool = false, requestPeerNoContextTakeover: Bool = false,
                maxWindowBits: Int = 12, peerMaxWindowBits: Int = 15, level: Int = -1, memoryLevel: Int = 5) {
        self.noContextTakeover = noContextTakeover
        self.requestPeerNoContextTakeover = requestPeerNoContextTakeover
        self.maxWindowBits = min(15, max(8, maxWindowBits))
        self.peerMaxWindowBits = min(15, max(8, peerMaxWindowBits))
        self.level = min(9, max(-1, level))
        self.memoryLevel = min(9, max(1, memoryLevel))
    }
}

/// One extension from a `Sec-WebSocket-Extensions` header: a name and its parameters.
package struct WebSocketExtension: Equatable, Sendable {
    public var name: String
    public var parameters: [(name: String, value: String?)]

    public init(name: String, parameters: [(name: String, value: String?)] = []) {
        self.name = name
        self.parameters = parameters
    }

    public static func == (a: WebSocketExtension, b: WebSocketExtension) -> Bool {
        a.name == b.name && a.parameters.count == b.parameters.count
            && zip(a.parameters, b.parameters).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// Parses header values (RFC 6455 §9.1 grammar: comma-separated extensions, `;` parameters,
    /// token or quoted-string values). Nil when malformed.
    public static func parse(_ values: [String]) -> [WebSocketExtension]? {
        var result: [WebSocketExtension] = []
        for value in values {
            var s = Substring(value)
            while true {
                skipSpace(&s)
                if s.isEmpty { break }
                if s.first == "," { s.removeFirst(); continue }
                guard let name = token(&s) else { return nil }
                var ext = WebSocketExtension(name: name.lowercased())
                skipSpace(&s)
                while s.first == ";" {
                    s.removeFirst()
                    skipSpace(&s)
                    guard let pname = token(&s) else { return nil }
                    skipSpace(&s)
                    var pvalue: String?
                    if s.first == "=" {
                        s.removeFirst()
                        skipSpace(&s)
                        if s.first == "\"" {
                            s.removeFirst()
                            guard let close = s.firstIndex(of: "\"") else { return nil }
                            var inner = s[..<close]
                            s = s[s.index(after: close)...]
                            // A quoted value must itself be a token (§9.1).
                            guard let t = token(&inner), inner.isEmpty else { return nil }
                            pvalue = t
                        } else {
                            guard let t = token(&s) else { return nil }
                            pvalue = t
                        }
                        skipSpace(&s)
                    }
                    ext.parameters.append((pname.lowercased(), pvalue))
                }
                result.append(ext)
                skipSpace(&s)
                if s.isEmpty { break }
                guard s.first == "," else { return nil }
                s.removeFirst()
            }
        }
        return result
    }

    /// The header value form: `name; p1; p2=v`.
    public var headerValue: String {
        ([name] + parameters.map { p in p.value.map { v in "\(p.name)=\(v)" } ?? p.name }).joined(separator: "; ")
    }

    private static func skipSpace(_ s: inout Substring) {
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
    }

    private static func token(_ s: inout Substring) -> String? {
        let end = s.firstIndex { !($0.asciiValue.map(Token.isTChar) ?? false) } ?? s.endIndex
        guard end > s.startIndex else { return nil }
        let t = String(s[..<end])
        s = s[end...]
        return t
    }
}

/// What the two ends agreed on for permessage-deflate (RFC 7692 §7.1).
public struct PerMessageDeflateParameters: Equatable, Sendable {
    /// `server_no_context_takeover`: the server resets its compressor after every message.
    public var serverNoContextTakeover = false
    /// `client_no_context_takeover`: the client resets its compressor after every message.
    public var clientNoContextTakeover = false
    /// Present in the negotiation (nil: absent; 15 is then the window).
    public var serverMaxWindowBits: Int?
    /// In an offer `client_max_window_bits` may come without a value: `0` stands for that.
    public var clientMaxWindowBits: Int?

    /// The defaults are the RFC's: context takeover on both sides, 15-bit windows.
    public init(serverNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false,
                serverMaxWindowBits: Int? = nil, clientMaxWindowBits: Int? = nil) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    static let name = "permessage-deflate"

    /// Reads the parameters of one offer or response; nil when one is unknown, repeated or has a
    /// bad value (RFC 7692 §5.1: such an offer is declined, such a response fails the connection).
    init?(_ ext: WebSocketExtension, isOffer: Bool) {
        guard ext.name == Self.name else { return nil }
        var seen = Set<String>()
        for (name, value) in ext.parameters {
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
                serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let bits = Self.windowBits(value) else { return nil }
                serverMaxWindowBits = bits
            case "client_max_window_bits":
                if let value {
                    guard let bits = Self.windowBits(value) else { return nil }
                    clientMaxWindowBits = bits
                } else {
                    guard isOffer else { return nil }
                    clientMaxWindowBits = 0
                }
            default:
                return nil
            }
        }
    }

    private static func windowBits(_ value: String?) -> Int? {
        guard let value, value.utf8.count <= 2, value.utf8.first != UInt8(ascii: "0"), let bits = Int(value), (8...15).contains(bits) else { return nil }
        return bits
    }

    package var extensionValue: WebSocketExtension {
        var ext = WebSocketExtension(name: Self.name)
        if serverNoContextTakeover { ext.parameters.append(("server_no_context_takeover", nil)) }
        if clientNoContextTakeover { ext.parameters.append(("client_no_context_takeover", nil)) }
        if let bits = serverMaxWindowBits { ext.parameters.append(("server_max_window_bits", String(bits))) }
        if let bits = clientMaxWindowBits { ext.parameters.append(("client_max_window_bits", bits == 0 ? nil : String(bits))) }
        return ext
    }

    /// Server side: the response to the first acceptable offer, or nil to decline them all.
    package static func negotiate(offers: [WebSocketExtension], configuration c: WebSocketCompression) -> PerMessageDeflateParameters? {
        for ext in offers where ext.name == name {
            guard let offer = PerMessageDeflateParameters(ext, isOffer: true) else { continue }
            var accepted = PerMessageDeflateParameters()
            accepted.serverNoContextTakeover = offer.serverNoContextTakeover || c.noContextTakeover
            accepted.clientNoContextTakeover = offer.clientNoContextTakeover || c.requestPeerNoContextTakeover
            if let requested = offer.serverMaxWindowBits {
                accepted.serverMaxWindowBits = min(requested, c.maxWindowBits)
            } else if c.maxWindowBits < 15 {
                accepted.serverMaxWindowBits = c.maxWindowBits
            }
            if let offered = offer.clientMaxWindowBits, c.peerMaxWindowBits < 15 {
                // Only a client that offered the parameter may be told to use a smaller window.
                accepted.clientMaxWindowBits = offered == 0 ? c.peerMaxWindowBits : min(offered, c.peerMaxWindowBits)
            }
            return accepted
        }
        return nil
    }

    /// Client side: the offer to send.
    public static func offer(_ c: WebSocketCompression) -> PerMessageDeflateParameters {
        PerMessageDeflateParameters(serverNoContextTakeover: c.requestPeerNoContextTakeover,
                                    clientNoContextTakeover: c.noContextTakeover,
                                    serverMaxWindowBits: c.peerMaxWindowBits < 15 ? c.peerMaxWindowBits : nil,
                                    clientMaxWindowBits: c.maxWindowBits < 15 ? c.maxWindowBits : 0)
    }

    /// Client side: checks the server's response against what we offered (RFC 7692 §7.1).
    public static func accept(response: PerMessageDeflateParameters, offered: PerMessageDeflateParameters) -> Bool {
        if offered.serverNoContextTakeover && !response.serverNoContextTakeover { return false }
        if let asked = offered.serverMaxWindowBits, (response.serverMaxWindowBits ?? 15) > asked { return false }
        if let limit = response.clientMaxWindowBits {
            guard let ours = offered.clientMaxWindowBits else { return false }
            if limit == 0 || (ours != 0 && limit > ours) { return false }
        }
        return true
    }
}

/// The zlib streams of one connection's permessage-deflate, made on first use so an idle
/// connection holds none of zlib's memory.
final class PerMessageDeflate {
    /// Whether our compressor resets after every message, and its window.
    let compressNoContextTakeover: Bool
    let compressWindowBits: Int
    /// Whether the peer resets its compressor after every message (we may then reset ours too).
    let decompressNoContextTakeover: Bool
    let level: Int
    let memoryLevel: Int
    private var deflater: UnsafeMutablePointer<z_stream>?
    private var inflater: UnsafeMutablePointer<z_stream>?
    private var scratch: UnsafeMutableRawBufferPointer?

    /// zlib's output goes here first (then one copy into the message): 32 KiB, made on first use.
    private func scratchBuffer() -> UnsafeMutableRawBufferPointer {
        if let scratch { return scratch }
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: 32 * 1024, alignment: 16)
        scratch = b
        return b
    }

    init(parameters p: PerMessageDeflateParameters, isServer: Bool, configuration c: WebSocketCompression) {
        let ours = isServer ? p.serverMaxWindowBits : p.clientMaxWindowBits
        compressNoContextTakeover = isServer ? p.serverNoContextTakeover : p.clientNoContextTakeover
        // zlib cannot make raw-deflate streams with an 8-bit window; a 9-bit window is safe for an
        // 8-bit peer: zlib never emits distances beyond window size minus 262 (MAX_DIST).
        compressWindowBits = max(9, min(ours.map { $0 == 0 ? 15 : $0 } ?? 15, c.maxWindowBits))
        decompressNoContextTakeover = isServer ? p.clientNoContextTakeover : p.serverNoContextTakeover
        level = c.level
        memoryLevel = c.memoryLevel
    }

    deinit {
        if let d = deflater { deflateEnd(d); d.deallocate() }
        if let i = inflater { inflateEnd(i); i.deallocate() }
        scratch?.deallocate()
    }

    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    /// Compresses one whole message (RFC 7692 §7.2.1): a sync flush, without its 4-byte tail.
    func compress(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let stream: UnsafeMutablePointer<z_stream>
        if let d = deflater {
            stream = d
        } else {
            stream = .allocate(capacity: 1)
            stream.initialize(to: z_stream())
            let rc = cz_deflate_init2(stream, Int32(level), -Int32(compressWindowBits), Int32(memoryLevel))
            precondition(rc == Z_OK, "deflateInit2 failed: \(rc)")
            deflater = stream
        }
        let start = out.count
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        let scratch = scratchBuffer()
        out.reserveCapacity(out.count + input.count / 2 + 64)
        while true {
            stream.pointee.next_out = scratch.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(scratch.count)
            let rc = deflate(stream, Z_SYNC_FLUSH)
            precondition(rc == Z_OK || rc == Z_BUF_ERROR, "deflate failed: \(rc)")
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<(scratch.count - Int(stream.pointee.avail_out))]))
            // Done once the input is consumed and zlib had room to spare for the flush.
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { break }
        }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        if out.count - start >= 4 && Array(out[(out.count - 4)...]) == Self.tail { out.removeLast(4) }
        // Nothing new to flush (an empty message right after another) makes zlib emit nothing;
        // an empty stored block keeps the peer's stream in step (RFC 7692 §7.2.3.6: 0x00).
        if out.count == start { out.append(0x00) }
        if compressNoContextTakeover { deflateReset(stream) }
    }

    /// Decompresses a piece of a message's payload, appending to `out` without letting it pass
    /// `limit` bytes (1009 beyond: a small compressed message may not inflate without bound).
    func decompress(_ input: UnsafeRawBufferPointer, into out: inout [UInt8], limit: Int) throws(WebSocketProtocolError) {
        let stream: UnsafeMutablePointer<z_stream>
        if let i = inflater {
            stream = i
        } else {
            stream = .allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // Always the full window: it inflates anything a smaller one made.
            let rc = cz_inflate_init2(stream, -15)
            precondition(rc == Z_OK, "inflateInit2 failed: \(rc)")
            inflater = stream
        }
        guard input.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        defer { stream.pointee.next_in = nil; stream.pointee.next_out = nil }
        let scratch = scratchBuffer()
        // Until the input is consumed and a call left output room (no output left inside zlib).
        repeat {
            // One byte more than allowed tells an overflow from an exact fit.
            let room = min(scratch.count, limit - out.count + 1)
            stream.pointee.next_out = scratch.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(room)
            let rc = inflate(stream, Z_SYNC_FLUSH)
            let produced = room - Int(stream.pointee.avail_out)
            if out.count + produced > limit { throw WebSocketProtocolError(.messageTooBig, "message inflates past the limit of \(limit) bytes") }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<produced]))
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                if rc == Z_BUF_ERROR && stream.pointee.avail_out > 0 && stream.pointee.avail_in > 0 {
                    throw WebSocketProtocolError(.invalidPayload, "compressed data stalled")
                }
            case Z_STREAM_END:
                // The peer closed its deflate stream (BFINAL): what follows starts a new one.
                inflateReset(stream)
            default:
                throw WebSocketProtocolError(.invalidPayload, "invalid compressed data")
            }
        } while stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0
    }

    /// Ends a compressed message: feeds the tail the sender stripped.
    func finishMessage(into out: inout [UInt8], limit: Int) throws(WebSocketProtocolError) {
        let failure = Self.tail.withUnsafeBytes { buf -> WebSocketProtocolError? in
            do throws(WebSocketProtocolError) { try decompress(buf, into: &out, limit: limit); return nil } catch { return error }
        }
        if let failure { throw failure }
        if decompressNoContextTakeover, let i = inflater { inflateReset(i) }
    }
}
