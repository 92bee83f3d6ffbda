#!/usr/bin/env python3
"""Side-by-side HTTP benchmark of Quantum against nginx and caddy, all on 127.0.0.1.

Measures requests/s, p99 latency, errors and the server's CPU time per request for a 13-byte
static_response (hello), static files (static-*), a reverse proxy in front of one shared nginx
upstream (proxy) and cleartext HTTP/2 (h2c-hello). Configs are generated into a temporary run
folder on free ports: Quantum and caddy run the very same Caddy JSON, nginx an equivalent config
(worker_processes = cores). Each measurement starts one server fresh in its own process group,
waits until it answers the expected body, warms it up, then loads it with wrk -t1 (HTTP/1.1
keep-alive) or h2load -t1 (h2c, prior knowledge) while reading the CPU time of the server's whole
process group from /proc (schedstat: exact on-CPU time of every thread). Rounds are interleaved
and the peer order rotates each round; ratios to nginx and caddy are taken within each round and
their median reported, so the machine's drift cancels out.
"""
import argparse, csv, datetime, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUANTUM = ".build-release/release/quantum"
HELLO = b"Hello, World!"
H2_STREAMS = 10
CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = len(os.sched_getaffinity(0))
BUILD_PATTERN = re.compile(rb"swift-build|swift-test|xctest")      # as pgrep -f would match
FIELDS = ["round", "scenario", "peer", "rps", "requests", "errors", "p99_ms", "cpu_us_per_req",
          "user_us_per_req", "sys_us_per_req", "busy", "status", "started", "ended"]


@dataclass(frozen=True)
class Scenario:
    path: str
    title: str
    size: int = 0          # a static file's size; 0: the answer is HELLO
    h2c: bool = False
    logged: bool = False   # served by the server that writes an access log to a file
    metered: bool = False  # served by the server with Prometheus metrics on (nginx: its plain server)


SCENARIOS = {
    "hello": Scenario("/hello", "GET /hello, 13-byte static_response, HTTP/1.1"),
    "static-1k": Scenario("/static/1k.bin", "GET /static/1k.bin, 1 KiB file, HTTP/1.1", 1024),
    "static-100k": Scenario("/static/100k.bin", "GET /static/100k.bin, 100 KiB file, HTTP/1.1", 102400),
    "static-10m": Scenario("/static/10m.bin", "GET /static/10m.bin, 10 MiB file, HTTP/1.1", 10 << 20),
    "proxy": Scenario("/proxy/bench/item", "GET /proxy/bench/item through the proxy to one nginx upstream"),
    "h2c-hello": Scenario("/hello", "GET /hello over cleartext HTTP/2 with prior knowledge", h2c=True),
    "hello-log": Scenario("/hello", "GET /hello, HTTP/1.1, with an access log written to a file", logged=True),
    "hello-metrics": Scenario("/hello", "GET /hello, HTTP/1.1, with Prometheus metrics on (caddy, Quantum; nginx: none)",
                              metered=True),
}


