import QuantumCore

/// How a request's headers change on the way to an upstream, and a response's on the way
/// back — Caddy's `prepareRequest` / `addForwardedHeaders` rules.
enum ForwardedHeaders {
    /// RFC 9110 §7.6.1 connection-specific fields, plus Caddy's extra list.
    static let hopByHop = ["Alt-Svc", "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
                           "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade"]

    /// Removes hop-by-hop fields and those the `Connection` header names.
    static func stripHopByHop(_ headers: inout HTTPFields, keepTrailersTE: Bool) {
        var listed: [Substring] = []
        var any = false
        for field in headers where isHopByHop(field.name) {
            any = true
            guard field.name.utf8.count == 10, field.name.equalsIgnoringASCIICase("connection") else { continue }
            for token in field.value.split(separator: ",") {
                let t = token.trimmingOWS()
                // `close` and `keep-alive` name no header worth a scan.
                if !t.equalsIgnoringASCIICase("keep-alive") && !t.equalsIgnoringASCIICase("close") { listed.append(t) }
            }
        }
        guard any else { return }  // the common case: nothing to do
        let teTrailers = keepTrailersTE && headers.hasToken("trailers", in: "te")
        headers.removeAll { field in isHopByHop(field.name) || listed.contains { field.name.equalsIgnoringASCIICase($0) } }
        if teTrailers { headers.add("TE", "trailers") }
    }

    private static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2, 7, 10, 16, 17, 18, 19: return hopByHop.contains { name.equalsIgnoringASCIICase($0) }
        default: return false
        }
    }

    /// The headers sent upstream: hop-by-hop removed (the upgrade pair re-added for upgrades),
    /// `X-Forwarded-For/-Proto/-Host` set — extended only when the peer is a trusted proxy.
    static func upstreamHeaders(for request: Request, trusted: Bool, upstreamHost: String) -> HTTPFields {
        var headers = request.headers
        let upgrade = request.headers.hasToken("upgrade", in: "connection") ? request.headers["upgrade"] : nil
        stripHopByHop(&headers, keepTrailersTE: true)
        if let upgrade {
            headers.add("Connection", "Upgrade")
            headers.add("Upgrade", upgrade)
        }
        let peer = request.connection.remoteHost
        let prior = request.headers.values("x-forwarded-for").joined(separator: ", ")
        headers.set("X-Forwarded-For", trusted && !prior.isEmpty ? "\(prior), \(peer)" : peer)
        if !(trusted && headers.contains("x-forwarded-proto")) { headers.set("X-Forwarded-Proto", request.scheme) }
        if !(trusted && headers.contains("x-forwarded-host")) { headers.set("X-Forwarded-Host", request.host) }
        if !headers.contains("host") { headers.add("Host", request.host.isEmpty ? upstreamHost : request.host) }
        return headers
    }

    /// The upstream's response headers as the client gets them.
    static func downstreamHeaders(_ upstream: HTTPFields, status: Int) -> HTTPFields {
        var headers = upstream
        let upgrade = status == 101 ? upstream["upgrade"] : nil
        stripHopByHop(&headers, keepTrailersTE: false)
        if let upgrade {
            headers.add("Connection", "Upgrade")
            headers.add("Upgrade", upgrade)
        }
        return headers
    }
}
