import Foundation
import XCTest

/// `browse`: directory listings as HTML (escaped, sortable by query) and, for
/// `Accept: application/json`, Caddy's JSON array; hidden entries never listed.
final class BrowseTests: FileServerTestCase {
    override func setUp() async throws {
        try await super.setUp()
        try tree.file("files/small.txt", "1")
        try tree.file("files/medium.css", String(repeating: "m", count: 300))
        try tree.file("files/Large.bin", bytes: [UInt8](repeating: 7, count: 5000))
        try tree.file("files/<a&b>.txt", "escape me")
        try tree.file("files/with space.txt", "spaced")
        try tree.file("files/sub/inner.txt", "inner")
        try tree.file("files/.secret", "hidden")
        try tree.symlink("files/link.txt", to: "small.txt")
        tree.touch("files/small.txt", epochSeconds: 1_600_000_000)
        tree.touch("files/medium.css", epochSeconds: 1_650_000_000)
        tree.touch("files/Large.bin", epochSeconds: 1_620_000_000)
    }

    func names(inHTML html: String) -> [String] {
        // Each entry is one <a href="./..."> in the table; "../" is the way up.
        html.components(separatedBy: "<a href=\"./").dropFirst().compactMap { $0.components(separatedBy: "\"").first }
    }

    func testHTMLListing() async throws {
        try await serve(#""browse": {}, "hide": [".secret"]"#)
        let r = get("/files/")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertTrue(r.text.contains("<title>Index of /files/</title>"), r.text)
        for href in ["small.txt", "medium.css", "Large.bin", "with%20space.txt", "sub/", "link.txt"] {
            XCTAssertTrue(r.text.contains("href=\"./\(href)\""), "no link to \(href)")
        }
        XCTAssertTrue(r.text.contains("href=\"../\""), "a way up")
        XCTAssertFalse(r.text.contains(".secret"), "hidden entries are not listed")
        // Everything is in the HTML; the script only adds the filter box and local times.
        XCTAssertTrue(r.text.contains("<div class=\"tools\" id=\"tools\" hidden>"), "no filter box without scripts")
        XCTAssertTrue(r.text.contains("<time datetime=\""), "times a script can make local")
        XCTAssertTrue(r.text.contains("<use href=\"#i-folder\"/>") && r.text.contains("<symbol id=\"i-file\""), "SVG icons")
        XCTAssertFalse(r.text.unicodeScalars.contains { $0.properties.isEmojiPresentation }, "no emoji (boxes where no emoji font is installed)")
        XCTAssertFalse(r.text.contains("http://") || r.text.contains("https://"), "nothing loaded from elsewhere")
        XCTAssertTrue(r.text.contains("<nav class=\"crumbs\""), "breadcrumbs")
    }

    func testNamesAreEscaped() async throws {
        try await serve(#""browse": {}"#)
        let html = get("/files/").text
        XCTAssertFalse(html.contains("<a&b>"), "raw name in the page")
        XCTAssertTrue(html.contains("&lt;a&amp;b&gt;.txt"), "escaped text")
        XCTAssertTrue(html.contains("href=\"./%3Ca&amp;b%3E.txt\""), "escaped link")
        // And the link works.
        XCTAssertEqual(get("/files/%3Ca&b%3E.txt").text, "escape me")
    }

    func testFolderNameInTheTitleIsEscaped() async throws {
        try tree.file("<b>&co/x.txt", "x")
        try await serve(#""browse": {}"#)
        let html = get("/%3Cb%3E&co/").text
        XCTAssertTrue(html.contains("<title>Index of /&lt;b&gt;&amp;co/</title>"), html)
        XCTAssertFalse(html.contains("<b>&co"))
    }

    func testAwkwardNamesStayValidJSONAndHTML() async throws {
        let names = ["quote\"d.txt", "back\\slash.txt", "new\nline.txt", "tab\tbed.txt", "ünï©ødé.txt"]
        for name in names { try tree.file("odd/" + name, "x") }
        try await serve(#""browse": {}"#)
        let r = get("/odd/", ["-H", "Accept: application/json"])
        let array = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]], r.text)
        XCTAssertEqual(Set(array.compactMap { $0["name"] as? String }), Set(names))
        for item in array {
            // Every url leads back to its file.
            let url = try XCTUnwrap(item["url"] as? String)
            XCTAssertTrue(url.hasPrefix("./"))
            XCTAssertEqual(get("/odd/" + url.dropFirst(2)).text, "x", url)
        }
        let html = get("/odd/").text
        XCTAssertFalse(html.contains("quote\"d"), "a raw quote could end an attribute")
        XCTAssertTrue(html.contains("quote&quot;d.txt"))
    }

    func testDefaultOrderIsFoldersFirstThenNameIgnoringCase() async throws {
        try await serve(#""browse": {}"#)
        XCTAssertEqual(names(inHTML: get("/files/").text),
                       ["sub/", ".secret", "%3Ca&amp;b%3E.txt", "Large.bin", "link.txt", "medium.css", "small.txt", "with%20space.txt"])
    }

    func testSortBySizeDescending() async throws {
        try await serve(#""browse": {}, "hide": [".secret", "<a&b>.txt", "with space.txt"]"#)
        let order = names(inHTML: get("/files/?sort=size&order=desc").text)
        // Largest first; the two 1-byte entries (the file and the link to it) last, by name.
        XCTAssertEqual(Array(order.filter { !$0.hasSuffix("/") }), ["Large.bin", "medium.css", "small.txt", "link.txt"])
        let ascending = names(inHTML: get("/files/?sort=size&order=asc").text)
        XCTAssertEqual(ascending, ["sub/", "link.txt", "small.txt", "medium.css", "Large.bin"])
        // As in Caddy, folders count as smaller than any file (their own size is the file system's business).
        XCTAssertEqual(order.last, "sub/")
    }

    func testSortByTimeAndByName() async throws {
        try await serve(#""browse": {}, "hide": [".secret", "<a&b>.txt", "with space.txt", "sub", "link.txt"]"#)
        XCTAssertEqual(names(inHTML: get("/files/?sort=time&order=asc").text), ["small.txt", "Large.bin", "medium.css"])
        XCTAssertEqual(names(inHTML: get("/files/?sort=name&order=desc").text), ["small.txt", "medium.css", "Large.bin"])
    }

    func testJSONListing() async throws {
        try await serve(#""browse": {}, "hide": [".secret"]"#)
        let r = get("/files/", ["-H", "Accept: application/json"])
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Content-Type"), "application/json")
        let array = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]], r.text)
        var byName: [String: [String: Any]] = [:]
        for item in array {
            XCTAssertEqual(Set(item.keys), ["name", "size", "url", "mod_time", "mode", "is_dir", "is_symlink"])
            byName[item["name"] as? String ?? "?"] = item
        }
        XCTAssertEqual(Set(byName.keys), ["small.txt", "medium.css", "Large.bin", "<a&b>.txt", "with space.txt", "sub/", "link.txt"])

        let large = try XCTUnwrap(byName["Large.bin"])
        XCTAssertEqual(large["size"] as? Int, 5000)
        XCTAssertEqual(large["url"] as? String, "./Large.bin")
        XCTAssertEqual(large["is_dir"] as? Bool, false)
        XCTAssertEqual(large["is_symlink"] as? Bool, false)
        XCTAssertEqual(large["mode"] as? Int, Int(tree.status("files/Large.bin").st_mode & 0o777))
        XCTAssertEqual(large["mod_time"] as? String, "2021-05-03T00:00:00Z")

        let sub = try XCTUnwrap(byName["sub/"])
        XCTAssertEqual(sub["is_dir"] as? Bool, true)
        XCTAssertEqual(sub["url"] as? String, "./sub/")
        XCTAssertEqual((sub["mode"] as? Int ?? 0) & (1 << 31), 1 << 31, "Go's ModeDir bit")

        let link = try XCTUnwrap(byName["link.txt"])
        XCTAssertEqual(link["is_symlink"] as? Bool, true)
        XCTAssertEqual(link["size"] as? Int, 1, "the size of what it points to")

        XCTAssertEqual(byName["<a&b>.txt"]?["url"] as? String, "./%3Ca&b%3E.txt")
        XCTAssertEqual(byName["with space.txt"]?["url"] as? String, "./with%20space.txt")
    }

    func testJSONSortsToo() async throws {
        try await serve(#""browse": {}, "hide": [".secret", "sub", "link.txt", "<a&b>.txt", "with space.txt"]"#)
        let r = get("/files/?sort=size&order=asc", ["-H", "Accept: application/json"])
        let array = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]])
        XCTAssertEqual(array.compactMap { $0["name"] as? String }, ["small.txt", "medium.css", "Large.bin"])
    }

