#!/usr/bin/env python3
"""Frame-level HTTP/2 cases against a Quantum server (h2c, prior knowledge), with the PyPI
`h2` package (and its `hpack`/`hyperframe`) as the peer. Run: h2_frames.py --port N CASE...
Prints 'PASS case' or 'FAIL case: why' per case; exit status 1 when any failed.

The server's routes (HTTP2FrameTests.swift): /big streams 500,000 bytes; /slow sleeps 1.5 s
without reading its body; /collect echoes the whole body; anything else answers "ok".
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
from hpack import Encoder

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
HEADERS, RST_STREAM, SETTINGS, GOAWAY, CONTINUATION = 1, 3, 4, 7, 9


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


def case_oversized_headers_431(port):
    p = Peer(port)
    sid = p.request("/", extra=[("x-big", "a" * 20000)])
    p.pump(3, until=lambda: p.ended(sid) or p.resets())
    assert p.status(sid) == "431", f"status {p.status(sid)}, resets {p.resets()}"
    assert alive(port)


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
