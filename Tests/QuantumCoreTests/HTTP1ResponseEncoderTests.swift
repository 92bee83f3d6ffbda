@testable import QuantumCore
import XCTest

/// The HTTP/1.1 response encoder without a socket: bytes in, bytes out (RFC 9112 §6 framing).
final class HTTP1ResponseEncoderTests: XCTestCase {
    private let date = Array("Mon, 07 Dec 2026 05:00:00 GMT".utf8)

    private func encode(_ response: Response, isHead: Bool = false, minorVersion: Int = 1, keepAlive: Bool = true)
        -> (text: String, framing: HTTP1ResponseEncoder.Framing) {
        let framing = HTTP1ResponseEncoder.framing(of: response, isHead: isHead, minorVersion: minorVersion, keepAlive: keepAlive)
        var buf: [UInt8] = []
        HTTP1ResponseEncoder.appendHead(response, framing: framing, minorVersion: minorVersion, date: date, to: &buf)
        return (String(decoding: buf, as: UTF8.self), framing)
    }

    func testSmallBodyGoesWithTheHeadAndIsLengthFramed() {
        let (text, framing) = encode(Response(status: 200, headers: HTTPFields([("Content-Type", "text/plain")]), body: .bytes(Array("hi".utf8))))
        XCTAssertEqual(text, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: Quantum\r\nDate: Mon, 07 Dec 2026 05:00:00 GMT\r\n"
                       + "Content-Length: 2\r\n\r\nhi")
        XCTAssertEqual(framing, .init(chunked: false, closeAfter: false, bodyWritten: true, bodyInHead: true))
    }

    func testHeadAnswersDeclareTheLengthButCarryNoBody() {
        let (text, framing) = encode(Response(status: 200, body: .bytes(Array("hidden".utf8))), isHead: true)
        XCTAssertTrue(text.hasSuffix("Content-Length: 6\r\n\r\n"), text)
        XCTAssertFalse(framing.bodyInHead)
    }

    func testUnknownLengthIsChunkedOn11AndCloseDelimitedOn10() {
        let streamed = Response(status: 200, body: .stream(length: nil) { _ in })
        let (chunked, framing11) = encode(streamed)
        XCTAssertTrue(chunked.contains("Transfer-Encoding: chunked\r\n"), chunked)
        XCTAssertTrue(framing11.chunked)
        let (closing, framing10) = encode(streamed, minorVersion: 0)
        XCTAssertFalse(closing.contains("Transfer-Encoding"))
        XCTAssertTrue(closing.hasSuffix("Connection: close\r\n\r\n"), closing)
        XCTAssertTrue(framing10.closeAfter)
    }

    func testFramingFieldsFromTheHandlerAreReplacedAndItsServerAndDateKept() {
        let response = Response(status: 200, headers: HTTPFields([("content-length", "99"), ("Transfer-Encoding", "gzip"),
                                                                  ("Connection", "upgrade"), ("Server", "mine"), ("date", "then")]),
                                body: .bytes([65]))
        let (text, _) = encode(response)
        XCTAssertEqual(text, "HTTP/1.1 200 OK\r\nServer: mine\r\ndate: then\r\nContent-Length: 1\r\n\r\nA")
    }

    func testNoContentAndNotModifiedHaveNoBodyFraming() {
        XCTAssertEqual(encode(Response(status: 204)).text, "HTTP/1.1 204 No Content\r\nServer: Quantum\r\nDate: Mon, 07 Dec 2026 05:00:00 GMT\r\n\r\n")
        let notModified = Response(status: 304, headers: HTTPFields([("Content-Length", "1234")]))
        XCTAssertTrue(encode(notModified).text.hasSuffix("Content-Length: 1234\r\n\r\n"), "a 304 may say what the 200 would have")
    }

    func testKeepAliveIsSpelledOutFor10AndCloseWhenNotKept() {
        XCTAssertTrue(encode(Response(status: 200), minorVersion: 0).text.hasSuffix("Connection: keep-alive\r\n\r\n"))
        XCTAssertTrue(encode(Response(status: 200), keepAlive: false).text.hasSuffix("Connection: close\r\n\r\n"))
    }

    func testChunksAndTheLastChunkWithTrailers() {
        XCTAssertEqual(String(decoding: HTTP1ResponseEncoder.chunk(Array(repeating: 120, count: 26)), as: UTF8.self),
                       "1a\r\n" + String(repeating: "x", count: 26) + "\r\n")
        XCTAssertEqual(String(decoding: HTTP1ResponseEncoder.lastChunk(trailers: Array(HTTPFields([("X-Sum", "1")]))), as: UTF8.self),
                       "0\r\nX-Sum: 1\r\n\r\n")
    }

    func testAnUnusualStatusStillGetsALine() {
        var buf: [UInt8] = []
        HTTP1ResponseEncoder.appendError(799, date: date, to: &buf)
        XCTAssertTrue(String(decoding: buf, as: UTF8.self).hasPrefix("HTTP/1.1 799 "))
        var digits: [UInt8] = []
        HTTP1ResponseEncoder.appendDecimal(Int.max, to: &digits)
        XCTAssertEqual(String(decoding: digits, as: UTF8.self), String(Int.max))
    }
}
