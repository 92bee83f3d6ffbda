#!/usr/bin/env python3
"""Hostile HTTP/1.1 requests against a server on 127.0.0.1, each on its own connection, each
with the answers RFC 9112 / RFC 9110 allow (a status, or the connection closed without one),
and a liveness check after every case: no byte sequence may stop the server.

    h1_probe.py --port N [--path /hello] [--body "Hello, World!"] [--only NAME ...]

The server is expected to answer GET PATH with 200 and BODY. Prints PASS/FAIL per case and a
closing line "N passed, N failed". Stdlib only.
"""
import argparse
import socket
import sys
import time

CLOSED = "closed"  # the connection ended without a response


def exchange(port, data, timeout=3.0, pause=0.0, responses=1):
    """Sends `data` (bytes, or a list of pieces sent `pause` s apart) and reads until `responses`
    complete responses came, the server closes, or `timeout` passes. Returns the raw bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        pieces = data if isinstance(data, list) else [data]
        for i, piece in enumerate(pieces):
            if i and pause:
                time.sleep(pause)
            try:
                s.sendall(piece)
            except OSError:
                break
        out = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            s.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if len(parse_responses(out)) >= responses:
                break
        return out
    finally:
        s.close()


def parse_responses(raw):
    """[(status, headers dict, body)] for the complete responses at the start of `raw`."""
    out = []
    while raw:
        head_end = raw.find(b"\r\n\r\n")
        if head_end < 0:
            break
        lines = raw[:head_end].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            break
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        rest = raw[head_end + 4:]
        if 100 <= status < 200:
            raw = rest
            continue
        if "content-length" in headers:
            n = int(headers["content-length"])
            if len(rest) < n:
                break
            body, raw = rest[:n], rest[n:]
        elif headers.get("transfer-encoding", "").lower().endswith("chunked"):
            body, raw = dechunk(rest)
            if body is None:
                break
        else:
            body, raw = rest, b""
        out.append((status, headers, body))
    return out


def dechunk(raw):
    body = b""
    while True:
        line_end = raw.find(b"\r\n")
        if line_end < 0:
            return None, raw
        size = int(raw[:line_end].split(b";")[0], 16)
        raw = raw[line_end + 2:]
        if size == 0:
            end = raw.find(b"\r\n")
            while end > 0:  # trailers
                raw = raw[end + 2:]
                end = raw.find(b"\r\n")
            return body, raw[2:] if end == 0 else raw
        if len(raw) < size + 2:
            return None, raw
        body += raw[:size]
        raw = raw[size + 2:]


def alive(port, path, body):
    try:
        r = parse_responses(exchange(port, f"GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n".encode(), timeout=5))
        return bool(r) and r[0][0] == 200 and r[0][2] == body
    except OSError:
        return False


def cases(path):
    p = path.encode()
    host = b"Host: probe\r\n"
    get = b"GET " + p + b" HTTP/1.1\r\n"
    post = b"POST " + p + b" HTTP/1.1\r\n"
    big = b"a" * (2 * 1024 * 1024)
    # name, request bytes, the first answers allowed (a status or CLOSED), description
    return [
        ("plain_get", get + host + b"Connection: close\r\n\r\n", {200}, "a valid request is answered"),
        ("absolute_form", b"GET http://probe" + p + b" HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n", {200},
         "absolute-form request target (RFC 9112 §3.2.2)"),
        ("http10_without_host", b"GET " + p + b" HTTP/1.0\r\n\r\n", {200}, "HTTP/1.0 needs no Host"),
        # Message framing: anything ambiguous is refused (RFC 9112 §6.1, §6.3).
        ("cl_and_te", post + host + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", {400, CLOSED},
         "Content-Length beside Transfer-Encoding (CL.TE smuggling)"),
        ("te_and_cl", post + host + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n",
         {400, CLOSED}, "Transfer-Encoding beside Content-Length (TE.CL smuggling)"),
        ("two_content_lengths", post + host + b"Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", {400, CLOSED},
         "two different Content-Length values"),
        ("content_length_list", post + host + b"Content-Length: 3, 5\r\n\r\nabcde", {400, CLOSED}, "a Content-Length list of different values"),
        ("content_length_sign", post + host + b"Content-Length: +5\r\n\r\nabcde", {400, CLOSED}, "a signed Content-Length"),
        ("content_length_negative", post + host + b"Content-Length: -1\r\n\r\n", {400, CLOSED}, "a negative Content-Length"),
        ("content_length_hex", post + host + b"Content-Length: 0x5\r\n\r\nabcde", {400, CLOSED}, "a hexadecimal Content-Length"),
        ("content_length_huge", post + host + b"Content-Length: 99999999999999999999999\r\n\r\n", {400, 413, CLOSED},
         "a Content-Length past 64 bits"),
        ("te_not_chunked_last", post + host + b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", {400, 501, CLOSED},
         "chunked not the final coding (RFC 9112 §6.3)"),
        ("te_unknown", post + host + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", {400, 501, CLOSED}, "an unknown transfer coding"),
        ("te_twice_chunked", post + host + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         {400, 501, CLOSED}, "chunked applied twice"),
        ("te_in_http10", b"POST " + p + b" HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400, CLOSED},
         "Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1: treat as faulty framing)"),
        ("bad_chunk_size", post + host + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", {400, CLOSED}, "a chunk size that is not hex"),
        ("chunk_size_overflow", post + host + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n",
         {400, 413, CLOSED}, "a chunk size past 64 bits"),
        ("chunk_without_crlf", post + host + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n", {400, CLOSED},
         "chunk data not followed by CRLF"),
        # Header syntax (RFC 9112 §5, RFC 9110 §5.5).
        ("space_before_colon", get + host + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", {400, CLOSED},
         "whitespace between a field name and its colon (MUST be 400)"),
        ("obs_fold", get + host + b"X-A: one\r\n two\r\n\r\n", {400, CLOSED}, "obsolete line folding"),
        ("space_in_name", get + host + b"X Y: z\r\n\r\n", {400, CLOSED}, "a space inside a field name"),
        ("empty_name", get + host + b": z\r\n\r\n", {400, CLOSED}, "an empty field name"),
        ("nul_in_value", get + host + b"X-A: a\x00b\r\n\r\n", {400, CLOSED}, "NUL in a field value"),
        ("bare_cr_in_value", get + host + b"X-A: a\rb\r\n\r\n", {400, CLOSED}, "a bare CR in a field value"),
        ("no_host", get + b"Connection: close\r\n\r\n", {400, CLOSED}, "HTTP/1.1 without Host (RFC 9112 §3.2: 400)"),
        ("two_hosts", get + host + b"Host: other\r\n\r\n", {400, CLOSED}, "two Host fields (400)"),
        ("oversized_header", get + host + b"X-Big: " + big + b"\r\n\r\n", {431, 400, CLOSED}, "a 2 MiB field (431)"),
        ("many_headers", get + host + b"".join(b"X-%d: v\r\n" % i for i in range(20000)) + b"\r\n", {431, 400, CLOSED},
         "20,000 fields (431)"),
        ("long_target", b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\n" + host + b"\r\n", {414, 431, 400, CLOSED}, "a 200 KB request target"),
        # Request line.
        ("bad_method", b"G@T " + p + b" HTTP/1.1\r\n" + host + b"\r\n", {400, 405, 501, CLOSED}, "a method that is not a token"),
        ("lowercase_version", b"GET " + p + b" http/1.1\r\n" + host + b"\r\n", {400, 505, CLOSED}, "a lowercase protocol name"),
        ("http2_version", b"GET " + p + b" HTTP/2.0\r\n" + host + b"\r\n", {400, 505, CLOSED}, "HTTP/2.0 in an HTTP/1 request line"),
        ("http3_version", b"GET " + p + b" HTTP/3.0\r\n" + host + b"\r\n", {400, 505, CLOSED}, "an unsupported major version (505)"),
        ("missing_version", b"GET " + p + b"\r\n" + host + b"\r\n", {400, CLOSED}, "HTTP/0.9 style request line"),
        ("two_spaces", b"GET  " + p + b" HTTP/1.1\r\n" + host + b"\r\n", {400, CLOSED}, "two spaces in the request line"),
        ("nul_in_target", b"GET /a\x00b HTTP/1.1\r\n" + host + b"\r\n", {400, CLOSED}, "NUL in the request target"),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64, {400, CLOSED}, "a TLS ClientHello on a plain port"),
        ("binary", bytes(range(256)) * 4, {400, CLOSED}, "every byte value"),
    ]


def multi_cases(path):
    """Cases that check more than the first answer."""
    p = path.encode()
    req = b"GET " + p + b" HTTP/1.1\r\nHost: probe\r\n\r\n"

    def pipelined(port, body):
        r = parse_responses(exchange(port, req * 3 + b"GET " + p + b" HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n",
                                     timeout=4, responses=4))
        assert [x[0] for x in r] == [200] * 4, f"statuses {[x[0] for x in r]}"
        assert all(x[2] == body for x in r), "bodies differ"

    def smuggled_after_body(port, body):
        # A request hidden in a body the server frames by Content-Length must not be answered.
        hidden = b"GET /smuggled HTTP/1.1\r\nHost: probe\r\n\r\n"
        data = b"POST " + p + b" HTTP/1.1\r\nHost: probe\r\nContent-Length: " + str(len(hidden)).encode() + b"\r\n\r\n" + hidden
        r = parse_responses(exchange(port, data + b"GET " + p + b" HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n",
                                     timeout=2, responses=3))
        assert len(r) == 2, f"{len(r)} responses (a body was read as a request?)"

    def split_head(port, body):
        # A head arriving a few bytes at a time is one request.
        data = b"GET " + p + b" HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
        r = parse_responses(exchange(port, [data[i:i + 3] for i in range(0, len(data), 3)], timeout=5, pause=0.005))
        assert r and r[0][0] == 200 and r[0][2] == body, f"{r[:1]}"

    def connection_close(port, body):
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        s.sendall(b"GET " + p + b" HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        s.close()
        assert parse_responses(out)[0][0] == 200, "no answer before the close"

    def body_cut_short(port, body):
        # Fewer body bytes than announced, then the client goes: nothing to answer, nothing to hold.
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        s.sendall(b"POST " + p + b" HTTP/1.1\r\nHost: probe\r\nContent-Length: 100\r\n\r\nshort")
        s.close()

    return [("pipelined", pipelined), ("smuggled_after_body", smuggled_after_body), ("split_head", split_head),
            ("connection_close", connection_close), ("body_cut_short", body_cut_short)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/hello")
    ap.add_argument("--body", default="Hello, World!")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    body = args.body.encode()
    if not alive(args.port, args.path, body):
        print(f"FAIL setup: GET {args.path} is not answered with 200 {args.body!r}")
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    for name, data, allowed, what in cases(args.path):
        if args.only and name not in args.only:
            continue
        try:
            raw = exchange(args.port, data)
            r = parse_responses(raw)
            got = r[0][0] if r else CLOSED
            ok = got in allowed
            why = f"got {got}, allowed {sorted(map(str, allowed))}"
        except OSError as e:
            got, ok, why = CLOSED, CLOSED in allowed, f"socket error {e}"
        if ok and not alive(args.port, args.path, body):
            ok, why = False, "the server stopped answering after it"
        print(("PASS" if ok else "FAIL") + f" {name}: {what} ({why if not ok else got})")
        passed += ok
        failed += not ok
    for name, check in multi_cases(args.path):
        if args.only and name not in args.only:
            continue
        try:
            check(args.port, body)
            ok, why = alive(args.port, args.path, body), "the server stopped answering after it"
        except (AssertionError, OSError, ValueError, IndexError) as e:
            ok, why = False, str(e) or type(e).__name__
        print(("PASS" if ok else "FAIL") + f" {name}" + ("" if ok else f": {why}"))
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
