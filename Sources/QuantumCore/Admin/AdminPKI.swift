/// `GET /pki/ca/<id>` and `/pki/ca/<id>/certificates`: a local CA's identity and certificates,
/// as Caddy's `admin.api.pki` answers them. A CA the config names is read (or made) where its
/// storage is; `local` always exists, as in Caddy, which makes it on first use.
enum AdminPKI {
    static func answer(_ request: Request, path: String, config: QuantumConfig?, workingDirectory: String) throws -> Response {
        guard request.method == "GET" else { throw AdminError(405, "method not allowed: \(request.method)") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // "", "pki", "ca", id[, "certificates"]
        guard parts.count == 4 || (parts.count == 5 && parts[4] == "certificates"), parts[2] == "ca", !parts[3].isEmpty else {
            throw AdminError(404, "resource not found: \(path)")
        }
        let id = parts[3]
        let configured = config?.apps.pki?.certificateAuthorities[id]
        guard configured != nil || id == "local" else { throw AdminError(404, "no certificate authority configured with id: \(id)") }
        let ca: LocalCA
        do {
            var root = config.map { DataDirectory.root(for: id, in: $0, workingDirectory: workingDirectory) } ?? DataDirectory.resolve()
            if !root.hasPrefix("/") { root = workingDirectory + "/" + root }
            ca = try LocalCA(storageRoot: root, settings: LocalCA.Settings(id: id, configured))
        } catch {
            throw AdminError(500, "failed to provision CA \(id), \(error)")
        }
        let rootPEM = String(decoding: ca.rootPEM, as: UTF8.self)
        let intermediate = ca.signer.certificate
        let intermediatePEM = String(decoding: intermediate.pem, as: UTF8.self)
        if parts.count == 5 {
            return Response.text(intermediatePEM + rootPEM, contentType: "application/pem-certificate-chain")
        }
        // Caddy's field order (a Go struct, not a map).
        let fields = [("id", id), ("name", ca.name), ("root_common_name", ca.root.commonName),
                      ("intermediate_common_name", intermediate.commonName),
                      ("root_certificate", rootPEM), ("intermediate_certificate", intermediatePEM)]
        return AdminRoute.json("{" + fields.map { GoJSON.quote($0.0) + ":" + GoJSON.quote($0.1) }.joined(separator: ",") + "}")
    }
}
