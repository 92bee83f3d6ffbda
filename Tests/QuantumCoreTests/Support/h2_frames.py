#!/usr/bin/env python3
"""Frame-level HTTP/2 cases against a Quantum server (h2c, prior knowledge), with the PyPI
`h2` package (and its `hpack`/`hyperframe`) as the peer. Run: h2_frames.py --port N CASE...
Prints 'PASS case' or 'FAIL case: why' per case; exit status 1 when any failed.

The server's routes (HTTP2FrameTests.swift): /big streams 500,000 bytes; /slow sleeps 1.5 s
without reading its body; /collect echoes the whole body; anything else answers "ok".

The stream-error cases at the end (RFC 9113) each run four variants: against "/" (answered at
once) and "/slow" (answered after 1.5 s), with the faulty frame in the same TCP write as the
request's HEADERS ("together") or sent once the response HEADERS arrived or 50 ms passed
("after-wait"). Each variant wants the error the RFC calls for and no response HEADERS for the
faulty stream after the faulty frame was sent (in "together": none at all).
"""
import argparse
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
from hpack import Decoder, Encoder

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 7, 8, 9
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, CANCEL = 1, 3, 5, 8
ERROR_NAMES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
               4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM",
               8: "CANCEL", 9: "COMPRESSION_ERROR"}


class Peer:
    """An h2 client connection over a blocking socket with a read timeout."""

    def __init__(self, port, settings=None, timeout=3.0, auto_ack=True):
        self.auto_ack = auto_ack
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.flush()
        self.events = []
        self.closed = False
        self.remote_settings_seen = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            try:
                self.sock.sendall(data)
            except OSError:
                self.closed = True

    def pump(self, seconds=0.3, until=None):
        """Reads and handles frames for up to `seconds` (or until `until()` holds)."""
        deadline = time.time() + seconds
        while time.time() < deadline and not self.closed:
            if until and until():
                return True
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:  # ssl.SSLError included
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            for ev in self.receive(data):
                self.events.append(ev)
                self.on_event(ev)
            self.flush()
        return until() if until else True

    def receive(self, data):
        return self.conn.receive_data(data)

    def on_event(self, ev):
        if isinstance(ev, h2.events.RemoteSettingsChanged):
            self.remote_settings_seen = True
        if self.auto_ack and isinstance(ev, h2.events.DataReceived) and ev.flow_controlled_length:
            self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)

    def request(self, path, method="GET", end=True, extra=()):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", method), (":path", path), (":scheme", "http"),
                                     (":authority", "127.0.0.1")] + list(extra), end_stream=end)
        self.flush()
        return sid

    def body(self, sid):
        return b"".join(e.data for e in self.events if isinstance(e, h2.events.DataReceived) and e.stream_id == sid)

    def ended(self, sid):
        return any(isinstance(e, h2.events.StreamEnded) and e.stream_id == sid for e in self.events)

    def status(self, sid):
        for e in self.events:
            if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid:
                return dict(e.headers).get(":status")
        return None

    def resets(self, code=None):
        return [e for e in self.events if isinstance(e, h2.events.StreamReset) and (code is None or e.error_code == code)]

    def goaway(self):
        return next((e for e in self.events if isinstance(e, h2.events.ConnectionTerminated)), None)


def alive(port):
    """The server still answers a fresh connection."""
    p = Peer(port)
    sid = p.request("/")
    ok = p.pump(3, until=lambda: p.ended(sid))
    return ok and p.body(sid) == b"ok"


def raw_connection(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(PREFACE + frame(SETTINGS, 0, 0))
    return s


def frame(ftype, flags, sid, payload=b""):
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, ftype, flags, sid) + payload


def read_until_goaway_or_close(s, seconds):
    """Returns ('goaway', code), ('closed', None) or ('timeout', None)."""
    buf = b""
    deadline = time.time() + seconds
    while time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            return ("timeout", None)
        except OSError:
            return ("closed", None)
        if not data:
            return ("closed", None)
        buf += data
        while len(buf) >= 9:
            n = int.from_bytes(buf[0:3], "big")
            if len(buf) < 9 + n:
                break
            ftype, payload = buf[3], buf[9:9 + n]
            buf = buf[9 + n:]
            if ftype == GOAWAY:
                return ("goaway", int.from_bytes(payload[4:8], "big"))
    return ("timeout", None)


