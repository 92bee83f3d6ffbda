import QuantumCore
import XCTest

final class FastRandomTests: XCTestCase {
    func testDrawsCoverTheRangeEvenly() {
        var rng = FastRandom()
        var counts = [Int](repeating: 0, count: 4)
        for _ in 0..<4000 { counts[Int.random(in: 0..<4, using: &rng)] += 1 }
        // Each bucket expects 1000; 800 is more than six standard deviations away.
        XCTAssertTrue(counts.allSatisfy { $0 > 800 }, "\(counts)")
    }
}
