import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// The WebSocket client over wss://: a verified server, SNI, and the refusals verification makes.
final class WebSocketClientTLSTests: XCTestCase {
    static let echo = #"[{"handle": [{"handler": "websocket_echo", "compression": true}]}]"#

    func testWSSEchoWithAVerifiedCertificate() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki, routes: Self.echo)) { server in
            // a.test's certificate also names 127.0.0.1, so the IP is verified too.
            let socket = try await WebSocketClient.connect(to: "wss://127.0.0.1:\(server.port)/",
                                                           configuration: WebSocketConfiguration(compression: WebSocketCompression()),
                                                           tls: TLSClientConfiguration(trustRootsFile: pki.cert("ca")))
            for text in ["hello", String(repeating: "wss ", count: 100_000)] {
                try await socket.send(text: text)
                guard case .text(let echoed)? = await socket.receive() else { return XCTFail("no echo") }
                XCTAssertEqual(echoed, text)
            }
            try await socket.send(binary: Array(0...255))
            guard case .binary(let bytes)? = await socket.receive() else { return XCTFail("no binary echo") }
            XCTAssertEqual(bytes, Array(0...255))
            await socket.close()
            XCTAssertEqual(socket.closeCode, .normal)
        }
    }

    func testSNIPicksTheCertificateAndNameIsVerified() async throws {
        let pki = try TestPKI.get()
        let routes = #"[{"handle": [{"handler": "websocket_echo"}]}]"#
        try await withTLSServer(tlsConfig(pki, routes: routes)) { server in
            // Dial 127.0.0.1 but ask for b.test: the server answers with b.test's certificate.
            let socket = try await WebSocketClient.connect(to: "wss://127.0.0.1:\(server.port)/",
                                                           tls: TLSClientConfiguration(trustRootsFile: pki.cert("ca"), serverName: "b.test"))
            try await socket.send(text: "via b.test")
            guard case .text(let echoed)? = await socket.receive() else { return XCTFail("no echo") }
            XCTAssertEqual(echoed, "via b.test")
            await socket.close()

            // A name the certificate does not carry fails verification.
            do {
                _ = try await WebSocketClient.connect(to: "wss://127.0.0.1:\(server.port)/",
                                                      tls: TLSClientConfiguration(trustRootsFile: pki.cert("ca"), serverName: "b.wild.test.evil"))
                XCTFail("a certificate for another name must be refused")
            } catch let error as WebSocketError {
                XCTAssertTrue("\(error)".contains("TLS"), "\(error)")
            }
        }
    }

    func testUntrustedServerIsRefusedUnlessVerificationIsOff() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki, routes: Self.echo)) { server in
            do {
                _ = try await WebSocketClient.connect(to: "wss://127.0.0.1:\(server.port)/",
                                                      tls: TLSClientConfiguration(trustRootsFile: pki.cert("rogueca")))
                XCTFail("a server signed by an untrusted CA must be refused")
            } catch let error as WebSocketError {
                XCTAssertTrue("\(error)".contains("unable to get local issuer certificate") || "\(error)".contains("TLS"), "\(error)")
            }
            let insecure = try await WebSocketClient.connect(to: "wss://127.0.0.1:\(server.port)/",
                                                             tls: TLSClientConfiguration(verifyPeer: false))
            try await insecure.send(text: "anyway")
            guard case .text(let echoed)? = await insecure.receive() else { return XCTFail("no echo") }
            XCTAssertEqual(echoed, "anyway")
            await insecure.close()
        }
    }

    func testPlainServerOnAWSSURLFailsCleanly() async throws {
        let server = try await TestServer.start(routes: Self.echo)
        do {
            _ = try await WebSocketClient.connect(to: "wss://127.0.0.1:\(server.port)/", timeout: .seconds(5),
                                                  tls: TLSClientConfiguration(verifyPeer: false))
            XCTFail("a plain HTTP server cannot complete a TLS handshake")
        } catch let error as WebSocketError {
            XCTAssertTrue("\(error)".contains("TLS") || "\(error)".contains("closed"), "\(error)")
        }
        await server.stop()
    }
}