# --- cases -----------------------------------------------------------------------------------

def case_flow_control_windows(port):
    """The server never sends more DATA than the client's windows allow; a stream whose window
    is exhausted does not hold up another stream once the connection window is opened."""
    p = Peer(port, auto_ack=False)
    big = p.request("/big")
    p.pump(1.0)
    got = len(p.body(big))
    assert got == 65535, f"expected exactly the initial 65535-byte window, got {got}"
    # Open only the connection window: a second stream must complete while /big stays stalled.
    p.conn.increment_flow_control_window(1 << 20)
    p.flush()
    small = p.request("/")
    assert p.pump(3, until=lambda: p.ended(small)), "second stream starved"
    assert len(p.body(big)) == 65535, "stream window exceeded"
    # Now open /big's window step by step until it completes.
    for _ in range(200):
        if p.ended(big):
            break
        p.conn.increment_flow_control_window(65536, stream_id=big)
        p.conn.increment_flow_control_window(65536)
        p.flush()
        p.pump(0.2)
    assert p.ended(big) and len(p.body(big)) == 500000, f"/big got {len(p.body(big))} bytes"


def case_slow_reader_does_not_stall_others(port):
    """A handler that does not read its request body holds back only its own stream."""
    p = Peer(port)
    slow = p.request("/slow", method="POST", end=False)
    p.pump(0.3, until=lambda: p.remote_settings_seen)
    window = p.conn.local_flow_control_window(slow)
    assert window == 262144, f"stream window {window}"
    for _ in range(window // 16384):  # fills the stream's window; the handler reads nothing
        p.conn.send_data(slow, b"x" * 16384)
    p.flush()
    p.pump(0.2)
    fast = p.request("/collect", method="POST", end=False)
    payload = bytes(range(256)) * 400  # 102,400 bytes
    sent = 0
    deadline = time.time() + 3
    while sent < len(payload) and time.time() < deadline:
        n = min(p.conn.local_flow_control_window(fast), len(payload) - sent, 16384)
        if n > 0:
            p.conn.send_data(fast, payload[sent:sent + n])
            sent += n
            p.flush()
        else:
            p.pump(0.05)
    p.conn.end_stream(fast)
    p.flush()
    assert p.pump(3, until=lambda: p.ended(fast)), f"echo stalled behind the slow stream (sent {sent})"
    assert p.body(fast) == payload, "echo body differs"
    assert not p.ended(slow), "slow stream ended too early"


def case_rst_stream_leaves_others(port):
    p = Peer(port)
    big = p.request("/big")
    other = p.request("/")
    p.conn.reset_stream(big, error_code=8)  # CANCEL
    p.flush()
    assert p.pump(3, until=lambda: p.ended(other)), "other stream not answered"
    after = p.request("/")
    assert p.pump(3, until=lambda: p.ended(after)), "stream after the reset not answered"
    assert p.body(after) == b"ok"
    assert p.goaway() is None, "connection ended"


def case_bad_hpack_is_connection_error(port):
    s = raw_connection(port)
    # An indexed header field pointing far past the static and dynamic tables.
    s.sendall(frame(HEADERS, 0x5, 1, b"\xff\xff\xff\xff\x0f"))
    kind, code = read_until_goaway_or_close(s, 3)
    assert kind in ("goaway", "closed"), f"no connection error ({kind})"
    if kind == "goaway":
        assert code == 9, f"GOAWAY error code {code}, want COMPRESSION_ERROR (9)"
    assert alive(port), "server stopped answering"


def case_too_many_streams_refused(port):
    """Over SETTINGS_MAX_CONCURRENT_STREAMS (250): before the client acknowledged the setting,
    the extra streams are refused (REFUSED_STREAM) and the others answered; after it, nghttp2
    treats the excess as a connection error (GOAWAY PROTOCOL_ERROR). Never a crash."""
    limit = 250
    unlimited = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1000}
    # Streams sent with the preface, before the server's SETTINGS could be acknowledged.
    p = Peer(port)
    # Bypass the h2 library's own limit: it would refuse to open stream 251 itself.
    p.conn.remote_settings = h2.settings.Settings(client=False, initial_values=unlimited)
    sids = [p.request("/slow") for _ in range(limit + 10)]
    p.pump(6, until=lambda: sum(1 for s in sids if p.ended(s)) + len(p.resets()) >= len(sids))
    refused = p.resets(7)  # REFUSED_STREAM
    answered = sum(1 for s in sids if p.ended(s))
    assert len(refused) == 10, f"{len(refused)} refused, want 10"
    assert answered == limit, f"{answered} answered, want {limit}"
    assert p.goaway() is None
    # After the acknowledgement: a connection error, not a crash.
    q = Peer(port)
    q.pump(0.5, until=lambda: q.remote_settings_seen)
    assert q.conn.remote_settings.max_concurrent_streams == limit
    q.pump(0.2)
    q.conn.remote_settings = h2.settings.Settings(client=False, initial_values=unlimited)
    for _ in range(limit + 10):
        q.request("/slow")
    q.pump(3, until=lambda: q.goaway() is not None or len(q.resets(7)) >= 10)
    g = q.goaway()
    # The GOAWAY may be lost to the TCP reset when the server closes with requests unread.
    assert (g is not None and g.error_code == 1) or len(q.resets(7)) >= 10 or q.closed, f"goaway {g}, resets {len(q.resets())}"
    assert alive(port), "server stopped answering"