    func testEmptyDirectory() async throws {
        try tree.directory("void")
        try await serve(#""browse": {}"#)
        XCTAssertEqual(get("/void/", ["-H", "Accept: application/json"]).text, "[]")
        XCTAssertEqual(get("/void/").status, 200)
    }

    func testIndexFileWinsOverTheListing() async throws {
        try tree.file("files/sub/index.html", "sub index")
        try await serve(#""browse": {}"#)
        XCTAssertEqual(get("/files/sub/").text, "sub index")
    }

    func testListingOnlyForGetAndHead() async throws {
        try await serve(#""browse": {}"#)
        XCTAssertEqual(head("/files/").status, 200)
        let post = get("/files/", ["-X", "POST"])
        XCTAssertEqual(post.status, 405)
        XCTAssertEqual(post.header("Allow"), "GET, HEAD")
    }

    func testFileLimit() async throws {
        try await serve(#""browse": {"file_limit": 2}, "hide": [".secret"]"#)
        let array = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(get("/files/", ["-H", "Accept: application/json"]).body)) as? [Any])
        XCTAssertEqual(array.count, 2)
    }

    func testRootListing() async throws {
        try await serve(#""browse": {}"#)
        let html = get("/").text
        XCTAssertTrue(html.contains("<title>Index of /</title>"))
        XCTAssertTrue(html.contains("href=\"./files/\""))
        XCTAssertFalse(html.contains("href=\"../\""), "no way up from the root")
    }
}
