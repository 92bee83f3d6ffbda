#!/usr/bin/env python3
"""RFC 8441 WebSockets over HTTP/2 against a Quantum server, with the PyPI `h2` package as the
peer: extended CONNECT streams carrying masked WebSocket frames in DATA.
Run: h2_websocket.py --port N [--tls CAFILE --host NAME] CASE...
Prints 'PASS case' or 'FAIL case: why' per case (and 'READY' lines some cases wait behind);
exit status 1 when any failed.

The server's routes (HTTP2WebSocketTests.swift): /echo websocket_echo, /deflate the same with
compression, /greeter test_ws_greeter (subprotocols chat, superchat), /flood test_ws_flood
(50 binary messages of 64 KiB), anything else answers "plain". `proxy_echo` runs against a
reverse proxy instead (QuantumReverseProxyTests).
"""
import argparse
import os
import socket
import ssl
import struct
import sys
import time
import zlib

import h2.config
import h2.connection
import h2.events
import h2.settings

import h2_frames  # beside this script: the shared Peer.flush/pump

TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0


def ws_frame(opcode, payload=b"", fin=True, rsv1=False):
    """A client frame: masked, as RFC 6455 §5.3 requires."""
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_payload(code, reason=b""):
    return struct.pack(">H", code) + reason


class Frames:
    """Parses the server's (unmasked) WebSocket frames out of a stream's DATA."""

    def __init__(self):
        self.buf = b""
        self.frames = []  # (fin, rsv1, opcode, payload)

    def feed(self, data):
        self.buf += data
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            assert b1 & 0x80 == 0, "server frames must not be masked"
            n, off = b1 & 0x7F, 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, off = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
            if len(self.buf) < off + n:
                return
            self.frames.append((bool(b0 & 0x80), bool(b0 & 0x40), b0 & 0x0F, self.buf[off:off + n]))
            self.buf = self.buf[off + n:]


