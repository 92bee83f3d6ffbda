import QuantumCore
import XCTest

/// The HTTP/1.1 request decoder, fed every input whole, byte by byte and split in two at every
/// index: all feeds must yield the same events (heads, body bytes, trailers) or the same error.
final class HTTP1DecoderTests: XCTestCase {
    // MARK: - The split-invariance verifier

    /// What a feed produced: events with adjacent body pieces merged, then the error, if any.
    struct Trace: Equatable, CustomStringConvertible {
        enum Item: Equatable { case head(RequestHead), body([UInt8]), end(HTTPFields) }
        var items: [Item] = []
        var errorStatus: Int?
        /// Bytes left undecoded at the end (only compared when there was no error).
        var leftover = 0

        var heads: [RequestHead] { items.compactMap { if case .head(let h) = $0 { h } else { nil } } }
        /// Each request's body, concatenated (one entry per `.end`).
        var bodies: [String] {
            var out: [String] = [], current: [UInt8] = []
            for item in items {
                switch item {
                case .head: current = []
                case .body(let b): current += b
                case .end: out.append(String(decoding: current, as: UTF8.self))
                }
            }
            return out
        }
        var trailers: [HTTPFields] { items.compactMap { if case .end(let t) = $0 { t } else { nil } } }

        var description: String {
            let parts = items.map { item -> String in
                switch item {
                case .head(let h): "head(\(h.method) \(h.target))"
                case .body(let b): "body(\(b.count))"
                case .end(let t): "end(\(t.count) trailers)"
                }
            }
            return parts.joined(separator: ", ") + (errorStatus.map { " error \($0)" } ?? " leftover \(leftover)")
        }
    }

    static func decode(_ pieces: [ArraySlice<UInt8>], limits: HTTP1Limits) -> Trace {
        var decoder = HTTP1Decoder(limits: limits)
        var trace = Trace()
        func record(_ event: HTTP1Decoder.Event) {
            switch event {
            case .head(let h): trace.items.append(.head(h))
            case .body(let b):
                XCTAssertFalse(b.isEmpty, "the decoder emitted an empty body event")
                if case .body(let previous) = trace.items.last { trace.items[trace.items.count - 1] = .body(previous + b) }
                else { trace.items.append(.body(b)) }
            case .end(let t): trace.items.append(.end(t))
            case .response(let r): XCTFail("a request decoder produced a response: \(r)")
            }
        }
        for piece in pieces {
            decoder.append(Array(piece))
            do {
                while let event = try decoder.next() { record(event) }
            } catch {
                trace.errorStatus = error.status
                return trace
            }
        }
        trace.leftover = decoder.bufferedByteCount
        return trace
    }

    /// Decodes `input` whole, byte by byte, and split in two at every index; asserts that every
    /// feed agrees with the whole one and returns that trace.
    @discardableResult
    func verify(_ input: String, limits: HTTP1Limits = HTTP1Limits(), file: StaticString = #filePath, line: UInt = #line) -> Trace {
        verify(Array(input.utf8), limits: limits, file: file, line: line)
    }

    @discardableResult
    func verify(_ bytes: [UInt8], limits: HTTP1Limits = HTTP1Limits(), file: StaticString = #filePath, line: UInt = #line) -> Trace {
        let whole = Self.decode([bytes[...]], limits: limits)
        let byByte = Self.decode(bytes.indices.map { bytes[$0...$0] }, limits: limits)
        XCTAssertEqual(byByte, whole, "byte-by-byte feed differs", file: file, line: line)
        for split in 0...bytes.count {
            let parts = Self.decode([bytes[..<split], bytes[split...]], limits: limits)
            if parts != whole {
                XCTFail("split at \(split) gives \(parts), whole gives \(whole)", file: file, line: line)
                break
            }
        }
        return whole
    }

    /// Asserts that `input` fails with `status` in every feed.
    func assertRejected(_ input: String, _ status: Int, limits: HTTP1Limits = HTTP1Limits(), file: StaticString = #filePath, line: UInt = #line) {
        let trace = verify(input, limits: limits, file: file, line: line)
        XCTAssertEqual(trace.errorStatus, status, "\(input.debugDescription) → \(trace)", file: file, line: line)
    }

