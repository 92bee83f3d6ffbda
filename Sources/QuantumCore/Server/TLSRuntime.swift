import Synchronization

/// The TLS side of a loaded config: the certificates of `apps.tls` and each TLS server's
/// handshake setup, built at load time so a bad file or field fails the load with its JSON path.
package final class TLSRuntime: Sendable {
    public let store: CertificateStore?
    /// By server name, for servers with `tls_connection_policies`.
    public let servers: [String: TLSServerContext]
    private let watcher = Mutex<Task<Void, Never>?>(nil)

    /// Automatic HTTPS's certificates (nil when no name needs one).
    let manager: CertificateManager?
    private let renewer = Mutex<Task<Void, Never>?>(nil)

    init(store: CertificateStore?, servers: [String: TLSServerContext], manager: CertificateManager? = nil) {
        self.store = store
        self.servers = servers
        self.manager = manager
    }

    /// - Parameter managed: names automatic HTTPS wants certificates for; those a loaded
    ///   certificate covers are left to it (unless the server ignores loaded certificates).
    static func build(_ config: QuantumConfig, managed: [ManagedName] = [], workingDirectory: String) throws -> TLSRuntime {
        let source = CertificateSource(config.apps.tls, workingDirectory: workingDirectory)
        var store: CertificateStore?
        var servers: [String: TLSServerContext] = [:]
        for (name, server) in (config.apps.http?.servers ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let policies = server.tlsConnectionPolicies else { continue }
            if store == nil {
                if source.isEmpty && managed.isEmpty {
                    throw ConfigError(codingPath: server.path + [NameKey("tls_connection_policies")],
                                      "TLS needs certificates: load them with apps.tls.certificates (load_files, load_pem, load_folders), or give the server host matchers so automatic HTTPS manages them")
                }
                store = try CertificateStore(source: source)
            }
            servers[name] = try TLSServerContext(policies: policies, store: store!, workingDirectory: workingDirectory,
                                                 alpn: HTTPProtocols(server.protocols).alpn,
                                                 resumption: !(config.apps.tls?.sessionTickets?.disabled ?? false))
        }
        if store == nil && !source.isEmpty { store = try CertificateStore(source: source) }
        var manager: CertificateManager?
        if let store {
            let automation = config.apps.tls?.automation
            let subjects = managed.filter { $0.ignoreLoaded || !store.hasLoadedCertificate(for: $0.name) }.map {
                CertificateManager.Subject(name: $0.name, issuer: automation?.issuer(for: $0.name) ?? IssuerConfig())
            }
            if !subjects.isEmpty { manager = CertificateManager(subjects: subjects, config: config, workingDirectory: workingDirectory) }
        }
        return TLSRuntime(store: store, servers: servers, manager: manager)
    }

    /// Loads or issues automatic HTTPS's certificates (the local CA is created on first use),
    /// then renews them in the background. Called when the config starts, not when it is
    /// validated, so `quantum validate` writes nothing.
    public func startManaging() throws {
        guard let manager, let store else { return }
        try manager.obtainAll(into: store)
        renewer.withLock { task in
            guard task == nil else { return }
            let interval = manager.renewIntervalNanos
            task = Task.detached {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: interval)
                    if Task.isCancelled { break }
                    manager.renewDue(into: store)
                }
            }
        }
    }

    /// Starts checking the certificate files every `intervalNanos`, reloading them on change.
    public func startWatching(intervalNanos: UInt64 = 1_000_000_000) {
        guard let store, !store.source.files.isEmpty || !store.source.folders.isEmpty else { return }
        watcher.withLock { task in
            guard task == nil else { return }
            task = Task.detached {
                var stamps = store.source.stamps()
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: intervalNanos)
                    if Task.isCancelled { break }
                    store.reloadIfChanged(previous: &stamps)
                }
            }
        }
    }

    public func stopWatching() {
        watcher.withLock { task in task?.cancel(); task = nil }
        renewer.withLock { task in task?.cancel(); task = nil }
    }
}
