import CNGHTTP2

/// The sending side of HTTP/2 streams: response HEADERS, then DATA pulled by nghttp2 from the
/// stream's queue (bytes, a file range read as frames go out, or a producer's writes).
extension HTTP2Connection {
    /// Response bytes a stream may queue before its producer waits for nghttp2 to take them.
    static let streamHighWatermark = 256 * 1024
    static let streamLowWatermark = 64 * 1024

    /// Answers a stream in its task: from its first route, from where its synchronous run
    /// stopped (`rest`), or with the `answer` that run gave (a streamed body).
    nonisolated(nonsending) func serve(_ stream: HTTP2Stream, _ request: Request, runtime: ServerRuntime, rest: Resumption? = nil,
                                       answer: Response? = nil) async {
        let response: Response
        if let answer {
            response = answer
        } else if let rest {
            response = (try? await rest()) ?? Response(status: 500)  // (the runtime's rest does not throw)
        } else {
            var context = Context(loop: loop)
            context.started = stream.started
            response = await runtime.respond(request, context: context)
        }
        if let failure = stream.body?.failure as? HTTPError, failure.status != 499 {
            submit(Response(status: failure.status), on: stream, isHead: false)
            return
        }
        if let upgrade = response.upgrade, let tunnel = stream.tunnel, Self.opensTunnel(response.status) {
            runtime.completed(request, response, size: 0, started: stream.started, loop: loop)
            await runTunnel(tunnel, upgrade, response, on: stream)
            return
        }
        guard case .stream(let length, let producer) = response.body, !Self.isBodiless(response.status, stream.method) else {
            submit(response, on: stream, isHead: stream.method == "HEAD")
            runtime.completed(request, response, size: Self.bodySize(response, stream), started: stream.started, loop: loop)
            return
        }
        guard submitHead(response, on: stream, length: length, hasBody: true) else { return }
        let writer = HTTP2BodyWriter(connection: self, stream: stream, declaredLength: length)
        do {
            try await producer(writer)
            try writer.checkComplete()
            guard !stream.closed, !isClosed else { return }
            stream.ended = true
            resume(stream)
            runtime.completed(request, response, size: writer.bytesWritten, started: stream.started, loop: loop)
        } catch {
            reset(stream, H2.internalError)
        }
    }

    /// A claim answers an extended CONNECT with 2xx (RFC 8441 §5), or with the HTTP/1.1 101 a
    /// claimer built for an upgrade (the reverse proxy's upstream answer), sent as 200.
    static func opensTunnel(_ status: Int) -> Bool { status == 101 || (200...299).contains(status) }

    /// A claimed extended CONNECT: the 200 without END_STREAM, then the stream is the
    /// claimer's byte stream until its closure returns; our END_STREAM follows what it wrote.
    nonisolated(nonsending) func runTunnel(_ tunnel: HTTP2Tunnel, _ upgrade: Upgrade, _ response: Response,
                                           on stream: HTTP2Stream) async {
        guard submitHead(response, on: stream, length: nil, hasBody: true, tunnel: true) else { return }
        tunnel.claimed = true
        do { try await upgrade.run(tunnel) } catch {}
        tunnel.closeAfterFlush()
    }

    /// The body bytes an answer at hand sends (the access log's `size`).
    /// The body size logs and metrics report (for HEAD, what the handler produced, as Caddy).
    static func bodySize(_ response: Response, _ stream: HTTP2Stream) -> Int {
        if stream.method == "HEAD" { return response.headBodySize }
        return isBodiless(response.status, stream.method) ? 0 : response.body.knownLength ?? 0
    }

    static func isBodiless(_ status: Int, _ method: String) -> Bool {
        method == "HEAD" || status < 200 || status == 204 || status == 304
    }

    /// Sends a response whose body is already at hand (empty, bytes, a file range).
    func submit(_ response: Response, on stream: HTTP2Stream, isHead: Bool) {
        guard !isClosed, !stream.closed else { return }
        if response.abort { reset(stream, H2.internalError); return }
        let bodiless = Self.isBodiless(response.status, stream.method)
        var hasBody = false
        if !bodiless {
            switch response.body {
            case .empty, .stream: break
            case .bytes(let b): stream.enqueue(b); hasBody = !b.isEmpty
            case .file(let region): stream.file = region; hasBody = region.length > 0
            }
        }
        stream.ended = true
        _ = submitHead(response, on: stream, length: response.body.knownLength, hasBody: hasBody)
    }

