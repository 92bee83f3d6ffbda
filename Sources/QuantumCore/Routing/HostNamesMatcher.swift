/// A matcher that names the hosts it accepts (the `host` matcher). Automatic HTTPS reads these
/// names from a server's top-level routes, as Caddy does, to know which sites need certificates.
package protocol HostNamesMatcher: RequestMatcher {
    var hosts: [String] { get }
}
