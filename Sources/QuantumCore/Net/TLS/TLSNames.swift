import COpenSSL

/// Caddy's (Go's) names for TLS versions, cipher suites and curves, mapped to OpenSSL's.
package enum TLSNames {
    /// Versions a policy may name: TLS 1.0 and 1.1 are not offered at all.
    public static let protocols = ["tls1.2", "tls1.3"]

    static func protocolVersion(_ name: String) -> Int32? {
        switch name {
        case "tls1.2": TLS1_2_VERSION
        case "tls1.3": TLS1_3_VERSION
        default: nil
        }
    }

    /// `{http.request.tls.version}`: Caddy's name of a negotiated version.
    static func protocolName(_ version: Int32) -> String {
        switch version {
        case TLS1_3_VERSION: "tls1.3"
        case TLS1_2_VERSION: "tls1.2"
        case TLS1_1_VERSION: "tls1.1"
        case TLS1_VERSION: "tls1.0"
        default: "unknown"
        }
    }

    /// A cipher suite by its Go/IANA name: TLS 1.3 suites are configured apart from the rest.
    enum Suite: Equatable {
        case tls12(String)
        case tls13(String)
    }

    static func cipherSuite(_ name: String) -> Suite? {
        if let s = tls13Suites[name] { return .tls13(s) }
        if let s = tls12Suites[name] { return .tls12(s) }
        return nil
    }

    private static let tls13Suites: [String: String] = [
        "TLS_AES_128_GCM_SHA256": "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384": "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256": "TLS_CHACHA20_POLY1305_SHA256",
    ]

    private static let tls12Suites: [String: String] = [
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
        "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
        "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA": "ECDHE-RSA-DES-CBC3-SHA",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
    ]

    /// Forward-secret AEAD suites only, as Caddy's defaults (TLS 1.2; TLS 1.3's are all AEAD).
    static let defaultTLS12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    static let defaultTLS13Ciphers = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    /// Curves (groups) by Caddy's names.
    public static let curveNames = ["x25519", "secp256r1", "secp384r1", "secp521r1"]

    static func curve(_ name: String) -> String? {
        switch name {
        case "x25519": "X25519"
        case "secp256r1": "P-256"
        case "secp384r1": "P-384"
        case "secp521r1": "P-521"
        default: nil
        }
    }

    /// Go's default curve preferences.
    static let defaultCurves = "X25519:P-256:P-384:P-521"
}
