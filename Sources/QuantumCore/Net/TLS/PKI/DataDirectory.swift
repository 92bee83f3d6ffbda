import Glibc

/// Where Quantum keeps state that must outlive a process (the local CA, managed certificates),
/// like Caddy's data directory: `$QUANTUM_DATA_DIR`, else `$XDG_DATA_HOME/quantum`, else
/// `$HOME/.local/share/quantum`, else `./quantum-data`. A config's `storage` overrides it.
package enum DataDirectory {
    public static func resolve(_ environment: (String) -> String? = DataDirectory.environment) -> String {
        if let dir = environment("QUANTUM_DATA_DIR"), !dir.isEmpty { return dir }
        if let xdg = environment("XDG_DATA_HOME"), xdg.hasPrefix("/") { return xdg + "/quantum" }
        if let home = environment("HOME"), !home.isEmpty { return home + "/.local/share/quantum" }
        return "./quantum-data"
    }

    public static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// The storage root for CA `id`: its own `storage`, else the config's, else the default.
    public static func root(for id: String, in config: QuantumConfig, workingDirectory: String) -> String {
        let root = config.apps.pki?.certificateAuthorities[id]?.storage?.root ?? config.storage?.root ?? resolve()
        return root.hasPrefix("/") ? root : workingDirectory + "/" + root
    }
}