def case_continuation_flood_is_error(port):
    s = raw_connection(port)
    enc = Encoder()
    block = enc.encode([(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", "x")])
    s.sendall(frame(HEADERS, 0x1, 1, block))  # END_STREAM, no END_HEADERS
    junk = enc.encode([("x-flood", "a" * 100)])
    kind = "timeout"
    try:
        for _ in range(20000):
            s.sendall(frame(CONTINUATION, 0, 1, junk))
    except OSError:
        kind = "closed"
    if kind != "closed":
        kind, code = read_until_goaway_or_close(s, 3)
    assert kind in ("goaway", "closed"), f"flood not stopped ({kind})"
    assert alive(port), "server stopped answering"


def case_reset_slow_stream(port):
    """A slow handler's stream is reset once it started; the handler's task must be cancelled
    (the Swift test checks that it never finished)."""
    p = Peer(port)
    sid = p.request("/reset-slow")
    p.pump(0.4)
    p.conn.reset_stream(sid, error_code=8)  # CANCEL
    p.flush()
    p.pump(0.2)
    assert p.goaway() is None, "connection ended"


def case_close_with_slow_stream(port):
    """The connection closes while a slow handler runs: its task must be cancelled."""
    p = Peer(port)
    p.request("/close-slow")
    p.pump(0.4)
    p.sock.close()


def case_oversized_headers_431(port):
    p = Peer(port)
    sid = p.request("/", extra=[("x-big", "a" * 20000)])
    p.pump(3, until=lambda: p.ended(sid) or p.resets())
    assert p.status(sid) == "431", f"status {p.status(sid)}, resets {p.resets()}"
    assert alive(port)


def case_answered_stream_with_body_open_is_reset(port):
    """A request answered before its body ended (here a 431, its headers too large) is reset
    with NO_ERROR after a moment, not left open holding a stream slot."""
    p = Peer(port)
    sid = p.request("/", end=False, extra=[("x-big", "a" * 20000)])
    p.pump(3, until=lambda: p.ended(sid))
    assert p.status(sid) == "431", f"status {p.status(sid)}"
    p.pump(3, until=lambda: p.resets())
    assert [f for f in p.resets() if f.stream_id == sid and f.error_code == 0], f"no RST_STREAM(NO_ERROR) for {sid}: {p.resets()}"
    assert p.goaway() is None


# --- connection-level faults (RFC 9113 §4-§6): the error each calls for, and no harm done ----

def connection_error(port, frames, want, what):
    s = raw_connection(port)
    s.sendall(frames)
    kind, code = read_until_goaway_or_close(s, 3)
    s.close()
    assert kind == "goaway" and code in want, f"{what}: {kind} {ERROR_NAMES.get(code, code)}, want GOAWAY {[ERROR_NAMES[w] for w in want]}"
    assert alive(port), "server stopped answering"


def case_data_on_stream_zero(port):
    connection_error(port, frame(DATA, 0, 0, b"x"), {1}, "DATA on stream 0 (§6.1)")


def case_headers_on_even_stream(port):
    connection_error(port, frame(HEADERS, 0x5, 2, b"\x82\x86\x84"), {1},
                     "HEADERS on a server-initiated (even) stream id (§5.1.1)")


def case_settings_with_bad_length(port):
    connection_error(port, frame(SETTINGS, 0, 0, b"\x00\x04\x00"), {6}, "SETTINGS whose length is not a multiple of 6 (§6.5)")


def case_settings_window_too_large(port):
    connection_error(port, frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 1 << 31)), {3},
                     "SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1 (§6.5.2)")


def case_connection_window_overflow(port):
    connection_error(port, frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7FFFFFFF)) * 2, {3},
                     "connection window pushed past 2^31-1 (§6.9.1)")


