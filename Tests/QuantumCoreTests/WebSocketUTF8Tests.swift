import QuantumCore
import XCTest

/// The incremental UTF-8 validator: agrees with the standard library on whole inputs, and fails
/// at the first byte that cannot lead anywhere valid.
final class WebSocketUTF8Tests: XCTestCase {
    func valid(_ bytes: [UInt8]) -> Bool {
        var v = UTF8Validator()
        return v.validate(bytes) && v.isComplete
    }

    func testKnownSequences() {
        XCTAssertTrue(valid(Array("Hello-µ@ßöäüàá-UTF-8!!".utf8)))
        XCTAssertTrue(valid(Array("κόσμε 😀 \u{10FFFF} \u{FFFD}".utf8)))
        XCTAssertTrue(valid([0xEF, 0xBF, 0xBF]))  // U+FFFF is a valid (non-)character
        XCTAssertTrue(valid([]))
        XCTAssertFalse(valid([0xC0, 0x80]), "overlong NUL")
        XCTAssertFalse(valid([0xE0, 0x9F, 0xBF]), "overlong 3-byte")
        XCTAssertFalse(valid([0xF0, 0x8F, 0xBF, 0xBF]), "overlong 4-byte")
        XCTAssertFalse(valid([0xED, 0xA0, 0x80]), "surrogate")
        XCTAssertFalse(valid([0xF4, 0x90, 0x80, 0x80]), "past U+10FFFF")
        XCTAssertFalse(valid([0xF8, 0x88, 0x80, 0x80, 0x80]), "5-byte form")
        XCTAssertFalse(valid([0x80]), "lone continuation")
        XCTAssertFalse(valid([0xE2, 0x82]), "truncated")
        XCTAssertFalse(valid([0xFE]))
    }

    /// The validator fails on the byte that makes the input impossible, not later.
    func testFailsAtTheFirstImpossibleByte() {
        for (bytes, failAt) in [([0xCE, 0xBA, 0xF4, 0x90], 3), ([0x61, 0xED, 0xA0], 2), ([0xE0, 0x80], 1), ([0x61, 0x62, 0xC1], 2)] as [([UInt8], Int)] {
            var v = UTF8Validator()
            for (i, b) in bytes.enumerated() {
                XCTAssertEqual(v.validate([b]), i != failAt, "\(bytes) byte \(i)")
                if i == failAt { break }
            }
        }
    }

    /// Random inputs, split at random points, agree with the standard library's verdict.
    func testAgreesWithTheStandardLibrary() {
        var rng = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [[0x61], [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xED, 0x9F, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF],
                                 [0x80], [0xC3], [0xED, 0xA0], [0xF5], [0xE0, 0xA0], [0xF0, 0x90]]
        for _ in 0..<3000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &rng) { bytes += pieces[Int.random(in: 0..<pieces.count, using: &rng)] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            let cut = Int.random(in: 0...bytes.count, using: &rng)
            var v = UTF8Validator()
            let result = v.validate(Array(bytes[..<cut])) && v.validate(Array(bytes[cut...])) && v.isComplete
            XCTAssertEqual(result, expected, "\(bytes)")
        }
        // Long ASCII runs take the 8-byte path; a bad byte deep inside is still found.
        var long = [UInt8](repeating: 0x61, count: 1000)
        XCTAssertTrue(valid(long))
        long[777] = 0xFF
        XCTAssertFalse(valid(long))
    }
}
