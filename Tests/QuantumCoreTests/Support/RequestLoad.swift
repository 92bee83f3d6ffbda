import Foundation
import QuantumTestSupport
import Synchronization

/// Clients sending requests on threads until stopped, counting answers and failures: the first
/// half keep their connection alive, the rest connect anew for every request. For tests that
/// change a server's config under load and expect nothing to fail.
final class RequestLoad: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let failures = Mutex<[String]>([])
    private let answered = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let clients: Int

    /// Starts `clients` clients on `port`; an answer counts when it is a 200 whose body starts with `prefix`.
    init(port: Int, clients: Int, prefix: String) {
        self.clients = clients
        for index in 0..<clients {
            Thread { [self] in
                defer { finished.add(1, ordering: .relaxed) }
                var client: RawClient?
                while !stopping.load(ordering: .relaxed) {
                    do {
                        if client == nil || index >= clients / 2 { client = try RawClient(port: port) }
                        client!.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                        guard let response = client!.readResponse(), response.status == 200, response.bodyText.hasPrefix(prefix) else {
                            failures.withLock { $0.append("client \(index): no good answer") }
                            client = nil
                            continue
                        }
                        answered.add(1, ordering: .relaxed)
                    } catch {
                        failures.withLock { $0.append("client \(index): \(error)") }
                        client = nil
                    }
                }
            }.start()
        }
    }

    /// Stops the clients and waits for them; returns the answers counted and the failures seen.
    func stop() async -> (answered: Int, failures: [String]) {
        stopping.store(true, ordering: .relaxed)
        while finished.load(ordering: .relaxed) < clients { try? await Task.sleep(nanoseconds: 10_000_000) }
        return (answered.load(ordering: .relaxed), failures.withLock { $0 })
    }
}
