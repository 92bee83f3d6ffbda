import QuantumCore

/// Merges TLS connection policies with the same matchers, as Caddy's `consolidateConnPolicies`:
/// identical ones are dropped, compatible ones combined, conflicting ones refused.
enum TLSPolicyMerging {
    static func consolidate(_ input: [JSONValue]) throws -> [JSONValue] {
        var policies = input
        var i = 0
        while i < policies.count {
            var merged = false
            for j in policies.indices where j != i {
                if policies[i].canonical == policies[j].canonical {
                    policies.remove(at: j)
                    merged = true
                    break
                }
                if (policies[i]["match"]?.canonical) == (policies[j]["match"]?.canonical) {
                    var a = policies[i]
                    let b = policies[j]
                    for (key, value) in b.objectMembers where key != "match" {
                        if let existing = a[key] {
                            if key == "certificate_selection" {
                                var tags = existing["any_tag"]?.arrayValues ?? []
                                for t in value["any_tag"]?.arrayValues ?? [] where !tags.contains(t) { tags.append(t) }
                                var sel = existing
                                sel.set("any_tag", tags.isEmpty ? nil : .array(tags))
                                a.set(key, sel)
                            } else if existing.canonical != value.canonical && !existing.isEmptyValue && !value.isEmptyValue {
                                throw CaddyfileError("two policies with same match criteria have conflicting \(label(key)): \(existing.serialized) vs. \(value.serialized)")
                            } else if existing.isEmptyValue {
                                a.set(key, value)
                            }
                        } else {
                            a.set(key, value)
                        }
                    }
                    policies[i] = a
                    policies.remove(at: j)
                    merged = true
                    break
                }
            }
            if !merged { i += 1 }
        }
        return policies
    }

    private static func label(_ key: String) -> String {
        switch key {
        case "alpn": "ALPN"
        case "cipher_suites": "cipher suites"
        case "client_authentication": "client auth configuration"
        case "default_sni": "default SNI"
        case "protocol_min": "min protocol"
        case "protocol_max": "max protocol"
        default: key
        }
    }
}
