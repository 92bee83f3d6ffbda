import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// A temporary directory tree for one test: `root/` is what the file server serves,
/// `outside/` sits next to it and holds a canary that must never appear in a response.
final class SiteTree {
    static let canary = "QUANTUM-CANARY-OUTSIDE-THE-ROOT-5d1e"

    let base: String
    var root: String { base + "/root" }
    var outside: String { base + "/outside" }

    init() throws {
        var template = Array("/tmp/quantum-files-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        base = String(cString: made)
        try FileManager.default.createDirectory(atPath: base + "/root", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/outside", withIntermediateDirectories: true)
        try write(base + "/outside/secret.txt", Array((Self.canary + "\n").utf8))
    }

    /// Writes a file under the root (parents created); returns its absolute path.
    @discardableResult
    func file(_ relative: String, _ text: String) throws -> String {
        try file(relative, bytes: Array(text.utf8))
    }

    @discardableResult
    func file(_ relative: String, bytes: [UInt8]) throws -> String {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try write(path, bytes)
        return path
    }

    func directory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/" + relative, withIntermediateDirectories: true)
    }

    /// A symbolic link at `relative` (under the root) whose content is `target`, verbatim.
    func symlink(_ relative: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: root + "/" + relative, withDestinationPath: target)
    }

    func remove() {
        _ = runProcess("chmod", ["-R", "u+rwx", base])
        try? FileManager.default.removeItem(atPath: base)
    }

    private func write(_ path: String, _ bytes: [UInt8]) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    // MARK: What the server should say about a file, computed here from stat(2)

    func status(_ relative: String) -> stat {
        var st = stat()
        XCTAssertEqual(stat(root + "/" + relative, &st), 0, "stat \(relative)")
        return st
    }

    func size(_ relative: String) -> Int { Int(status(relative).st_size) }

    func bytes(_ relative: String) -> [UInt8] {
        (try? Array(Data(contentsOf: URL(fileURLWithPath: root + "/" + relative)))) ?? []
    }

    /// Caddy's ETag: `"` + mtime in Unix nanoseconds, base 36 + size, base 36 + `"`.
    func etag(_ relative: String) -> String {
        let st = status(relative)
        let nanos = Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec)
        return "\"" + String(nanos, radix: 36) + String(Int(st.st_size), radix: 36) + "\""
    }

    /// The IMF-fixdate of the file's mtime (what `Last-Modified` must say).
    func lastModified(_ relative: String) -> String { Self.httpDate(Int(status(relative).st_mtim.tv_sec)) }

    /// Sets a file's mtime (whole seconds).
    func touch(_ relative: String, epochSeconds: Int) {
        var times = [timespec(tv_sec: epochSeconds, tv_nsec: 0), timespec(tv_sec: epochSeconds, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, root + "/" + relative, &times, 0), 0)
    }

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), formatted with strftime in the C locale.
    static func httpDate(_ epochSeconds: Int) -> String {
        var t = time_t(epochSeconds)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%a, %d %b %Y %H:%M:%S GMT", &tm)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One response as curl saw it: status, headers (last header block) and the exact body bytes.
struct CurlResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    func values(_ name: String) -> [String] { headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value) }
    func has(_ name: String) -> Bool { header(name) != nil }
}

/// Base class: a fresh `SiteTree` per test and a file server started on demand.
class FileServerTestCase: XCTestCase {
    var tree: SiteTree!
    var server: TestServer?

    override func setUp() async throws {
        try await super.setUp()
        tree = try SiteTree()
    }

    override func tearDown() async throws {
        await server?.stop()
        server = nil
        tree?.remove()
        try await super.tearDown()
    }

    var port: Int { server!.port }

    /// Starts a server whose only route is `file_server` on the tree's root, plus `fields`
    /// (JSON object members, e.g. `"browse": {}`), then `after` (more routes, JSON objects).
    func serve(_ fields: String = "", after: [String] = [], errors: String? = nil) async throws {
        let extra = fields.isEmpty ? "" : ", " + fields
        let handler = #"{"handler": "file_server", "root": \#(Self.jsonString(tree.root))\#(extra)}"#
        let routes = "[" + ([#"{"handle": [\#(handler)]}"#] + after).joined(separator: ", ") + "]"
        server = try await TestServer.start(routes: routes, errors: errors)
    }

    func get(_ path: String, _ options: [String] = []) -> CurlResponse { Self.curl(port, path, options) }
    func head(_ path: String, _ options: [String] = []) -> CurlResponse { Self.curl(port, path, ["-I"] + options) }

    /// Whether a command-line tool is on PATH.
    static func haveTool(_ name: String) -> Bool { runProcess("sh", ["-c", "command -v \(name)"]).status == 0 }
}

extension FileServerTestCase {
    /// Runs curl against 127.0.0.1:`port` with the path sent exactly as written (`--path-as-is`).
    /// `options` go before the URL, e.g. `["-H", "Range: bytes=0-9"]` or `["-X", "POST"]`; use
    /// `["-I"]` for HEAD (the body is then empty).
    static func curl(_ port: Int, _ path: String, _ options: [String] = []) -> CurlResponse {
        let dir = NSTemporaryDirectory() + "quantum-curl-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let headerFile = dir + "/headers", bodyFile = dir + "/body"
        let isHead = options.contains("-I")
        let args = ["-s", "--path-as-is", "--max-time", "20", "-D", headerFile, "-o", isHead ? "/dev/null" : bodyFile,
                    "-w", "%{http_code}"] + options + ["http://127.0.0.1:\(port)\(path)"]
        let result = runProcess("curl", args, timeout: 30)
        let headText = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        // The last header block (after any 1xx), one field per line.
        let blocks = headText.components(separatedBy: "\r\n\r\n").filter { $0.hasPrefix("HTTP/") }
        var headers: [(String, String)] = []
        for line in (blocks.last ?? "").components(separatedBy: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let body = (try? Array(Data(contentsOf: URL(fileURLWithPath: bodyFile)))) ?? []
        return CurlResponse(status: Int(result.output) ?? -1, headers: headers, body: isHead ? [] : body)
    }

    /// A JSON string literal.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
