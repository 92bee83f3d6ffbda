import Foundation
import XCTest

/// Sends SIGTERM to a `quantum` child and asserts a clean exit (status 0 within 10 s).
/// Returns what the process wrote to standard error, for further checks.
@discardableResult
public func stopCleanly(_ process: Process, stderr: Pipe, file: StaticString = #filePath, line: UInt = #line) -> String {
    kill(process.processIdentifier, SIGTERM)
    let deadline = Date().addingTimeInterval(10)
    while process.isRunning && Date() < deadline { usleep(50_000) }
    XCTAssertFalse(process.isRunning, "quantum did not exit within 10 s of SIGTERM", file: file, line: line)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationReason, .exit, file: file, line: line)
    XCTAssertEqual(process.terminationStatus, 0, file: file, line: line)
    return String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
}
