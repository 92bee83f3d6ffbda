import CNGHTTP2

/// Creates nghttp2 server sessions with Quantum's settings.
enum HTTP2Session {
    /// A server session whose callbacks reach `userData` (an `HTTP2Connection`), with the
    /// server's SETTINGS queued: concurrent streams, the stream window, the header list size,
    /// and RFC 8441 extended CONNECT. Windows are refunded by hand (see `HTTP2Connection`).
    static func makeServer(userData: UnsafeMutableRawPointer, _ limits: ServerLimits) -> OpaquePointer? {
        guard let callbacks = HTTP2Callbacks.make() else { return nil }
        defer { nghttp2_session_callbacks_del(callbacks) }
        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else { return nil }
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_no_auto_window_update(option, 1)
        var session: OpaquePointer?
        guard nghttp2_session_server_new2(&session, callbacks, userData, option) == 0, let session else { return nil }
        let h2 = limits.http2
        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: h2.maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: UInt32(h2.streamWindow)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: UInt32(clamping: limits.http1.maxHeaderBytes)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL.rawValue), value: 1),
        ]
        guard nghttp2_submit_settings(session, H2.flagNone, &settings, settings.count) == 0,
              nghttp2_session_set_local_window_size(session, H2.flagNone, 0, 1 << 20) == 0 else {
            nghttp2_session_del(session)
            return nil
        }
        return session
    }
}
