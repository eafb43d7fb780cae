#!/usr/bin/env python3
"""Forwarding headers behind a real nginx: permidd trusts 127.0.0.3 (nginx's proxy_bind address) and
believes only the one header the operator chose. A client on 127.0.0.5 spoofing `Forwarded` or
`X-Forwarded-For` must still be seen as 127.0.0.5, both with nginx appending to X-Forwarded-For and
with nginx overwriting Forwarded; the `source` endpoint policy accepts, through nginx, an
announcement naming the client's real address.

Usage: nginx_proxy_header.py BIN_DIR   (BIN_DIR holds permidd and permid; nginx on PATH or in /usr/sbin)"""
import http.client, json, os, signal, socket, subprocess, sys, tempfile, time

bin_dir = sys.argv[1]
work = tempfile.mkdtemp(prefix="permid-nginx-")
import nginx  # Tests/hardening/nginx.py

try:
    nginx.binary()
except RuntimeError as error:
    sys.exit(str(error))
PROXY, CLIENT, SPOOF = "127.0.0.3", "127.0.0.5", "203.0.113.9"


def free_port(address):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def wait_for(address, port, path="/healthz"):
    for _ in range(200):
        try:
            c = http.client.HTTPConnection(address, port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on {address}:{port}")


def start_permidd(extra):
    port = free_port("127.0.0.1")
    process = subprocess.Popen([os.path.join(bin_dir, "permidd"), "serve", "--database", os.path.join(work, "p.sqlite"),
                                "--listen", f"127.0.0.1:{port}", "--trusted-proxy", PROXY, "--log-level", "error", *extra])
    try:
        wait_for("127.0.0.1", port)
    except RuntimeError:
        process.kill()
        process.wait()
        raise RuntimeError(f"permidd {' '.join(extra)} did not start")
    return process, port


def start_nginx(upstream, forwarding):
    """nginx in front of the permidd on `upstream`, listening on PROXY (Tests/hardening/nginx.py)."""
    def ready(port):
        wait_for(PROXY, port)
        return True
    return nginx.start(work, PROXY, [upstream], forwarding, ready)


def stop(*processes):
    for process in processes:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def whoami(port, headers, via=PROXY, source=CLIENT):
    """The address permidd sees for a GET /v1/whoami from `source` to `via`:`port`."""
    c = http.client.HTTPConnection(via, port, timeout=5, source_address=(source, 0))
    c.request("GET", "/v1/whoami", headers=headers)
    response = c.getresponse()
    body = response.read()
    c.close()
    return json.loads(body)["ip"] if response.status == 200 else f"status {response.status}"


checks = []


def check(name, ok, detail):
    checks.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)


def announce_through(port, endpoints=()):
    """Signs with the permid CLI (a client on 127.0.0.1) through nginx; returns its exit status and the
    endpoints the directory then serves for the PermID (read back through nginx)."""
    key = tempfile.mktemp(dir=work, prefix="key-", suffix=".pem")
    subprocess.run([os.path.join(bin_dir, "permid"), "keygen", "--out", key], check=True, capture_output=True)
    where = [arg for endpoint in endpoints for arg in ("--endpoint", endpoint)] or ["--port", "6881"]
    run = subprocess.run([os.path.join(bin_dir, "permid"), "announce", "--key", key, *where,
                          "--server", f"http://{PROXY}:{port}", "--json", "--timeout", "5"], capture_output=True, text=True)
    if run.returncode != 0:
        return run.returncode, run.stderr.strip()[:200]
    permid = json.loads(run.stdout)["permid"]
    c = http.client.HTTPConnection(PROXY, port, timeout=5)
    c.request("GET", f"/v1/peers/{permid}")
    response = c.getresponse()
    served = json.loads(response.read())
    return 0, [f"{e['ip']}:{e['port']}" for e in served["endpoints"]] if response.status == 200 else f"status {response.status}"


def appending_x_forwarded_for():
    """nginx appends the real peer to X-Forwarded-For; permidd believes X-Forwarded-For only."""
    permidd, upstream = start_permidd([])
    nginx = None
    try:
        nginx, port = start_nginx(upstream, "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
        seen = {
            "no forwarding header": whoami(port, {}),
            f"spoofed Forwarded: for={SPOOF}": whoami(port, {"Forwarded": f"for={SPOOF}"}),
            f"spoofed X-Forwarded-For: {SPOOF}": whoami(port, {"X-Forwarded-For": SPOOF}),
            f"spoofed X-Forwarded-For: {SPOOF}, {PROXY}": whoami(port, {"X-Forwarded-For": f"{SPOOF}, {PROXY}"}),
        }
        for name, address in seen.items():
            check(f"x-forwarded-for via nginx, {name}", address == CLIENT, f"whoami {address}")
        direct = whoami(upstream, {"X-Forwarded-For": SPOOF}, via="127.0.0.1")
        check("direct from an untrusted peer, spoofed X-Forwarded-For", direct == CLIENT, f"whoami {direct}")
        status, endpoints = announce_through(port)
        check("source policy via nginx (x-forwarded-for) accepts the client's own address",
              status == 0 and endpoints == ["127.0.0.1:6881"], f"permid announce exit {status}, served {endpoints}")
        status, detail = announce_through(port, [f"{SPOOF}:6881"])
        check("source policy via nginx refuses another address", status != 0, f"permid announce exit {status}: {detail}")
    finally:
        stop(*[p for p in (nginx, permidd) if p])


def overwriting_forwarded():
    """nginx overwrites Forwarded with the real peer; permidd believes Forwarded only."""
    permidd, upstream = start_permidd(["--proxy-header", "forwarded"])
    nginx = None
    try:
        nginx, port = start_nginx(upstream, 'proxy_set_header Forwarded "for=$remote_addr";')
        seen = {
            "no forwarding header": whoami(port, {}),
            f"spoofed X-Forwarded-For: {SPOOF}": whoami(port, {"X-Forwarded-For": SPOOF}),
            f"spoofed Forwarded: for={SPOOF}": whoami(port, {"Forwarded": f"for={SPOOF}"}),
        }
        for name, address in seen.items():
            check(f"forwarded via nginx, {name}", address == CLIENT, f"whoami {address}")
        status, endpoints = announce_through(port)
        check("source policy via nginx (forwarded) accepts the client's own address",
              status == 0 and endpoints == ["127.0.0.1:6881"], f"permid announce exit {status}, served {endpoints}")
    finally:
        stop(*[p for p in (nginx, permidd) if p])


for part in (appending_x_forwarded_for, overwriting_forwarded):
    try:
        part()
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        check(part.__doc__.split(";")[0], False, f"could not run: {error}")

subprocess.run(["rm", "-rf", work])
passed = sum(checks)
print(f"{passed} passed, {len(checks) - passed} failed")
sys.exit(0 if passed == len(checks) else 1)
