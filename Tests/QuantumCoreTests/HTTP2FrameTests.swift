import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// Frame-level HTTP/2 cases with Python's `h2` as the peer (`Support/h2_frames.py`; the venv
/// `scripts/deps.sh` makes, or `QUANTUM_H2_PYTHON`): the project's own HTTP/2 corpus.
final class HTTP2FrameTests: XCTestCase {
    static let routes = #"""
    [{"match": [{"path": ["/big"]}], "handle": [{"handler": "test_stream", "total": 500000, "piece": 10000}]},
     {"match": [{"path": ["/slow"]}], "handle": [{"handler": "test_sleep", "millis": 1500}]},
     {"match": [{"path": ["/collect"]}], "handle": [{"handler": "test_echo", "mode": "collect"}]},
     {"match": [{"path": ["/reset-slow"]}], "handle": [{"handler": "test_sleep", "millis": 1500, "key": "h2.reset-slow"}]},
     {"match": [{"path": ["/close-slow"]}], "handle": [{"handler": "test_sleep", "millis": 1500, "key": "h2.close-slow"}]},
     {"handle": [{"handler": "static_response", "body": "ok"}]}]
    """#

    static let python: String? = {
        let candidates = [getenv("QUANTUM_H2_PYTHON").map { String(cString: $0) }, "/tmp/quantum-h2-venv/bin/python"]
        return candidates.compactMap { $0 }.first { access($0, X_OK) == 0 && runProcess($0, ["-c", "import h2"]).status == 0 }
    }()

    static func script(_ parts: [String]) -> String {
        var path = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        path.removeLast()
        return (path + parts).joined(separator: "/")
    }

    /// Runs `cases` against a fresh server, then `after` while it still runs.
    private func run(_ cases: [String], after: () async throws -> Void = {}) async throws {
        guard let python = Self.python else { throw XCTSkip("Python with h2 not found (scripts/deps.sh makes /tmp/quantum-h2-venv)") }
        try await withServer(routes: Self.routes, serverFields: HTTP2Tests.h2c, registry: coreTestRegistry()) { server in
            let r = runProcess(python, [Self.script(["Support", "h2_frames.py"]), "--port", String(server.port)] + cases, timeout: 60)
            for line in r.output.split(separator: "\n") where line.hasPrefix("FAIL") { XCTFail(String(line)) }
            XCTAssertEqual(r.output.components(separatedBy: "PASS ").count - 1, cases.count, r.output)
            try await after()
        }
    }

    func testFlowControlWindowsAreRespected() async throws { try await run(["flow_control_windows"]) }
    func testSlowReaderDoesNotStallOtherStreams() async throws { try await run(["slow_reader_does_not_stall_others"]) }
    func testRSTStreamLeavesOtherStreamsWorking() async throws { try await run(["rst_stream_leaves_others"]) }
    func testBadHPACKIsAConnectionError() async throws { try await run(["bad_hpack_is_connection_error"]) }
    func testStreamsOverTheLimitAreRefused() async throws { try await run(["too_many_streams_refused"]) }
    func testContinuationFloodIsAnError() async throws { try await run(["continuation_flood_is_error"]) }
    func testOversizedHeadersGet431() async throws { try await run(["oversized_headers_431"]) }
    func testAnAnsweredStreamWithItsBodyOpenIsReset() async throws { try await run(["answered_stream_with_body_open_is_reset"]) }

    /// A reset stream's handler, and those of a closed connection, are cancelled: they let go of
    /// what they hold at once instead of running on for a client that is gone.
    func testHandlersOfResetStreamsAndClosedConnectionsAreCancelled() async throws {
        try await run(["reset_slow_stream", "close_with_slow_stream"]) {
            try await Task.sleep(nanoseconds: 2_000_000_000)  // past the handlers' 1.5 s, server still up
            for key in ["h2.reset-slow", "h2.close-slow"] {
                XCTAssertEqual(Board.shared.value(key + ".started"), 1, key)
                XCTAssertEqual(Board.shared.value(key + ".finished"), 0, "\(key): the handler ran to its end")
            }
        }
    }

    // RFC 9113 stream-state errors: each case runs against "/" (answered at once) and "/slow"
    // (1.5 s), with the faulty frame in the request's TCP write and after the response or 50 ms.
    func testLowerStreamIDIsAProtocolError() async throws { try await run(["lower_stream_id_is_protocol_error"]) }
    func testDataAfterRSTStreamIsStreamClosed() async throws { try await run(["data_after_rst_is_stream_closed"]) }
    func testSecondHeadersWithoutEndStreamIsAProtocolError() async throws { try await run(["second_headers_without_end_stream"]) }
    func testZeroWindowUpdateOnAStreamIsAProtocolError() async throws { try await run(["zero_window_update_on_stream"]) }
    func testStreamWindowOverflowIsAFlowControlError() async throws { try await run(["stream_window_overflow"]) }
    func testDataWithInvalidPadLengthIsAProtocolError() async throws { try await run(["data_invalid_pad_length"]) }
    func testContentLengthMismatchIsAProtocolError() async throws { try await run(["content_length_mismatch"]) }

    /// Connection-level faults: the GOAWAY each calls for, and the server still answers.
    func testConnectionLevelFaults() async throws {
        try await run(["data_on_stream_zero", "headers_on_even_stream", "settings_with_bad_length", "settings_window_too_large",
                       "connection_window_overflow", "ping_is_answered", "bad_preface_is_refused"])
    }
}
