// swift-tools-version: 6.1
import PackageDescription

/// Quantum: a Caddy-compatible web server framework. No Swift package dependencies — only the
/// toolchain and Debian's C libraries (see docs/architecture.md).
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "Quantum",
    products: [
        .library(name: "QuantumCore", targets: ["QuantumCore"]),
        .library(name: "QuantumMatchers", targets: ["QuantumMatchers"]),
        .library(name: "QuantumHandlers", targets: ["QuantumHandlers"]),
        .library(name: "QuantumStaticFiles", targets: ["QuantumStaticFiles"]),
        .library(name: "QuantumReverseProxy", targets: ["QuantumReverseProxy"]),
        .library(name: "QuantumFileSync", targets: ["QuantumFileSync"]),
        .library(name: "QuantumCaddyfile", targets: ["QuantumCaddyfile"]),
        .library(name: "Quantum", targets: ["Quantum"]),
        .executable(name: "quantum", targets: ["quantum"]),
    ],
    targets: [
        // libcrypt (libxcrypt, from libc6-dev) for bcrypt: basic auth's password hashes.
        .target(name: "CQuantumLinux", path: "Sources/CQuantumLinux", linkerSettings: [.linkedLibrary("crypt")]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CNGHTTP2", path: "Sources/CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .target(name: "QuantumCore", dependencies: ["CQuantumLinux", "CZlib", "COpenSSL", "CNGHTTP2"], swiftSettings: strict),
        .target(name: "QuantumMatchers", dependencies: ["QuantumCore"], path: "Sources/Matchers", swiftSettings: strict),
        .target(name: "QuantumHandlers", dependencies: ["QuantumCore"], path: "Sources/Handlers/Standard", swiftSettings: strict),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CBrotli", path: "Sources/CBrotli", pkgConfig: "libbrotlienc", providers: [.apt(["libbrotli-dev"])]),
        .target(name: "QuantumStaticFiles", dependencies: ["QuantumCore", "CZlib", "CZstd", "CBrotli"],
                path: "Sources/Handlers/StaticFiles", swiftSettings: strict),
        .target(name: "QuantumReverseProxy", dependencies: ["QuantumCore", "QuantumHandlers"],
                path: "Sources/Handlers/ReverseProxy", swiftSettings: strict),
        .target(name: "QuantumFileSync", dependencies: ["QuantumCore", "QuantumStaticFiles"], path: "Sources/Handlers/FileSync", swiftSettings: strict),
        .target(name: "QuantumCaddyfile", dependencies: ["QuantumCore"], path: "Sources/Caddyfile", swiftSettings: strict),
        .target(name: "Quantum", dependencies: ["CQuantumLinux", "QuantumCore", "QuantumCaddyfile", "QuantumMatchers", "QuantumHandlers", "QuantumStaticFiles", "QuantumReverseProxy",
                                                "QuantumFileSync"],
                swiftSettings: strict),
        .executableTarget(name: "quantum", dependencies: ["Quantum"], swiftSettings: strict),
        .target(name: "QuantumTestSupport", dependencies: ["Quantum"], path: "Tests/QuantumTestSupport", swiftSettings: strict),
        .testTarget(name: "QuantumCoreTests", dependencies: ["QuantumCore", "QuantumTestSupport"],
                    exclude: ["Support/h1_probe.py", "Support/h2_frames.py", "Support/h2_websocket.py"], swiftSettings: strict),
        .testTarget(name: "QuantumMatchersTests", dependencies: ["QuantumMatchers", "QuantumTestSupport"], swiftSettings: strict),
        .testTarget(name: "QuantumHandlersTests", dependencies: ["QuantumHandlers", "QuantumTestSupport"], swiftSettings: strict),
        .testTarget(name: "QuantumStaticFilesTests", dependencies: ["QuantumStaticFiles", "QuantumTestSupport"], swiftSettings: strict),
        .testTarget(name: "QuantumReverseProxyTests", dependencies: ["QuantumReverseProxy", "QuantumTestSupport"], swiftSettings: strict),
        .testTarget(name: "QuantumFileSyncTests", dependencies: ["QuantumFileSync", "QuantumTestSupport"], swiftSettings: strict),
        .testTarget(name: "QuantumCaddyfileTests", dependencies: ["QuantumCaddyfile", "QuantumTestSupport"], exclude: ["Oracle"], swiftSettings: strict),
        .testTarget(name: "QuantumTests", dependencies: ["Quantum", "QuantumTestSupport"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
