@testable import QuantumFileSync
import QuantumTestSupport
import XCTest

/// What a full compare shows while it works: on a terminal a bar redrawn in place, with the
/// bytes of a large transfer as they move; otherwise one line per step.
final class SyncProgressTests: XCTestCase {
    func testTheBarShowsStepsAndTheBytesOfATransferUnderWay() async throws {
        let written = LogLines()
        let progress = SyncProgress(style: .bar) { written.append($0) }
        progress.begin(steps: 2)
        progress.beginTransfer("videos/holiday.mp4", size: 3 << 20)
        progress.transferred(1 << 20)
        progress.transferred(2 << 20)  // within a tenth of a second: not redrawn
        XCTAssertEqual(written.all, ["\r\u{1B}[K[0/2] videos/holiday.mp4: 1.0 MiB of 3.0 MiB"])
        try await Task.sleep(nanoseconds: 120_000_000)
        progress.transferred(3 << 20)
        XCTAssertEqual(written.all.last, "\r\u{1B}[K[0/2] videos/holiday.mp4: 3.0 MiB of 3.0 MiB")
        progress.step("download videos/holiday.mp4", bytes: 3 << 20)
        XCTAssertTrue(written.all.last?.contains("] 1/2 3.0 MiB download videos/holiday.mp4") == true, written.all.last ?? "")
    }

    func testLinesAndSilenceShowNoTransferBytes() {
        let written = LogLines()
        let lines = SyncProgress(style: .lines) { written.append($0) }
        lines.begin(steps: 1)
        lines.beginTransfer("a.bin", size: 10)
        lines.transferred(5)
        lines.step("upload a.bin", bytes: 10)
        XCTAssertEqual(written.all, ["sync: 1 change to make", "[1/1] upload a.bin"])
        SyncProgress.silent.transferred(5)  // shared, and never counts
    }
}
