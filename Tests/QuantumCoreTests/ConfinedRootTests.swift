import Glibc
@testable import QuantumCore
import QuantumTestSupport
import XCTest

/// `ConfinedRoot` resolves paths beneath its root (each test runs through openat2 and through
/// the component walk): links that stay inside are followed, links and `..` that lead out are
/// not found.
final class ConfinedRootTests: XCTestCase {
    var base = ""
    var root: String { base + "/root" }

    override func setUpWithError() throws {
        var template = Array("/tmp/quantum-confined-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        base = String(cString: made)
        for dir in ["root", "root/docs", "root/docs/deep", "outside", "outside/sub"] { mkdir(base + "/" + dir, 0o755) }
        write("root/docs/a.txt", "inside")
        write("outside/secret.txt", "secret")
        write("outside/sub/more.txt", "more")
        link("root/in-rel", "docs")
        link("root/docs/deep/up", "../a.txt")
        link("root/in-abs", root + "/docs/a.txt")
        link("root/out-rel", "../outside")
        link("root/out-abs", base + "/outside")
        link("root/out-file", "../outside/secret.txt")
        link("root/docs/sneaky", "../../outside/secret.txt")
        link("root/loop-a", "loop-b")
        link("root/loop-b", "loop-a")
        link("root/to-root", "..")  // the root's parent
    }

    override func tearDown() {
        ConfinedRoot.forceWalk.store(false, ordering: .relaxed)
        _ = runProcess("/bin/rm", ["-rf", base])
    }

    /// Runs `body` through openat2, then through the component walk (kernels without it).
    private func bothWays(_ body: () throws -> Void) throws {
        defer { ConfinedRoot.forceWalk.store(false, ordering: .relaxed) }
        for walk in [false, true] {
            ConfinedRoot.forceWalk.store(walk, ordering: .relaxed)
            try body()
        }
    }

    private func write(_ relative: String, _ text: String) {
        let fd = open(base + "/" + relative, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    private func link(_ relative: String, _ target: String) { symlink(target, base + "/" + relative) }

    private func read(_ relative: String) throws -> String {
        let confined = try ConfinedRoot(root)
        let fd = try confined.open(relative, O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = Glibc.read(fd, &buffer, buffer.count)
        return String(decoding: buffer[..<max(n, 0)], as: UTF8.self)
    }

    private func errorCode(_ relative: String, _ flags: Int32 = O_RDONLY) -> Int32? {
        do {
            let fd = try ConfinedRoot(root).open(relative, flags)
            close(fd)
            return nil
        } catch {
            return error.code
        }
    }

    func testLinksThatStayInsideAreFollowed() throws {
        try bothWays {
            XCTAssertEqual(try read("docs/a.txt"), "inside")
            XCTAssertEqual(try read("in-rel/a.txt"), "inside")
            XCTAssertEqual(try read("docs/deep/up"), "inside")
            XCTAssertEqual(try read("in-abs"), "inside", "an absolute link pointing inside the root")
            XCTAssertEqual(try read("docs/deep/../a.txt"), "inside")
            XCTAssertEqual(try read("/docs/./a.txt"), "inside")
        }
    }

    func testLinksAndDotsThatLeadOutAreNotFound() throws {
        try bothWays {
            for path in ["out-rel/secret.txt", "out-rel/sub/more.txt", "out-abs/secret.txt", "out-file", "docs/sneaky",
                         "../outside/secret.txt", "docs/../../outside/secret.txt", "to-root/outside/secret.txt", "out-rel", "out-abs"] {
                XCTAssertEqual(errorCode(path), ENOENT, path)
            }
        }
    }

    func testLinkLoopsEnd() throws {
        try bothWays {
            XCTAssertEqual(errorCode("loop-a"), ELOOP)
        }
    }

    func testNoFollowRefusesALinkAsTheLastComponent() throws {
        try bothWays {
            XCTAssertEqual(errorCode("in-abs", O_RDONLY | O_NOFOLLOW), ELOOP)
            XCTAssertEqual(try read("in-rel/a.txt"), "inside", "a link in the middle is still followed")
        }
    }

    func testStatusOfTheEntryOrItsTarget() throws {
        try bothWays {
            let confined = try ConfinedRoot(root)
            XCTAssertEqual(try confined.status("in-rel", followLast: false).st_mode & S_IFMT, S_IFLNK)
            XCTAssertEqual(try confined.status("in-rel", followLast: true).st_mode & S_IFMT, S_IFDIR)
            XCTAssertEqual(try confined.status("", followLast: false).st_mode & S_IFMT, S_IFDIR)
            XCTAssertThrowsError(try confined.status("out-rel/secret.txt", followLast: false))
            XCTAssertThrowsError(try confined.status("out-rel", followLast: true))
        }
    }

    func testParentIsOpenedBeneathTheRoot() throws {
        try bothWays {
            let confined = try ConfinedRoot(root)
            let (dir, name) = try confined.parent(of: "in-rel/new.txt")
            defer { close(dir) }
            XCTAssertEqual(name, "new.txt")
            let fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            XCTAssertGreaterThanOrEqual(fd, 0)
            close(fd)
            XCTAssertEqual(access(root + "/docs/new.txt", F_OK), 0, "created through the inside link")
            unlink(root + "/docs/new.txt")
            XCTAssertThrowsError(try confined.parent(of: "out-rel/x.txt"))
            XCTAssertThrowsError(try confined.parent(of: ".."))
        }
    }

    func testCreatingThroughAnEscapingLinkFails() throws {
        try bothWays {
            XCTAssertEqual(errorCode("out-rel/planted.txt", O_WRONLY | O_CREAT), ENOENT)
            XCTAssertNotEqual(access(base + "/outside/planted.txt", F_OK), 0)
        }
    }

    func testEntriesOfADirectory() throws {
        try bothWays {
            let confined = try ConfinedRoot(root)
            XCTAssertEqual(confined.entries(of: "in-rel")?.sorted(), ["a.txt", "deep", "sneaky"])
            XCTAssertNil(confined.entries(of: "out-rel"))
        }
    }
}
