import QuantumCore
import Glibc

let group = try EventLoopGroup()
let runtime = ServerRuntime(name: "srv0", limits: ServerLimits(), chain: Next { req, _ in
    var r = Response.text("Hello, World!")
    return r
}, errorChain: nil)
let set = try await HTTPListenerSet.bind(SocketAddress(ip: "127.0.0.1", port: 18082)!, group: group, runtime: runtime)
print("listening on \(set.port)")
while true { sleep(1000) }
