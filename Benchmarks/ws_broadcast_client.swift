// Broadcast latency client for Benchmarks/websocket.py: N raw WebSocket connections to a
// `websocket_echo` room with `broadcast: true`, one sender; per round, the time from the
// sender's write until each member has read the whole frame. Compiled on its own (no package):
//   swiftc -O Benchmarks/ws_broadcast_client.swift -o /tmp/ws_broadcast_client
//   /tmp/ws_broadcast_client PORT [CLIENTS] [ROUNDS]
// Prints one JSON object. Native code, so the client's own share of the time is small.
import Glibc

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fail(_ why: String) -> Never {
    fputs("ws_broadcast_client: \(why)\n", stderr)
    exit(1)
}

func connectWebSocket(port: UInt16, path: String) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    if rc != 0 { fail("connect: errno \(errno)") }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var tv = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    _ = request.withCString { write(fd, $0, strlen($0)) }
    var head: [UInt8] = []
    var b: UInt8 = 0
    while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) {
        if read(fd, &b, 1) != 1 { fail("handshake read") }
        head.append(b)
    }
    if !head.starts(with: Array("HTTP/1.1 101".utf8)) { fail("no 101") }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    return fd
}

let args = CommandLine.arguments
guard args.count >= 2, let port = UInt16(args[1]) else { fail("usage: ws_broadcast_client PORT [CLIENTS] [ROUNDS]") }
let clients = args.count > 2 ? Int(args[2]) ?? 1000 : 1000
let rounds = args.count > 3 ? Int(args[3]) ?? 50 : 50

let members = (0..<clients).map { _ in connectWebSocket(port: port, path: "/room") }
let sender = connectWebSocket(port: port, path: "/room")
let payload = [UInt8](repeating: 98, count: 32)
let frame: [UInt8] = [0x81, 0x80 | UInt8(payload.count), 0, 0, 0, 0] + payload  // zero mask key
let need = 2 + payload.count
var pollfds = members.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
var buf = [UInt8](repeating: 0, count: 65536)

/// Sends one frame and returns each member's arrival time (seconds after the send).
func round() -> [Double] {
    var got = [Int](repeating: 0, count: clients)
    var arrival = [Double](repeating: -1, count: clients)
    var remaining = clients
    let t0 = now()
    _ = frame.withUnsafeBytes { write(sender, $0.baseAddress, $0.count) }
    while remaining > 0 {
        if now() - t0 > 30 { fail("timeout with \(remaining) members waiting") }
        let n = poll(&pollfds, nfds_t(pollfds.count), 1000)
        if n <= 0 { continue }
        for i in 0..<clients where pollfds[i].revents != 0 {
            let r = read(members[i], &buf, buf.count)
            if r == 0 { fail("a member was closed") }
            if r < 0 { continue }
            got[i] += r
            if got[i] >= need && arrival[i] < 0 {
                arrival[i] = now() - t0
                remaining -= 1
                got[i] -= need
            }
        }
    }
    // The sender is a member too: drain its copy.
    while read(sender, &buf, buf.count) > 0 {}
    return arrival
}

for _ in 0..<3 { _ = round() }  // membership begins when the server's handler runs
var lasts: [Double] = []
var all: [Double] = []
for _ in 0..<rounds {
    usleep(20_000)
    let a = round()
    lasts.append(a.max()!)
    all += a
}
func pct(_ v: [Double], _ q: Double) -> Double {
    let s = v.sorted()
    return (s[min(s.count - 1, Int(q * Double(s.count)))] * 1e6).rounded() / 1000
}
print("{\"clients\": \(clients), \"rounds\": \(rounds), \"last_receiver_ms\": {\"p50\": \(pct(lasts, 0.5)), \"p99\": \(pct(lasts, 0.99)), \"max\": \(pct(lasts, 1))}, \"per_receiver_ms\": {\"p50\": \(pct(all, 0.5)), \"p99\": \(pct(all, 0.99))}}")
