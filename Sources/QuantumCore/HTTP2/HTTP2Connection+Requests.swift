import CNGHTTP2

/// The receiving side of HTTP/2 streams: nghttp2's callbacks assemble requests and bodies.
extension HTTP2Connection {
    func beginHeaders(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        guard frame.pointee.hd.type == H2.headers else { return 0 }
        let id = frame.pointee.hd.stream_id
        if frame.pointee.headers.cat == H2.requestHeaders {
            streams[id] = HTTP2Stream(id: id, connection: self)
        } else if let stream = streams[id] {
            stream.inTrailers = true
            stream.headerBytes = 0
        }
        return 0
    }

    /// One decoded header field (nghttp2 has validated it: RFC 9113 §8.2).
    func header(_ frame: UnsafePointer<nghttp2_frame>, _ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard let stream = streams[frame.pointee.hd.stream_id] else { return 0 }
        stream.headerBytes += name.count + value.count + 32
        if stream.headerBytes > runtime.limits.http1.maxHeaderBytes {
            stream.headersTooLarge = true  // answered with 431; the rest is not kept
            return 0
        }
        let v = String(decoding: value, as: UTF8.self)
        if stream.inTrailers {
            if name.first != UInt8(ascii: ":") { stream.trailers.add(String(decoding: name, as: UTF8.self), v) }
            return 0
        }
        if name.first == UInt8(ascii: ":") {
            switch String(decoding: name, as: UTF8.self) {
            case ":method": stream.method = v
            case ":path": stream.path = v
            case ":scheme": stream.scheme = v
            case ":authority": stream.authority = v
            case ":protocol": stream.protocolName = v
            default: break
            }
        } else {
            stream.headers.add(String(decoding: name, as: UTF8.self), v)
        }
        return 0
    }

