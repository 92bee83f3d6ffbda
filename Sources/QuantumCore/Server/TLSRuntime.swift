import Synchronization

/// The TLS side of a loaded config: the certificates of `apps.tls` and each TLS server's
/// handshake setup, built at load time so a bad file or field fails the load with its JSON path.
public final class TLSRuntime: Sendable {
    public let store: CertificateStore?
    /// By server name, for servers with `tls_connection_policies`.
    public let servers: [String: TLSServerContext]
    private let watcher = Mutex<Task<Void, Never>?>(nil)

    init(store: CertificateStore?, servers: [String: TLSServerContext]) {
        self.store = store
        self.servers = servers
    }

    static func build(_ config: QuantumConfig, workingDirectory: String) throws -> TLSRuntime {
        let source = CertificateSource(config.apps.tls, workingDirectory: workingDirectory)
        var store: CertificateStore?
        var servers: [String: TLSServerContext] = [:]
        for (name, server) in (config.apps.http?.servers ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let policies = server.tlsConnectionPolicies else { continue }
            if store == nil {
                if source.isEmpty {
                    throw ConfigError(codingPath: server.path + [NameKey("tls_connection_policies")],
                                      "TLS needs certificates: load them with apps.tls.certificates (load_files, load_pem, load_folders); automatic certificates are not supported yet")
                }
                store = try CertificateStore(source: source)
            }
            servers[name] = try TLSServerContext(policies: policies, store: store!, workingDirectory: workingDirectory,
                                                 alpn: HTTPProtocols(server.protocols).alpn,
                                                 resumption: !(config.apps.tls?.sessionTickets?.disabled ?? false))
        }
        if store == nil && !source.isEmpty { store = try CertificateStore(source: source) }
        return TLSRuntime(store: store, servers: servers)
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
    }
}
