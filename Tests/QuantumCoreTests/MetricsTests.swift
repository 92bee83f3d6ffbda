import Foundation
@testable import QuantumCore
import QuantumTestSupport
import XCTest

/// Prometheus metrics as Caddy 2.6.2 exposes them: the same config and requests go to Quantum
/// and to Debian's `caddy` and the `caddy_http_*` families must agree; `promtool` checks the
/// text and a real Prometheus scrapes it.
///
/// Metrics are process-wide (as Prometheus's registry is), so each test names its server
/// uniquely and reads only its own series.
final class MetricsTests: XCTestCase {
    var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "quantum-metrics-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: scratch)
        super.tearDown()
    }

    func uniqueServerName() -> String { "m" + UUID().uuidString.prefix(8).lowercased() }

    /// Routes exercising chained handlers, a subroute, an error, a fall-through and a body.
    func config(server: String, port: Int, admin: String = "", serverMetrics: Bool = true) -> String {
        #"""
        {\#(admin)"apps": {"http": {"servers": {"\#(server)": {"listen": ["127.0.0.1:\#(port)"]\#(serverMetrics ? #", "metrics": {}"# : ""),
          "routes": [
           {"match": [{"path": ["/h"]}], "handle": [{"handler": "headers", "response": {"set": {"X-A": ["1"]}}}, {"handler": "static_response", "body": "hello", "status_code": 201}]},
           {"match": [{"path": ["/s"]}], "handle": [{"handler": "subroute", "routes": [{"handle": [{"handler": "static_response", "body": "sub"}]}]}]},
           {"match": [{"path": ["/e"]}], "handle": [{"handler": "error", "status_code": 503}]},
           {"match": [{"path": ["/n"]}], "handle": [{"handler": "vars", "x": "y"}]},
           {"match": [{"path": ["/big"]}], "handle": [{"handler": "static_response", "body": "\#(String(repeating: "b", count: 5000))"}]}
          ]}}}}}
        """#
    }

    func sendRequests(_ port: Int) {
        let base = "http://127.0.0.1:\(port)"
        for path in ["/h", "/h", "/s", "/e", "/n", "/big"] {
            _ = runProcess("curl", ["-s", "-o", "/dev/null", "-X", "POST", "--data-binary", "abcdef", base + path + "?q=1"])
        }
        _ = runProcess("curl", ["-s", "-o", "/dev/null", "-X", "PUT", base + "/n"])
        _ = runProcess("curl", ["-s", "-o", "/dev/null", "-X", "FOO", base + "/n"])
        _ = runProcess("curl", ["-s", "-o", "/dev/null", "-I", base + "/big"])
    }

    /// The lines of `text` about `server`, with what depends on timing left out: duration
    /// sums and buckets (a slow machine moves them), kept: their counts, and every size.
    func comparableLines(_ text: String, server: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { line in
            guard line.contains("server=\"\(server)\"") else { return false }
            if line.contains("duration_seconds") && !line.contains("_count{") { return false }
            return true
        }.map { $0.replacingOccurrences(of: "server=\"\(server)\"", with: "server=\"S\"") }
    }

    func scrape(_ port: Int, _ path: String = "/metrics") throws -> String {
        let (status, output) = runProcess("curl", ["-s", "--max-time", "20", "http://127.0.0.1:\(port)\(path)"])
        XCTAssertEqual(status, 0, "scraping \(path) on \(port) failed")
        return output
    }

    func testFamiliesMatchCaddysForTheSameRequests() async throws {
        try XCTSkipUnless(DebianCaddy.installed, "Debian's caddy is not installed")
        let server = uniqueServerName()
        let (caddyPort, caddyAdmin) = (try freeTCPPort(), try freeTCPPort())
        let caddy = try DebianCaddy.start(config(server: server, port: caddyPort, admin: #""admin": {"listen": "127.0.0.1:\#(caddyAdmin)"}, "#),
                                          admin: caddyAdmin, scratch: scratch)
        defer { caddy.terminate(); caddy.waitUntilExit() }
        sendRequests(caddyPort)
        let expected = comparableLines(try scrape(caddyAdmin), server: server)

        let port = try freeTCPPort()
        let ours = try await TestServer.start(config(server: server, port: port))
        sendRequests(port)
        let got = comparableLines(await MetricsRegistry.shared.render(), server: server)
        await ours.stop()

        XCTAssertGreaterThan(expected.count, 100, "Caddy's answer has the families: \(expected.prefix(5))")
        let missing = expected.filter { !got.contains($0) }, extra = got.filter { !expected.contains($0) }
        XCTAssertEqual(missing, [], "lines of Caddy's that Quantum does not have")
        XCTAssertEqual(extra, [], "lines of Quantum's that Caddy does not have")
        XCTAssertEqual(got, expected, "the same lines in another order")
    }

    func testServersWithoutMetricsAreNotCounted() async throws {
        let server = uniqueServerName()
        let ours = try await TestServer.start(config(server: server, port: 0, serverMetrics: false))
        sendRequests(ours.port)
        await ours.stop()
        let text = await MetricsRegistry.shared.render()
        XCTAssertFalse(text.contains("server=\"\(server)\""))
    }

    /// Later Caddy's switch for every server; `per_host` is refused by name.
    func testTheAppLevelSwitchCountsEveryServer() async throws {
        let server = uniqueServerName()
        let json = config(server: server, port: 0, serverMetrics: false)
            .replacingOccurrences(of: #"{"http": {"servers""#, with: #"{"http": {"metrics": {}, "servers""#)
        let ours = try await TestServer.start(json)
        _ = fetch(ours.port, "/h")
        await ours.stop()
        let text = await MetricsRegistry.shared.render()
        XCTAssertTrue(text.contains(#"caddy_http_requests_total{handler="static_response",server="\#(server)"} 1"#))

        let perHost = json.replacingOccurrences(of: #""metrics": {}"#, with: #""metrics": {"per_host": true}"#)
        XCTAssertThrowsError(try ConfigLoader.load(json: perHost, registry: coreTestRegistry())) { error in
            XCTAssertTrue("\(error)".contains("apps.http.metrics.per_host"), "\(error)")
        }
    }

    /// Counts made on both loops of a server, over many connections, add up.
    func testCountsFromEveryLoopAreMerged() async throws {
        let server = uniqueServerName()
        let ours = try await TestServer.start(config(server: server, port: 0), loops: 2)
        let n = 40
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<n { group.addTask { _ = fetch(ours.port, "/h") } }
        }
        let text = await MetricsRegistry.shared.render()
        XCTAssertTrue(text.contains(#"caddy_http_requests_total{handler="headers",server="\#(server)"} \#(n)"#), text)
        XCTAssertTrue(text.contains(#"caddy_http_response_size_bytes_count{code="201",handler="static_response",method="GET",server="\#(server)"} \#(n)"#))
        await ours.stop()
        // The loops have stopped: their counts remain, and a scrape does not wait for them.
        let after = await MetricsRegistry.shared.render()
        XCTAssertTrue(after.contains(#"caddy_http_requests_total{handler="headers",server="\#(server)"} \#(n)"#))
    }

    /// A request still running counts in flight; once answered it does not.
    func testRequestsInFlightAreCounted() async throws {
        let server = uniqueServerName()
        let json = #"""
        {"apps": {"http": {"servers": {"\#(server)": {"listen": ["127.0.0.1:0"], "metrics": {},
          "routes": [{"handle": [{"handler": "test_sleep", "millis": 1500}]}]}}}}}
        """#
        let ours = try await TestServer.start(json, registry: coreTestRegistry())
        let port = ours.port
        let request = Task.detached { fetch(port, "/") }
        let gauge = #"caddy_http_requests_in_flight{handler="test_sleep",server="\#(server)"}"#
        var during = ""
        for _ in 0..<100 {
            during = await MetricsRegistry.shared.render()
            if during.contains(gauge + " 1") { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        XCTAssertTrue(during.contains(gauge + " 1"), during)
        let answer = await request.value
        XCTAssertEqual(answer, "slept")
        let after = await MetricsRegistry.shared.render()
        XCTAssertTrue(after.contains(gauge + " 0"), after)
        await ours.stop()
    }

    func testTheMetricsHandlerServesOnARoute() async throws {
        let server = uniqueServerName()
        let ours = try await TestServer.start(#"""
        {"apps": {"http": {"servers": {"\#(server)": {"listen": ["127.0.0.1:0"], "metrics": {},
          "routes": [{"match": [{"path": ["/metrics"]}], "handle": [{"handler": "metrics", "disable_openmetrics": true}]},
                     {"handle": [{"handler": "static_response", "body": "x"}]}]}}}}}
        """#)
        defer { Task { await ours.stop() } }
        _ = fetch(ours.port, "/")
        let answer = AdminAnswer.curl(port: ours.port, "GET", "/metrics", contentType: nil)
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(answer.body.contains(#"caddy_http_requests_total{handler="static_response",server="\#(server)"} 1"#), answer.body)
        XCTAssertTrue(answer.body.contains("# TYPE process_cpu_seconds_total counter"))
        XCTAssertTrue(answer.body.contains("process_open_fds "))
    }

    // MARK: - Admin

    func testAdminRequestsAndConfigLoadsAreCounted() async throws {
        let instance = try await AdminInstance.start(#"{"apps": {"http": {"servers": {}}}}"#)
        defer { Task { await instance.stop() } }
        XCTAssertEqual(instance.request("GET", "/config/").status, 200)
        XCTAssertEqual(instance.request("POST", "/load", body: #"{"apps": {"http": {"servers": {"a": {"listen": ["nonsense::"]}}}}}"#).status, 400)
        var text = instance.request("GET", "/metrics").body
        XCTAssertTrue(text.contains("caddy_config_last_reload_successful 0\n"), text)
        XCTAssertTrue(text.contains(#"caddy_admin_http_requests_total{code="400",handler="load",method="POST",path="/load"} "#), text)
        XCTAssertTrue(text.contains(#"caddy_admin_http_requests_total{code="200",handler="admin",method="GET",path="/config/"} "#), text)

        // A different config (an unchanged one is not loaded again, and leaves the gauge alone).
        XCTAssertEqual(instance.request("POST", "/load", body: #"{"apps": {"http": {"grace_period": "1s", "servers": {}}}}"#).status, 200)
        text = instance.request("GET", "/metrics").body
        XCTAssertTrue(text.contains("caddy_config_last_reload_successful 1\n"), text)
        let stamp = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("caddy_config_last_reload_success_timestamp_seconds ") })
        let seconds = try XCTUnwrap(Double(stamp.split(separator: " ")[1]))
        XCTAssertEqual(seconds, Date().timeIntervalSince1970, accuracy: 60)
        XCTAssertTrue(text.contains(#"caddy_admin_http_requests_total{code="200",handler="metrics",method="GET",path="/metrics"} "#), text)
    }

    // MARK: - Real peers

    func testPromtoolAcceptsTheText() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"), "promtool is not installed (Debian prometheus)")
        let server = uniqueServerName()
        let ours = try await TestServer.start(config(server: server, port: 0))
        sendRequests(ours.port)
        await ours.stop()
        let file = scratch + "/metrics.txt"
        try await MetricsRegistry.shared.render().write(toFile: file, atomically: true, encoding: .utf8)
        let check = runProcess("/bin/sh", ["-c", "promtool check metrics < \(file) 2>&1"])
        XCTAssertEqual(check.status, 0, check.output)
        // The check can fail: a broken sample is refused.
        try "# TYPE x counter\nx{a=\"b} 1\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(runProcess("/bin/sh", ["-c", "promtool check metrics < \(file) 2>&1"]).status, 0)
    }

    func testPrometheusScrapesAndAnswersAQuery() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus"), "prometheus is not installed (Debian prometheus)")
        let server = uniqueServerName()
        let ours = try await TestServer.start(#"""
        {"apps": {"http": {"servers": {"\#(server)": {"listen": ["127.0.0.1:0"], "metrics": {},
          "routes": [{"match": [{"path": ["/metrics"]}], "handle": [{"handler": "metrics"}]},
                     {"handle": [{"handler": "static_response", "body": "x"}]}]}}}}}
        """#)
        defer { Task { await ours.stop() } }
        for _ in 0..<3 { _ = fetch(ours.port, "/") }
        let promPort = try freeTCPPort()
        let configFile = scratch + "/prometheus.yml"
        try """
        global:
          scrape_interval: 1s
        scrape_configs:
          - job_name: quantum
            static_configs:
              - targets: ["127.0.0.1:\(ours.port)"]
        """.write(toFile: configFile, atomically: true, encoding: .utf8)
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        prometheus.arguments = ["--config.file=\(configFile)", "--storage.tsdb.path=\(scratch)/tsdb",
                                "--web.listen-address=127.0.0.1:\(promPort)"]
        prometheus.standardOutput = FileHandle.nullDevice
        prometheus.standardError = FileHandle.nullDevice
        try prometheus.run()
        defer { prometheus.terminate(); prometheus.waitUntilExit() }

        let query = "caddy_http_requests_total%7Bserver%3D%22\(server)%22%7D"
        var answer = ""
        for _ in 0..<120 {
            answer = runProcess("curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(promPort)/api/v1/query?query=\(query)"]).output
            if answer.contains("\"static_response\"") { break }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], answer)
        let result = try XCTUnwrap((json["data"] as? [String: Any])?["result"] as? [[String: Any]], answer)
        let sample = try XCTUnwrap(result.first { ($0["metric"] as? [String: String])?["handler"] == "static_response" }, answer)
        XCTAssertEqual((sample["metric"] as? [String: String])?["job"], "quantum")
        XCTAssertEqual((sample["value"] as? [Any])?.last as? String, "3")

        // Prometheus saw the target up.
        let up = runProcess("curl", ["-s", "http://127.0.0.1:\(promPort)/api/v1/query?query=up"]).output
        XCTAssertTrue(up.contains(#""value":["#) && up.contains(#","1"]"#), up)
    }

    // MARK: - Quantum's and modules' families

    func testWebSocketConnectionsAreCounted() async throws {
        let ours = try await TestServer.start(routes: #"[{"handle": [{"handler": "websocket_echo"}]}]"#)
        defer { Task { await ours.stop() } }
        let before = Self.value(of: "quantum_websocket_connections", in: await MetricsRegistry.shared.render())
        let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(ours.port)/")
        try await socket.send(text: "hi")
        _ = await socket.next()
        let during = await MetricsRegistry.shared.render()
        XCTAssertEqual(Self.value(of: "quantum_websocket_connections", in: during), before + 1)
        await socket.close()
        var after = before + 1
        for _ in 0..<100 where after != before {
            try await Task.sleep(nanoseconds: 20_000_000)
            after = Self.value(of: "quantum_websocket_connections", in: await MetricsRegistry.shared.render())
        }
        XCTAssertEqual(after, before)
    }

    func testUpstreamHealthIsExported() async throws {
        let dead = try freeTCPPort()
        let live = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "body": "up"}]}]"#)
        defer { Task { await live.stop() } }
        let proxy = try await TestServer.start(routes: #"""
        [{"match": [{"path": ["/dead"]}], "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:\#(dead)"}],
                                                     "health_checks": {"passive": {"fail_duration": "30s"}}}]},
         {"handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:\#(live.port)"}]}]}]
        """#)
        defer { Task { await proxy.stop() } }
        XCTAssertEqual(fetch(proxy.port, "/"), "up")
        _ = fetch(proxy.port, "/dead")
        let text = await MetricsRegistry.shared.render()
        XCTAssertTrue(text.contains("# TYPE caddy_reverse_proxy_upstreams_healthy gauge"), text)
        XCTAssertTrue(text.contains(#"caddy_reverse_proxy_upstreams_healthy{upstream="127.0.0.1:\#(live.port)"} 1"#), text)
        XCTAssertTrue(text.contains(#"caddy_reverse_proxy_upstreams_healthy{upstream="127.0.0.1:\#(dead)"} 0"#), text)
    }

    static func value(of name: String, in text: String) -> Int {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }) else { return -1 }
        return Int(Double(line.split(separator: " ")[1]) ?? -1)
    }

    // MARK: - Text format

    func testNumbersAreWrittenAsGoWritesThem() {
        let cases: [(Double, String)] = [
            (0, "0"), (1, "1"), (-1, "-1"), (125, "125"), (0.005, "0.005"), (2.5, "2.5"), (10, "10"),
            (20000, "20000"), (262144, "262144"), (1048576, "1.048576e+06"), (4194304, "4.194304e+06"),
            (1e6, "1e+06"), (2.7711e-05, "2.7711e-05"), (0.0001, "0.0001"), (0.00013060399999999998, "0.00013060399999999998"),
            (1.79666302354e9, "1.79666302354e+09"), (Double(UInt64.max), "1.8446744073709552e+19"), (1e-7, "1e-07"),
            (.nan, "NaN"), (.infinity, "+Inf"), (-.infinity, "-Inf"), (123456.5, "123456.5"), (1234567, "1.234567e+06"),
        ]
        for (value, text) in cases { XCTAssertEqual(PrometheusText.goFloat(value), text, "\(value)") }
    }

    func testHistogramsAreCumulativeWithLeLast() {
        // A value equal to a bound counts in that bound's bucket (`le`), one past every bound in +Inf's.
        XCTAssertEqual([1.0, 2.0, 2.0, 5.0, 0.5, 1.5].map { Histogram.bucket(of: $0, [1, 2]) }, [0, 1, 1, 2, 0, 1])
        var counts: [UInt64] = [0, 0, 0]
        for v in [1.0, 2.0, 2.0, 5.0] { counts[Histogram.bucket(of: v, [1, 2])] += 1 }
        let h = Histogram(counts: counts, sum: 10)
        let family = MetricFamily("t_seconds", .histogram, help: "A \\ test\nline.",
                                  samples: [.init([("b", "x\"y"), ("a", "1")], histogram: h)], bounds: [1, 2])
        XCTAssertEqual(PrometheusText.render([family]), """
        # HELP t_seconds A \\\\ test\\nline.
        # TYPE t_seconds histogram
        t_seconds_bucket{a="1",b="x\\"y",le="1"} 1
        t_seconds_bucket{a="1",b="x\\"y",le="2"} 3
        t_seconds_bucket{a="1",b="x\\"y",le="+Inf"} 4
        t_seconds_sum{a="1",b="x\\"y"} 10
        t_seconds_count{a="1",b="x\\"y"} 4

        """)
    }
}
