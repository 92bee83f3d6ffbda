import Glibc
@testable import QuantumCore
import XCTest

final class DetachedThreadTests: XCTestCase {
    /// The body runs on a thread of its own, named (cut to the 15 bytes Linux keeps).
    func testRunsTheBodyOnItsOwnNamedThread() {
        let done = expectation(description: "the body ran")
        let seen = NameBox()
        let caller = pthread_self()
        DetachedThread.start(name: "quantum-test-thread-name") {
            var comm = [UInt8](repeating: 0, count: 32)
            let fd = open("/proc/thread-self/comm", O_RDONLY)
            let n = read(fd, &comm, comm.count)
            close(fd)
            seen.set(String(decoding: comm.prefix(max(0, n)), as: UTF8.self), pthread_self())
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
        XCTAssertEqual(seen.name, "quantum-test-th\n")
        XCTAssertEqual(pthread_equal(seen.thread, caller), 0, "not the caller's thread")
    }
}

private final class NameBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (String, pthread_t) = ("", 0)
    func set(_ name: String, _ thread: pthread_t) { lock.lock(); stored = (name, thread); lock.unlock() }
    var name: String { lock.lock(); defer { lock.unlock() }; return stored.0 }
    var thread: pthread_t { lock.lock(); defer { lock.unlock() }; return stored.1 }
}
