@testable import QuantumCore
import XCTest

/// The HTTP/1.1 decoder in response mode (the client side), fed every input whole, byte by byte
/// and split in two at every index: all feeds must yield the same events (response heads, body
/// bytes, trailers, the raw bytes after a `101`) or the same error.
final class HTTP1ResponseDecoderTests: XCTestCase {
    // MARK: - The split-invariance verifier

    /// What a feed produced: events with adjacent body pieces merged, then the error, if any.
    struct Trace: Equatable, CustomStringConvertible {
        enum Item: Equatable { case response(ResponseHead), body([UInt8]), end(HTTPFields), upgraded([UInt8]) }
        var items: [Item] = []
        var errorStatus: Int?
        /// Bytes left undecoded at the end (only compared when there was no error).
        var leftover = 0
        /// The decoder still read a body until close when the input stopped.
        var readsUntilClose = false

        var responses: [ResponseHead] { items.compactMap { if case .response(let h) = $0 { h } else { nil } } }
        var statuses: [Int] { responses.map(\.status) }
        /// Each response's body, concatenated (one entry per `.end`).
        var bodies: [String] {
            var out: [String] = [], current: [UInt8] = []
            for item in items {
                switch item {
                case .response: current = []
                case .body(let b): current += b
                case .end: out.append(String(decoding: current, as: UTF8.self))
                case .upgraded: break
                }
            }
            return out
        }
        var trailers: [HTTPFields] { items.compactMap { if case .end(let t) = $0 { t } else { nil } } }
        var upgradedBytes: [UInt8]? { items.lazy.compactMap { if case .upgraded(let b) = $0 { b } else { nil } }.first }

        var description: String {
            let parts = items.map { item -> String in
                switch item {
                case .response(let h): "response(\(h.status) \(h.framing))"
                case .body(let b): "body(\(b.count))"
                case .end(let t): "end(\(t.count) trailers)"
                case .upgraded(let b): "upgraded(\(b.count))"
                }
            }
            return parts.joined(separator: ", ") + (errorStatus.map { " error \($0)" } ?? " leftover \(leftover)")
        }
    }

    struct Options {
        var limits = HTTP1Limits()
        /// The response answers a HEAD request.
        var bodiless = false
        /// The peer closes after the last byte (`inputEnded()` is called).
        var closeAtEnd = false
    }

    static func decode(_ pieces: [ArraySlice<UInt8>], _ options: Options) -> Trace {
        var decoder = HTTP1Decoder(limits: options.limits, decodesResponses: true)
        decoder.nextResponseIsBodiless = options.bodiless
        var trace = Trace()
        var upgraded: [UInt8]?
        func record(_ event: HTTP1Decoder.Event) {
            switch event {
            case .head(let h): XCTFail("a response decoder yielded a request head: \(h.method) \(h.target)")
            case .response(let h): trace.items.append(.response(h))
            case .body(let b):
                XCTAssertFalse(b.isEmpty, "the decoder emitted an empty body event")
                if case .body(let previous) = trace.items.last { trace.items[trace.items.count - 1] = .body(previous + b) }
                else { trace.items.append(.body(b)) }
            case .end(let t): trace.items.append(.end(t))
            }
        }
        for piece in pieces {
            // After a 101 the connection carries another protocol: its bytes bypass the decoder.
            if upgraded != nil { upgraded! += piece; continue }
            decoder.append(Array(piece))
            do {
                while let event = try decoder.next() {
                    record(event)
                    if case .response(let h) = event, h.status == 101 {
                        upgraded = decoder.takeRemaining()
                        break
                    }
                }
            } catch {
                trace.errorStatus = error.status
                return trace
            }
        }
        if let upgraded {
            trace.items.append(.upgraded(upgraded))
            return trace
        }
        trace.readsUntilClose = decoder.readsUntilClose
        if options.closeAtEnd, let event = decoder.inputEnded() { record(event) }
        trace.leftover = decoder.bufferedByteCount
        return trace
    }

    /// Decodes `input` whole, byte by byte, and split in two at every index; asserts that every
    /// feed agrees with the whole one and returns that trace.
    @discardableResult
    func verify(_ input: String, _ options: Options = Options(), file: StaticString = #filePath, line: UInt = #line) -> Trace {
        verify(Array(input.utf8), options, file: file, line: line)
    }

