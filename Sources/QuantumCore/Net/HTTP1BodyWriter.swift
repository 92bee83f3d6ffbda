/// Streams a response body onto an HTTP/1 connection (chunked when the length is unknown).
/// `@unchecked Sendable`: writes hop to the connection's loop; one producer writes, one call at a time.
struct HTTP1BodyWriter: ResponseBodyWriter, @unchecked Sendable {
    let connection: HTTP1Connection
    let chunked: Bool
    private let state: BodyWriterState

    init(connection: HTTP1Connection, chunked: Bool, declaredLength: Int?) {
        self.connection = connection
        self.chunked = chunked
        state = BodyWriterState(declaredLength: declaredLength)
    }

    nonisolated(nonsending) func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try state.add(bytes.count)
        if chunked {
            try await connection.writeBodyBytes(HTTP1ResponseEncoder.chunk(bytes))
        } else {
            try await connection.writeBodyBytes(bytes)
        }
    }

    func setTrailers(_ fields: HTTPFields) { state.trailers = TrailerFields.allowed(fields) }

    /// Body bytes written so far (the access log's `size`).
    var bytesWritten: Int { state.written }

    nonisolated(nonsending) func finishBody() async throws {
        try state.finish()
        guard chunked else { return }  // a declared length leaves no room for trailers
        try await connection.writeBodyBytes(HTTP1ResponseEncoder.lastChunk(trailers: state.trailers))
    }
}
