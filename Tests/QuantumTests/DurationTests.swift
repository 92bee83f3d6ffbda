import Quantum
import QuantumTestSupport
import XCTest

/// Caddy durations: integer nanoseconds, or Go duration strings plus `d` for days.
final class DurationTests: XCTestCase {
    func testGoDurationStrings() {
        let cases: [(String, Int64)] = [
            ("0", 0),
            ("1ns", 1),
            ("1us", 1_000),
            ("1µs", 1_000),
            ("250ms", 250_000_000),
            ("1s", 1_000_000_000),
            ("1.5s", 1_500_000_000),
            (".5s", 500_000_000),
            ("1m30s", 90_000_000_000),
            ("1h", 3_600_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("2h45m10s", 9_910_000_000_000),
            ("2d", 172_800_000_000_000),
            ("1d12h", 129_600_000_000_000),
            ("-1s", -1_000_000_000),
            ("+2s", 2_000_000_000),
        ]
        for (text, nanos) in cases {
            XCTAssertEqual(CaddyDuration.parse(text), nanos, text)
        }
    }

    func testInvalidDurationStrings() {
        for text in ["", "5", "1x", "s", "1 s", " 1s", "1s ", "abc", "1..5s", "1h-", "-", "1ss", "1S", "1e3s", "1y"] {
            XCTAssertNil(CaddyDuration.parse(text), "\"\(text)\" should be rejected")
        }
    }

    func testDecodesFromIntegerOrString() throws {
        let cases: [(String, Int64)] = [
            ("10000000000", 10_000_000_000),
            ("0", 0),
            (#""1m30s""#, 90_000_000_000),
            (#""250ms""#, 250_000_000),
            (#""2d""#, 172_800_000_000_000),
        ]
        for (json, nanos) in cases {
            let server = try Config.srv0(Config.server(routes: "[]", fields: #""idle_timeout": \#(json)"#))
            XCTAssertEqual(server.idleTimeout?.nanoseconds, nanos, json)
        }
    }

    func testRejectsOverflow() {
        XCTAssertNil(CaddyDuration.parse("200000000h"))
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]", fields: #""idle_timeout": "9999999999h""#)),
                       #"apps.http.servers.srv0.idle_timeout: invalid duration "9999999999h""#)
    }
}
