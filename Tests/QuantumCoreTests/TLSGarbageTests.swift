import Quantum
import QuantumTestSupport
import XCTest

/// Hostile bytes on a TLS port: nothing crashes, every bad connection ends, and the server keeps
/// serving real clients.
final class TLSGarbageTests: XCTestCase {
    /// A TLS 1.2-style ClientHello record around `extensions`.
    static func clientHello(extensions: [(UInt16, [UInt8])], recordLength: Int? = nil, handshakeLength: Int? = nil) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        var ext: [UInt8] = []
        for (type, data) in extensions { ext += u16(Int(type)) + u16(data.count) + data }
        var body: [UInt8] = [0x03, 0x03] + [UInt8](repeating: 7, count: 32) + [0]
        body += u16(6) + [0xc0, 0x2b, 0xc0, 0x2f, 0x13, 0x01]
        body += [1, 0]
        body += u16(ext.count) + ext
        let hsLength = handshakeLength ?? body.count
        let handshake: [UInt8] = [1, UInt8(hsLength >> 16 & 0xff), UInt8(hsLength >> 8 & 0xff), UInt8(hsLength & 0xff)] + body
        return [0x16, 0x03, 0x01] + u16(recordLength ?? handshake.count) + handshake
    }

    static let baseExtensions: [(UInt16, [UInt8])] = [
        (0x000a, [0, 4, 0, 0x1d, 0, 0x17]),        // supported_groups: x25519, P-256
        (0x000b, [1, 0]),                          // ec_point_formats
        (0x000d, [0, 4, 0x04, 0x03, 0x08, 0x04]),  // signature_algorithms
    ]

    static func sniExtension(_ raw: [UInt8]) -> [(UInt16, [UInt8])] { [(0x0000, raw)] + baseExtensions }

    static func corpus() -> [(String, [UInt8])] {
        var g = SplitMix(state: 0x5157_414e_5455_4d21)
        var cases: [(String, [UInt8])] = []
        for size in [1, 2, 5, 6, 100, 517, 4096, 20000, 70000] {
            cases.append(("random \(size)", (0..<size).map { _ in UInt8.random(in: 0...255, using: &g) }))
        }
        for size in [5, 64, 300] {
            cases.append(("handshake header + random \(size)", [0x16, 0x03, 0x01, 0x01, 0x00] + (0..<size).map { _ in UInt8.random(in: 0...255, using: &g) }))
        }
        let good = clientHello(extensions: sniExtension([0, 9, 0, 0, 6] + Array("a.test".utf8)) + baseExtensions)
        for cut in [1, 3, 5, 6, 9, 43, 60, good.count - 1] {
            cases.append(("ClientHello truncated at \(cut)", Array(good.prefix(cut))))
        }
        cases.append(("record too long", clientHello(extensions: baseExtensions, recordLength: 0x4001)))
        cases.append(("handshake length beyond the record", clientHello(extensions: baseExtensions, handshakeLength: 0xffffff)))
        cases.append(("SNI list longer than the extension", clientHello(extensions: sniExtension([0xff, 0xff, 0, 0, 1, 0x61]))))
        cases.append(("SNI name longer than the list", clientHello(extensions: sniExtension([0, 4, 0, 0xff, 0xff, 0x61]))))
        cases.append(("SNI empty", clientHello(extensions: sniExtension([]))))
        cases.append(("SNI one byte", clientHello(extensions: sniExtension([0]))))
        cases.append(("SNI empty name", clientHello(extensions: sniExtension([0, 3, 0, 0, 0]))))
        cases.append(("SNI with NUL", clientHello(extensions: sniExtension([0, 6, 0, 0, 3, 0x61, 0, 0x62]))))
        cases.append(("SNI high bytes", clientHello(extensions: sniExtension([0, 6, 0, 0, 3, 0xff, 0xfe, 0x80]))))
        cases.append(("SNI unknown type only", clientHello(extensions: sniExtension([0, 4, 7, 0, 1, 0x61]))))
        cases.append(("ALPN garbage", clientHello(extensions: baseExtensions + [(0x0010, [0, 5, 9, 0x68, 0x32])])))
        cases.append(("ALPN empty protocol", clientHello(extensions: baseExtensions + [(0x0010, [0, 1, 0])])))
        cases.append(("good ClientHello then garbage", good + (0..<2000).map { _ in UInt8.random(in: 0...255, using: &g) }))
        cases.append(("alert records", [0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00, 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]))
        cases.append(("change cipher spec flood", (0..<500).flatMap { _ in [0x14, 0x03, 0x03, 0x00, 0x01, 0x01] as [UInt8] }))
        cases.append(("zero-length records", (0..<500).flatMap { _ in [0x16, 0x03, 0x03, 0x00, 0x00] as [UInt8] }))
        cases.append(("SSLv2-style hello", [0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10] + [UInt8](repeating: 1, count: 37)))
        cases.append(("plain HTTP request", Array("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n".utf8)))
        return cases
    }

    func testHandshakeGarbageNeverCrashesAndTheServerKeepsServing() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            for (name, bytes) in Self.corpus() {
                let client = try RawClient(port: server.port)
                client.send(bytes)
                client.shutdownWrite()
                _ = client.readAll(timeout: 5)
                // readAll returns on EOF (the server closed) or after 5 s of silence.
                XCTAssertTrue(client.isClosedByPeer(timeout: 1), "\(name): the server ends the connection")
                let r = curlTLS(pki, port: server.port)
                XCTAssertEqual(r.output, "https tls1.3 a.test h2 TLS_AES_128_GCM_SHA256", "after \(name)")
            }
            var open = -1
            for _ in 0..<50 {
                open = await server.app.servers[0].listeners[0].connectionCount()
                if open == 0 { break }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            XCTAssertEqual(open, 0, "no connection is left behind")
        }
    }

    func testPlainHTTPToTheTLSPortGetsAReadable400() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            let client = try RawClient(port: server.port)
            client.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
            let text = String(decoding: client.readAll(timeout: 5), as: UTF8.self)
            XCTAssertTrue(text.hasPrefix("HTTP/1.0 400 Bad Request\r\n"), text)
            XCTAssertTrue(text.contains("Client sent an HTTP request to an HTTPS server."), text)
        }
    }

    func testAStalledHandshakeTimesOut() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki, serverFields: #""read_header_timeout": "1s""#)) { server in
            let client = try RawClient(port: server.port)
            let hello = Self.clientHello(extensions: Self.baseExtensions)
            client.send(Array(hello.prefix(20)))  // and then nothing
            let start = Date()
            _ = client.readAll(timeout: 6)
            XCTAssertLessThan(Date().timeIntervalSince(start), 5, "the handshake is bounded by read_header_timeout")
            XCTAssertEqual(curlTLS(pki, port: server.port).status, 0)
        }
    }

    func testRandomGarbageOnManyConnectionsAtOnce() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            var clients: [RawClient] = []
            var g = SplitMix(state: 42)
            for i in 0..<64 {
                let c = try RawClient(port: server.port)
                let hello = Self.clientHello(extensions: Self.baseExtensions)
                var bytes = i % 2 == 0 ? hello : (0..<300).map { _ in UInt8.random(in: 0...255, using: &g) }
                if i % 3 == 0 { bytes[Int.random(in: 5..<bytes.count, using: &g)] ^= 0xff }
                c.send(bytes)
                clients.append(c)
            }
            for c in clients { c.shutdownWrite() }
            for c in clients { _ = c.readAll(timeout: 5) }
            XCTAssertEqual(curlTLS(pki, port: server.port).status, 0)
        }
    }
}
