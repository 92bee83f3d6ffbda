/// The server runtime a loop's listener currently serves with: new connections take it, and idle
/// keep-alive connections take it for their next request, so a reload reaches them without
/// closing anything.
///
/// Loop-confined (`@unchecked Sendable` for that reason): written through `loop.submit` by a
/// reload, read on the loop by the listener and its connections, without a lock.
final class RuntimeSlot: @unchecked Sendable {
    unowned let loop: EventLoop
    @exclusivity(unchecked) private var runtime: ServerRuntime

    init(_ runtime: ServerRuntime, loop: EventLoop) {
        self.runtime = runtime
        self.loop = loop
    }

    /// The runtime to use now (loop thread).
    var current: ServerRuntime {
        loop.assertInEventLoop()
        return runtime
    }

    /// Installs `next` on the slot's loop; returns once it is in place.
    func replace(with next: ServerRuntime) async {
        await loop.submit { self.runtime = next }
    }
}