class Peer(h2_frames.Peer):
    """An h2 client connection (h2c by prior knowledge, or TLS with ALPN h2)."""

    def __init__(self, args, auto_ack=True, timeout=5.0):
        self.auto_ack = auto_ack
        raw = socket.create_connection(("127.0.0.1", args.port), timeout=timeout)
        if args.tls:
            ctx = ssl.create_default_context(cafile=args.tls)
            ctx.set_alpn_protocols(["h2"])
            raw = ctx.wrap_socket(raw, server_hostname=args.host)
            assert raw.selected_alpn_protocol() == "h2", f"ALPN chose {raw.selected_alpn_protocol()}"
        self.sock = raw
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        self.flush()
        self.events = []
        self.frames = {}  # stream id -> Frames
        self.closed = False
        self.received_bytes = {}
        self.unacked = {}
        self.pump(2, until=lambda: self.conn.remote_settings.enable_connect_protocol == 1)
        assert self.conn.remote_settings.enable_connect_protocol == 1, "no SETTINGS_ENABLE_CONNECT_PROTOCOL"

    # flush() and pump() come from h2_frames.Peer; this peer's events feed WebSocket frames.
    def on_event(self, ev):
        if isinstance(ev, h2.events.DataReceived):
            self.received_bytes[ev.stream_id] = self.received_bytes.get(ev.stream_id, 0) + len(ev.data)
            if ev.stream_id in self.frames:
                self.frames[ev.stream_id].feed(ev.data)
            if ev.flow_controlled_length:
                if self.auto_ack:
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                else:
                    self.unacked[ev.stream_id] = self.unacked.get(ev.stream_id, 0) + ev.flow_controlled_length

    def receive(self, data):
        """Feeds h2 one frame at a time: after a graceful GOAWAY, streams already open may still
        finish (RFC 9113 §6.8), but h2 closes its whole state machine on one; reopen it."""
        self.inbuf = getattr(self, "inbuf", b"") + data
        events = []
        while len(self.inbuf) >= 9:
            n = 9 + int.from_bytes(self.inbuf[0:3], "big")
            if len(self.inbuf) < n:
                break
            one, self.inbuf = self.inbuf[:n], self.inbuf[n:]
            for ev in self.conn.receive_data(one):
                events.append(ev)
                if isinstance(ev, h2.events.ConnectionTerminated) and ev.error_code == 0:
                    self.conn.state_machine.state = h2.connection.ConnectionState.CLIENT_OPEN
        return events

    def ack_all(self):
        self.auto_ack = True
        for sid, n in self.unacked.items():
            try:
                self.conn.acknowledge_received_data(n, sid)
            except Exception:  # noqa: BLE001 — the stream may be gone
                pass
        self.unacked = {}
        self.flush()

    def websocket(self, path, extra=(), expect="200"):
        """Opens an extended CONNECT; returns the stream id once the response headers came."""
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
                                     (":path", path), (":authority", "127.0.0.1"),
                                     ("sec-websocket-version", "13")] + list(extra), end_stream=False)
        self.frames[sid] = Frames()
        self.flush()
        assert self.pump(5, until=lambda: self.response(sid) is not None), "no response to the extended CONNECT"
        status = self.response(sid).get(":status")
        assert status == expect, f"status {status}, want {expect}"
        return sid

    def request(self, path, method="GET", extra=(), end=True):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", method), (":path", path), (":scheme", "http"),
                                     (":authority", "127.0.0.1")] + list(extra), end_stream=end)
        self.flush()
        return sid

    def response(self, sid):
        for e in self.events:
            if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid:
                return dict(e.headers)
        return None

    def body(self, sid):
        return b"".join(e.data for e in self.events if isinstance(e, h2.events.DataReceived) and e.stream_id == sid)

    def ended(self, sid):
        return any(isinstance(e, h2.events.StreamEnded) and e.stream_id == sid for e in self.events)

    def reset(self, sid):
        return next((e for e in self.events if isinstance(e, h2.events.StreamReset) and e.stream_id == sid), None)

    def send(self, sid, data, end=False):
        """Sends `data` on the stream as the windows allow."""
        sent = 0
        deadline = time.time() + 10
        while sent < len(data) or (end and sent == len(data) == 0):
            n = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size, len(data) - sent)
            if n > 0 or len(data) == 0:
                last = sent + n == len(data)
                self.conn.send_data(sid, data[sent:sent + n], end_stream=end and last)
                sent += n
                self.flush()
                if len(data) == 0:
                    break
            else:
                assert time.time() < deadline, f"send window stuck after {sent} bytes"
                self.pump(0.05)

    def next_frame(self, sid, seconds=5):
        f = self.frames[sid]
        assert self.pump(seconds, until=lambda: len(f.frames) > 0), f"no frame (ended={self.ended(sid)})"
        return f.frames.pop(0)

    def expect_message(self, sid, opcode, payload):
        got = self.next_frame(sid)
        assert got == (True, False, opcode, payload), f"got {got[:3]} {got[3][:40]!r}, want {opcode} {payload[:40]!r}"


def close_handshake(p, sid, code=1000):
    """We close with `code`; the server echoes it and ends the stream; we end ours."""
    p.send(sid, ws_frame(CLOSE, close_payload(code, b"bye")))
    fin, _, op, payload = p.next_frame(sid)
    assert op == CLOSE and struct.unpack(">H", payload[:2])[0] == code, f"close answer {op} {payload!r}"
    assert p.pump(5, until=lambda: p.ended(sid)), "no END_STREAM after the close handshake"
    p.send(sid, b"", end=True)
    p.pump(0.2)
    assert p.reset(sid) is None, f"stream reset: {p.reset(sid)}"


# --- cases -----------------------------------------------------------------------------------

