import Quantum
import XCTest

/// `test_upgrade_sink`: switches any request to a raw byte stream ("Upgrade: sink"), reads its
/// first bytes, then reads nothing more for `hold` seconds: a peer that goes on sending must be
/// held back by TCP, not buffered by the server.
struct UpgradeSink: HandlerModule {
    static let moduleID = "http.handlers.test_upgrade_sink"
    var hold = 3.0

    enum CodingKeys: String, CodingKey, CaseIterable { case hold }

    init(from decoder: any Decoder) throws {
        hold = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Double.self, forKey: .hold) ?? 3
    }

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        var response = Response(status: 101)
        response.headers.set("Upgrade", "sink")
        response.headers.set("Connection", "Upgrade")
        let hold = hold
        response.upgrade = Upgrade { connection in
            _ = try await connection.read()
            try await Task.sleep(for: .seconds(hold))
        }
        return response
    }
}
