import Foundation

/// One block of a Caddyfile: its keys (site addresses; none for the global options block) and its
/// segments, each a directive line with the block it opens.
package struct ServerBlock: Sendable {
    package var keys: [String] = []
    /// The tokens the keys were read from, for error positions.
    package var keyTokens: [Token] = []
    package var segments: [[Token]] = []
    /// Whether the block was written with braces (a braceless block can hold only one site).
    package var hasBraces = false
    /// A named route, `&(name) { ... }` (current Caddy): one segment, the name then the braced block.
    package var isNamedRoute = false
}

/// Groups a Caddyfile's tokens into server blocks, expanding snippets and imports, as Caddy's
/// parser does; no directive is interpreted here.
package struct CaddyfileParser {
    /// Parses `text` read from `file`; relative file names (and so imports) resolve against
    /// `directory` (default: the working directory).
    package static func parse(_ text: String, file: String, directory: String? = nil,
                             environment: @escaping (String) -> String? = { ProcessInfo.processInfo.environment[$0] }) throws -> [ServerBlock] {
        try parseWithWarnings(text, file: file, directory: directory, environment: environment).blocks
    }

    /// `parse`, with what to tell the user (an import glob that matched nothing).
    package static func parseWithWarnings(_ text: String, file: String, directory: String? = nil,
                                          environment: @escaping (String) -> String?) throws -> (blocks: [ServerBlock], warnings: [CaddyfileWarning]) {
        var parser = CaddyfileParser(tokens: try tokens(text, file: file, environment: environment), environment: environment,
                                     directory: directory ?? FileManager.default.currentDirectoryPath)
        let blocks = try parser.parseAll()
        return (blocks, parser.warnings)
    }

    static func tokens(_ text: String, file: String, environment: (String) -> String?) throws -> [Token] {
        do {
            return try Lexer.tokenize(EnvironmentVariables.expand(text, lookup: environment), file: file)
        } catch let error as Lexer.LexError {
            throw CaddyfileError("\(file):\(error.line) - Error during parsing: \(error.message)")
        }
    }

    private var d: Dispenser
    private let environment: (String) -> String?
    private var block = ServerBlock()
    private var atEOF = false
    private var snippets: [String: [Token]] = [:]
    private var namedRoutes: Set<String> = []
    private var warnings: [CaddyfileWarning] = []
    private var nesting = 0
    /// Who imports whom (files by absolute path, snippets by name), to refuse cycles.
    private var importGraph: [String: Set<String>] = [:]
    private var importCount = 0

    /// Limits on hostile input: block depth, imports, tokens after imports, an imported file's size.
    static let maxNesting = 100
    static let maxImports = 10_000
    static let maxTokens = 2_000_000
    static let maxImportBytes = 16 << 20

    private let directory: String

    private init(tokens: [Token], environment: @escaping (String) -> String?, directory: String) {
        d = Dispenser(tokens)
        self.environment = environment
        self.directory = directory
    }

    private mutating func parseAll() throws -> [ServerBlock] {
        var blocks: [ServerBlock] = []
        while d.next() {
            block = ServerBlock()
            try begin()
            if !block.keys.isEmpty || !block.segments.isEmpty { blocks.append(block) }
            if nesting > 0 { throw d.eofErr() }
        }
        return blocks
    }

    private mutating func begin() throws {
        if d.tokens.isEmpty { return }
        try addresses()
        if atEOF { return }
        if block.keys.count == 1, block.keys[0].hasPrefix("("), block.keys[0].hasSuffix(")") {
            let name = String(block.keys[0].dropFirst().dropLast())
            if snippets[name] != nil { throw d.err("redeclaration of previously declared snippet \(name)") }
            var tokens = try snippetTokens()
            for i in tokens.indices { tokens[i].snippetName = name }
            snippets[name] = tokens
            block.keys = []
            block.keyTokens = []
            return
        }
        if block.keys.count == 1, block.keys[0].hasPrefix("&("), block.keys[0].hasSuffix(")") {
            let name = String(block.keys[0].dropFirst(2).dropLast())
            if !namedRoutes.insert(name).inserted { throw d.err("redeclaration of previously declared named route \(name)") }
            var nameToken = block.keyTokens[0]
            nameToken.text = name
            let open = d.token
            let tokens = try snippetTokens()
            block.segments = [[nameToken, open] + tokens + [d.token]]
            block.isNamedRoute = true
            return
        }
        try blockContents()
    }

    private mutating func addresses() throws {
        var expectingAnother = false
        while true {
            var text = d.val
            if text == "import" && d.isNewLine {
                try doImport()
                continue
            }
            if text == "{" {
                if expectingAnother { throw d.err("Expected another address but had '\(text)' - check for extra comma") }
                block.hasBraces = true
                break
            }
            if text.count > 1 && text.hasSuffix("{") {
                throw d.err("Site addresses cannot end with a curly brace: '\(text)' - put a space between the token and the brace")
            }
            if !text.isEmpty {
                if text.hasSuffix(",") {
                    text.removeLast()
                    expectingAnother = true
                } else {
                    expectingAnother = false
                }
                if text.contains(",") {
                    throw d.err("Site addresses cannot contain a comma ',': '\(text)' - put a space after the comma to separate site addresses")
                }
                block.keys.append(text)
                block.keyTokens.append(d.token)
            }
            let hasNext = d.next()
            if expectingAnother && !hasNext { throw d.eofErr() }
            if !hasNext { atEOF = true; break }
            if !expectingAnother && d.isNewLine { break }
        }
    }

    private mutating func blockContents() throws {
        let opened = d.val == "{"
        if !opened { d.cursor -= 1 }
        try directives()
        if opened && d.val != "}" { throw d.syntaxErr("}") }
    }

    private mutating func directives() throws {
        while d.next() {
            if d.val == "}" { break }
            if d.val == "import" {
                try doImport()
                d.cursor -= 1
                continue
            }
            try directive()
        }
    }

    private mutating func directive() throws {
        var segment = [d.token]
        while d.next() {
            if d.val == "{" {
                nesting += 1
                if nesting > Self.maxNesting { throw d.err("blocks nested more than \(Self.maxNesting) deep") }
                if !d.isNextOnNewLine && !d.token.wasQuoted { throw d.err("Unexpected next token after '{' on same line") }
            } else if d.val == "{}" {
                if d.isNextOnNewLine && !d.token.wasQuoted { throw d.err("Unexpected '{}' at end of line") }
            } else if d.isNewLine && nesting == 0 {
                d.cursor -= 1
                break
            } else if d.val == "}" && nesting > 0 {
                nesting -= 1
            } else if d.val == "}" && nesting == 0 {
                throw d.err("Unexpected '}' because no matching opening brace")
            } else if d.val == "import" && d.isNewLine {
                try doImport()
                d.cursor -= 1
                continue
            }
            segment.append(d.token)
        }
        block.segments.append(segment)
        if nesting > 0 { throw d.eofErr() }
    }

    private mutating func snippetTokens() throws -> [Token] {
        guard d.val == "{" else { throw d.syntaxErr("{") }
        var depth = 1
        var tokens: [Token] = []
        while d.next() {
            if d.val == "}" {
                depth -= 1
                if depth == 0 { break }
            }
            if d.val == "{" {
                depth += 1
                if depth > Self.maxNesting { throw d.err("blocks nested more than \(Self.maxNesting) deep") }
            }
            tokens.append(d.token)
        }
        if depth != 0 { throw d.syntaxErr("}") }
        return tokens
    }

    /// Replaces `import PATTERN [ARGS...]` with the snippet's or files' tokens, arguments filled in
    /// (`ImportArguments`). Leaves the cursor on the first imported token (where `import` was);
    /// callers step back one so their `next()` lands on it.
    private mutating func doImport() throws {
        let importToken = d.token
        guard d.nextArg() else { throw d.argErr() }
        let pattern = d.val
        if pattern.isEmpty { throw d.err("Import requires a non-empty filepath") }
        let args = d.remainingArgs()
        let start = d.cursor - 1 - args.count
        let importer = importToken.snippetName.map { "snippet:" + $0 } ?? "file:" + absolute(importToken.file)

        var imported: [Token] = []
        if let snippet = snippets[pattern] {
            try addImportEdge(from: importer, to: "snippet:" + pattern)
            imported = snippet
        } else {
            let base = URL(fileURLWithPath: absolute(d.file)).deletingLastPathComponent().path
            let glob = pattern.hasPrefix("/") ? pattern : base + "/" + pattern
            if glob.filter({ $0 == "*" }).count > 1 || glob.filter({ $0 == "?" }).count > 1 || (glob.contains("[") && glob.contains("]")) {
                throw d.err("Glob pattern may only contain one wildcard (*), but has others: \(glob)")
            }
            let matches = Self.glob(glob)
            if matches.isEmpty {
                if !glob.contains(where: { "*?[]".contains($0) }) { throw d.err("File to import not found: \(pattern)") }
                warnings.append(CaddyfileWarning(file: d.file, line: d.line, message: "No files matching import glob pattern: \(pattern)"))
            }
            for path in matches {
                try addImportEdge(from: importer, to: "file:" + path)
                imported += try singleImport(path)
            }
        }
        importCount += 1
        if importCount > Self.maxImports { throw d.err("too many imports (more than \(Self.maxImports))") }
        let replacement = ImportArguments.substitute(args, into: imported)
        if d.tokens.count - (d.cursor + 1 - start) + replacement.count > Self.maxTokens {
            throw d.err("the Caddyfile grows past \(Self.maxTokens) tokens with its imports")
        }
        d.tokens.replaceSubrange(start...d.cursor, with: replacement)
        d.cursor = start
    }

    private mutating func addImportEdge(from: String, to: String) throws {
        if from == to || reaches(from: to, target: from) {
            throw d.err("a cycle of imports exists between \(Self.nodeName(from)) and \(Self.nodeName(to))")
        }
        importGraph[from, default: []].insert(to)
    }

    private func reaches(from start: String, target: String) -> Bool {
        var seen: Set<String> = [start], stack = [start]
        while let node = stack.popLast() {
            for next in importGraph[node] ?? [] {
                if next == target { return true }
                if seen.insert(next).inserted { stack.append(next) }
            }
        }
        return false
    }

    private static func nodeName(_ node: String) -> String {
        String(node.drop(while: { $0 != ":" }).dropFirst())
    }

    private func singleImport(_ path: String) throws -> [Token] {
        let data: [UInt8]
        do {
            data = try RegularFile.read(path, limit: Self.maxImportBytes)
        } catch let error as RegularFile.Failure {
            throw d.err("Could not import \(path): \(error.message)")
        }
        do {
            return try Self.tokens(String(decoding: data, as: UTF8.self), file: path, environment: environment)
        } catch let error as CaddyfileError {
            throw d.err("Could not read tokens while importing \(path): \(error.message)")
        }
    }

    private func absolute(_ file: String) -> String {
        file.hasPrefix("/") ? file : directory + "/" + file
    }

    /// Paths matching a pattern (a wildcard may be in any component, as Go's `filepath.Glob`),
    /// cleaned and sorted.
    static func glob(_ pattern: String) -> [String] {
        let absolute = URL(fileURLWithPath: pattern).standardizedFileURL.path
        var candidates = [""]
        for component in absolute.split(separator: "/").map(String.init) {
            var next: [String] = []
            for base in candidates {
                let directory = base.isEmpty ? "/" : base
                if component.contains(where: { "*?[]".contains($0) }) {
                    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
                    for entry in entries.sorted() where fnmatch(component, entry, FNM_PERIOD) == 0 { next.append(base + "/" + entry) }
                } else {
                    next.append(base + "/" + component)
                }
            }
            candidates = next
        }
        return candidates.filter { FileManager.default.fileExists(atPath: $0) }
    }
}