def case_ping_is_answered(port):
    """PING comes back with ACK and the same eight bytes; an unknown frame type is ignored."""
    s = raw_connection(port)
    s.sendall(frame(0xFA, 0, 0, b"ignore me") + frame(6, 0, 0, b"12345678"))
    buf, deadline = b"", time.time() + 3
    while time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        buf += data
        if b"\x00\x00\x08\x06\x01\x00\x00\x00\x0012345678" in buf:
            break
    s.close()
    assert b"\x00\x00\x08\x06\x01\x00\x00\x00\x0012345678" in buf, "no PING ACK with the same payload"
    assert alive(port)


def case_bad_preface_is_refused(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + frame(SETTINGS, 0, 0))
    kind, _ = read_until_goaway_or_close(s, 3)
    s.close()
    assert kind in ("goaway", "closed"), f"a broken preface got {kind}"
    assert alive(port)


# --- stream-state errors (RFC 9113), each against "/" and "/slow", two timings -----------------

SLOW_MILLIS = 1500
PATHS = ("/", "/slow")
TIMINGS = ("together", "after-wait")


class FramePeer:
    """A raw-frame client: sends what it is told (valid or not), reads and HPACK-decodes what
    the server sends, timestamped, and acknowledges the server's SETTINGS."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=3)
        # No Nagle: our SETTINGS ACK, still unacknowledged, would hold the request back ~40 ms.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.enc, self.dec = Encoder(), Decoder()
        self.buf, self.block = b"", None  # unparsed bytes; (sid, flags, t, fragments) of a header block
        self.frames = []  # (t, type, flags, sid, info): header dict, error code, or the payload
        self.closed = False
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        self.pump(3, until=lambda: any(f[1] == SETTINGS and f[2] & ACK for f in self.frames))

    def send(self, data):
        """Writes `data` in one sendall (one TCP segment on loopback); returns when."""
        t = time.monotonic()
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True
        return t

    def headers_frame(self, sid, path, end_stream=False, method="POST", extra=()):
        block = self.enc.encode([(":method", method), (":path", path), (":scheme", "http"),
                                 (":authority", "127.0.0.1")] + list(extra))
        return frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0), sid, block)

    def pump(self, seconds, until=None):
        deadline = time.monotonic() + seconds
        while not self.closed and not (until and until()):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            self.parse(data, time.monotonic())
        return until() if until else True

    def parse(self, data, t):
        self.buf += data
        while len(self.buf) >= 9:
            n = int.from_bytes(self.buf[0:3], "big")
            if len(self.buf) < 9 + n:
                break
            ftype, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            payload, self.buf = self.buf[9:9 + n], self.buf[9 + n:]
            if ftype == HEADERS:
                if flags & PADDED:
                    payload = payload[1:len(payload) - payload[0]]
                if flags & PRIORITY_FLAG:
                    payload = payload[5:]
                self.block = (sid, flags, t, [payload])
            elif ftype == CONTINUATION and self.block:
                self.block[3].append(payload)
                flags |= self.block[1] & END_STREAM
            if ftype in (HEADERS, CONTINUATION):
                if flags & END_HEADERS and self.block:
                    bsid, bflags, bt, parts = self.block
                    self.block = None
                    fields = dict((k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v)
                                  for k, v in self.dec.decode(b"".join(parts)))
                    self.frames.append((bt, HEADERS, bflags, bsid, fields))
                continue
            info = payload
            if ftype == RST_STREAM:
                info = int.from_bytes(payload[0:4], "big")
            elif ftype == GOAWAY:
                info = int.from_bytes(payload[4:8], "big")
            self.frames.append((t, ftype, flags, sid, info))
            if ftype == SETTINGS and not flags & ACK:
                self.send(frame(SETTINGS, ACK, 0))

    def responses(self, sid, since=0.0):
        return [f for f in self.frames if f[1] == HEADERS and f[3] == sid and f[0] >= since]

    def resets(self, sid, since=0.0):
        return [f for f in self.frames if f[1] == RST_STREAM and f[3] == sid and f[0] >= since]

    def goaway(self):
        return next((f for f in self.frames if f[1] == GOAWAY), None)

    def describe(self, sid, since):
        """The server's frames for `sid` and the connection from `since` on, for messages."""
        out = []
        for t, ftype, flags, fsid, info in self.frames:
            if t < since or fsid not in (0, sid) or ftype in (SETTINGS, WINDOW_UPDATE):
                continue
            at = f"{(t - since) * 1000:+.0f}ms"
            if ftype == HEADERS:
                out.append(f"HEADERS({fsid}) :status {info.get(':status')}{' END_STREAM' if flags & END_STREAM else ''} {at}")
            elif ftype == DATA:
                out.append(f"DATA({fsid}, {len(info)} B{', END_STREAM' if flags & END_STREAM else ''}) {at}")
            elif ftype == RST_STREAM:
                out.append(f"RST_STREAM({fsid}, {ERROR_NAMES.get(info, info)}) {at}")
            elif ftype == GOAWAY:
                out.append(f"GOAWAY({ERROR_NAMES.get(info, info)}) {at}")
            else:
                out.append(f"type {ftype}({fsid}) {at}")
        if self.closed:
            out.append("closed")
        return ", ".join(out) or "nothing"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def fault_variant(port, path, timing, setup, fault, sid, codes, connection_error=False):
    """One variant: `setup(peer, path)` gives the request's frames (its HEADERS first),
    `fault(peer, path)` the faulty frame(s) on stream `sid`. "together" sends both in one write;
    "after-wait" sends the fault once the response HEADERS for `sid` arrived or 50 ms passed.
    Wants GOAWAY with one of `codes` (or, unless `connection_error`, RST_STREAM on `sid` with one
    of them; RFC 9113 §5.4 lets a stream error be a connection error), and no response HEADERS
    for `sid` after the fault was sent. Returns None or what went wrong."""
    p = FramePeer(port)
    try:
        request = setup(p, path)
        if timing == "together":
            t_request = t_fault = p.send(request + fault(p, path))
        else:
            t_request = p.send(request)
            p.pump(0.05, until=lambda: p.responses(sid))
            t_fault = p.send(fault(p, path))
        answered_before = p.responses(sid, 0.0)

        def reacted():
            g = p.goaway()
            return (g is not None and g[0] >= t_fault) or bool(p.resets(sid, t_fault))
        # Until the server reacts (then 0.2 s more for anything after it) or, for "/slow", past
        # the handler's answer: a 200 the server should not send has time to show up.
        horizon = t_request + (SLOW_MILLIS / 1000 + 0.7 if path == "/slow" else 0.6)
        p.pump(max(0.0, horizon - time.monotonic()), until=reacted)
        if reacted():
            p.pump(0.2)
        late = p.responses(sid, t_fault)
        g = p.goaway()
        ok_goaway = g is not None and g[0] >= t_fault and g[4] in codes
        ok_reset = not connection_error and any(f[4] in codes for f in p.resets(sid, t_fault))
        wrong = []
        if late:
            wrong.append(f"response HEADERS :status {late[0][4].get(':status')} for stream {sid} after the fault")
        if not (ok_goaway or ok_reset):
            want = "/".join(ERROR_NAMES[c] for c in codes)
            wrong.append(f"no {'GOAWAY' if connection_error else 'RST_STREAM or GOAWAY'} {want}")
        if not wrong:
            return None
        before = f"; before it: {p.describe(sid, t_request)}" if answered_before else ""
        return f"[{path} {timing}] {' and '.join(wrong)}; after the fault: {p.describe(sid, t_fault)}{before}"
    finally:
        p.close()


