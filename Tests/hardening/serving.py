"""permidd for the hardening scripts: a free loopback port, and waiting until a started server answers."""
import http.client, socket, time


def free_port():
    """A port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(port, attempts=200):
    """Polls /healthz on 127.0.0.1:`port` every 50 ms until it answers 200; a RuntimeError after `attempts`."""
    for _ in range(attempts):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"permidd on port {port} did not answer /healthz")