    // MARK: - Well-formed requests

    func testSimpleGet() throws {
        let trace = verify("GET /index.html?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.leftover, 0)
        let head = try XCTUnwrap(trace.heads.first)
        XCTAssertEqual(trace.heads.count, 1)
        XCTAssertEqual(head.method, "GET")
        XCTAssertEqual(head.target, "/index.html?x=1&y=2")
        XCTAssertEqual(head.rawPath, "/index.html")
        XCTAssertEqual(head.query, "x=1&y=2")
        XCTAssertTrue(head.hasQuery)
        XCTAssertEqual(head.minorVersion, 1)
        XCTAssertEqual(head.authority, "example.com")
        XCTAssertEqual(head.headers["accept"], "*/*")
        XCTAssertEqual(head.framing, .none)
        XCTAssertTrue(head.keepAlive)
        XCTAssertFalse(head.expectContinue)
        XCTAssertEqual(trace.bodies, [""])
        XCTAssertEqual(trace.trailers, [HTTPFields()])
    }

    func testHeaderValuesAreTrimmedAndRepeatsKept() throws {
        let trace = verify("GET / HTTP/1.1\r\nHost: h\r\nX-A:   padded value \t\r\nX-A: second\r\nX-Empty:\r\n\r\n")
        let head = try XCTUnwrap(trace.heads.first)
        XCTAssertEqual(head.headers.values("x-a"), ["padded value", "second"])
        XCTAssertEqual(head.headers["X-Empty"], "")
    }

    func testPipelinedRequests() {
        let input = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
            + "PUT /three HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            + "DELETE /four HTTP/1.1\r\nHost: h\r\n\r\n"
        let trace = verify(input)
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.heads.map(\.method), ["GET", "POST", "PUT", "DELETE"])
        XCTAssertEqual(trace.heads.map(\.rawPath), ["/one", "/two", "/three", "/four"])
        XCTAssertEqual(trace.bodies, ["", "hello", "abc", ""])
        XCTAssertEqual(trace.leftover, 0)
    }

