import Glibc
@testable import QuantumCore
import XCTest

// epoll's flag values (<sys/epoll.h>, the Linux ABI): Glibc's Swift module does not export them,
// and importing the C shim module here hides Glibc's socket constants from the target's other files.
private let EPOLLIN: UInt32 = 0x001, EPOLLOUT: UInt32 = 0x004, EPOLLRDHUP: UInt32 = 0x2000, EPOLLET: UInt32 = 1 << 31

/// `EventLoop.readEdgeTriggered` on a socket pair: it reads to a short read, on to the end when
/// the event says the peer hung up, and not past a handler that stopped reading.
final class EdgeTriggeredReadTests: XCTestCase {
    private func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw SystemError.last("socketpair") }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        return (fds[0], fds[1])
    }

    private func send(_ fd: Int32, _ text: String) { _ = text.withCString { Glibc.send(fd, $0, strlen($0), 0) } }

    func testDataAndHangUpInOneEdgeAreBothSeen() throws {
        let loop = try EventLoop(index: 0)
        let (reader, writer) = try pair()
        defer { close(reader) }
        send(writer, "last words")
        close(writer)
        var got = ""
        let hungUp = IOEvents(raw: EPOLLIN | EPOLLRDHUP)
        let end = loop.readEdgeTriggered(reader, hungUp, interest: EPOLLIN, keepReading: { true }) {
            got += String(decoding: $0, as: UTF8.self)
        }
        XCTAssertEqual(got, "last words")
        guard case .endOfInput = end else { return XCTFail("the end went unseen: \(end)") }
    }

    func testAShortReadEndsTheEventWithoutAnotherCall() throws {
        let loop = try EventLoop(index: 0)
        let (reader, writer) = try pair()
        defer { close(reader); close(writer) }
        send(writer, "some")
        var chunks = 0
        let end = loop.readEdgeTriggered(reader, IOEvents(raw: EPOLLIN), interest: EPOLLIN, keepReading: { true }) { _ in
            chunks += 1
        }
        XCTAssertEqual(chunks, 1)
        guard case .drained = end else { return XCTFail("\(end)") }
        send(writer, "more")
        XCTAssertEqual(recv(reader, nil, 0, Int32(MSG_PEEK | MSG_DONTWAIT)), 0, "what came later waits for the next edge")
    }

    func testAHandlerThatStopsReadingIsNotReadPast() throws {
        let loop = try EventLoop(index: 0)
        let (reader, writer) = try pair()
        defer { close(reader); close(writer) }
        let big = [UInt8](repeating: 0x61, count: 200_000)
        var sent = 0
        while sent < big.count {
            let n = big[sent...].withUnsafeBytes { Glibc.send(writer, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n <= 0 { break }
            sent += n
        }
        var read = 0
        let end = loop.readEdgeTriggered(reader, IOEvents(raw: EPOLLIN), interest: EPOLLIN,
                                         keepReading: { false }) { read += $0.count }
        guard case .stopped = end else { return XCTFail("\(end)") }
        XCTAssertLessThanOrEqual(read, 64 * 1024, "one buffer, then it stopped")
        XCTAssertGreaterThan(read, 0)
    }

    /// While a connection does not read, it does not ask to hear of the peer's hang-up either:
    /// that would make it read (and end its input) before the input it holds is handled.
    func testHangUpIsAskedForOnlyWhileReading() {
        XCTAssertEqual(EventLoop.edgeTriggered(EPOLLIN), EPOLLIN | EPOLLET | EPOLLRDHUP)
        XCTAssertEqual(EventLoop.edgeTriggered(EPOLLOUT), EPOLLOUT | EPOLLET)
        XCTAssertEqual(EventLoop.edgeTriggered(0), EPOLLET)
    }
}