def case_echo(args):
    """Text, binary (bigger than a frame and the initial window), a fragmented message with a
    ping between its fragments, ping → pong, and the close handshake with 1000."""
    p = Peer(args)
    sid = p.websocket("/echo")
    headers = p.response(sid)
    assert "sec-websocket-accept" not in headers and "upgrade" not in headers, f"HTTP/1.1 headers: {headers}"
    p.send(sid, ws_frame(TEXT, "hello h2 ✓".encode()))
    p.expect_message(sid, TEXT, "hello h2 ✓".encode())
    blob = bytes(range(256)) * 400  # 102,400 bytes
    p.send(sid, ws_frame(BINARY, blob))
    p.expect_message(sid, BINARY, blob)
    p.send(sid, ws_frame(TEXT, b"frag", fin=False) + ws_frame(PING, b"mid") + ws_frame(CONT, b"men", fin=False)
           + ws_frame(CONT, b"ted"))
    p.expect_message(sid, PONG, b"mid")
    p.expect_message(sid, TEXT, b"fragmented")
    p.send(sid, ws_frame(PING, b"are you there"))
    p.expect_message(sid, PONG, b"are you there")
    close_handshake(p, sid)


def case_subprotocol(args):
    p = Peer(args)
    sid = p.websocket("/greeter", extra=[("sec-websocket-protocol", "superchat, other")])
    assert p.response(sid).get("sec-websocket-protocol") == "superchat", p.response(sid)
    p.expect_message(sid, TEXT, b"hello superchat")
    p.send(sid, ws_frame(TEXT, b"bye"))
    fin, _, op, payload = p.next_frame(sid)
    assert op == CLOSE and struct.unpack(">H", payload[:2])[0] == 4001, f"{op} {payload!r}"
    p.send(sid, ws_frame(CLOSE, payload[:2]))
    assert p.pump(5, until=lambda: p.ended(sid)), "no END_STREAM"


def case_deflate(args):
    """permessage-deflate negotiated on the extended CONNECT; compressed frames both ways."""
    p = Peer(args)
    sid = p.websocket("/deflate", extra=[("sec-websocket-extensions", "permessage-deflate; client_max_window_bits")])
    ext = p.response(sid).get("sec-websocket-extensions", "")
    assert ext.startswith("permessage-deflate"), f"extensions {ext!r}"
    comp = zlib.compressobj(wbits=-15)
    decomp = zlib.decompressobj(wbits=-15)
    for text in [b"Hello, Hello, Hello, deflate over h2! " * 50, b"second message shares the window " * 20]:
        data = comp.compress(text) + comp.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(b"\x00\x00\xff\xff")
        p.send(sid, ws_frame(TEXT, data[:-4], rsv1=True))
        fin, rsv1, op, payload = p.next_frame(sid)
        assert fin and rsv1 and op == TEXT, f"echo not compressed: {(fin, rsv1, op)}"
        assert len(payload) < len(text), "echo not smaller than the text"
        got = decomp.decompress(payload + b"\x00\x00\xff\xff")
        assert got == text, f"decompressed {got[:40]!r}"
    close_handshake(p, sid)


def case_other_streams(args):
    """Plain requests and a second WebSocket on the same connection while one is open."""
    p = Peer(args)
    ws1 = p.websocket("/echo")
    get = p.request("/something")
    assert p.pump(5, until=lambda: p.ended(get)), "GET not answered while a WebSocket is open"
    assert p.body(get) == b"plain" and p.response(get)[":status"] == "200", p.body(get)
    ws2 = p.websocket("/echo")
    p.send(ws1, ws_frame(TEXT, b"one"))
    p.send(ws2, ws_frame(TEXT, b"two"))
    p.expect_message(ws2, TEXT, b"two")
    p.expect_message(ws1, TEXT, b"one")
    close_handshake(p, ws2)
    again = p.request("/after")
    assert p.pump(5, until=lambda: p.ended(again)) and p.body(again) == b"plain"
    p.send(ws1, ws_frame(TEXT, b"still open"))
    p.expect_message(ws1, TEXT, b"still open")
    close_handshake(p, ws1)


