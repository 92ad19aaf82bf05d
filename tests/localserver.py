"""A real HTTP server on 127.0.0.1 for tests and benchmarks."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Route:
    def __init__(self, body=b"", status=200, headers=None):
        self.body = body
        self.status = status
        self.headers = headers or {}


class Slowed:
    """slowed(route): the route answered `seconds` late, as a distant site would;
    `most` is the most requests the routes it slowed had in flight at once."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.most = 0
        self.now = 0
        self.lock = threading.Lock()

    def __call__(self, route):
        def answer(handler):
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                time.sleep(self.seconds)
            finally:
                with self.lock:
                    self.now -= 1
            return route

        return answer


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 serving `routes` {path: Route}.

    With keep_alive, it speaks HTTP/1.1 and keeps connections open; `peers`
    holds each request's client address, so a test can see a connection reused.
    """

    def __init__(self, keep_alive=False):
        self.routes = {}
        self.requests = []
        self.posts = []  # (path, headers, body) of each POST; answered as a GET would be
        self.peers = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                server.peers.append(self.client_address)
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "9")
                    self.end_headers()
                    self.wfile.write(b"not found")
                    return
                if callable(route):
                    route = route(self)
                    if route is None:
                        return
                self.send_response(route.status)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.posts.append((self.path, dict(self.headers), self.rfile.read(length)))
                self.do_GET()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path, body=b"", status=200, content_type="text/html; charset=utf-8", **headers):
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {"Content-Type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}}
        self.routes[path] = Route(body, status, headers)
        return self.base + path

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
