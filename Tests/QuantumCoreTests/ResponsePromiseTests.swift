import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// `test_later`: takes the connection's deferral and settles it after `ms` on the loop —
/// `answer` with "later", `handback` hands the request back to its rest having noted
/// "from-sync", `offloop` answers from another thread, `drop` lets the promise go unsettled.
/// Without a deferral it answers asynchronously with what it saw.
private struct LaterHandler: HandlerModule, SynchronousHandler {
    static let moduleID = "http.handlers.test_later"
    var mode: String
    var ms: Int?
    /// A `Board` key counting answers that found their connection gone.
    var cancelKey: String?

    /// What the deferred attempt learned, for the rest that runs if it hands the request back.
    final class Note: @unchecked Sendable { var text = "none" }  // written on the loop before the hand-back

    func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        let note = Note()
        let rest = SyncResult.suspended(Resumption { Response.text("async:" + note.text) })
        guard let loop = context.loop, let later = context.deferral?.take() else { return rest }
        let mode = self.mode, cancelKey = self.cancelKey
        if mode == "drop" { return rest }
        if mode == "offloop" {
            Task.detached { try? await Task.sleep(nanoseconds: 20_000_000); later.succeed(Response.text("from afar")) }
            return rest
        }
        _ = loop.schedule(afterNanoseconds: UInt64(ms ?? 50) * 1_000_000) {
            if let cancelKey, later.isCancelled { Board.shared.add(cancelKey, 1) }
            if mode == "handback" {
                note.text = "from-sync"
                later.handBack()
            } else {
                later.succeed(Response.text("later"))
            }
        }
        return rest
    }

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        Response.text("async:none")
    }
}

final class ResponsePromiseTests: XCTestCase {
    private var registry: ModuleRegistry {
        var r = coreTestRegistry()
        r.register(LaterHandler.self)
        return r
    }

    func testADeferredAnswerKeepsPipelinedRequestsInOrder() async throws {
        try await withServer(routes: """
        [{"match": [{"path": ["/later"]}], "handle": [{"handler": "test_later", "mode": "answer", "ms": 150}], "terminal": true},
         {"handle": [{"handler": "static_response", "body": "now"}]}]
        """, registry: registry) { server in
            let client = try RawClient(port: server.port)
            client.send("GET /later HTTP/1.1\r\nHost: a\r\n\r\nGET /now HTTP/1.1\r\nHost: a\r\n\r\nGET /later HTTP/1.1\r\nHost: a\r\n\r\n")
            XCTAssertEqual(client.readResponse()?.bodyText, "later")
            XCTAssertEqual(client.readResponse()?.bodyText, "now")
            XCTAssertEqual(client.readResponse()?.bodyText, "later")
        }
    }

    func testHandBackRunsTheRestWithWhatTheHandlerNoted() async throws {
        try await withServer(routes: #"[{"handle": [{"handler": "test_later", "mode": "handback"}]}]"#, registry: registry) { server in
            let client = try RawClient(port: server.port)
            client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /queued HTTP/1.1\r\nHost: a\r\n\r\n")
            XCTAssertEqual(client.readResponse()?.bodyText, "async:from-sync")
            XCTAssertEqual(client.readResponse()?.bodyText, "async:none", "read while the task was busy: no deferral offered")
            client.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n")
            XCTAssertEqual(client.readResponse()?.bodyText, "async:from-sync", "the connection offers deferrals again")
        }
    }

    func testAPromiseSettledFromAnotherThreadIsAnsweredOnItsLoop() async throws {
        try await withServer(routes: #"[{"handle": [{"handler": "test_later", "mode": "offloop"}]}]"#, registry: registry) { server in
            let client = try RawClient(port: server.port)
            for _ in 0..<3 {
                client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                XCTAssertEqual(client.readResponse()?.bodyText, "from afar")
            }
        }
    }

    func testAPromiseDroppedUnsettledHandsTheRequestBack() async throws {
        try await withServer(routes: #"[{"handle": [{"handler": "test_later", "mode": "drop"}]}]"#, registry: registry) { server in
            XCTAssertEqual(freshGet(server.port)?.bodyText, "async:none", "no client waits forever on a lost promise")
        }
    }

    func testAHandlerEditingResponsesHidesTheDeferralFromTheHandlersAfterIt() async throws {
        try await withServer(routes: """
        [{"match": [{"path": ["/edited"]}], "handle": [{"handler": "headers", "response": {"set": {"X-Edited": ["yes"]}}},
                                                      {"handler": "test_later", "mode": "answer"}], "terminal": true},
         {"handle": [{"handler": "headers", "request": {"set": {"X-In": ["1"]}}}, {"handler": "test_later", "mode": "answer"}]}]
        """, registry: registry) { server in
            let edited = try XCTUnwrap(freshGet(server.port, "/edited"))
            XCTAssertEqual(edited.bodyText, "async:none", "the headers handler would never see a deferred answer")
            XCTAssertEqual(edited.header("X-Edited"), "yes")
            XCTAssertEqual(freshGet(server.port, "/plain")?.bodyText, "later", "request ops leave responses alone")
        }
    }

    func testTheAnswerStillGoesOutAfterTheClientHalfCloses() async throws {
        try await withServer(routes: #"[{"handle": [{"handler": "test_later", "mode": "answer", "ms": 100}]}]"#, registry: registry) { server in
            let client = try RawClient(port: server.port)
            client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            client.shutdownWrite()
            XCTAssertEqual(client.readResponse()?.bodyText, "later")
            XCTAssertTrue(client.isClosedByPeer(), "then the connection ends")
        }
    }

    func testPipelinedRequestsBeforeAHalfCloseAreAllAnswered() async throws {
        try await withServer(routes: """
        [{"match": [{"path": ["/later"]}], "handle": [{"handler": "test_later", "mode": "answer", "ms": 50}], "terminal": true},
         {"match": [{"path": ["/async"]}], "handle": [{"handler": "test_later", "mode": "handback"}], "terminal": true},
         {"handle": [{"handler": "static_response", "body": "now"}]}]
        """, registry: registry) { server in
            let client = try RawClient(port: server.port)
            client.send(["/later", "/now", "/async", "/later", "/now"].map { "GET \($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined())
            client.shutdownWrite()
            let bodies = (0..<5).map { _ in client.readResponse()?.bodyText ?? "-" }
            // The fourth arrives while the task runs the handed-back third: no offer, the async path.
            XCTAssertEqual(bodies, ["later", "now", "async:from-sync", "async:none", "now"])
            XCTAssertTrue(client.isClosedByPeer(), "then the connection ends")
        }
    }

    func testAnAnswerForAClosedConnectionIsDropped() async throws {
        let key = "deferral-cancel-\(UUID())"
        try await withServer(routes: """
        [{"match": [{"path": ["/slow"]}], "handle": [{"handler": "test_later", "mode": "answer", "ms": 300, "cancelKey": "\(key)"}], "terminal": true},
         {"handle": [{"handler": "static_response", "body": "ok"}]}]
        """, registry: registry) { server in
            do {
                let client = try RawClient(port: server.port)
                client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
                usleep(50_000)
                // Reset, not a FIN (which would read as a half-close that still wants its answer).
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            }
            XCTAssertTrue(eventuallyTrue { Board.shared.value(key) == 1 }, "the handler saw its connection gone")
            XCTAssertEqual(freshGet(server.port)?.bodyText, "ok")
        }
    }

    private func eventuallyTrue(_ condition: () -> Bool) -> Bool {
        for _ in 0..<100 where !condition() { usleep(20_000) }
        return condition()
    }
}