def case_unclaimed_and_rejected(args):
    """An extended CONNECT no handler claims is answered by the routes; plain CONNECT and other
    :protocol values get 501; a wrong version 426; the connection keeps working."""
    p = Peer(args)
    sid = p.websocket("/no-socket-here")
    assert p.pump(5, until=lambda: p.ended(sid)) and p.body(sid) == b"plain", p.body(sid)
    plain = p.conn.get_next_available_stream_id()
    p.conn.send_headers(plain, [(":method", "CONNECT"), (":authority", "example.com:443")], end_stream=False)
    p.flush()
    assert p.pump(5, until=lambda: p.response(plain) is not None), "plain CONNECT not answered"
    assert p.response(plain)[":status"] == "501", p.response(plain)
    other = p.conn.get_next_available_stream_id()
    p.conn.send_headers(other, [(":method", "CONNECT"), (":protocol", "webtransport"), (":scheme", "https"),
                                (":path", "/echo"), (":authority", "127.0.0.1")], end_stream=False)
    p.flush()
    assert p.pump(5, until=lambda: p.response(other) is not None), ":protocol webtransport not answered"
    assert p.response(other)[":status"] == "501", p.response(other)
    p.websocket("/echo", extra=[("sec-websocket-version", "8")], expect="426")
    last = p.request("/x")
    assert p.pump(5, until=lambda: p.ended(last)) and p.body(last) == b"plain"


def case_client_reset(args):
    """RST_STREAM from the client ends the socket; other streams carry on."""
    p = Peer(args)
    sid = p.websocket("/echo")
    p.send(sid, ws_frame(TEXT, b"before"))
    p.expect_message(sid, TEXT, b"before")
    p.conn.reset_stream(sid, error_code=8)
    p.flush()
    ws = p.websocket("/echo")
    p.send(ws, ws_frame(TEXT, b"after"))
    p.expect_message(ws, TEXT, b"after")
    close_handshake(p, ws)


def case_peer_end_stream(args):
    """END_STREAM without a close frame: the server ends its side too (1006 on its end)."""
    p = Peer(args)
    sid = p.websocket("/echo")
    p.send(sid, ws_frame(TEXT, b"x"))
    p.expect_message(sid, TEXT, b"x")
    p.send(sid, b"", end=True)
    assert p.pump(5, until=lambda: p.ended(sid) or p.reset(sid) is not None), "server kept the stream open"


def case_protocol_error_1002(args):
    """Hostile bytes in the stream: an unmasked client frame gets close 1002 and END_STREAM;
    the connection and its other streams are unharmed."""
    p = Peer(args)
    sid = p.websocket("/echo")
    p.send(sid, bytes([0x81, 0x03]) + b"abc")  # no mask bit
    fin, _, op, payload = p.next_frame(sid)
    assert op == CLOSE and struct.unpack(">H", payload[:2])[0] == 1002, f"{op} {payload!r}"
    assert p.pump(5, until=lambda: p.ended(sid) or p.reset(sid) is not None), "stream left open"
    junk = p.websocket("/echo")
    p.send(junk, os.urandom(4096), end=True)
    p.pump(1, until=lambda: p.ended(junk) or p.reset(junk) is not None)
    last = p.request("/x")
    assert p.pump(5, until=lambda: p.ended(last)) and p.body(last) == b"plain", "connection harmed"


def case_inbound_back_pressure(args):
    """A client that does not take its echoes: the server stops refunding the stream window
    once its answers back up, so what the client can push stays bounded; everything is echoed
    in order once the client reads again."""
    p = Peer(args, auto_ack=False)
    sid = p.websocket("/echo")
    msg = bytes(16000)
    sent = 0
    stuck_since = None
    deadline = time.time() + 15
    while time.time() < deadline:
        if p.conn.local_flow_control_window(sid) >= len(msg) + 8:
            p.conn.send_data(sid, ws_frame(BINARY, msg[:4] + struct.pack(">I", sent) + msg[8:]))
            p.flush()
            sent += 1
            stuck_since = None
        else:
            stuck_since = stuck_since or time.time()
            if time.time() - stuck_since > 1.0:
                break
            p.pump(0.05)
    total = sent * len(msg)
    assert stuck_since is not None, f"never stopped: {total} bytes pushed"
    assert total < 4 << 20, f"{total} bytes accepted while the client read nothing"
    print(f"back-pressure: {sent} messages ({total} bytes) accepted before the window closed")
    p.ack_all()
    for i in range(sent):
        fin, rsv1, op, payload = p.next_frame(sid, 10)
        assert op == BINARY and struct.unpack(">I", payload[4:8])[0] == i, f"message {i}: {op} {payload[:8]!r}"
    close_handshake(p, sid)


