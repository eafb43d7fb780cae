"""A real nginx (Debian's nginx-light) for the hardening scripts: run in the foreground as a child of
the test, everything (config, pid, logs, temp files) under a fresh prefix in the test's temp dir,
listening on one loopback address and proxying to permidd nodes from that same address."""
import os, shutil, socket, subprocess, tempfile, time


def binary():
    """The nginx binary, or a RuntimeError naming the package to install."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise RuntimeError("nginx not found (Debian: apt-get install nginx-light)")
    return found


def free_port(address):
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def start(work, listen, upstreams, forwarding, ready):
    """Starts nginx on `listen`:free port, round-robin over the 127.0.0.1 `upstreams` (ports), binding
    its own connections to `listen`, with `forwarding` (nginx directives) in the location. `ready(port)`
    must return True once nginx answers. Returns (process, port)."""
    nginx = binary()
    prefix = tempfile.mkdtemp(dir=work, prefix="nginx-")
    port = free_port(listen)
    compiled = subprocess.run([nginx, "-V"], capture_output=True, text=True, timeout=30).stderr
    temp_paths = "".join(f"    {module}_temp_path {prefix}/{module};\n" for module in ("fastcgi", "uwsgi", "scgi")
                         if f"--without-http_{module}_module" not in compiled)
    servers = "".join(f"        server 127.0.0.1:{upstream};\n" for upstream in upstreams)
    config = f"""{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
{temp_paths}    upstream permidd {{
{servers}    }}
    server {{
        listen {listen}:{port};
        location / {{
            proxy_pass http://permidd;
            proxy_bind {listen};
            {forwarding}
        }}
    }}
}}
"""
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as out:
        out.write(config)
    process = subprocess.Popen([nginx, "-p", prefix, "-c", path, "-e", f"{prefix}/error.log"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if ready(port):
                return process, port
        except OSError:
            pass
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=30)
    raise RuntimeError("nginx did not start: " + open(f"{prefix}/error.log").read()[-300:])
