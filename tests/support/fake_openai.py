"""A small OpenAI-compatible completions server on 127.0.0.1, answering with real (tiny) transformers models.

It stands in for ``vllm serve`` / SGLang / TGI so that lm-eval's own ``local-completions`` client can be tested
over real HTTP: ``POST /v1/completions`` with a prompt as text or token ids (lm-eval sends ids), greedy
``max_tokens`` with ``stop`` strings, and ``echo`` + ``logprobs`` for log-likelihood requests. The served model
names are the models' folders, so lm-eval's client loads the same tokenizer by that name. ``/tokenizer_info`` is
not served (lm-eval then tokenizes locally, as it does for most servers).

``fail_status`` makes every completion answer that HTTP status (a server in trouble); with ``echo_headers`` the
error body repeats the request's path and headers back, as some proxies and debug servers do - the way a client's
credentials end up in its error messages.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class FakeOpenAIServer:
    def __init__(self, models: list[str], fail_status: int | None = None, broken: str | None = None,
                 echo_headers: bool = False) -> None:
        self.names = [str(m) for m in models]
        self.fail_status = fail_status
        self.echo_headers = echo_headers
        #: "not-json": completions answered with an HTML page; "no-choices": with an empty ``choices`` list
        self.broken = broken
        self.requests: list[dict[str, Any]] = []
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if urlsplit(self.path).path.rstrip("/") == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": n, "object": "model"} for n in server.names]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "model": body.get("model")})
                if urlsplit(self.path).path.rstrip("/") != "/v1/completions":  # a query (?key=...) is fine
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                if server.fail_status is not None:
                    message = "the server is overloaded"
                    if server.echo_headers:
                        message += f"; request {self.path} with headers {dict(self.headers.items())}"
                    self._send(server.fail_status, {"error": {"message": message}})
                    return
                if server.broken == "not-json":
                    page = b"<html><body>Welcome to nginx!</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                if server.broken == "no-choices":
                    self._send(200, {"object": "text_completion", "model": body.get("model"), "choices": []})
                    return
                if body.get("model") not in server.names:
                    self._send(404, {"error": {"message": f"model {body.get('model')!r} does not exist"}})
                    return
                self._send(200, server.complete(body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/completions"

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- the model side -------------------------------------------------------------------------------------
    def _model(self, name: str) -> tuple[Any, Any]:
        if name not in self._loaded:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            model = AutoModelForCausalLM.from_pretrained(name).eval()
            self._loaded[name] = (model, AutoTokenizer.from_pretrained(name))
        return self._loaded[name]

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        prompts = body.get("prompt")
        if isinstance(prompts, str) or (isinstance(prompts, list) and prompts and isinstance(prompts[0], int)):
            prompts = [prompts]
        choices = []
        with self._lock:  # one request at a time, loading included (transformers' loading is not thread-safe)
            model, tok = self._model(body["model"])
            for i, prompt in enumerate(prompts or []):
                ids = tok(prompt, add_special_tokens=False)["input_ids"] if isinstance(prompt, str) else list(prompt)
                if body.get("echo"):
                    choices.append({"index": i, "text": "", "logprobs": self._echo(model, tok, ids),
                                    "finish_reason": "length"})
                else:
                    choices.append({"index": i, "text": self._generate(model, tok, ids, body), "logprobs": None,
                                    "finish_reason": "stop"})
        return {"id": "cmpl-fake", "object": "text_completion", "model": body["model"], "choices": choices}

    @staticmethod
    def _generate(model: Any, tok: Any, ids: list[int], body: dict[str, Any]) -> str:
        import torch

        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                 max_new_tokens=int(body.get("max_tokens") or 16), do_sample=False,
                                 pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
        text = tok.decode(out[0, len(ids):], skip_special_tokens=True)
        stops = body.get("stop") or []
        for stop in [stops] if isinstance(stops, str) else stops:
            if stop and stop in text:
                text = text[:text.index(stop)]
        return text

    @staticmethod
    def _echo(model: Any, tok: Any, ids: list[int]) -> dict[str, Any]:
        """Log-probabilities of every prompt token (None for the first) and of one greedy token after them."""
        import torch

        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].log_softmax(-1)
        nxt = int(logits[-1].argmax())
        all_ids = [*ids, nxt]
        token_logprobs: list[float | None] = [None]
        top: list[dict[str, float] | None] = [None]
        for pos in range(1, len(all_ids)):
            row = logits[pos - 1]
            token_logprobs.append(float(row[all_ids[pos]]))
            best = int(row.argmax())
            top.append({tok.convert_ids_to_tokens(best): float(row[best])})
        return {"tokens": tok.convert_ids_to_tokens(all_ids), "token_logprobs": token_logprobs,
                "top_logprobs": top, "text_offset": list(range(len(all_ids)))}
