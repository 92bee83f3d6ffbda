import Foundation

/// Debian's `caddy` 2.6.2, run as the oracle a test compares Quantum with.
public enum DebianCaddy {
    public static let path = "/usr/bin/caddy"
    public static var installed: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// Starts caddy on `json` (whose admin listens on `admin`), with its folders in `scratch`;
    /// returns once its admin answers. The caller terminates the process.
    public static func start(_ json: String, admin: Int, scratch: String) throws -> Process {
        let file = scratch + "/caddy-\(UUID().uuidString).json"
        try json.write(toFile: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["run", "--config", file]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = scratch
        environment["XDG_DATA_HOME"] = scratch + "/data"
        environment["XDG_CONFIG_HOME"] = scratch + "/config"
        process.environment = environment
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 where runProcess("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(admin)/config/"]).status != 0 { usleep(50_000) }
        return process
    }
}
