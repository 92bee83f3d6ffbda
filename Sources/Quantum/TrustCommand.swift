import Glibc

/// `quantum trust` / `quantum untrust`: the local CA's root in the system trust store, so
/// browsers and curl accept the internal issuer's certificates (Caddy's commands of that name).
///
/// The root lives in the data directory (`$QUANTUM_DATA_DIR`, `$XDG_DATA_HOME/quantum`,
/// `~/.local/share/quantum`), or where `--config`'s `storage` says; `trust` creates the CA when
/// none exists yet, so trusting before the first start works. Installing needs root: Debian's
/// `/usr/local/share/ca-certificates/` and `update-ca-certificates`.
struct TrustCommand {
    var name: String
    var out: @Sendable (String) -> Void
    var err: @Sendable (String) -> Void
    static let storeDirectory = "/usr/local/share/ca-certificates"

    /// The file the root is installed as (one per CA id and data directory owner).
    static func installedPath(ca: String) -> String { "\(storeDirectory)/quantum-\(ca)-root.crt" }

    func trust(ca: LocalCA, printOnly: Bool) throws -> Int32 {
        out(ca.rootCertificatePath)
        out(String(decoding: ca.rootPEM, as: UTF8.self))
        if printOnly { return 0 }
        guard geteuid() == 0 else {
            err("\(name): installing into the system trust store needs root; run `sudo \(name) trust`, or use --print and install the root yourself")
            return 1
        }
        try FileIO.makeDirectories(Self.storeDirectory, mode: 0o755)
        try FileIO.writeAtomically(ca.rootPEM, to: Self.installedPath(ca: ca.id), mode: 0o644)
        return updateStore()
    }

    func untrust(ca id: String) -> Int32 {
        let path = Self.installedPath(ca: id)
        guard FileIO.exists(path) else { err("\(name): \(path) is not installed"); return 1 }
        guard geteuid() == 0 else { err("\(name): removing \(path) needs root; run `sudo \(name) untrust`"); return 1 }
        guard unlink(path) == 0 else { err("\(name): cannot remove \(path): \(String(cString: strerror(errno)))"); return 1 }
        out("removed \(path)")
        return updateStore(fresh: true)
    }

    private func updateStore(fresh: Bool = false) -> Int32 {
        let args = fresh ? ["update-ca-certificates", "--fresh"] : ["update-ca-certificates"]
        let status = Self.run(args)
        if status != 0 { err("\(name): update-ca-certificates failed (status \(status)); is the ca-certificates package installed?") }
        return status == 0 ? 0 : 1
    }

    static func run(_ args: [String]) -> Int32 {
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, args[0], nil, nil, argv, environ) == 0 else { return 127 }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