def run_variants(port, setup, fault, sid, codes, connection_error=False):
    failures = [fault_variant(port, path, timing, setup, fault, sid, codes, connection_error)
                for path in PATHS for timing in TIMINGS]
    failures = [f for f in failures if f]
    assert alive(port), "server stopped answering"
    assert not failures, " | ".join(failures)


def case_lower_stream_id_is_protocol_error(port):
    """After stream 5 opened, HEADERS on stream 3 (implicitly closed, §5.1.1): a connection error
    PROTOCOL_ERROR, and no response on stream 3."""
    run_variants(port,
                 lambda p, path: p.headers_frame(5, path, end_stream=True, method="GET"),
                 lambda p, path: p.headers_frame(3, path, end_stream=True, method="GET"),
                 3, (PROTOCOL_ERROR,), connection_error=True)


def case_data_after_rst_is_stream_closed(port):
    """HEADERS without END_STREAM, our RST_STREAM, then DATA on that stream: a stream or
    connection error STREAM_CLOSED (§5.1), and never the handler's response."""
    run_variants(port,
                 lambda p, path: p.headers_frame(1, path),
                 lambda p, path: frame(RST_STREAM, 0, 1, struct.pack(">I", CANCEL)) + frame(DATA, 0, 1, b"hello"),
                 1, (STREAM_CLOSED,))