@dataclass(frozen=True)
class Peer:
    name: str              # nginx, caddy, or a Quantum label
    kind: str              # nginx | caddy | quantum
    binary: str = ""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def seconds(text):
    m = re.fullmatch(r"(\d+)(s|m|h)?", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: use whole seconds like 8s, 8 or 1m")
    return int(m[1]) * {"s": 1, "m": 60, "h": 3600}[m[2] or "s"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_line(*argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return ((p.stdout + p.stderr).strip().splitlines() or ["?"])[0]
    except (OSError, subprocess.TimeoutExpired):
        return "not found"


# ---------------------------------------------------------------- processes and CPU
def proc_stat(pid):
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ... (utime at 11, stime 12)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def group_cpu(pgid):
    """{pid: (on-CPU ns summed over its threads' schedstat, user ticks, system ticks)} of a process group."""
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            f = proc_stat(pid)
            if f[0] != "Z" and int(f[2]) == pgid:
                ns = sum(int((t / "schedstat").read_text().split()[0]) for t in Path(f"/proc/{pid}/task").iterdir())
                out[int(pid)] = (ns, int(f[11]), int(f[12]))
        except (OSError, IndexError, ValueError):
            continue                     # gone meanwhile
    return out


def cpu_delta(before, after):
    """(ns, user ticks, system ticks) spent between two group_cpu samples, pid by pid."""
    return [sum(max(0, now[i] - before.get(pid, (0, 0, 0))[i]) for pid, now in after.items()) for i in range(3)]


def builds_running(exclude):
    """Whether a swift build or test (or a test binary) runs on this machine."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(pid) not in exclude and BUILD_PATTERN.search(Path(f"/proc/{pid}/cmdline").read_bytes()):
                return True
        except OSError:
            pass
    return False


# ---------------------------------------------------------------- load generator outputs
def parse_wrk(text):
    """{rps, requests, errors (socket errors + non-2xx/3xx), p99_ms} from `wrk --latency`."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    requests = re.search(r"^\s*(\d+) requests in", text, re.M)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    p99 = re.search(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\b", text, re.M)
    return {"rps": rps and float(rps[1]), "requests": requests and int(requests[1]),
            "errors": (sum(map(int, sock.groups())) if sock else 0) + (int(non2xx[1]) if non2xx else 0),
            "p99_ms": p99 and float(p99[1]) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[p99[2]]}


def parse_h2load(text):
    """{rps, requests (done), errors, p99_ms (none)}: h2load's failed counts errored, timed-out and non-2xx/3xx."""
    rps = re.search(r"^finished in [\d.]+\w+, ([\d.]+) req/s", text, re.M)
    n = re.search(r"^requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed", text, re.M)
    return {"rps": rps and float(rps[1]), "requests": n and int(n[1]), "errors": int(n[2]) if n else 0, "p99_ms": None}


# ---------------------------------------------------------------- configs
def caddy_config(port, www, upstream_port, pool, log_port, access_log, metrics_port):
    """The Caddy JSON that caddy and Quantum both run; pool "default" leaves Caddy's default transport.
    A second server on log_port answers /hello and writes an access log to access_log (hello-log);
    a third on metrics_port answers /hello with Prometheus metrics on (hello-metrics)."""
    proxy = {"handler": "reverse_proxy", "upstreams": [{"dial": f"127.0.0.1:{upstream_port}"}]}
    if pool != "default":
        proxy["transport"] = {"protocol": "http", "keep_alive": {"max_idle_conns_per_host": int(pool)}}
    hello = {"handler": "static_response", "status_code": 200,
             "headers": {"Content-Type": ["text/plain; charset=utf-8"]}, "body": HELLO.decode()}
    route = lambda path, handler: {"match": [{"path": [path]}], "handle": [handler], "terminal": True}
    server = {"listen": [f"127.0.0.1:{port}"], "protocols": ["h1", "h2", "h2c"], "automatic_https": {"disable": True},
              "routes": [route("/hello", hello), route("/static/*", {"handler": "file_server", "root": str(www)}),
                         route("/proxy/*", proxy)]}
    logged = {"listen": [f"127.0.0.1:{log_port}"], "automatic_https": {"disable": True}, "logs": {},
              "routes": [route("/hello", hello)]}
    metered = {"listen": [f"127.0.0.1:{metrics_port}"], "automatic_https": {"disable": True}, "metrics": {},
               "routes": [route("/hello", hello)]}
    return {"admin": {"disabled": True, "config": {"persist": False}},
            "logging": {"logs": {"default": {"exclude": ["http.log.access"]},
                                 "access": {"writer": {"output": "file", "filename": access_log, "roll": False},
                                            "include": ["http.log.access"]}}},
            "apps": {"http": {"servers": {"bench": server, "logged": logged, "metered": metered}}}}


def nginx_config(run, name, workers, servers):
    tmp = run / f"{name}-tmp"
    return f"""daemon off; master_process on; worker_processes {workers}; pid {run}/{name}.pid; error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; default_type application/octet-stream;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
{servers}}}
"""


def nginx_peer_servers(port, h2c_port, www, upstream_port, pool, log_port, access_log):
    keepalive = 64 if pool == "default" else int(pool)
    return f"""  upstream bench_upstream {{ server 127.0.0.1:{upstream_port}; keepalive {keepalive}; keepalive_requests 1000000; }}
  server {{
    listen 127.0.0.1:{port};
    listen 127.0.0.1:{h2c_port} http2;     # nginx 1.22 cannot mix h1 and h2c (prior knowledge) on one port
    location = /hello {{ default_type "text/plain; charset=utf-8"; return 200 "{HELLO.decode()}"; }}
    location /static/ {{ root {www}; }}
    location /proxy/ {{ proxy_pass http://bench_upstream; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
  server {{
    listen 127.0.0.1:{log_port};
    access_log {access_log} combined buffer=64k;
    location = /hello {{ default_type "text/plain; charset=utf-8"; return 200 "{HELLO.decode()}"; }}
  }}
"""


def upstream_servers(port):
    return f"""  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type "text/plain; charset=utf-8"; return 200 "{HELLO.decode()}"; }}
  }}
"""


# ---------------------------------------------------------------- the benchmark
class Bench:
    def __init__(self, args, peers, results):
        self.args, self.peers, self.results = args, peers, results
        self.run = Path(tempfile.mkdtemp(prefix="quantum-compare-run."))
        self.live = set()                # processes started and not stopped yet
        self.not_builds = {os.getpid(), os.getppid()}    # whatever started this script is no build
        self.expected = {}

    def spawn(self, argv, out, cwd=None, env=None):
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.live.add(proc)
        return proc

    def stop(self, proc):
        """SIGTERM to the process group, SIGKILL after 5 s; then to members that outlived the leader."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(timeout=5)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        for _ in range(50):
            if not group_cpu(proc.pid):
                break
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.live.discard(proc)

    def cleanup(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        for proc in list(self.live):
            self.stop(proc)
        shutil.rmtree(self.run, ignore_errors=True)

    def setup(self):
        self.run.chmod(0o755)            # nginx workers run as www-data when started as root
        www = self.run / "www"
        for folder in ("www/static", "caddy-home", "nginx-tmp", "upstream-tmp"):
            (self.run / folder).mkdir(parents=True)
        for name, sc in SCENARIOS.items():
            self.expected[name] = os.urandom(sc.size) if sc.size else HELLO
            if sc.size:
                (www / sc.path.lstrip("/")).write_bytes(self.expected[name])
        self.caddy_port, self.nginx_port, self.nginx_h2c_port, self.upstream_port = (free_port() for _ in range(4))
        self.caddy_log_port, self.nginx_log_port, self.caddy_metrics_port = free_port(), free_port(), free_port()
        (self.results / "upstream-port").write_text(f"{self.upstream_port}\n")
        (self.run / "site.json").write_text(json.dumps(
            caddy_config(self.caddy_port, www, self.upstream_port, self.args.pool, self.caddy_log_port,
                         str(self.run / "caddy-access.log"), self.caddy_metrics_port), indent=1))
        (self.run / "nginx.conf").write_text(nginx_config(self.run, "nginx", CORES, nginx_peer_servers(
            self.nginx_port, self.nginx_h2c_port, www, self.upstream_port, self.args.pool, self.nginx_log_port,
            str(self.run / "nginx-access.log"))))
        (self.run / "upstream.conf").write_text(nginx_config(self.run, "upstream", 1, upstream_servers(self.upstream_port)))
        if "proxy" in self.args.scenarios:           # one upstream for the whole run
            upstream = self.start("upstream", self.nginx_argv("upstream.conf"))
            if problem := self.wait_ready(upstream, f"http://127.0.0.1:{self.upstream_port}/check", "proxy"):
                raise SystemExit(f"the upstream nginx does not answer: {problem} (see logs/upstream.log)")

    def nginx_argv(self, conf):
        return ["nginx", "-p", f"{self.run}/", "-c", str(self.run / conf), "-e", "stderr"]

    def start(self, name, argv, env=None):
        with open(self.results / "logs" / f"{name}.log", "ab") as out:
            return self.spawn(argv, out, cwd=self.run, env=env)

    def start_peer(self, peer):
        site = str(self.run / "site.json")
        if peer.kind == "nginx":
            return self.start(peer.name, self.nginx_argv("nginx.conf"))
        if peer.kind == "caddy":
            home = self.run / "caddy-home"
            env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=f"{home}/data", XDG_CONFIG_HOME=f"{home}/config")
            return self.start(peer.name, ["caddy", "run", "--config", site], env)
        return self.start(peer.name, [peer.binary, "run", "--config", site])

    def port(self, peer, scenario):
        if peer.kind == "nginx":
            return self.nginx_log_port if scenario.logged else self.nginx_h2c_port if scenario.h2c else self.nginx_port
        # caddy and Quantum: h1 and h2c on one port, one at a time (the same log file, one at a time too)
        return self.caddy_log_port if scenario.logged else self.caddy_metrics_port if scenario.metered else self.caddy_port

    def fetch(self, url, h2c):
        """The body of a 200 answer (over h2c with prior knowledge if asked), else None."""
        if h2c:
            body = self.run / "check.bin"
            p = subprocess.run(["curl", "-s", "--noproxy", "*", "--http2-prior-knowledge", "-m", "2", "-o", str(body),
                                "-w", "%{http_version} %{http_code}", url], capture_output=True, text=True, timeout=10)
            return body.read_bytes() if p.stdout == "2 200" else None
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=2) as answer:
                return answer.read() if answer.status == 200 else None
        except OSError:
            return None

    def wait_ready(self, proc, url, scenario, limit=10.0):
        """None once the URL answers the scenario's expected body; else what went wrong (within limit s)."""
        deadline, body = time.monotonic() + limit, None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return f"exited with status {proc.returncode}"
            body = self.fetch(url, SCENARIOS[scenario].h2c)
            if body == self.expected[scenario]:
                return None
            time.sleep(0.1)
        return "no answer" if body is None else f"wrong body ({len(body)} bytes)"

    def load(self, scenario, url, duration):
        """wrk or h2load for duration seconds (bounded): (output, whether a build ran meanwhile)."""
        conns = str(self.args.conns)
        if scenario.h2c:
            argv = ["h2load", "-t1", "-c", conns, "-m", str(H2_STREAMS), "-D", str(duration), url]
        else:
            argv = ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", url]
        proc, deadline, busy = self.spawn(argv, subprocess.PIPE), time.monotonic() + duration + 30, False
        while True:
            try:
                output = proc.communicate(timeout=1)[0].decode(errors="replace")
                break
            except subprocess.TimeoutExpired:
                busy = busy or builds_running(self.not_builds)
                if time.monotonic() > deadline:
                    self.stop(proc)
                    return f"{argv[0]} did not finish within {duration + 30} s", busy
        self.live.discard(proc)
        return output, busy

    def wait_quiet(self):
        if self.args.wait_quiet and builds_running(self.not_builds):
            log("a swift build/test is running: waiting for it to end (at most 1 h)")
            deadline = time.monotonic() + 3600
            while builds_running(self.not_builds) and time.monotonic() < deadline:
                time.sleep(5)
            time.sleep(2)

    def measure(self, rnd, name, peer):
        """One server started, checked, warmed up, measured and stopped: a results.csv row."""
        scenario, port = SCENARIOS[name], self.port(peer, SCENARIOS[name])
        row = dict.fromkeys(FIELDS, "") | dict(round=rnd, scenario=name, peer=peer.name, busy=0, status="ok")
        self.wait_quiet()
        url = f"http://127.0.0.1:{port}{scenario.path}"
        for stale in ("caddy-access.log", "nginx-access.log"):   # each run logs into a fresh file
            (self.run / stale).unlink(missing_ok=True)
        server = self.start_peer(peer)
        try:
            if problem := self.wait_ready(server, url, name):
                return row | dict(status=problem)
            if self.args.warmup:
                self.load(scenario, url, self.args.warmup)
            before, row["started"] = group_cpu(server.pid), f"{time.time():.3f}"
            output, busy = self.load(scenario, url, self.args.duration)
            after, row["ended"] = group_cpu(server.pid), f"{time.time():.3f}"
            if server.poll() is not None:
                row["status"] = f"exited with status {server.returncode} during the run"
        finally:
            self.stop(server)
        (self.results / "logs" / f"r{rnd}-{name}-{peer.name}.txt").write_text(output)
        result = (parse_h2load if scenario.h2c else parse_wrk)(output)
        row.update(busy=int(busy), errors=result["errors"])
        if not result["rps"] or not (n := result["requests"]):
            return row | dict(status="no result" if row["status"] == "ok" else row["status"])
        ns, user, system = cpu_delta(before, after)
        row.update(rps=f"{result['rps']:.0f}", requests=n, cpu_us_per_req=f"{ns / 1e3 / n:.2f}",
                   user_us_per_req=f"{user / CLK_TCK * 1e6 / n:.2f}", sys_us_per_req=f"{system / CLK_TCK * 1e6 / n:.2f}")
        if result["p99_ms"] is not None:
            row["p99_ms"] = f"{result['p99_ms']:.2f}"
        return row

    def run_rounds(self):
        rows = []
        with open(self.results / "results.csv", "w", newline="") as f:
            out = csv.DictWriter(f, FIELDS)
            out.writeheader()
            for rnd in range(1, self.args.rounds + 1):
                for i, name in enumerate(self.args.scenarios):
                    k = (rnd - 1 + i) % len(self.peers)        # the first in a round does measurably better
                    for peer in self.peers[k:] + self.peers[:k]:
                        rows.append(row := self.measure(rnd, name, peer))
                        out.writerow(row)
                        f.flush()
                        log(f"round {rnd} {name:<12} {peer.name:<10} {row['rps'] or '-':>7} req/s  cpu "
                            f"{row['cpu_us_per_req'] or '-'} µs/req  errors {row['errors'] or 0}"
                            + ("  (a build ran meanwhile)" if row["busy"] else "")
                            + ("" if row["status"] == "ok" else f"  {row['status'].upper()}"))
        return rows


# ---------------------------------------------------------------- report
def describe(args, peers):
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1]) / 1048576
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    git = first_line("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD")
    if subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "Sources"],
                      capture_output=True, text=True).stdout.strip():
        git += " + uncommitted changes in Sources/"
    lines = [f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC",
             f"host: {CORES} cores ({cpu[1] if cpu else '?'}), {mem:.0f} GiB, kernel {os.uname().release}",
             f"nginx: {first_line('nginx', '-v').removeprefix('nginx version: ')}", f"caddy: {first_line('caddy', 'version')}",
             f"wrk: {first_line('wrk', '-v')}", f"h2load: {first_line('h2load', '--version')}"]
    for p in (p for p in peers if p.kind == "quantum"):
        built = datetime.datetime.fromtimestamp(os.path.getmtime(p.binary)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{'quantum' if p.name == 'quantum' else 'quantum ' + p.name}: {p.binary} (built {built})")
    lines += [f"git: {git}",
              f"rounds: {args.rounds} x {args.duration} s (warm-up {args.warmup} s), {args.conns} connections "
              f"(wrk -t1; h2load -t1 -m{H2_STREAMS}), upstream pool {args.pool}",
              f"peers: {', '.join(p.name for p in peers)}; scenarios: {', '.join(args.scenarios)}"]
    return "```\n" + "\n".join(lines) + "\n```\n"


def summarize(rows, peers, scenarios, conns, header):
    ok = {(r["scenario"], r["peer"], r["round"]): r for r in rows if r["status"] == "ok"}
    values = lambda sc, peer, key: [float(r[key]) for (s, p, _), r in ok.items() if (s, p) == (sc, peer) and r[key] != ""]
    med = lambda xs, digits: f"{statistics.median(xs):,.{digits}f}" if xs else "–"

    def ratios(sc, peer, base):      # each round's req/s over the same round's base req/s
        if peer == base:
            return [1.0] if values(sc, peer, "rps") else []
        return [float(r["rps"]) / float(ok[(sc, base, rnd)]["rps"])
                for (s, p, rnd), r in ok.items() if (s, p) == (sc, peer) and (sc, base, rnd) in ok]

    def spread(rs):
        return "–" if not rs else f"{statistics.median(rs):.2f}" + (f" ({min(rs):.2f}–{max(rs):.2f})" if len(rs) > 1 else "")

    out, overview = [header], []
    for sc in scenarios:
        tool = f"h2load -t1 -c{conns} -m{H2_STREAMS}" if SCENARIOS[sc].h2c else f"wrk -t1 -c{conns}"
        out += [f"\n### {sc}: {SCENARIOS[sc].title} ({tool})\n",
                "| peer | median req/s | min–max req/s | vs nginx (min–max) | vs caddy (min–max) | p99 ms | CPU µs/req "
                "| errors | notes |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        cells = []
        for peer in (p.name for p in peers):
            mine, rps = [r for r in rows if (r["scenario"], r["peer"]) == (sc, peer)], values(sc, peer, "rps")
            busy = sum(int(r["busy"]) for r in mine)
            notes = [r["status"] for r in mine if r["status"] != "ok"] + ([f"{busy} run(s) beside a build"] if busy else [])
            out.append(f"| {peer} | {med(rps, 0)} | {f'{min(rps):,.0f}–{max(rps):,.0f}' if rps else '–'} | "
                       f"{spread(ratios(sc, peer, 'nginx'))} | {spread(ratios(sc, peer, 'caddy'))} | "
                       f"{med(values(sc, peer, 'p99_ms'), 2)} | {med(values(sc, peer, 'cpu_us_per_req'), 1)} | "
                       f"{sum(int(r['errors'] or 0) for r in mine)} | {'; '.join(notes)} |")
            cells.append(f"{med(rps, 0)} ({med(ratios(sc, peer, 'nginx'), 2)} / {med(ratios(sc, peer, 'caddy'), 2)})")
        overview.append(f"| {sc} | " + " | ".join(cells) + " |")
    out += ["\n### Overview: median req/s (vs nginx / vs caddy)\n", "| scenario | " + " | ".join(p.name for p in peers)
            + " |", "|---|" + "---:|" * len(peers)] + overview
    out.append("\nRatios: each round's req/s over the same round's nginx (caddy) req/s, then the median (min–max). "
               "CPU: on-CPU time of the server's whole process group (every thread's schedstat) per request.")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- main
def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="scenarios:\n" + "".join(f"  {k:<12} {v.title}\n" for k, v in SCENARIOS.items()) +
        "\nresults: DIR/results.csv (a row per measurement: req/s, requests, errors, p99, CPU µs per request from\n"
        "schedstat and from user/system ticks, busy = a swift build/test ran meanwhile, status, the timed run's start\n"
        "and end), DIR/summary.md (also printed), DIR/logs/ (raw wrk/h2load outputs, server logs), DIR/upstream-port.\n"
        "\nexamples:\n"
        "  Benchmarks/compare.py --rounds 3 --duration 6s\n  Benchmarks/compare.py --scenarios proxy --peers nginx,quantum "
        "--quantum old=/tmp/q-old --quantum new=.build-release/release/quantum\n")
    p.add_argument("--scenarios", default="hello,static-1k,static-100k,proxy,h2c-hello",
                   help="comma-separated (default: %(default)s)")
    p.add_argument("--peers", default="nginx,caddy,quantum",
                   help="comma-separated; quantum means every --quantum binary (default: %(default)s)")
    p.add_argument("--quantum", action="append", default=[], metavar="LABEL=PATH",
                   help=f"a Quantum binary, repeatable for A/B runs (default: quantum={DEFAULT_QUANTUM} of this "
                        "repository, built with swift build -c release when missing)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default: %(default)s)")
    p.add_argument("--duration", type=seconds, default="8s", help="measured time per run (default: 8s)")
    p.add_argument("--warmup", type=seconds, default="1s", help="unmeasured load before each run, 0 for none (default: 1s)")
    p.add_argument("--conns", type=int, default=64, help="concurrent connections (default: %(default)s)")
    p.add_argument("--pool", default="64", help="idle upstream connections each proxy keeps (nginx keepalive, "
                   "caddy/Quantum max_idle_conns_per_host); 'default': Caddy's default transport for caddy and "
                   "Quantum, nginx keepalive 64 (default: %(default)s)")
    p.add_argument("--results", type=Path, metavar="DIR", help="results folder (default: a fresh temporary one)")
    p.add_argument("--wait-quiet", action=argparse.BooleanOptionalAction, default=True,
                   help="before each run, wait (at most 1 h) while a swift build/test runs (default: on)")
    args = p.parse_args()
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    if unknown := [s for s in args.scenarios if s not in SCENARIOS]:
        p.error(f"unknown scenario(s): {', '.join(unknown)}")
    if not (args.pool == "default" or args.pool.isdigit() and int(args.pool) > 0):
        p.error("--pool takes a positive number or 'default'")
    if args.rounds < 1 or args.conns < 1 or args.duration < 1:
        p.error("--rounds, --conns and --duration must be positive")
    return args


def select_peers(args):
    quantum = []
    for spec in args.quantum:
        label, _, path = spec.partition("=")
        if not label or not path or label in ("nginx", "caddy") or label in (q.name for q in quantum):
            raise SystemExit(f"--quantum {spec}: expected LABEL=PATH with a new label (not nginx or caddy)")
        quantum.append(Peer(label, "quantum", os.path.abspath(path)))
    default = ROOT / DEFAULT_QUANTUM
    quantum, peers = quantum or [Peer("quantum", "quantum", str(default))], []
    for name in filter(None, args.peers.split(",")):
        if name not in ("nginx", "caddy", "quantum"):
            raise SystemExit(f"--peers: unknown peer {name!r} (nginx, caddy, quantum)")
        peers += quantum if name == "quantum" else [Peer(name, name)]
    if not peers:
        raise SystemExit("--peers: no peer")
    if not args.quantum and any(p.kind == "quantum" for p in peers) and not os.access(default, os.X_OK):
        log(f"building {default} (swift build -c release, waiting for /tmp/swift-build.lock)")
        subprocess.run(["flock", "/tmp/swift-build.lock", "swift", "build", "-c", "release", "--product", "quantum",
                        "--scratch-path", ".build-release"], cwd=ROOT, check=True)
    if missing := [p.binary for p in peers if p.kind == "quantum" and not os.access(p.binary, os.X_OK)]:
        raise SystemExit(f"no Quantum binary at {', '.join(missing)}")
    return peers


def main():
    args = parse_args()
    peers = select_peers(args)
    h2c = [SCENARIOS[s].h2c for s in args.scenarios]
    tools = {"curl"} | {p.kind for p in peers} - {"quantum"}
    tools |= {"h2load"} if any(h2c) else set()
    tools |= set() if all(h2c) else {"wrk"}
    tools |= {"nginx"} if "proxy" in args.scenarios else set()    # the upstream
    if missing := sorted(t for t in tools if not shutil.which(t)):
        raise SystemExit(f"not found: {', '.join(missing)} (apt-get install nginx-light caddy wrk nghttp2-client curl)")
    results = args.results or Path(tempfile.mkdtemp(prefix="quantum-bench."))
    (results / "logs").mkdir(parents=True, exist_ok=True)
    log(f"results: {results}")
    header = describe(args, peers)
    print(header, file=sys.stderr)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    bench = Bench(args, peers, results)
    try:
        bench.setup()
        rows = bench.run_rounds()
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        bench.cleanup()
    summary = summarize(rows, peers, args.scenarios, args.conns, header)
    (results / "summary.md").write_text(summary)
    print(summary)
    log(f"results: {results} (results.csv, summary.md, logs/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
