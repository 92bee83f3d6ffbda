import Foundation
import XCTest

/// What the library shows the programs built on it (issue 18 §5): no public extension on a
/// standard-library type — a handler author's `String` or `[UInt8]` must behave as everywhere
/// else (one such extension once shadowed Foundation's `replacingOccurrences`).
final class PublicSurfaceTests: XCTestCase {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    static let standardTypes: Set<String> = [
        "String", "Substring", "StringProtocol", "Character", "Array", "ArraySlice", "ContiguousArray", "Dictionary", "Set",
        "Optional", "Result", "Collection", "Sequence", "RandomAccessCollection", "RangeReplaceableCollection",
        "BidirectionalCollection", "MutableCollection", "Int", "Int8", "Int16", "Int32", "Int64", "UInt", "UInt8", "UInt16",
        "UInt32", "UInt64", "Double", "Float", "Bool", "Duration", "Range", "ClosedRange", "BinaryInteger", "FixedWidthInteger",
        "UnsafeBufferPointer", "UnsafeMutableBufferPointer", "UnsafeRawBufferPointer", "UnsafeMutableRawBufferPointer",
    ]

    func testNoPublicExtensionOnAStandardLibraryType() throws {
        let files = FileManager.default.enumerator(atPath: Self.sources.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") } ?? []
        XCTAssertGreaterThan(files.count, 50, "found the sources")
        var offenders: [String] = []
        for file in files {
            let lines = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false)
            var extended: String?  // the standard type whose top-level extension we are in
            for (number, line) in lines.enumerated() {
                if let name = extended {
                    if line.hasPrefix("}") { extended = nil; continue }
                    let code = line.trimmingCharacters(in: .whitespaces)
                    if code.hasPrefix("public ") || code.contains(" public ") && !code.hasPrefix("//") {
                        offenders.append("\(file):\(number + 1): public member in an extension of \(name)")
                    }
                    continue
                }
                let words = line.split(separator: " ")
                let start = words.first == "public" ? 1 : 0
                guard words.count > start + 1, words[start] == "extension" else { continue }
                let name = String(words[start + 1].prefix { $0.isLetter || $0.isNumber })
                guard Self.standardTypes.contains(name) else { continue }
                if start == 1 { offenders.append("\(file):\(number + 1): public extension of \(name)") }
                if !line.hasSuffix("}") { extended = name }
            }
        }
        XCTAssertEqual(offenders, [])
    }
}
