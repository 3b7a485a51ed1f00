"""A real HTTP receiver for webhook tests: an ``http.server`` on 127.0.0.1 (ports 16700-16799) that
records every request and answers from a script of status codes (then 200)."""

import http.server
import socket
import threading
from dataclasses import dataclass


@dataclass
class Received:
    headers: dict
    body: bytes
    path: str


def free_port(low=16700, high=16799):
    for port in range(low, high + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 16700-16799")


class Receiver:
    def __init__(self, answers=()):
        self.answers = list(answers)
        self.requests = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body, self.path))
                    code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def unique(self):
        """The requests deduplicated by ``webhook-id``, as a receiver following the spec keeps them."""
        seen = {}
        for request in self.requests:
            seen.setdefault(request.headers["webhook-id"], request)
        return list(seen.values())
