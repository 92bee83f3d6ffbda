import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// Caddy placeholder names and the two replacement modes (unknown → empty, unknown → kept).
final class PlaceholderTests: XCTestCase {
    let peer = ConnectionInfo(remoteAddress: SocketAddress(ip: "192.0.2.7", port: 51234)!,
                              localAddress: SocketAddress(ip: "127.0.0.1", port: 8080)!)

    func sample(host: String = "Example.COM:8443") -> Request {
        var headers = HTTPFields([("Host", host), ("X-Multi", "a"), ("X-Multi", "b"), ("Cookie", "sid=42; theme=dark")])
        headers.add("User-Agent", "curl/8")
        return Request(method: "POST", rawPath: "/docs/guide/intro%20page.html", query: "lang=en&q=a%20b&q=c",
                       headers: headers, host: host, connection: peer)
    }

    func render(_ text: String, _ request: Request? = nil, context: Context = Context(), unknown: Template.Unknown = .empty) -> String {
        Template(text).render(request ?? sample(), context, unknown: unknown)
    }

    func testRequestPlaceholders() {
        let cases: [(String, String)] = [
            ("http.request.method", "POST"),
            ("http.request.scheme", "http"),
            ("http.request.proto", "HTTP/1.1"),
            ("http.request.host", "Example.COM"),
            ("http.request.hostport", "Example.COM:8443"),
            ("http.request.port", "8443"),
            ("http.request.uri", "/docs/guide/intro%20page.html?lang=en&q=a%20b&q=c"),
            ("http.request.uri.path", "/docs/guide/intro page.html"),
            ("http.request.uri.path.0", "docs"),
            ("http.request.uri.path.1", "guide"),
            ("http.request.uri.path.2", "intro page.html"),
            ("http.request.uri.path.3", ""),
            ("http.request.uri.path.dir", "/docs/guide/"),
            ("http.request.uri.path.file", "intro page.html"),
            ("http.request.uri.path.file.base", "intro page"),
            ("http.request.uri.path.file.ext", ".html"),
            ("http.request.uri.query", "lang=en&q=a%20b&q=c"),
            ("http.request.uri.prefixed_query", "?lang=en&q=a%20b&q=c"),
            ("http.request.uri.query.lang", "en"),
            ("http.request.uri.query.q", "a b"),
            ("http.request.uri.query.missing", ""),
            ("http.request.header.User-Agent", "curl/8"),
            ("http.request.header.user-agent", "curl/8"),
            ("http.request.header.X-Multi", "a,b"),
            ("http.request.header.X-Missing", ""),
            ("http.request.cookie.theme", "dark"),
            ("http.request.host.labels.0", "COM"),
            ("http.request.host.labels.1", "Example"),
            ("http.request.remote", "192.0.2.7:51234"),
            ("http.request.remote.host", "192.0.2.7"),
            ("http.request.remote.port", "51234"),
            ("http.request.local.port", "8080"),
            ("http.request.orig_method", "POST"),
            ("http.request.orig_uri", "/docs/guide/intro%20page.html?lang=en&q=a%20b&q=c"),
            ("http.request.orig_uri.path", "/docs/guide/intro page.html"),
            ("http.request.orig_uri.query", "lang=en&q=a%20b&q=c"),
        ]
        for (name, expected) in cases {
            XCTAssertEqual(render("{\(name)}"), expected, name)
        }
    }

    func testPathSegmentsKeepEmptySegmentsLikeCaddy() {
        // Caddy splits the path on "/" and drops only the leading empty part.
        let r = request("/a//b/")
        XCTAssertEqual(render("[{http.request.uri.path.0}][{http.request.uri.path.1}][{http.request.uri.path.2}][{http.request.uri.path.3}]", r),
                       "[a][][b][]")
    }

    func testPortWithoutOneInTheHostIsTheSchemeDefault() {
        // Deliberate difference: Caddy gives "" here; Quantum gives the port the request used.
        XCTAssertEqual(render("{http.request.port}", request("/", host: "example.com")), "80")
    }

