/// A connection a listener tracks for graceful shutdown and counting, whatever it speaks
/// (HTTP/1.1, or HTTP/2 once a connection switched over). Loop thread only.
protocol ServerConnection: AnyObject {
    /// Finish what is in flight, take nothing new (HTTP/2: GOAWAY), then close.
    func beginShutdown()
    /// Closes the socket now.
    func close()
}
