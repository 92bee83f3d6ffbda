@testable import QuantumCore
import XCTest

final class TokenTests: XCTestCase {
    /// Every byte value against RFC 9110's `tchar` written out as a set.
    func testTCharIsExactlyRFC9110sSet() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for b in 0...255 {
            XCTAssertEqual(Token.isTChar(UInt8(b)), tchar.contains(UInt8(b)), "byte \(b)")
        }
    }
}
