@testable import QuantumCore
import XCTest

final class ChunkQueueTests: XCTestCase {
    /// Appends and removals interleaved in every way keep arrival order, whether a chunk sits
    /// in the inline slot or in the array behind it.
    func testOrderIsKeptAcrossTheInlineSlotAndTheArray() {
        var queue = ChunkQueue()
        var model: [[UInt8]] = []
        var next: UInt8 = 0
        // A fixed pattern of pushes (true) and pops (false) that visits every state.
        let steps: [Bool] = [true, false, true, true, false, true, false, false, true, true, true, false, true, false, false, false,
                             true, true, false, false]
        for push in steps {
            if push {
                queue.append([next, next])
                model.append([next, next])
                next += 1
            } else {
                XCTAssertEqual(queue.removeFirst(), model.removeFirst())
            }
            XCTAssertEqual(queue.count, model.count)
            XCTAssertEqual(queue.isEmpty, model.isEmpty)
        }
    }

    func testJoinedTakesEverythingInOrder() {
        var queue = ChunkQueue()
        queue.append([1])
        queue.append([2, 3])
        _ = queue.removeFirst()
        queue.append([4])
        XCTAssertEqual(queue.removeAllJoined(), [2, 3, 4])
        XCTAssertTrue(queue.isEmpty)
        queue.append([9])
        XCTAssertEqual(queue.removeAllJoined(), [9])
        XCTAssertEqual(queue.count, 0)
    }
}
