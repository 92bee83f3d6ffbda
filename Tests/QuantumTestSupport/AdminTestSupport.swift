import Foundation
import Quantum
import XCTest

/// An in-process instance driven through its admin API, as `quantum run` starts one: a
/// `ConfigController` on its own loops with the admin endpoint on a free port.
package final class AdminInstance: @unchecked Sendable {
    package let controller: ConfigController
    package let adminPort: Int
    package let autosave: String

    /// Starts `json` (which should leave `admin.listen` unset: the endpoint gets `127.0.0.1:0`).
    package static func start(_ json: String, registry: ModuleRegistry = StandardModules.registry) async throws -> AdminInstance {
        let autosave = NSTemporaryDirectory() + "quantum-admin-\(UUID().uuidString)/autosave.json"
        let instance = Instance(group: try EventLoopGroup(loopCount: 1))
        let controller = ConfigController(
            instance: instance,
            loader: { try ConfigLoader.load(json: $0, registry: registry) },
            autosavePath: autosave, defaultAdminListen: "127.0.0.1:0", adminRoutes: registry.adminRoutes, onStop: {})
        let bytes = Array(json.utf8)
        do {
            try await controller.start(try ConfigLoader.load(json: bytes, registry: registry), json: bytes)
        } catch {
            instance.group.shutdown()
            throw error
        }
        let bound = await controller.adminPort
        let port = try XCTUnwrap(bound)
        return AdminInstance(controller: controller, adminPort: port, autosave: autosave)
    }

    private init(controller: ConfigController, adminPort: Int, autosave: String) {
        self.controller = controller
        self.adminPort = adminPort
        self.autosave = autosave
    }

    package func stop() async {
        await controller.stop()
        controller.instance.group.shutdown()
        try? FileManager.default.removeItem(atPath: (autosave as NSString).deletingLastPathComponent)
    }

    /// One admin request through curl, with the endpoint's own `Host` unless `headers` names another.
    package func request(_ method: String, _ path: String, body: String? = nil, contentType: String? = "application/json",
                 headers: [String] = []) -> AdminAnswer {
        AdminAnswer.curl(port: adminPort, method, path, body: body, contentType: contentType, headers: headers)
    }
}

/// What curl saw of one exchange.
package struct AdminAnswer {
    package var status: Int
    package var headers: [String: String]
    package var body: String

    package static func curl(port: Int, _ method: String, _ path: String, body: String? = nil, contentType: String? = "application/json",
                     headers: [String] = []) -> AdminAnswer {
        var args = ["-s", "-i", "--max-time", "20", "-X", method]
        var bodyFile: String?
        if let body {
            let file = NSTemporaryDirectory() + "admin-body-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: file, contents: Data(body.utf8))
            bodyFile = file
            args += ["--data-binary", "@" + file]
        }
        if let contentType { args += ["-H", "Content-Type: " + contentType] } else { args += ["-H", "Content-Type:"] }
        for header in headers { args += ["-H", header] }
        args.append("http://127.0.0.1:\(port)\(path)")
        let (_, output) = runProcess("curl", args)
        if let bodyFile { try? FileManager.default.removeItem(atPath: bodyFile) }
        return parse(output)
    }

    static func parse(_ output: String) -> AdminAnswer {
        guard let split = output.range(of: "\r\n\r\n") else { return AdminAnswer(status: 0, headers: [:], body: output) }
        let lines = output[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return AdminAnswer(status: status, headers: headers, body: String(output[split.upperBound...]))
    }
}

/// A body fetched from a served port (or `nil` when nothing answered).
package func fetch(_ port: Int, _ path: String = "/") -> String? {
    let (status, output) = runProcess("curl", ["-s", "--max-time", "10", "http://127.0.0.1:\(port)\(path)"])
    return status == 0 ? output : nil
}
