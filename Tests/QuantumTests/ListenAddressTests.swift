import Quantum
import QuantumTestSupport
import XCTest

/// Caddy network addresses in `listen`: host, port, port ranges, network prefixes.
final class ListenAddressTests: XCTestCase {
    func testForms() throws {
        let cases: [(String, String, String, ClosedRange<Int>)] = [
            (":8080", "tcp", "", 8080...8080),
            ("127.0.0.1:8080", "tcp", "127.0.0.1", 8080...8080),
            ("[::1]:8080", "tcp", "::1", 8080...8080),
            ("localhost:8080-8085", "tcp", "localhost", 8080...8085),
            ("tcp/127.0.0.1:80", "tcp", "127.0.0.1", 80...80),
            ("tcp4/:443", "tcp4", "", 443...443),
            ("tcp6/[::]:443", "tcp6", "::", 443...443),
            ("TCP/:1", "tcp", "", 1...1),
            ("example.com:0", "tcp", "example.com", 0...0),
        ]
        for (text, network, host, ports) in cases {
            let address = try ListenAddress.parse(text)
            XCTAssertEqual(address.network, network, text)
            XCTAssertEqual(address.host, host, text)
            XCTAssertEqual(address.portRange, ports, text)
        }
    }

    func testDescriptionIsCanonical() throws {
        XCTAssertEqual(try ListenAddress.parse(":8080").description, "tcp/:8080")
        XCTAssertEqual(try ListenAddress.parse("[::1]:8080").description, "tcp/[::1]:8080")
        XCTAssertEqual(try ListenAddress.parse("localhost:8080-8085").description, "tcp/localhost:8080-8085")
    }

    func testPortRangeExpandsToOneSocketPerPort() throws {
        let sockets = try ListenAddress.parse("localhost:8080-8085").socketAddresses()
        XCTAssertEqual(sockets.count, 6)
        XCTAssertEqual(sockets.map(\.port), Array(8080...8085))
        XCTAssertEqual(Set(sockets.map(\.host)), ["127.0.0.1"])
    }

    func testSocketAddressesByHostForm() throws {
        XCTAssertEqual(try ListenAddress.parse("[::1]:8080").socketAddresses().map(\.description), ["[::1]:8080"])
        XCTAssertEqual(try ListenAddress.parse("127.0.0.1:81").socketAddresses().map(\.description), ["127.0.0.1:81"])
        XCTAssertEqual(try ListenAddress.parse("tcp4/:82").socketAddresses().map(\.description), ["0.0.0.0:82"])
        XCTAssertEqual(try ListenAddress.parse(":83").socketAddresses().map(\.description), ["[::]:83"])
    }

    func testDefaultPortFillsAMissingPort() throws {
        XCTAssertEqual(try ListenAddress.parse("127.0.0.1", defaultPort: 80).portRange, 80...80)
        XCTAssertThrowsError(try ListenAddress.parse("127.0.0.1"))
    }

    func testUnsupportedNetworks() {
        for text in ["unix//run/q.sock", "udp/:443", "fd/3", "ip/1.2.3.4:1"] {
            XCTAssertThrowsError(try ListenAddress.parse(text), text) { error in
                XCTAssertTrue("\(error)".hasPrefix("unsupported network"), "\(error)")
            }
        }
    }

    func testInvalidAddresses() {
        for text in [":", ":65536", ":-1", ":1-2-3", "[::1:80", "[::1]x", ":a-b", ":80-"] {
            XCTAssertThrowsError(try ListenAddress.parse(text), text)
        }
    }
}