    /// Submits the HEADERS frame (with a DATA source when a body follows).
    /// `tunnel`: the answer that opens a claimed extended CONNECT (200 for a 101; no length).
    func submitHead(_ response: Response, on stream: HTTP2Stream, length: Int?, hasBody: Bool, tunnel: Bool = false) -> Bool {
        guard !isClosed, !stream.closed, let session else { return false }
        var status = response.status
        if tunnel {
            if status == 101 { status = 200 }
        } else if status < 200 || status > 999 || response.upgrade != nil {
            status = 500  // no 1xx/101 switch in HTTP/2
        }
        var fields = HTTP2HeaderBlock()
        fields.add(":status", String(status))
        var hasServer = false, hasDate = false
        func add(_ field: HTTPFields.Field) {
            let name = field.name.asciiLowercased()
            switch name {
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length": return
            case "sec-websocket-accept" where tunnel: return  // HTTP/1.1's handshake proof; none in RFC 8441
            case "server": hasServer = true
            case "date": hasDate = true
            default: break
            }
            fields.add(name, field.value)
        }
        if let forwarded = response.forwardedFields { for field in forwarded.fields { add(field) } }
        for field in response.headers { add(field) }
        if !hasServer { fields.add("server", "Quantum") }
        if !hasDate { fields.add("date", String(decoding: loop.dateHeader, as: UTF8.self)) }
        if status == 304, let declared = response.headers["content-length"] ?? response.forwardedFields?.contentLength.map(String.init) {
            fields.add("content-length", declared)
        } else if status != 204 && status != 304 && !tunnel, let length {
            fields.add("content-length", String(length))
        }
        var provider = nghttp2_data_provider()
        provider.read_callback = HTTP2Callbacks.readBody
        let rv = fields.withNV { nv, count in
            hasBody ? nghttp2_submit_response(session, stream.id, nv, count, &provider)
                    : nghttp2_submit_response(session, stream.id, nv, count, nil)
        }
        if rv != 0 { reset(stream, H2.internalError); return false }
        scheduleFlush()
        return true
    }

    /// nghttp2 wants up to `length` bytes of DATA for `streamID`.
    func readBody(_ streamID: Int32, _ buf: UnsafeMutablePointer<UInt8>, _ length: Int, _ flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let stream = streams[streamID], !stream.closed else { return H2.temporalFailure }
        guard let n = stream.take(into: UnsafeMutableRawPointer(buf), length: length) else { return H2.temporalFailure }
        if stream.responseDrained && stream.ended {
            flags.pointee |= H2.eof
            if !stream.responseTrailers.isEmpty, let session {
                // The trailers end the stream instead of this DATA frame.
                flags.pointee |= H2.noEndStream
                var block = HTTP2HeaderBlock()
                for f in stream.responseTrailers { block.add(f.name.asciiLowercased(), f.value) }
                stream.responseTrailers = []
                if block.withNV({ nv, count in nghttp2_submit_trailer(session, streamID, nv, count) }) != 0 { flags.pointee &= ~H2.noEndStream }
            }
        } else if n == 0 {
            stream.deferred = true
            return H2.deferred
        }
        if stream.buffered < Self.streamLowWatermark, let w = stream.drainWaiter {
            stream.drainWaiter = nil
            w.resume()
        }
        stream.tunnel?.outputTaken()
        return n
    }

    /// More body (or its end) is queued: let nghttp2 ask again.
    func resume(_ stream: HTTP2Stream) {
        guard stream.deferred, !stream.closed, let session else { scheduleFlush(); return }
        stream.deferred = false
        _ = nghttp2_session_resume_data(session, stream.id)
        scheduleFlush()
    }

    func reset(_ stream: HTTP2Stream, _ code: UInt32) {
        guard !isClosed, !stream.closed, let session else { return }
        _ = nghttp2_submit_rst_stream(session, H2.flagNone, stream.id, code)
        rememberReset(stream.id)  // from now on, not only once it is sent
        scheduleFlush()
    }

    /// A producer's write: queue it and wait while the stream has too much queued.
    nonisolated(nonsending) func writeBody(_ bytes: [UInt8], to stream: HTTP2Stream) async throws {
        if !loop.inEventLoop {
            let loop = self.loop
            return try await withUnsafeThrowingContinuation { c in
                loop.execute {
                    Task(executorPreference: loop) {
                        do { try await self.writeBody(bytes, to: stream); c.resume() } catch { c.resume(throwing: error) }
                    }
                }
            }
        }
        if isClosed || stream.closed { throw HTTPError(499, "stream closed") }
        stream.enqueue(bytes)
        resume(stream)
        if stream.buffered < Self.streamHighWatermark { return }
        try await withUnsafeThrowingContinuation { c in stream.drainWaiter = c }
    }
}

/// Streams a response body onto an HTTP/2 stream as DATA frames.
/// `@unchecked Sendable`: writes hop to the connection's loop; one producer writes, one call at a time.
struct HTTP2BodyWriter: ResponseBodyWriter, @unchecked Sendable {
    let connection: HTTP2Connection
    let stream: HTTP2Stream
    private let state: BodyWriterState

    /// Body bytes written so far (the access log's `size`).
    var bytesWritten: Int { state.written }

    init(connection: HTTP2Connection, stream: HTTP2Stream, declaredLength: Int?) {
        self.connection = connection
        self.stream = stream
        state = BodyWriterState(declaredLength: declaredLength)
    }

    nonisolated(nonsending) func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try state.add(bytes.count)
        try await connection.writeBody(bytes, to: stream)
    }

    /// Kept on the stream: nghttp2 sends them as a HEADERS frame after the last DATA.
    func setTrailers(_ fields: HTTPFields) {
        let allowed = TrailerFields.allowed(fields)
        let stream = self.stream
        if connection.loop.inEventLoop { stream.responseTrailers = allowed } else { connection.loop.execute { stream.responseTrailers = allowed } }
    }

    func checkComplete() throws {
        try state.finish()
    }
}
