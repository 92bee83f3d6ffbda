import CNGHTTP2

/// nghttp2's C callbacks, forwarding to the `HTTP2Connection` in `user_data`. They capture
/// nothing, so they are plain C function pointers; the connection outlives its session.
enum HTTP2Callbacks {
    /// A callbacks object for a new server session (the session copies it; delete it after).
    static func make() -> OpaquePointer? {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { return nil }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, user in
            guard let frame else { return 0 }
            return connection(user).beginHeaders(frame)
        }
        nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks) { _, hd, user in
            guard let hd else { return 0 }
            return connection(user).beginFrame(hd.pointee)
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, user in
            guard let frame, let name, let value else { return 0 }
            return connection(user).header(frame, UnsafeBufferPointer(start: name, count: nameLength),
                                           UnsafeBufferPointer(start: value, count: valueLength))
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, user in
            guard let frame else { return 0 }
            return connection(user).frameReceived(frame)
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, streamID, data, length, user in
            guard let data else { return 0 }
            return connection(user).dataReceived(streamID, UnsafeRawBufferPointer(start: data, count: length))
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, _, user in
            connection(user).streamClosed(streamID)
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, user in
            guard let frame else { return 0 }
            connection(user).frameSent(frame)
            return 0
        }
        return callbacks
    }

    /// The DATA source of every response: the stream's queued body.
    static let readBody: nghttp2_data_source_read_callback = { _, streamID, buf, length, flags, _, user in
        guard let buf, let flags else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
        return connection(user).readBody(streamID, buf, length, flags)
    }
}

private func connection(_ user: UnsafeMutableRawPointer?) -> HTTP2Connection {
    // Alive: it owns the session calling back (see passUnretained in HTTP2Connection.init).
    Unmanaged<HTTP2Connection>.fromOpaque(user!).takeUnretainedValue()
}

/// nghttp2's constants as the integer types its structs and callbacks use.
enum H2 {
    static let headers = UInt8(NGHTTP2_HEADERS.rawValue)
    static let data = UInt8(NGHTTP2_DATA.rawValue)
    static let rstStream = UInt8(NGHTTP2_RST_STREAM.rawValue)
    static let callbackFailure = Int32(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
    static let enhanceYourCalm = UInt32(NGHTTP2_ENHANCE_YOUR_CALM.rawValue)
    static let endStream = UInt8(NGHTTP2_FLAG_END_STREAM.rawValue)
    static let requestHeaders = NGHTTP2_HCAT_REQUEST
    static let flagNone = UInt8(NGHTTP2_FLAG_NONE.rawValue)
    static let deferred = Int(NGHTTP2_ERR_DEFERRED.rawValue)
    static let temporalFailure = Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
    static let eof = UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue)
    static let noEndStream = UInt32(NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue)
    static let noError = UInt32(NGHTTP2_NO_ERROR.rawValue)
    static let protocolError = UInt32(NGHTTP2_PROTOCOL_ERROR.rawValue)
    static let internalError = UInt32(NGHTTP2_INTERNAL_ERROR.rawValue)
    static let refusedStream = UInt32(NGHTTP2_REFUSED_STREAM.rawValue)
    static let cancel = UInt32(NGHTTP2_CANCEL.rawValue)
}