def case_flood_waits_for_reader(args):
    """The server's sender (50 × 64 KiB) waits while the client keeps its window closed; READY
    marks the stall (the test reads the server's count then); then all arrive in order."""
    p = Peer(args, auto_ack=False)
    sid = p.websocket("/flood")
    p.pump(2.5)
    got = p.received_bytes.get(sid, 0)
    assert got <= 65535, f"{got} bytes past the 65,535-byte window"
    print(f"READY stalled at {got} bytes")
    sys.stdout.flush()
    p.pump(0.5)
    p.ack_all()
    for i in range(50):
        fin, rsv1, op, payload = p.next_frame(sid, 10)
        assert op == BINARY and len(payload) == 65536, f"message {i}: {op} {len(payload)}"
        assert struct.unpack(">I", payload[:4])[0] == i, f"message {i} out of order"
    close_handshake(p, sid)


def case_proxy_echo(args):
    """Through `reverse_proxy` to an HTTP/1.1 upstream's websocket_echo at /ws (the proxy turns
    the extended CONNECT into an Upgrade and the 101 into a 200); a plain GET on the same
    connection meanwhile (the upstream answers its name, "W")."""
    p = Peer(args)
    sid = p.websocket("/ws")
    headers = p.response(sid)
    assert "sec-websocket-accept" not in headers and "upgrade" not in headers, f"HTTP/1.1 headers: {headers}"
    p.send(sid, ws_frame(TEXT, b"through the proxy"))
    p.expect_message(sid, TEXT, b"through the proxy")
    get = p.request("/name")
    assert p.pump(5, until=lambda: p.ended(get)) and p.body(get) == b"W", p.body(get)
    blob = os.urandom(200000)
    p.send(sid, ws_frame(BINARY, blob))
    p.expect_message(sid, BINARY, blob)
    p.send(sid, ws_frame(PING, b"up there?"))
    p.expect_message(sid, PONG, b"up there?")
    close_handshake(p, sid)


def case_proxy_refused(args):
    """Through `reverse_proxy` to a path whose upstream does not switch protocols (it answers its
    name with a 200): the client must get a 502, never a 2xx that would say the tunnel is open."""
    p = Peer(args)
    p.websocket("/name", expect="502")
    get = p.request("/name")
    assert p.pump(5, until=lambda: p.ended(get)) and p.body(get) == b"W", p.body(get)


def case_shutdown_1001(args):
    """Prints READY with a socket open, then expects the server's close 1001 (graceful stop)."""
    p = Peer(args)
    sid = p.websocket("/echo")
    p.send(sid, ws_frame(TEXT, b"up"))
    p.expect_message(sid, TEXT, b"up")
    print("READY")
    sys.stdout.flush()
    fin, _, op, payload = p.next_frame(sid, 15)
    assert op == CLOSE and struct.unpack(">H", payload[:2])[0] == 1001, f"{op} {payload!r}"
    assert any(isinstance(e, h2.events.ConnectionTerminated) for e in p.events), "no GOAWAY"
    p.send(sid, ws_frame(CLOSE, close_payload(1001)))
    assert p.pump(5, until=lambda: p.ended(sid)), "no END_STREAM after the close"


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls", help="CA file: connect with TLS (ALPN h2)")
    ap.add_argument("--host", default="a.test", help="TLS server name")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    failed = 0
    for name in args.cases or list(CASES):
        try:
            CASES[name](args)
            print(f"PASS {name}")
        except Exception as e:  # noqa: BLE001 — report every case
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
        sys.stdout.flush()
    sys.exit(1 if failed else 0)