    @discardableResult
    func verify(_ bytes: [UInt8], _ options: Options = Options(), file: StaticString = #filePath, line: UInt = #line) -> Trace {
        let whole = Self.decode([bytes[...]], options)
        let byByte = Self.decode(bytes.indices.map { bytes[$0...$0] }, options)
        XCTAssertEqual(byByte, whole, "byte-by-byte feed differs", file: file, line: line)
        for split in 0...bytes.count {
            let parts = Self.decode([bytes[..<split], bytes[split...]], options)
            if parts != whole {
                XCTFail("split at \(split) gives \(parts), whole gives \(whole)", file: file, line: line)
                break
            }
        }
        return whole
    }

    /// Asserts that `input` fails with `status` in every feed.
    func assertRejected(_ input: String, _ status: Int = 502, _ options: Options = Options(),
                        file: StaticString = #filePath, line: UInt = #line) {
        let trace = verify(input, options, file: file, line: line)
        XCTAssertEqual(trace.errorStatus, status, "\(input.debugDescription) → \(trace)", file: file, line: line)
    }

    /// Asserts that `input` fails in every feed (chunk-level errors keep the request decoder's codes).
    func assertFails(_ input: String, _ options: Options = Options(), file: StaticString = #filePath, line: UInt = #line) {
        let trace = verify(input, options, file: file, line: line)
        XCTAssertNotNil(trace.errorStatus, "\(input.debugDescription) → \(trace)", file: file, line: line)
    }

    // MARK: - Framing

