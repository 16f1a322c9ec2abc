"""A fake Google Translate endpoint for tests: HTTPS on 127.0.0.1, stdlib only (plus the ``openssl`` CLI).

The unmodified googletrans 4.x client talks to it in "webapp" mode when given
``service_urls=[server.host]`` (``127.0.0.1:PORT``) and ``SSL_CERT_FILE=server.cert_file`` is set before the
client is created:

* ``GET /`` returns a page containing ``tkk:'<current hour>.<n>'`` (the token seed; one per client and hour);
* ``GET /translate_a/single?sl=..&tl=..&q=..`` returns the JSON list googletrans parses: ``data[0]`` is a list
  of segments ``[translated, original, None, None, 10]`` (one per sentence), ``data[2]`` the source language.

The "translation" (:func:`fake_translate`) is deterministic and recognisable: every sentence becomes
``"[<tl>] "`` followed by its words in reverse order, and sentences are joined by one space::

    fake_translate("Hello big world. Bye now!", "fr") == "[fr] world. big Hello [fr] now! Bye"

Because it works sentence by sentence, translating the sentence-aligned parts of a text and joining them with
a space gives the same result as translating the whole text.

Controls (all thread-safe):

* ``latency``: seconds every request (both paths) waits before answering;
* ``fail_next(n, mode)``: the next ``n`` translate requests fail with ``mode``: an HTTP status (``429``,
  ``503``...), ``"hang"`` (no answer until ``hang_seconds`` pass or the server closes, then the connection is
  dropped), ``"garbage"`` (HTTP 200 with a body that is not JSON) or ``"echo"`` (HTTP 200 with the source text
  returned unchanged, as Google does for untranslatable input). Failures apply to ``/translate_a/single`` only;
* ``FakeGoogle.dead()``: a host:port where nothing listens (connections are refused);
* counters: ``requests`` (translate requests received, failed ones included), ``token_requests`` (``GET /``),
  ``max_in_flight`` (the most translate requests handled at once), ``queries`` (the ``q`` of every translate
  request, in arrival order);
* ``close()`` (or leaving the ``with`` block) stops the server, drops open connections and removes the
  certificate; a closed server's port refuses connections.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def fake_translate(text: str, target: str) -> str:
    """The fake's translation of ``text`` into ``target`` (see the module docstring)."""
    return " ".join(_translate_sentence(s, target) for s in _sentences(text))


def _translate_sentence(sentence: str, target: str) -> str:
    return f"[{target}] " + " ".join(reversed(sentence.split()))


def make_certificate(directory: str) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 / localhost: ``(cert_file, key_file)`` in ``directory``."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    try:  # the cryptography package, when installed
        from cryptography import x509  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - not installed in this venv
        _make_certificate_cryptography(cert, key)
        return cert, key
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("fake_google needs the 'cryptography' package or the 'openssl' command")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
         "-addext", "extendedKeyUsage=serverAuth"],
        check=True, capture_output=True,
    )
    return cert, key


def _make_certificate_cryptography(cert_file: str, key_file: str) -> None:  # pragma: no cover
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeGoogle


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real thing
    server: _Server

    def log_message(self, format, *args):
        pass

    def setup(self):
        super().setup()
        # headers and body go out as separate writes: without this, Nagle + delayed ACK add ~40 ms per reply
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, False)

    def _send(self, status: int, body: str, content_type: str = "application/json; charset=utf-8"):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        fake = self.server.fake
        url = urlsplit(self.path)
        if url.path == "/translate_a/single":
            fake._handle_translate(self, parse_qs(url.query))
        elif url.path in ("", "/"):
            fake._count_token()
            fake._sleep(fake.latency)
            hour = math.floor(int(time.time() * 1000) / 3600000.0)
            self._send(200, f"<html><script>window.WIZ_global_data={{tkk:'{hour}.1234567890'}};</script></html>",
                       "text/html; charset=utf-8")
        else:
            self._send(404, "not found", "text/plain")


class FakeGoogle:
    """The fake endpoint; see the module docstring. ``host`` is what goes into ``service_urls``."""

    def __init__(self, latency: float = 0.0, hang_seconds: float = 30.0, known: dict[str, str] | None = None):
        self.latency = latency
        #: Texts with a real translation to give (a back-translated response, for the judge): query -> answer.
        self.known = dict(known or {})
        self.hang_seconds = hang_seconds
        self.requests = 0
        self.token_requests = 0
        self.max_in_flight = 0
        self.queries: list[str] = []
        self._in_flight = 0
        self._failures: deque = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._connections: set = set()
        self._tmp = tempfile.mkdtemp(prefix="fake_google_")
        self.cert_file, self.key_file = make_certificate(self._tmp)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        context.set_alpn_protocols(["http/1.1"])
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        # the handshake happens in the handler thread (first read), not in the accept loop
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
        self.port = self._server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-google-{self.port}", daemon=True)
        self._thread.start()
        self._closed = False

    # -- controls ---------------------------------------------------------------------------------------------
    def fail_next(self, n: int, mode: int | str) -> None:
        """The next ``n`` translate requests fail with ``mode`` (status code, "hang", "garbage" or "echo")."""
        with self._lock:
            self._failures.extend([mode] * n)

    def reset_counters(self) -> None:
        with self._lock:
            self.requests = self.token_requests = self.max_in_flight = 0
            self.queries = []

    @staticmethod
    def dead() -> str:
        """``127.0.0.1:PORT`` where nothing listens: a port just bound and released."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return f"127.0.0.1:{port}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> FakeGoogle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------------------------
    def _track(self, conn, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _count_token(self) -> None:
        with self._lock:
            self.token_requests += 1

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)

    def _handle_translate(self, handler: _Handler, params: dict) -> None:
        query = params.get("q", [""])[0]
        source = params.get("sl", ["auto"])[0]
        target = params.get("tl", ["en"])[0]
        with self._lock:
            self.requests += 1
            self.queries.append(query)
            failure = self._failures.popleft() if self._failures else None
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            self._sleep(self.latency)
            if failure == "hang":
                self._sleep(self.hang_seconds)
                handler.close_connection = True  # drop it without an answer
                return
            if failure == "garbage":
                handler._send(200, "<html>this is not the JSON you are looking for</html>")
                return
            if isinstance(failure, int):
                handler._send(failure, f'{{"error": {failure}}}')
                return
            if failure == "echo":
                segments = [[query, query, None, None, 10]]
            elif query in self.known:
                segments = [[self.known[query], query, None, None, 10]]
            else:
                segments = [[_translate_sentence(s, target) + " ", s + " ", None, None, 10]
                            for s in _sentences(query)]
                if segments:  # no trailing space after the last sentence
                    segments[-1][0] = segments[-1][0].rstrip()
                    segments[-1][1] = segments[-1][1].rstrip()
            data = [segments, None, source if source != "auto" else "en", None, None, None, 1.0, [],
                    [[source if source != "auto" else "en"], None, [1.0], [source]]]
            handler._send(200, json.dumps(data, ensure_ascii=False))
        finally:
            with self._lock:
                self._in_flight -= 1
