// swift-tools-version: 6.1
import PackageDescription

// A server with a handler of its own, built on Quantum's library products.
let package = Package(
    name: "CustomHandlerDemo",
    dependencies: [.package(name: "Quantum", path: "../..")],
    targets: [
        .executableTarget(name: "CustomHandlerDemo", dependencies: [.product(name: "Quantum", package: "Quantum")]),
    ],
    swiftLanguageModes: [.v6]
)