    func testIncompleteRequestWaitsForMoreBytes() {
        let trace = verify("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHo")
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.heads.count, 1)
        XCTAssertEqual(trace.leftover, "GET /next HTTP/1.1\r\nHo".utf8.count)
    }

    func testContentLengthBody() {
        let trace = verify("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world")
        XCTAssertEqual(trace.heads.first?.framing, .length(11))
        XCTAssertEqual(trace.bodies, ["hello world"])
        XCTAssertEqual(trace.leftover, 0)
    }

    func testZeroContentLengthHasNoBodyEvents() {
        let trace = verify("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(trace.heads.first?.framing, .length(0))
        XCTAssertEqual(trace.items.count, 2, "head and end only: \(trace)")
    }

    /// A server answering a bodiless request at once skips its `.end`; a body (even an empty
    /// one, `Content-Length: 0`) still ends with one.
    func testSkippingTheEndOfABodilessHead() throws {
        var decoder = HTTP1Decoder()
        decoder.append(Array(("GET /a HTTP/1.1\r\nHost: h\r\n\r\n" + "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
                              + "GET /c HTTP/1.1\r\nHost: h\r\n\r\n").utf8))
        guard case .head(let a)? = try decoder.next() else { return XCTFail("no first head") }
        XCTAssertEqual(a.rawPath, "/a")
        XCTAssertFalse(decoder.isIdle)
        decoder.skipEndOfBodilessHead()
        guard case .head(let b)? = try decoder.next() else { return XCTFail("the skipped end came back") }
        XCTAssertEqual(b.rawPath, "/b")
        decoder.skipEndOfBodilessHead()
        XCTAssertEqual(try decoder.next(), .end(HTTPFields()), "an empty body still ends")
        guard case .head(let c)? = try decoder.next() else { return XCTFail("no third head") }
        XCTAssertEqual(c.rawPath, "/c")
        decoder.skipEndOfBodilessHead()
        XCTAssertTrue(decoder.isIdle)
        XCTAssertNil(try decoder.next())
    }

    func testPartialContentLengthBodyIsNotEnded() {
        let trace = verify("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.items.count, 2, "head and 3 body bytes, no end: \(trace)")
        XCTAssertEqual(trace.items.last, .body(Array("abc".utf8)))
    }

    func testChunkedBodyWithExtensionsAndTrailers() {
        let input = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "4;name=value\r\nWiki\r\n"
            + "5 ; a=\"quoted; string\"\r\npedia\r\n"
            + "00E\r\n in\r\n\r\nchunks.\r\n"
            + "0;last\r\nX-Checksum: abc\r\nX-Other:  two \r\n\r\n"
            + "GET /after HTTP/1.1\r\nHost: h\r\n\r\n"
        let trace = verify(input)
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.heads.first?.framing, .chunked)
        XCTAssertEqual(trace.bodies, ["Wikipedia in\r\n\r\nchunks.", ""])
        XCTAssertEqual(trace.trailers.first?.fields, [
            HTTPFields.Field(name: "X-Checksum", value: "abc"), HTTPFields.Field(name: "X-Other", value: "two"),
        ])
        XCTAssertEqual(trace.heads.last?.rawPath, "/after")
    }

    func testChunkedSizesAreHexCaseInsensitive() {
        let body = String(repeating: "x", count: 0xAb)
        let trace = verify("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\naB\r\n\(body)\r\n0\r\n\r\n")
        XCTAssertEqual(trace.bodies, [body])
    }

    func testLeadingCRLFsBeforeARequestAreIgnored() {
        let trace = verify("\r\n\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        XCTAssertNil(trace.errorStatus)
        XCTAssertEqual(trace.heads.map(\.rawPath), ["/a", "/b"])
        XCTAssertEqual(trace.leftover, 0)
    }

    func testAbsoluteFormTargetReplacesHost() throws {
        let trace = verify("GET http://example.com:8080/p/q?x=y HTTP/1.1\r\nHost: other.example\r\n\r\n")
        let head = try XCTUnwrap(trace.heads.first)
        XCTAssertEqual(head.authority, "example.com:8080")
        XCTAssertEqual(head.rawPath, "/p/q")
        XCTAssertEqual(head.query, "x=y")
        XCTAssertEqual(head.target, "http://example.com:8080/p/q?x=y")

        let bare = verify("GET HTTPS://Example.com HTTP/1.1\r\nHost: x\r\n\r\n").heads.first
        XCTAssertEqual(bare?.authority, "Example.com")
        XCTAssertEqual(bare?.rawPath, "/")
        let queryOnly = verify("GET http://a.example?k=v HTTP/1.1\r\nHost: x\r\n\r\n").heads.first
        XCTAssertEqual(queryOnly?.rawPath, "/")
        XCTAssertEqual(queryOnly?.query, "k=v")
    }

    func testAbsoluteFormWithUserinfoOrBadAuthorityIsRejected() {
        assertRejected("GET http://user@example.com/ HTTP/1.1\r\nHost: x\r\n\r\n", 400)
        assertRejected("GET http:///path HTTP/1.1\r\nHost: x\r\n\r\n", 400)
        assertRejected("GET ftp://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    }

    func testAsteriskFormOnlyForOptions() {
        XCTAssertEqual(verify("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").heads.first?.rawPath, "*")
        assertRejected("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    }

    func testKeepAliveRules() {
        func keepAlive(_ version: String, _ connection: String?) -> Bool? {
            let host = version == "1.1" ? "Host: h\r\n" : ""
            let field = connection.map { "Connection: \($0)\r\n" } ?? ""
            return verify("GET / HTTP/\(version)\r\n\(host)\(field)\r\n").heads.first?.keepAlive
        }
        XCTAssertEqual(keepAlive("1.0", nil), false, "HTTP/1.0 closes by default")
        XCTAssertEqual(keepAlive("1.0", "keep-alive"), true)
        XCTAssertEqual(keepAlive("1.0", "Keep-Alive"), true)
        XCTAssertEqual(keepAlive("1.0", "keep-alive, close"), false)
        XCTAssertEqual(keepAlive("1.0", "close, keep-alive"), false, "close wins wherever it appears")
        XCTAssertEqual(keepAlive("1.0", "close\r\nConnection: keep-alive"), false, "close wins across fields too")
        XCTAssertEqual(keepAlive("1.1", nil), true, "HTTP/1.1 persists by default")
        XCTAssertEqual(keepAlive("1.1", "close"), false)
        XCTAssertEqual(keepAlive("1.1", "Upgrade, CLOSE"), false)
        XCTAssertEqual(keepAlive("1.1", "keep-alive"), true)
    }

    func testHTTP10WithoutHostIsAccepted() {
        let head = verify("GET /old HTTP/1.0\r\n\r\n").heads.first
        XCTAssertEqual(head?.minorVersion, 0)
        XCTAssertEqual(head?.authority, "")
    }

    func testExpectContinueFlag() {
        let post = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
        XCTAssertEqual(verify(post + "Expect: 100-continue\r\n\r\nabc").heads.first?.expectContinue, true)
        XCTAssertEqual(verify(post + "Expect: 100-Continue\r\n\r\nabc").heads.first?.expectContinue, true)
        XCTAssertEqual(verify(post + "\r\nabc").heads.first?.expectContinue, false)
        XCTAssertEqual(verify(post + "Expect: something-else\r\n\r\nabc").heads.first?.expectContinue, false)
        // HTTP/1.0 clients do not understand 100 Continue (RFC 9110 §10.1.1).
        XCTAssertEqual(verify("POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc").heads.first?.expectContinue, false)
    }

    // MARK: - Malformed and ambiguous input

    func testSmugglingAndMalformedCorpus() {
        let post = "POST / HTTP/1.1\r\nHost: h\r\n"
        let smuggled = "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
        let chunked = post + "Transfer-Encoding: chunked\r\n\r\n"
        let corpus: [(String, String, Int)] = [
            ("CL and TE", post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 400),
            ("TE and CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\n" + smuggled, 400),
            ("duplicate CL, same", post + "Content-Length: 4\r\nContent-Length: 4\r\n\r\ntest", 400),
            ("duplicate CL, different", post + "Content-Length: 4\r\nContent-Length: 5\r\n\r\ntest" + smuggled, 400),
            ("CL list", post + "Content-Length: 4, 5\r\n\r\ntest" + smuggled, 400),
            ("CL same list", post + "Content-Length: 4, 4\r\n\r\ntest", 400),
            ("CL plus sign", post + "Content-Length: +4\r\n\r\ntest", 400),
            ("CL negative", post + "Content-Length: -1\r\n\r\n", 400),
            ("CL hex", post + "Content-Length: 0x4\r\n\r\ntest", 400),
            ("CL huge", post + "Content-Length: 99999999999999999999999\r\n\r\n", 400),
            ("CL empty", post + "Content-Length: \r\n\r\n", 400),
            ("CL inner space", post + "Content-Length: 1 0\r\n\r\n", 400),
            ("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            ("TE in HTTP/1.0 with CL", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\n" + smuggled, 400),
            ("TE unknown", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + smuggled, 501),
            ("TE gzip then chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
            ("TE chunked, identity", post + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + smuggled, 400),
            ("TE chunked twice", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            ("TE trailing comma", post + "Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n", 400),
            ("chunk size not hex", chunked + "zz\r\ntest\r\n0\r\n\r\n", 400),
            ("chunk size empty", chunked + "\r\ntest\r\n0\r\n\r\n", 400),
            ("chunk size negative", chunked + "-4\r\ntest\r\n0\r\n\r\n", 400),
            ("chunk size 0x prefix", chunked + "0x4\r\ntest\r\n0\r\n\r\n", 400),
            ("chunk size overflow", chunked + "fffffffffffffffff1\r\ntest\r\n0\r\n\r\n" + smuggled, 400),
            ("chunk size bare LF", chunked + "4\ntest\r\n0\r\n\r\n", 400),
            ("chunk extension with CR", chunked + "4;a\rb\r\ntest\r\n0\r\n\r\n", 400),
            ("missing CRLF after chunk data", chunked + "4\r\ntestXX0\r\n\r\n" + smuggled, 400),
            ("LF only after chunk data", chunked + "4\r\ntest\n0\r\n\r\n", 400),
            ("obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", 400),
            ("obs-fold with tab", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n", 400),
            ("bare CR in value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400),
            ("bare CR ends line", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400),
            ("bare LF lines", "GET / HTTP/1.1\nHost: h\n\n", 400),
            ("bare LF ends block", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400),
            ("NUL in value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{0}b\r\n\r\n", 400),
            ("DEL in value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{7F}b\r\n\r\n", 400),
            ("space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
            ("space before colon, TE", post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
            ("space in name", "GET / HTTP/1.1\r\nHost: h\r\nX A: b\r\n\r\n", 400),
            ("no colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColonHere\r\n\r\n", 400),
            ("empty name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400),
            ("bad method chars", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            ("method starting with space", " GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            ("double space in request line", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            ("missing target", "GET HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            ("control char in target", "GET /a\u{1}b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            ("bad version suffix", "GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400),
            ("lowercase version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400),
            ("version without minor", "GET / HTTP/1\r\nHost: h\r\n\r\n", 400),
            ("no version", "GET /\r\nHost: h\r\n\r\n", 400),
            ("HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
            ("HTTP/0.9 line", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505),
            ("missing Host in 1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
            ("double Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400),
            ("double Host in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            ("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
            ("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        ]
        for (name, input, status) in corpus {
            let trace = verify(input)
            XCTAssertEqual(trace.errorStatus, status, "\(name): \(trace)")
            XCTAssertFalse(trace.heads.contains { $0.rawPath == "/smuggled" }, "\(name): a smuggled request got through")
        }
    }

    func testErrorsAreStickyAndEarlierRequestsSurvive() {
        var decoder = HTTP1Decoder()
        decoder.append(Array("GET /ok HTTP/1.1\r\nHost: h\r\n\r\nGET /bad HTTP/1.1\r\nHost h\r\n\r\nGET /later HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        guard case .head(let head)? = try? decoder.next() else { return XCTFail("first request should decode") }
        XCTAssertEqual(head.rawPath, "/ok")
        XCTAssertEqual(try? decoder.next(), .end(HTTPFields()))
        XCTAssertThrowsError(try decoder.next()) { XCTAssertEqual(($0 as? HTTP1ParseError)?.status, 400) }
        decoder.append(Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        XCTAssertThrowsError(try decoder.next(), "errors are sticky") { XCTAssertEqual(($0 as? HTTP1ParseError)?.status, 400) }
    }

    func testMalformedTrailersAreRejected() {
        let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ntest\r\n0\r\n"
        assertRejected(chunked + "X-A: a\r\n b\r\n\r\n", 400)
        assertRejected(chunked + "NoColon\r\n\r\n", 400)
        assertRejected(chunked + "X-A: a\nX-B: b\r\n\r\n", 400)
    }

    /// Long values are checked eight bytes at a time: a bad byte is caught at every offset, and
    /// the bytes a value may hold (tab, obs-text) still pass there.
    func testEveryOffsetOfALongValueIsChecked() {
        let prefix = Array("GET / HTTP/1.1\r\nHost: h\r\nX-Long: ".utf8), suffix = Array("\r\n\r\n".utf8)
        for offset in 0..<24 {
            for bad: UInt8 in [0, 1, 0x1f, 0x7f] {
                var value = [UInt8](repeating: UInt8(ascii: "a"), count: 24)
                value[offset] = bad
                XCTAssertEqual(verify(prefix + value + suffix).errorStatus, 400, "byte \(bad) at \(offset)")
            }
            for fine: UInt8 in [9, 0x80, 0xe9, 0xff, 0x20, 0x7e] where !(fine == 9 || fine == 0x20) || (offset > 0 && offset < 23) {
                var value = [UInt8](repeating: UInt8(ascii: "a"), count: 24)
                value[offset] = fine
                let trace = verify(prefix + value + suffix)
                XCTAssertNil(trace.errorStatus, "byte \(fine) at \(offset)")
                XCTAssertEqual(trace.heads.first?.headers["x-long"].map { Array($0.utf8) }, String(decoding: value, as: UTF8.self).utf8.map { $0 },
                               "byte \(fine) at \(offset)")
            }
        }
    }

    // MARK: - Limits

    func testHeaderBlockSizeLimit() {
        let limits = HTTP1Limits(maxHeaderBytes: 256, maxHeaderCount: 64)
        let prefix = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: "
        let fixed = prefix.utf8.count + "\r\n\r\n".utf8.count
        let exact = prefix + String(repeating: "p", count: 256 - fixed) + "\r\n\r\n"
        XCTAssertEqual(exact.utf8.count, 256)
        let accepted = verify(exact, limits: limits)
        XCTAssertNil(accepted.errorStatus, "a block of exactly maxHeaderBytes fits")
        XCTAssertEqual(accepted.heads.count, 1)
        assertRejected(prefix + String(repeating: "p", count: 257 - fixed) + "\r\n\r\n", 431, limits: limits)
        // A block that never ends is cut once it passes the limit, without waiting for more.
        assertRejected(prefix + String(repeating: "p", count: 400), 431, limits: limits)
        // The request line counts too.
        assertRejected("GET /" + String(repeating: "a", count: 300) + " HTTP/1.1\r\nHost: h\r\n\r\n", 431, limits: limits)
    }

    func testHeaderBlockSizeLimitWithDefaults() {
        var big = "GET / HTTP/1.1\r\nHost: h\r\n"
        while big.utf8.count <= 16 * 1024 { big += "X-Filler: " + String(repeating: "f", count: 100) + "\r\n" }
        let whole = Self.decode([Array((big + "\r\n").utf8)[...]], limits: HTTP1Limits())
        XCTAssertEqual(whole.errorStatus, 431)
        let bytes = Array((big + "\r\n").utf8)
        XCTAssertEqual(Self.decode(bytes.indices.map { bytes[$0...$0] }, limits: HTTP1Limits()).errorStatus, 431)
    }

    func testHeaderCountLimit() {
        let limits = HTTP1Limits(maxHeaderBytes: 4096, maxHeaderCount: 8)
        func request(fields: Int) -> String {
            "GET / HTTP/1.1\r\nHost: h\r\n" + (1..<fields).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        }
        XCTAssertNil(verify(request(fields: 8), limits: limits).errorStatus, "exactly maxHeaderCount fields fit")
        assertRejected(request(fields: 9), 431, limits: limits)
        assertRejected(request(fields: 300), 431, limits: limits)
        XCTAssertEqual(verify(request(fields: 300)).errorStatus, 431, "the default limit is 256 fields")
    }

    func testTrailerBlockHasLimitsToo() {
        let limits = HTTP1Limits(maxHeaderBytes: 256, maxHeaderCount: 8)
        let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        assertRejected(chunked + "X-T: " + String(repeating: "t", count: 300) + "\r\n\r\n", 431, limits: limits)
        assertRejected(chunked + (0..<20).map { "T\($0): v\r\n" }.joined() + "\r\n", 431, limits: limits)
    }

    func testChunkSizeLineLengthIsBounded() {
        // Chunk extensions may not be used to make the decoder buffer without bound.
        let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        let trace = Self.decode([Array((chunked + "4;" + String(repeating: "e", count: 5000)).utf8)[...]], limits: HTTP1Limits())
        XCTAssertEqual(trace.errorStatus, 400)
    }
}