def case_second_headers_without_end_stream(port):
    """A second HEADERS on an open stream is a trailer block, which must carry END_STREAM
    (§8.1): without it, a stream or connection error PROTOCOL_ERROR."""
    run_variants(port,
                 lambda p, path: p.headers_frame(1, path),
                 lambda p, path: frame(HEADERS, END_HEADERS, 1, p.enc.encode([("x-trailer", "1")])),
                 1, (PROTOCOL_ERROR,))


def case_zero_window_update_on_stream(port):
    """WINDOW_UPDATE with increment 0 on an open stream: RST_STREAM PROTOCOL_ERROR (§6.9)."""
    run_variants(port,
                 lambda p, path: p.headers_frame(1, path),
                 lambda p, path: frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 0)),
                 1, (PROTOCOL_ERROR,))


def case_stream_window_overflow(port):
    """A WINDOW_UPDATE taking a stream's send window past 2^31-1: RST_STREAM FLOW_CONTROL_ERROR
    (§6.9.1). The window starts at 65,535 (we send no SETTINGS_INITIAL_WINDOW_SIZE)."""
    run_variants(port,
                 lambda p, path: p.headers_frame(1, path),
                 lambda p, path: frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 0x7FFFFFFF)),
                 1, (FLOW_CONTROL_ERROR,))


def case_data_invalid_pad_length(port):
    """DATA whose Pad Length (5) is not less than its payload (5 bytes): a connection error
    PROTOCOL_ERROR (§6.1)."""
    run_variants(port,
                 lambda p, path: p.headers_frame(1, path),
                 lambda p, path: frame(DATA, PADDED, 1, b"\x05" + b"abcd"),
                 1, (PROTOCOL_ERROR,), connection_error=True)


def case_content_length_mismatch(port):
    """content-length: 10 with 5 bytes of DATA and END_STREAM, then with 15: a stream error
    PROTOCOL_ERROR (§8.1.1), never a response for that stream."""
    failures = []
    for size in (5, 15):
        try:
            run_variants(port,
                         lambda p, path: p.headers_frame(1, path, extra=[("content-length", "10")]),
                         lambda p, path, size=size: frame(DATA, END_STREAM, 1, b"x" * size),
                         1, (PROTOCOL_ERROR,))
        except AssertionError as e:
            failures.append(f"{size} bytes: {e}")
    assert not failures, " || ".join(failures)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    failed = 0
    for name in args.cases or list(CASES):
        try:
            CASES[name](args.port)
            print(f"PASS {name}")
        except Exception as e:  # noqa: BLE001 — report every case
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
    sys.stdout.flush()
    sys.exit(1 if failed else 0)