    func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        let hd = frame.pointee.hd
        guard let stream = streams[hd.stream_id] else { return 0 }
        let endStream = hd.flags & H2.endStream != 0
        switch hd.type {
        case H2.headers where frame.pointee.headers.cat == H2.requestHeaders:
            if prepareRequest(stream, endStream: endStream) { pendingStarts.append(stream) }
        case H2.headers:
            if let body = stream.body {
                if !stream.trailers.isEmpty { body.trailers = stream.trailers }
                body.finish()
            }
            stream.tunnel?.peerEnded()
        case H2.data where endStream:
            stream.body?.finish()
            stream.tunnel?.peerEnded()
        case H2.rstStream where !stream.answered:
            // Stop reading an abuser at once: what it sent after this frame is never processed.
            if countEarlyReset() { return H2.callbackFailure }
        default:
            break
        }
        return 0
    }

    func dataReceived(_ streamID: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        if let stream = streams[streamID], stream.answered, stream.tunnel == nil {
            // A body nobody reads after the answer: the connection's window only (see frameSent).
            connectionRefundLater(bytes.count)
            return 0
        }
        if let stream = streams[streamID], let tunnel = stream.tunnel {
            accountReceived(stream, streamID, bytes.count)
            tunnel.received(Array(bytes))
            return 0
        }
        guard let stream = streams[streamID], let body = stream.body, !body.discarding, !body.isFinished else {
            accountReceived(nil, streamID, bytes.count)
            return 0
        }
        accountReceived(stream, streamID, bytes.count)
        body.push(Array(bytes))
        return 0
    }

    func streamClosed(_ streamID: Int32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        forgetUnread(stream)
        stream.closedByPeerOrConnection()
    }

    /// After the response's last frame: a request body still coming is not wanted. The stream
    /// stays open a moment for the client's END_STREAM (its faults are still seen and answered
    /// as such; its window is not refunded, so at most a window's worth more arrives), then
    /// RST_STREAM NO_ERROR tells a client still sending to stop (RFC 9113 §8.1).
    func frameSent(_ frame: UnsafePointer<nghttp2_frame>) {
        let hd = frame.pointee.hd
        if hd.type == H2.rstStream { rememberReset(hd.stream_id); return }
        guard hd.flags & H2.endStream != 0, hd.type == H2.data || hd.type == H2.headers,
              let stream = streams[hd.stream_id], let session else { return }
        stream.answered = true
        countAnswered()
        if let tunnel = stream.tunnel, !tunnel.inboundEnded {
            if tunnel.claimed { endTunnelAfterGrace(stream) } else { _ = nghttp2_submit_rst_stream(session, H2.flagNone, hd.stream_id, H2.noError) }
            return
        }
        // The client's side still open (a body nobody reads, or one of a 431): wait a moment.
        guard nghttp2_session_get_stream_remote_close(session, hd.stream_id) == 0 else { return }
        stream.body?.discard()
        resetAfterGrace(stream, Self.unwantedBodyGrace)
    }

    /// Our END_STREAM closed a tunnel's sending side: the peer normally ends its side too
    /// (RFC 8441 §4 maps a TCP FIN to END_STREAM); one that does not is reset, so a
    /// half-closed stream cannot linger.
    private func endTunnelAfterGrace(_ stream: HTTP2Stream) { resetAfterGrace(stream, Self.tunnelEndGrace) }

    private func resetAfterGrace(_ stream: HTTP2Stream, _ nanos: UInt64) {
        _ = loop.schedule(afterNanoseconds: nanos) { [self] in
            guard !stream.closed, streams[stream.id] === stream else { return }
            reset(stream, H2.noError)
        }
    }

    static let tunnelEndGrace: UInt64 = 2_000_000_000
    static let unwantedBodyGrace: UInt64 = 1_000_000_000

    /// A frame is starting. nghttp2 silently ignores HEADERS on a client stream identifier
    /// below the last one opened when it keeps no record of that stream; RFC 9113 §5.1.1 makes
    /// that a connection error (PROTOCOL_ERROR). Late frames on streams this side reset are
    /// still ignored, as §5.1 asks.
    func beginFrame(_ hd: nghttp2_frame_hd) -> Int32 {
        guard hd.type == H2.headers, hd.stream_id & 1 == 1, let session,
              hd.stream_id <= nghttp2_session_get_last_proc_stream_id(session), streams[hd.stream_id] == nil,
              nghttp2_session_find_stream(session, hd.stream_id) == nil, !recentResets.contains(hd.stream_id) else { return 0 }
        _ = nghttp2_session_terminate_session(session, H2.protocolError)
        return H2.callbackFailure
    }

    /// Streams this side reset lately (bounded), whose late frames are ignored.
    func rememberReset(_ id: Int32) {
        if recentResets.last == id { return }
        if recentResets.count >= 1024 { recentResets.removeFirst(512) }
        recentResets.append(id)
    }

    /// The request headers are complete: makes the body stream (DATA in the same read must
    /// find it); false when the stream was answered here (431, a CONNECT not served).
    func prepareRequest(_ stream: HTTP2Stream, endStream: Bool) -> Bool {
        if stream.headersTooLarge {
            submit(Response(status: 431), on: stream, isHead: false)
            return false
        }
        if stream.method == "CONNECT" {
            // RFC 8441: only `:protocol websocket` is a request handlers see. A plain CONNECT
            // (a TCP tunnel to `:authority`, no `:path`) or another protocol is not served here.
            guard let proto = stream.protocolName, proto.equalsIgnoringASCIICase("websocket") else {
                submit(Response.text("CONNECT \(stream.protocolName.map { ":protocol \($0) " } ?? "")is not supported\n", status: 501),
                       on: stream, isHead: false)
                return false
            }
            let tunnel = HTTP2Tunnel(connection: self, stream: stream)
            stream.tunnel = tunnel
            if endStream { tunnel.peerEnded() }
        }
        if !endStream && stream.tunnel == nil {
            let length = stream.headers["content-length"].flatMap { Int($0) }
            stream.body = BodyStream(loop: loop, source: WeakBodySource(stream), knownLength: length)
        }
        return true
    }

    /// Starts the handlers of the streams whose headers the last read completed, once nghttp2
    /// has processed the whole read: a stream the same read reset (a rapid-reset flood sends
    /// HEADERS and RST_STREAM together) or answered with an error never reaches a handler.
    func startPendingRequests() {
        guard !pendingStarts.isEmpty else { return }
        let starts = pendingStarts
        pendingStarts.removeAll(keepingCapacity: true)
        for stream in starts where !stream.closed && !isClosed {
            startRequest(stream, makeRequest(stream, stream.body))
        }
    }

    /// Runs a bodiless request's routes inline; what they cannot answer without suspending
    /// (and every request with a body or a protocol) goes on in a task the stream can cancel.
    func startRequest(_ stream: HTTP2Stream, _ request: Request) {
        var rest: Resumption?, answer: Response?
        let runtime = streamRuntime
        stream.started = loop.now
        if request.body.stream == nil && !shuttingDown && stream.protocolName == nil {
            var context = Context(loop: loop)
            context.started = stream.started
            switch runtime.respondInline(request, context: context) {
            case .suspended(let remaining):
                rest = remaining
            case .response(var response):
                if response.upgrade != nil { response.upgrade = nil; response.status = 500 }  // asked for no protocol
                guard case .stream = response.body else {
                    submit(response, on: stream, isHead: stream.method == "HEAD")
                    runtime.completed(request, response, size: Self.bodySize(response, stream), started: stream.started, loop: loop)
                    return
                }
                answer = response
            }
        }
        taskStarted()
        stream.task = Task(executorPreference: loop) { [rest, answer] in
            await self.serve(stream, request, runtime: runtime, rest: rest, answer: answer)
            self.taskEnded()
        }
    }

    /// The routes a new stream runs: the listener's current ones (a reload's reach open
    /// connections), unless they speak another transport (see `HTTP1Connection.adoptCurrentRuntime`).
    var streamRuntime: ServerRuntime {
        let current = runtimes.current
        return (current.tls == nil) == (runtime.tls == nil) ? current : runtime
    }

    func makeRequest(_ stream: HTTP2Stream, _ body: BodyStream?) -> Request {
        var rawPath = stream.path, query = ""
        if let q = rawPath.utf8.firstIndex(of: UInt8(ascii: "?")) {
            query = String(rawPath[rawPath.index(after: q)...])
            rawPath = String(rawPath[..<q])
        }
        let host = stream.authority.isEmpty ? (stream.headers["host"] ?? "") : stream.authority
        var request = Request(method: stream.method, rawPath: rawPath, query: query, proto: "HTTP/2.0", headers: stream.headers,
                              host: host, body: RequestBody(stream: body), connection: info)
        request.connectProtocol = stream.protocolName
        return request
    }

    /// `Upgrade: h2c`: the HTTP/1.1 request becomes stream 1, already half-closed by the client.
    func acceptUpgrade(_ upgrade: HTTP2Upgrade) -> Bool {
        guard let session else { return false }
        let head = upgrade.head
        let rv = upgrade.settings.withUnsafeBufferPointer {
            nghttp2_session_upgrade2(session, $0.baseAddress, $0.count, head.method == "HEAD" ? 1 : 0, nil)
        }
        guard rv == 0 else { return false }
        let stream = HTTP2Stream(id: 1, connection: self)
        stream.method = head.method
        stream.path = head.query.isEmpty && !head.hasQuery ? head.rawPath : head.rawPath + "?" + head.query
        stream.scheme = "http"
        stream.authority = head.authority
        var headers = head.headers
        headers.removeAll { ["connection", "upgrade", "http2-settings", "host"].contains($0.name.lowercased()) }
        stream.headers = headers
        streams[1] = stream
        if prepareRequest(stream, endStream: true) { startRequest(stream, makeRequest(stream, nil)) }
        return true
    }
}
