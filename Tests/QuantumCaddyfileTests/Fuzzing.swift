import Dispatch
import Foundation
import QuantumTestSupport
import XCTest

@testable import QuantumCaddyfile

/// Random byte mutations of Caddyfiles, adapted one after another under a deadline: the adapter
/// must return (a config or an error) for every one, without crashing or hanging.
enum CaddyfileFuzzer {
    static let structural: [[UInt8]] = ["{", "}", "\"", "`", "\\", "\n", "#", " ", "<<EOF\n", "EOF", "@m", "import ", "(s)", "{$X}",
                                        "{args[0]}", "*", "/", ":", ",", "\t"].map { Array($0.utf8) }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !bytes.isEmpty: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...8, using: &rng)))
            case 2: bytes.insert(contentsOf: structural.randomElement(using: &rng)!, at: at)
            case 3 where bytes.count > 2:
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                let chunk = bytes[start..<min(bytes.count, start + Int.random(in: 1...40, using: &rng))]
                bytes.insert(contentsOf: chunk, at: at)
            default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: at)
            }
        }
        return bytes
    }

    /// CI's time box, or `CADDYFILE_FUZZ_MUTATIONS` for a longer run (`scripts/fuzz-caddyfile.sh`).
    static func count(default n: Int) -> Int {
        ProcessInfo.processInfo.environment["CADDYFILE_FUZZ_MUTATIONS"].flatMap { Int($0) } ?? n
    }

    /// Adapts `count` mutations of the seeds; fails the test on a hang (no result within `deadline` seconds).
    static func run(seeds: [String], count: Int, seed: UInt64, deadline: Double = 60, file: StaticString = #filePath, line: UInt = #line) {
        let directory = NSTemporaryDirectory() + "caddyfile-fuzz-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let done = DispatchSemaphore(value: 0)
        let current = Current()
        let seedBytes = seeds.map { Array($0.utf8) }
        DispatchQueue.global().async {
            var rng = SplitMix(state: seed)
            for _ in 0..<count {
                let input = String(decoding: mutate(seedBytes.randomElement(using: &rng)!, &rng), as: UTF8.self)
                current.set(input)
                _ = try? CaddyfileAdapter.adapt(input, file: "Caddyfile", directory: directory, environment: { _ in nil })
                _ = CaddyfileFormatter.format(input)
            }
            done.signal()
        }
        if done.wait(timeout: .now() + deadline) == .timedOut {
            XCTFail("the adapter did not finish \(count) mutations (seed \(seed)) in \(deadline)s; stuck on:\n\(current.get())", file: file, line: line)
        }
    }

    final class Current: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func set(_ t: String) { lock.lock(); text = t; lock.unlock() }
        func get() -> String { lock.lock(); defer { lock.unlock() }; return text }
    }
}

final class CaddyfileFuzzTests: XCTestCase {
    func testMutatedDocumentedCaddyfilesNeverCrashOrHang() throws {
        let seeds = try (CaddyAdaptOracleTests.cases("documented.caddyfiles") + CaddyAdaptOracleTests.cases("refused.caddyfiles")).map(\.text)
        let seed = UInt64(Date().timeIntervalSince1970)
        print("fuzzing with seed \(seed)")
        CaddyfileFuzzer.run(seeds: seeds, count: CaddyfileFuzzer.count(default: 3000), seed: seed, deadline: 600)
    }
}
