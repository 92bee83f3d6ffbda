import Foundation
import XCTest

/// What the library shows the programs built on it (issue 18 §5): a small documented API for
/// handler authors (`import Quantum`: QuantumCore and Quantum), everything Quantum's own targets
/// share `package`; no public extension on a standard-library type — a handler author's `String`
/// or `[UInt8]` must behave as everywhere else (one such extension once shadowed Foundation's
/// `replacingOccurrences`).
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

    /// The declarations a program importing Quantum sees: public types of QuantumCore and
    /// Quantum, and the public members of those types and of extensions of them.
    private func publicDeclarations() throws -> (types: Set<String>, declarations: [(place: String, line: String, documented: Bool)]) {
        let kinds = ["class", "struct", "enum", "protocol", "actor", "typealias", "extension", "func", "let", "var", "init"]
        func declaration(_ line: Substring) -> (access: String, kind: String, name: String)? {
            var words = line.split(separator: " ").drop { $0.hasPrefix("@") }
            var access = "internal"
            if let first = words.first, ["public", "package", "open", "internal", "private", "fileprivate"].contains(first) {
                access = String(first)
                words = words.dropFirst()
            }
            words = words.drop { ["final", "static", "nonisolated", "indirect", "mutating", "override"].contains($0) }
            guard let kind = words.first, kinds.contains(String(kind)) || kind.hasPrefix("init(") || kind.hasPrefix("init<") else { return nil }
            let name = words.dropFirst().first.map { String($0.prefix { $0.isLetter || $0.isNumber || $0 == "_" }) } ?? ""
            return (access, kind.hasPrefix("init") ? "init" : String(kind), name)
        }
        var files: [(String, [Substring])] = []
        for folder in ["QuantumCore", "Quantum"] {
            let root = Self.sources.appendingPathComponent(folder)
            for file in FileManager.default.enumerator(atPath: root.path)?.compactMap({ $0 as? String }) ?? [] where file.hasSuffix(".swift") {
                let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                files.append((folder + "/" + file, text.split(separator: "\n", omittingEmptySubsequences: false)))
            }
        }
        var types = Set<String>()
        for (_, lines) in files {
            for line in lines where !line.hasPrefix(" ") {
                if let d = declaration(line), d.access == "public", !["extension", "func", "let", "var", "init"].contains(d.kind) { types.insert(d.name) }
            }
        }
        var found: [(String, String, Bool)] = []
        for (file, lines) in files {
            var enclosing: (access: String, kind: String, name: String)?
            for (index, line) in lines.enumerated() {
                if !line.hasPrefix(" "), let d = declaration(line) { enclosing = d }
                let code = line.drop { $0 == " " }
                guard let d = declaration(code), d.access == "public", d.kind != "extension" else { continue }
                if line.hasPrefix(" ") {
                    guard let outer = enclosing else { continue }
                    let visible = outer.kind == "extension" ? types.contains(outer.name) : outer.access == "public"
                    guard visible else { continue }
                }
                var above = index - 1
                while above >= 0, lines[above].drop(while: { $0 == " " }).hasPrefix("@") { above -= 1 }
                let documented = above >= 0 && lines[above].drop(while: { $0 == " " }).hasPrefix("///")
                found.append(("\(file):\(index + 1)", String(code.prefix(90)), documented))
            }
        }
        return (types, found)
    }

    func testTheHandlerAuthorsAPIIsSmall() throws {
        let (types, _) = try publicDeclarations()
        XCTAssertGreaterThan(types.count, 30, "found the public types")
        XCTAssertLessThanOrEqual(types.count, 65, "public types: \(types.sorted())")
        for internalMachinery in ["ServerRuntime", "HTTPListenerSet", "HTTP1Decoder", "FieldBlock", "EventLoop", "App"] {
            XCTAssertFalse(types.contains(internalMachinery), "\(internalMachinery) is for Quantum's own targets (package)")
        }
    }

    /// Conformance witnesses (`==`, `description`, `init(from:)`...) say what their protocol says.
    private static let witnesses = ["static func ==", "var description", "init(from decoder", "func hash(into", "func makeIterator", "func makeAsyncIterator", "var debugDescription"]

    func testEveryPublicDeclarationIsDocumented() throws {
        let (_, declarations) = try publicDeclarations()
        XCTAssertGreaterThan(declarations.count, 100, "found the public declarations")
        let undocumented = declarations.filter { d in !d.documented && !Self.witnesses.contains { d.line.contains($0) } }
        XCTAssertEqual(undocumented.map { "\($0.place): \($0.line)" }, [], "every public declaration says why it is there")
    }
}
