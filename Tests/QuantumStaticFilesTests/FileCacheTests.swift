import QuantumCore
@testable import QuantumStaticFiles
import XCTest

/// The per-loop file cache: each loop has a table of its own, whatever the number of loops.
final class FileCacheTests: XCTestCase {
    func testEveryLoopHasItsOwnTable() async throws {
        // 65 loops: indexes 0 and 64 shared one table before (an array of 64 by index).
        let group = try EventLoopGroup(loopCount: 65)
        defer { group.shutdown() }
        let cache = FileCache()
        let first = group.loops[0], last = group.loops[64]
        await first.submit { cache.store(.missing, for: "/srv/a", loop: first) }
        let seenThere = await last.submit { cache.entry("/srv/a", loop: last) != nil }
        let seenHere = await first.submit { cache.entry("/srv/a", loop: first) != nil }
        XCTAssertFalse(seenThere, "loop 64 read loop 0's table")
        XCTAssertTrue(seenHere)
    }
}
