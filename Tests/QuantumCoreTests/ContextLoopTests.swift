import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// Per-loop state for `test_loop`'s count mode.
private final class LoopCounter: @unchecked Sendable {  // used on its loop only
    var value = 0
}

/// `test_loop`: what a handler outside the package can do with its request's loop through
/// `Context` — `timer` answers after a 30 ms timer, `count` counts requests in per-loop state,
/// `cancel` schedules work, cancels it, and answers once it would have run.
private struct LoopHandler: HandlerModule {
    static let moduleID = "http.handlers.test_loop"
    var mode: String
    var key: String?

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        switch mode {
        case "timer":
            let before = context.now
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                context.schedule(after: .milliseconds(30)) { done.resume() }
            }
            return .text("fired after \((context.now &- before) / 1_000_000) ms")
        case "count":
            let counter = context.loopLocal(ObjectIdentifier(LoopCounter.self)) { LoopCounter() }
            counter.value += 1
            return .text(String(counter.value))
        default:
            let key = self.key ?? "loop-cancel"
            context.schedule(after: .milliseconds(20)) { Board.shared.add(key, 1) }.cancel()
            try await Task.sleep(nanoseconds: 80_000_000)
            return .text("ran \(Board.shared.value(key))")
        }
    }
}

final class ContextLoopTests: XCTestCase {
    private var registry: ModuleRegistry {
        var r = coreTestRegistry()
        r.register(LoopHandler.self)
        return r
    }

    private static let routes = """
    [{"match": [{"path": ["/timer"]}], "handle": [{"handler": "test_loop", "mode": "timer"}], "terminal": true},
     {"match": [{"path": ["/count"]}], "handle": [{"handler": "test_loop", "mode": "count"}], "terminal": true},
     {"handle": [{"handler": "test_loop", "mode": "cancel", "key": "KEY"}]}]
    """

    func testATimerFiresOnTheLoopAndTheClockMoves() async throws {
        try await withServer(routes: Self.routes, registry: registry) { server in
            let started = Date()
            let body = freshGet(server.port, "/timer")?.bodyText ?? ""
            XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.03, body)
            XCTAssertTrue(body.hasPrefix("fired after "), body)
        }
    }

    func testLoopLocalStateIsSharedByTheRequestsOfALoop() async throws {
        try await withServer(routes: Self.routes, registry: registry) { server in
            let client = try RawClient(port: server.port)
            var counts: [Int] = []
            for _ in 0..<3 {
                client.send("GET /count HTTP/1.1\r\nHost: a\r\n\r\n")
                counts.append(Int(client.readResponse()?.bodyText ?? "") ?? -1)
            }
            XCTAssertEqual(counts, [counts[0], counts[0] + 1, counts[0] + 2], "one connection, one loop, one counter")
        }
    }

    func testCancelledWorkNeverRuns() async throws {
        let key = "loop-cancel-\(UUID())"
        try await withServer(routes: Self.routes.replacingOccurrences(of: "KEY", with: key), registry: registry) { server in
            XCTAssertEqual(freshGet(server.port, "/cancel")?.bodyText, "ran 0")
        }
    }

    func testWithoutALoopTheContextStillKeepsTime() async throws {
        let context = Context()
        let before = context.now
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            context.schedule(after: .milliseconds(10)) { done.resume() }
        }
        XCTAssertGreaterThanOrEqual(context.now &- before, 10_000_000)
        XCTAssertFalse(context.loopLocal(ObjectIdentifier(LoopCounter.self)) { LoopCounter() }
                       === context.loopLocal(ObjectIdentifier(LoopCounter.self)) { LoopCounter() }, "no loop, no shared state")
    }
}