    func testContentLengthResponse() throws {
        let trace = verify("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing: a b\r\n\r\nhello")
        XCTAssertNil(trace.errorStatus)
        let head = try XCTUnwrap(trace.responses.first)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.reason, "OK")
        XCTAssertEqual(head.minorVersion, 1)
        XCTAssertEqual(head.framing, .length(5))
        XCTAssertTrue(head.keepAlive)
        XCTAssertEqual(head.headers["content-length"], "5")
        XCTAssertEqual(head.headers["x-thing"], "a b")
        XCTAssertEqual(head.headers.count, 2)
        XCTAssertEqual(trace.bodies, ["hello"])
        XCTAssertEqual(trace.trailers, [HTTPFields()])
        XCTAssertEqual(trace.leftover, 0)
        XCTAssertFalse(trace.readsUntilClose)
    }

    func testZeroContentLengthEndsAtOnce() {
        let trace = verify("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(trace.responses.first?.framing, ResponseHead.Framing.none)
        XCTAssertEqual(trace.bodies, [""])
        XCTAssertEqual(trace.items.count, 2)
    }

    func testPipelinedResponsesOfEveryFraming() {
        let trace = verify("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
            + "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\n\r\n"
            + "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nthree"
            + "HTTP/1.1 200 OK\r\n\r\nuntil close", Options(closeAtEnd: true))
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.statuses, [200, 201, 204, 404, 200])
        XCTAssertEqual(trace.bodies, ["one", "two", "", "three", "until close"])
        XCTAssertEqual(trace.leftover, 0)
    }

    func testIncompleteBodyIsNotEnded() {
        let trace = verify("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
        XCTAssertEqual(trace.statuses, [200])
        XCTAssertEqual(trace.bodies, [])
        XCTAssertEqual(trace.items.last, .body(Array("hello".utf8)))
        // A truncated sized body is the caller's error: inputEnded() does not end it.
        let closed = verify("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", Options(closeAtEnd: true))
        XCTAssertEqual(closed.bodies, [])
        let chunked = verify("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", Options(closeAtEnd: true))
        XCTAssertEqual(chunked.bodies, [])
        XCTAssertNil(chunked.errorStatus)
    }

    func testIncompleteHeadWaits() {
        let input = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
        let trace = verify(input, Options(closeAtEnd: true))
        XCTAssertEqual(trace.items, [])
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.leftover, input.utf8.count)
    }

    func testChunkedWithExtensionsAndTrailers() {
        let trace = verify("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
            + "5;name=value\r\nhello\r\nA\r\n, chunked!\r\n1 ; x\r\n!\r\n0\r\nX-Checksum: abc\r\nX-Other:  two words \r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext")
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.responses.first?.framing, .chunked)
        XCTAssertEqual(trace.responses.first?.keepAlive, true)
        XCTAssertEqual(trace.bodies, ["hello, chunked!!", "next"])
        XCTAssertEqual(trace.trailers.first, HTTPFields([("X-Checksum", "abc"), ("X-Other", "two words")]))
        XCTAssertEqual(trace.trailers.last, HTTPFields())
        XCTAssertEqual(trace.leftover, 0)
    }

    func testChunkedTransferEncodingIsCaseInsensitiveAndOverridesContentLength() {
        let trace = verify("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
        XCTAssertEqual(trace.responses.first?.framing, .chunked)
        XCTAssertEqual(trace.bodies, ["ok"])
    }

    func testMalformedChunkedBodiesAreRejected() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        assertFails(head + "zz\r\nhello\r\n0\r\n\r\n")
        assertFails(head + "5\r\nhelloXX0\r\n\r\n")
        assertFails(head + "5\nhello\r\n0\r\n\r\n")
        assertFails(head + "\r\n")
        assertFails(head + "fffffffffffffffff\r\n")
        assertFails(head + "0\r\nBad Trailer\r\n\r\n")
    }

    func testBodyUntilClose() throws {
        let input = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body runs\r\n\r\nuntil the server closes"
        // Without the close the body is still open: bytes so far, no end.
        let open = verify(input)
        XCTAssertEqual(open.responses.first?.framing, .untilClose)
        XCTAssertEqual(open.responses.first?.keepAlive, false, "a body until close cannot leave the connection reusable")
        XCTAssertTrue(open.readsUntilClose)
        XCTAssertEqual(open.bodies, [])
        XCTAssertEqual(open.items.last, .body(Array("the body runs\r\n\r\nuntil the server closes".utf8)))
        XCTAssertEqual(open.leftover, 0, "bytes of a body until close are handed over as they arrive")
        // The close ends it.
        let closed = verify(input, Options(closeAtEnd: true))
        XCTAssertEqual(closed.bodies, ["the body runs\r\n\r\nuntil the server closes"])
        XCTAssertEqual(closed.trailers, [HTTPFields()])

        // An empty body until close.
        let empty = verify("HTTP/1.0 200 OK\r\n\r\n", Options(closeAtEnd: true))
        XCTAssertEqual(empty.bodies, [""])
    }

    func testInputEndedOutsideABodyUntilCloseIsNil() {
        var decoder = HTTP1Decoder(decodesResponses: true)
        XCTAssertNil(decoder.inputEnded(), "between responses")
        decoder.append(Array("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab".utf8))
        XCTAssertNotNil(try decoder.next())
        XCTAssertEqual(try decoder.next(), .body(Array("ab".utf8)))
        XCTAssertNil(decoder.inputEnded(), "a truncated sized body")
        XCTAssertFalse(decoder.readsUntilClose)
    }

    func testFieldsAsABlockLeaveOutFramingConnectionSpecificAndFilteredFields() throws {
        var decoder = HTTP1Decoder(decodesResponses: true)
        decoder.nextResponseFieldFilter = { $0.count == 7 && String(decoding: $0, as: UTF8.self).lowercased() == "alt-svc" }
        // `X-Secret` comes before the `Connection` that names it.
        decoder.append(Array(("HTTP/1.1 200 OK\r\nX-Secret: s\r\nServer: up\r\nConnection: keep-alive, x-secret\r\n"
            + "Alt-Svc: h3\r\nX-Kept:  spaced  \r\nContent-Length: 2\r\nSet-Cookie: a=1\r\n\r\nok").utf8))
        guard case .response(let head)? = try decoder.next() else { return XCTFail("no head") }
        XCTAssertTrue(head.headers.isEmpty)
        let block = try XCTUnwrap(head.fieldBlock)
        XCTAssertEqual(String(decoding: block.bytes, as: UTF8.self), "Server: up\r\nX-Kept: spaced\r\nSet-Cookie: a=1\r\n")
        XCTAssertEqual(block.count, 3)
        XCTAssertTrue(block.hasServer)
        XCTAssertFalse(block.hasDate)
        XCTAssertEqual(block.contentLength, 2)
        XCTAssertEqual(block.fields, HTTPFields([("Server", "up"), ("X-Kept", "spaced"), ("Set-Cookie", "a=1")]))
        XCTAssertEqual(head.framing, .length(2), "framing is read as ever")
        XCTAssertEqual(try decoder.next(), .body(Array("ok".utf8)))
    }

    /// Lines already in outgoing form are copied in runs; every way a run can end keeps the
    /// fields, their order and their normalised form exactly.
    func testFieldBlockRunsEndAtDroppedAndRewrittenLines() throws {
        var decoder = HTTP1Decoder(decodesResponses: true)
        decoder.nextResponseFieldFilter = { $0.count == 4 && String(decoding: $0, as: UTF8.self).lowercased() == "drop" }
        decoder.append(Array(("HTTP/1.1 200 OK\r\nA: 1\r\nDate: d\r\nDrop: x\r\nB: 2\r\nC:\t3\r\nD: 4\r\n"
            + "E:5\r\nF: \r\nG: 7 \r\nContent-Length: 0\r\nH: 8\r\nI: 9\r\n\r\n").utf8))
        guard case .response(let head)? = try decoder.next() else { return XCTFail("no head") }
        let block = try XCTUnwrap(head.fieldBlock)
        XCTAssertEqual(String(decoding: block.bytes, as: UTF8.self),
                       "A: 1\r\nDate: d\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: \r\nG: 7\r\nH: 8\r\nI: 9\r\n")
        XCTAssertEqual(block.count, 10)
        XCTAssertTrue(block.hasDate, "a name inside a run is still noted")
        XCTAssertFalse(block.hasServer)
        XCTAssertEqual(block.fields.count, 10)
    }

    func testReplyToHEADHasNoBody() {
        let options = Options(bodiless: true)
        let sized = verify("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", options)
        XCTAssertEqual(sized.responses.first?.framing, ResponseHead.Framing.none)
        XCTAssertEqual(sized.responses.first?.headers["content-length"], "1000", "the length stays visible")
        XCTAssertEqual(sized.responses.first?.keepAlive, true)
        XCTAssertEqual(sized.bodies, [""])
        XCTAssertEqual(sized.leftover, 0)
        let chunked = verify("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", options)
        XCTAssertEqual(chunked.bodies, [""])
        XCTAssertEqual(chunked.responses.first?.keepAlive, true)
        // Without a length a HEAD reply still ends at its head, and the connection stays usable.
        let bare = verify("HTTP/1.1 200 OK\r\n\r\n", options)
        XCTAssertEqual(bare.bodies, [""])
        XCTAssertEqual(bare.responses.first?.keepAlive, true)
        XCTAssertFalse(bare.readsUntilClose)
        // The same bytes as a GET reply: the body runs until close.
        XCTAssertEqual(verify("HTTP/1.1 200 OK\r\n\r\n").responses.first?.framing, .untilClose)
    }

    func testNoBodyFor204And304() {
        let trace = verify("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 42\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.statuses, [204, 304, 304, 200])
        XCTAssertEqual(trace.responses.map(\.framing), [.none, .none, .none, .length(2)])
        XCTAssertEqual(trace.bodies, ["", "", "", "ok"])
        XCTAssertEqual(trace.responses.map(\.keepAlive), [true, true, true, true])
    }

    func testInformationalResponsesAreSkipped() {
        let trace = verify("HTTP/1.1 100 Continue\r\n\r\n"
            + "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            + "HTTP/1.1 100 Continue\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.statuses, [200])
        XCTAssertEqual(trace.bodies, ["ok"])
        XCTAssertEqual(trace.items.count, 3)
        XCTAssertNil(trace.responses.first?.headers["link"], "the final response does not inherit 1xx fields")

        // A lone 100 yields nothing yet.
        let lone = verify("HTTP/1.1 100 Continue\r\n\r\n")
        XCTAssertEqual(lone.items, [])
        XCTAssertEqual(lone.leftover, 0)

        // Bodiless still applies to the final reply after a 100 Continue.
        let head = verify("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", Options(bodiless: true))
        XCTAssertEqual(head.statuses, [200])
        XCTAssertEqual(head.bodies, [""])
    }

    func testSwitchingProtocolsLeavesTheRestUndecoded() throws {
        let frames: [UInt8] = [0x81, 0x05] + Array("hello".utf8) + Array("HTTP/1.1 200 OK\r\n\r\n".utf8) + [0, 255, 13, 10]
        let bytes = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8) + frames
        let trace = verify(bytes)
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.statuses, [101])
        XCTAssertEqual(trace.responses.first?.headers["upgrade"], "websocket")
        XCTAssertEqual(trace.upgradedBytes, frames)
        XCTAssertEqual(trace.bodies, [], "no end event before the switch")

        // Directly: takeRemaining() hands over exactly the bytes after the head.
        var decoder = HTTP1Decoder(decodesResponses: true)
        decoder.append(bytes)
        guard case .response(let head)? = try decoder.next() else { return XCTFail("no response") }
        XCTAssertEqual(head.status, 101)
        XCTAssertEqual(decoder.takeRemaining(), frames)
        XCTAssertEqual(decoder.bufferedByteCount, 0)
    }

    // MARK: - Content-Length and Transfer-Encoding rules

    func testConflictingContentLengthsAreRejected() {
        assertRejected("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        assertRejected("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!")
        assertRejected("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 6\r\n\r\nhello!")
    }

    func testRepeatedEqualContentLengthsAreAccepted() {
        for input in ["HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
                      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                      "HTTP/1.1 200 OK\r\nContent-Length: 5,5 , 5\r\n\r\nhello"] {
            let trace = verify(input)
            XCTAssertNil(trace.errorStatus, input.debugDescription)
            XCTAssertEqual(trace.responses.first?.framing, .length(5), input.debugDescription)
            XCTAssertEqual(trace.bodies, ["hello"], input.debugDescription)
            XCTAssertEqual(trace.leftover, 0, input.debugDescription)
        }
    }

    func testInvalidContentLengthsAreRejected() {
        for value in ["-1", "+5", "abc", "5a", "0x5", "", " ", "5 5", "1234567890123456789", "5,", ",5", "5;q=1"] {
            assertRejected("HTTP/1.1 200 OK\r\nContent-Length: \(value)\r\n\r\nhello")
        }
    }

    func testTransferCodingsOtherThanFinalChunked() {
        // chunked must be the only coding: anything layered around it is refused...
        assertRejected("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
        assertRejected("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        assertRejected("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n")
        assertRejected("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n")
        // ...and codings without chunked mean the body runs until close (RFC 9112 §6.3), even
        // with a Content-Length.
        for te in ["gzip", "identity", "gzip, deflate"] {
            let trace = verify("HTTP/1.1 200 OK\r\nTransfer-Encoding: \(te)\r\nContent-Length: 2\r\n\r\nabcdef", Options(closeAtEnd: true))
            XCTAssertNil(trace.errorStatus, te)
            XCTAssertEqual(trace.responses.first?.framing, .untilClose, te)
            XCTAssertEqual(trace.responses.first?.keepAlive, false, te)
            XCTAssertEqual(trace.bodies, ["abcdef"], te)
        }
    }

    // MARK: - Status lines and fields

    func testStatusLineVariants() throws {
        let noReason = verify("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(noReason.responses.first?.status, 200)
        XCTAssertEqual(noReason.responses.first?.reason, "")
        let emptyReason = verify("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(emptyReason.responses.first?.status, 404)
        XCTAssertEqual(emptyReason.responses.first?.reason, "")
        let longReason = verify("HTTP/1.1 599 Some  Custom\tReason\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(longReason.responses.first?.status, 599)
        XCTAssertEqual(longReason.responses.first?.reason, "Some  Custom\tReason")
        let leadingCRLF = verify("\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(leadingCRLF.statuses, [200])
    }

    func testKeepAliveRules() {
        func keepAlive(_ version: String, _ connection: String?, length: String = "Content-Length: 0\r\n") -> Bool? {
            let field = connection.map { "Connection: \($0)\r\n" } ?? ""
            return verify("HTTP/\(version) 200 OK\r\n\(field)\(length)\r\n").responses.first?.keepAlive
        }
        XCTAssertEqual(keepAlive("1.1", nil), true)
        XCTAssertEqual(keepAlive("1.1", "close"), false)
        XCTAssertEqual(keepAlive("1.1", "Keep-Alive, CLOSE"), false)
        XCTAssertEqual(keepAlive("1.1", "upgrade"), true)
        XCTAssertEqual(keepAlive("1.0", nil), false)
        XCTAssertEqual(keepAlive("1.0", "keep-alive"), true)
        XCTAssertEqual(keepAlive("1.0", "keep-alive, close"), false)
        XCTAssertEqual(keepAlive("1.1", nil, length: ""), false, "until close")
        XCTAssertEqual(keepAlive("1.1", nil, length: "Transfer-Encoding: chunked\r\n"), true)
        XCTAssertEqual(verify("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").responses.first?.minorVersion, 0)
    }

    func testMalformedStatusLinesAreRejected() {
        for line in ["HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 abc OK", "HTTP/1.1  200 OK", "HTTP/1.1 200OK",
                     "HTTP/2 200 OK", "HTTP/2.0 200 OK", "HTTP/1.2 200 OK", "HTTP/11 200 OK", "HTTPS/1.1 200 OK",
                     "ICY 200 OK", "HTTP/1.1 099 Low", "HTTP/1.1 000 Zero", "HTTP/1.1", "HTTP/1.1 ", "HTTP/1.1 20",
                     "HTTP/1.1\t200 OK", "HTTP/1.1 200 O\u{1}K", "HTTP/1.1 200 OK\u{7f}",
                     "GET / HTTP/1.1", "garbage", "<html>", " HTTP/1.1 200 OK"] {
            assertRejected("\(line)\r\nContent-Length: 0\r\n\r\n")
        }
        // Binary garbage is refused at its first byte, without waiting for a line end.
        assertRejected("\u{0}\u{1}\u{2}")
        assertRejected("\u{16}\u{3}\u{1}")  // a TLS record
    }

    func testMalformedHeaderBlocksAreRejected() {
        assertFails("HTTP/1.1 200 OK\nContent-Length: 0\n\n")
        assertFails("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n")
        assertFails("HTTP/1.1 200 OK\r\nX-A: b\rc\r\n\r\n")
        assertRejected("HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 0\r\n\r\n")
        assertRejected("HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 0\r\n\r\n")
        assertRejected("HTTP/1.1 200 OK\r\n folded: value\r\nContent-Length: 0\r\n\r\n")
        assertRejected("HTTP/1.1 200 OK\r\nX-A: b\u{0}c\r\nContent-Length: 0\r\n\r\n")
    }

    func testHeaderBlockLimit() {
        var limits = HTTP1Limits()
        limits.maxHeaderBytes = 64
        let big = "HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "a", count: 100))\r\nContent-Length: 0\r\n\r\n"
        assertRejected(big, 502, Options(limits: limits))
        // Rejected before the block ends, too.
        assertRejected("HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "a", count: 100))", 502, Options(limits: limits))
        XCTAssertNil(verify("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Options(limits: limits)).errorStatus)
    }

    func testErrorsAreStickyAndEarlierResponsesSurvive() {
        let trace = verify("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + "HTTP/9.9 200 OK\r\n\r\n")
        XCTAssertEqual(trace.statuses, [200])
        XCTAssertEqual(trace.bodies, ["ok"])
        XCTAssertEqual(trace.errorStatus, 502)

        var decoder = HTTP1Decoder(decodesResponses: true)
        decoder.append(Array("nonsense\r\n\r\n".utf8))
        XCTAssertThrowsError(try decoder.next())
        decoder.append(Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))
        XCTAssertThrowsError(try decoder.next(), "errors are sticky")
    }

    func testRequestModeIsUnchanged() throws {
        // The same decoder type still decodes requests by default, and rejects responses there.
        var decoder = HTTP1Decoder()
        decoder.append(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        guard case .head(let head)? = try decoder.next() else { return XCTFail("no request head") }
        XCTAssertEqual(head.method, "GET")
        var requests = HTTP1Decoder()
        requests.append(Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))
        XCTAssertThrowsError(try requests.next())
    }
}