    func testIPv6Host() {
        let r = request("/", host: "[::1]:8080")
        XCTAssertEqual(render("{http.request.host}|{http.request.port}|{http.request.hostport}", r), "::1|8080|[::1]:8080")
    }

    func testOrigURISurvivesRewrites() {
        var r = sample()
        r.rawPath = "/rewritten"
        r.query = "x=1"
        XCTAssertEqual(render("{http.request.uri} {http.request.orig_uri}", r),
                       "/rewritten?x=1 /docs/guide/intro%20page.html?lang=en&q=a%20b&q=c")
    }

    func testVarsAndRegexpCaptures() {
        var context = Context()
        context.vars["root"] = "/srv/www"
        context.placeholders["http.regexp.id.1"] = "42"
        XCTAssertEqual(render("{http.vars.root}/{http.regexp.id.1}", context: context), "/srv/www/42")
        // As Caddy 2.6.2 (a static_response body "[{http.vars.unset}] [{http.nope.x}]" answers
        // "[] [{http.nope.x}]"): an unset variable is known and empty, an unknown name stays.
        XCTAssertEqual(render("[{http.vars.unset}] [{http.nope.x}]", context: context, unknown: .keep), "[] [{http.nope.x}]")
    }

    func testClientIPVarDefaultsToThePeer() {
        XCTAssertEqual(render("{http.vars.client_ip}"), "192.0.2.7")
    }

    func testTimeAndEnvironment() throws {
        let before = Int(time(nil))
        let now = try XCTUnwrap(Int(render("{time.now.unix}")))
        XCTAssertGreaterThanOrEqual(now, before)
        XCTAssertLessThanOrEqual(now, before + 5)
        XCTAssertEqual(render("{time.now.unix_ms}").count, 13)
        XCTAssertTrue(render("{time.now.http}").hasSuffix(" GMT"))
        setenv("QUANTUM_PLACEHOLDER_TEST", "from-env", 1)
        XCTAssertEqual(render("{env.QUANTUM_PLACEHOLDER_TEST}"), "from-env")
        XCTAssertEqual(render("[{env.QUANTUM_SURELY_UNSET_VARIABLE}]", unknown: .keep), "[]", "an unset variable is known and empty")
    }

    func testUUIDIsFreshEachTime() {
        let a = render("{http.request.uuid}"), b = render("{http.request.uuid}")
        XCTAssertEqual(a.count, 36)
        XCTAssertNotEqual(a, b)
    }

    func testUnknownPlaceholdersEmptyOrKept() {
        XCTAssertEqual(render("a{nope}b{http.request.nope}c"), "abc")
        XCTAssertEqual(render("a{nope}b{http.request.nope}c", unknown: .keep), "a{nope}b{http.request.nope}c")
        XCTAssertEqual(render("{http.request.method}{nope}", unknown: .keep), "POST{nope}")
    }

    func testEscapedBracesAreLiteral() {
        XCTAssertEqual(render(#"\{http.request.method\} is {http.request.method}"#), "{http.request.method} is POST")
        XCTAssertEqual(render(#"json: \{"a": 1\}"#), #"json: {"a": 1}"#)
    }

    func testTextThatIsNotAPlaceholderStays() {
        XCTAssertEqual(render("{}"), "{}")
        XCTAssertEqual(render("{ not one }"), "{ not one }")
        XCTAssertEqual(render("unclosed {http.request.method"), "unclosed {http.request.method")
        XCTAssertEqual(render(#"{"key": "value"}"#), #"{"key": "value"}"#)
        XCTAssertEqual(render("{{http.request.method}}"), "{POST}")
    }

    func testConstantTemplates() {
        XCTAssertTrue(Template("plain text").isConstant)
        XCTAssertTrue(Template(#"\{escaped\}"#).isConstant)
        XCTAssertFalse(Template("{http.request.host}").isConstant)
    }
}
