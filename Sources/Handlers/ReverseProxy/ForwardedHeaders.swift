import QuantumCore

/// How a request's headers change on the way to an upstream, and a response's on the way
/// back — Caddy's `prepareRequest` / `addForwardedHeaders` rules. Each direction is one pass
/// into a list sized up front: this runs twice per proxied request.
enum ForwardedHeaders {
    /// RFC 9110 §7.6.1 connection-specific fields, plus Caddy's extra list: `Alt-Svc`,
    /// `Connection`, `Proxy-Connection`, `Keep-Alive`, `Proxy-Authenticate`,
    /// `Proxy-Authorization`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`. Literals by
    /// length rather than a static list: this runs for every field of every proxied message.
    static func isHopByHop(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { isHopByHop($0) }
    }

    /// The same, on a name's bytes (the client's `FieldBlock` filter for forwarded answers).
    @Sendable static func isHopByHop(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        func equals(_ s: StaticString) -> Bool {
            ASCII.equalIgnoringCase(name, UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }
        switch name.count {
        case 2: return equals("te")
        case 7: return equals("alt-svc") || equals("trailer") || equals("upgrade")
        case 10: return equals("connection") || equals("keep-alive")
        case 16: return equals("proxy-connection")
        case 17: return equals("transfer-encoding")
        case 18: return equals("proxy-authenticate")
        case 19: return equals("proxy-authorization")
        default: return false
        }
    }

    /// Field names the `Connection` header lists (besides `close`, `keep-alive` and `upgrade`):
    /// they are hop-by-hop too. Usually none, and then nothing is allocated.
    static func connectionListed(_ headers: HTTPFields) -> [String] {
        var listed: [String] = []
        _ = headers.containsToken(in: "connection") { token in
            if !ASCII.equalIgnoringCase(token, "keep-alive".utf8) && !ASCII.equalIgnoringCase(token, "close".utf8)
                && !ASCII.equalIgnoringCase(token, "upgrade".utf8) {
                listed.append(String(decoding: token, as: UTF8.self))
            }
            return false
        }
        return listed
    }

    /// The headers sent upstream: hop-by-hop removed (the upgrade pair re-added for upgrades),
    /// `X-Forwarded-For/-Proto/-Host` set — extended only when the peer is a trusted proxy.
    /// An HTTP/2 extended CONNECT (RFC 8441) becomes an HTTP/1.1 upgrade to its `:protocol`, as
    /// Caddy does; a WebSocket one gets the `Sec-WebSocket-Key` HTTP/1.1 needs.
    static func upstreamHeaders<Fields: HeaderFieldSink>(for request: Request, trusted: Bool, upstreamHost: String, into out: inout Fields) {
        let source = request.headers
        let listed = connectionListed(source)
        let upgrade = source.hasToken("upgrade", in: "connection") ? source["upgrade"] : request.connectProtocol
        var priorFor = ""
        var hasProto = false, hasForwardedHost = false, hasHost = false, teTrailers = false
        for field in source {
            let name = field.name
            if isHopByHop(name) {
                if name.utf8.count == 2, name.equalsIgnoringASCIICase("te"), source.hasToken("trailers", in: "te") { teTrailers = true }
                continue
            }
            if !listed.isEmpty && listed.contains(where: { name.equalsIgnoringASCIICase($0) }) { continue }
            switch name.utf8.count {
            case 4 where name.equalsIgnoringASCIICase("host"):
                hasHost = true
            case 15 where name.equalsIgnoringASCIICase("x-forwarded-for"):
                if trusted { priorFor += priorFor.isEmpty ? field.value : ", " + field.value }
                continue
            case 17 where name.equalsIgnoringASCIICase("x-forwarded-proto"):
                guard trusted, !hasProto else { continue }
                hasProto = true
            case 16 where name.equalsIgnoringASCIICase("x-forwarded-host"):
                guard trusted, !hasForwardedHost else { continue }
                hasForwardedHost = true
            default:
                break
            }
            out.add(name, field.value)
        }
        if !hasHost { out.add("Host", request.host.isEmpty ? upstreamHost : request.host) }
        if teTrailers { out.add("TE", "trailers") }
        if let upgrade {
            out.add("Connection", "Upgrade")
            out.add("Upgrade", upgrade)
            if WebSocketHandshake.isExtendedConnect(request) && !source.contains("sec-websocket-key") {
                out.add("Sec-WebSocket-Key", WebSocketHandshake.makeKey())
            }
        }
        let peer = request.connection.remoteHost
        out.add("X-Forwarded-For", priorFor.isEmpty ? peer : priorFor + ", " + peer)
        if !hasProto { out.add("X-Forwarded-Proto", request.scheme) }
        if !hasForwardedHost { out.add("X-Forwarded-Host", request.host) }
    }

    /// A bodiless request's whole head as it goes upstream, as bytes: request line, the fields
    /// `upstreamHeaders` gives, the empty line.
    static func writeUpstreamHead(for request: Request, trusted: Bool, upstreamHost: String, into head: inout [UInt8]) {
        head.appendUTF8(request.method)
        head.append(32)
        head.appendUTF8(request.rawPath)
        if !request.query.isEmpty {
            head.append(63)
            head.appendUTF8(request.query)
        }
        head.appendStatic(" HTTP/1.1\r\n")
        upstreamHeaders(for: request, trusted: trusted, upstreamHost: upstreamHost, into: &head)
        head.append(13); head.append(10)
    }

    /// Turns the upstream's response headers into the client's, in place: hop-by-hop fields
    /// and those `Connection` lists go; a `101` keeps its upgrade pair.
    static func prepareDownstream(_ headers: inout HTTPFields, status: Int) {
        let listed = connectionListed(headers)
        let upgrade = status == 101 ? headers["upgrade"] : nil
        headers.removeAll { field in
            isHopByHop(field.name) || (!listed.isEmpty && listed.contains { field.name.equalsIgnoringASCIICase($0) })
        }
        if let upgrade {
            headers.add("Connection", "Upgrade")
            headers.add("Upgrade", upgrade)
        }
    }
}
