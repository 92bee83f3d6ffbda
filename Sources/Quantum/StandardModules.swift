@_exported import QuantumCore
import QuantumFileSync
import QuantumHandlers
import QuantumMatchers
import QuantumReverseProxy
import QuantumStaticFiles

/// The modules every Quantum build ships with.
public enum StandardModules {
    /// A registry holding the standard handlers and matchers. Add your own with `register`.
    public static var registry: ModuleRegistry {
        var r = ModuleRegistry()
        r.register(StaticResponse.self)
        r.register(StaticError.self)
        r.register(Subroute.self)
        r.register(Invoke.self)
        r.register(Headers.self)
        r.register(Rewrite.self)
        r.register(Vars.self)
        r.register(MetricsHandler.self)
        r.register(RequestBodyLimit.self)
        r.register(Authentication.self)
        r.register(MapHandler.self)
        r.register(WebSocketEcho.self)
        r.register(FileServer.self)
        r.register(FileMatcher.self)
        r.register(Encode.self)
        r.register(ReverseProxy.self)
        r.register(CopyResponse.self)
        r.register(CopyResponseHeaders.self)
        r.register(FileSync.self)
        r.register(HostMatcher.self)
        r.register(PathMatcher.self)
        r.register(PathRegexpMatcher.self)
        r.register(MethodMatcher.self)
        r.register(HeaderMatcher.self)
        r.register(HeaderRegexpMatcher.self)
        r.register(QueryMatcher.self)
        r.register(ProtocolMatcher.self)
        r.register(RemoteIPMatcher.self)
        r.register(ClientIPMatcher.self)
        r.register(NotMatcher.self)
        r.register(ExpressionMatcher.self)
        r.register(VarsMatcher.self)
        r.register(VarsRegexpMatcher.self)
        r.register(adminRoute: ReverseProxy.upstreamsAdminRoute)
        return r
    }
}
