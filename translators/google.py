"""Google Translate through the googletrans 4.x client (unofficial web endpoint; async, one request per string).

googletrans quirks handled here:

* it is async only and its ``httpx.AsyncClient`` is bound to the event loop it first ran in, so reusing one
  client across ``asyncio.run()`` calls fails with "Event loop is closed": a fresh client is made for every
  batch (inside the batch's event loop) and closed at its end;
* by default it returns the ORIGINAL text on an HTTP error (429 included): it is always created with
  ``raise_exception=True``; its error is a bare ``Exception('Unexpected status code "429" from [...]')``, from
  which the status is read to decide whether to retry;
* its list mode allows only 2 requests at once and stops at the first error: strings are sent one by one here,
  at most ``concurrency`` at once, each with its own retries;
* ``service_urls`` fills the ``{host}`` of ``https://{host}/translate_a/single``; a host containing
  "googleapis" is replaced by the real ``translate.googleapis.com``. Its TLS trust comes from httpx's defaults
  (``SSL_CERT_FILE`` is read when the client is created); proxies from the usual environment variables.

A reply that is the source text unchanged is passed on (a later language check judges it); a reply that cannot
be parsed is a :class:`TranslationError`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
from collections.abc import Coroutine
from typing import Any, TypeVar

from .base import TranslationError, Translator

T = TypeVar("T")

DEFAULT_HOST = "translate.google.com"
ENV_SERVICE_URL = "CONJ_GOOGLE_SERVICE_URL"

# ISO 639-1 code -> the code googletrans (and the web endpoint) knows it by, where they differ.
ISO_TO_GOOGLE: dict[str, str] = {"zh": "zh-cn", "he": "iw", "jv": "jw"}

_STATUS = re.compile(r'Unexpected status code "(\d+)"')


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code, even when this thread already runs an event loop
    (Jupyter, an async caller): then it runs in a fresh event loop on a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="conj-google") as pool:
        return pool.submit(asyncio.run, coro).result()


def _googletrans_version() -> str:
    try:
        from importlib.metadata import version

        return version("googletrans")
    except Exception:  # noqa: BLE001 - only a label in the cache key; never worth failing for
        return "unknown"


def _normalise_host(url: str) -> str:
    host = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url.strip()).split("/", 1)[0]
    if not host:
        raise ValueError(f"empty Google service URL {url!r} (expected HOST[:PORT])")
    return host


class _AttemptError(Exception):
    """One attempt failed; ``retryable`` says whether another attempt may succeed."""

    def __init__(self, what: str, retryable: bool):
        super().__init__(what)
        self.what, self.retryable = what, retryable


class GoogleTranslator(Translator):
    """Google Translate via googletrans.

    :param service_url: HOST[:PORT] of the endpoint; default ``$CONJ_GOOGLE_SERVICE_URL``, else
        ``translate.google.com``.
    :param concurrency: strings in flight at once.
    :param retries: further attempts per string after the first, on HTTP 429, 5xx, timeouts and connection
        errors; waits ``backoff * 2**attempt`` seconds (plus a small deterministic jitter) between attempts.
    :param backoff: base wait in seconds.
    :param timeout: httpx timeout per request, seconds.
    :param max_chars: longer strings are split at sentence ends (default: the base class's 4000).
    """

    name = "google"

    def __init__(self, service_url: str | None = None, *, concurrency: int = 8, retries: int = 5,
                 backoff: float = 1.0, timeout: float = 10.0, max_chars: int | None = None):
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.service_url = _normalise_host(service_url or os.environ.get(ENV_SERVICE_URL) or DEFAULT_HOST)
        self.concurrency = concurrency
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        if max_chars is not None:
            self.max_chars = max_chars

    # -- interface ------------------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        """The host googletrans will actually contact."""
        return "translate.googleapis.com" if "googleapis" in self.service_url else self.service_url

    @property
    def endpoint(self) -> str:
        return f"https://{self.host}/translate_a/single"

    @property
    def model(self) -> str:
        # The service, not the host: a mirror or proxy (--service-url) serves the same translations, and a team
        # that translated through one must hit the cache through another.
        return f"googletrans-{_googletrans_version()}"

    def supported_languages(self) -> list[str]:
        from googletrans import LANGUAGES

        from conj_harness.conjugates.languages import ISO_639_1

        return sorted(code for code in ISO_639_1 if ISO_TO_GOOGLE.get(code, code) in LANGUAGES)

    def _translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        return run_sync(self.translate_async(texts, source, target))

    # -- async core -------------------------------------------------------------------------------------------
    async def translate_async(self, texts: list[str], source: str, target: str) -> list[str]:
        """Translate non-empty strings concurrently (no splitting or code checks: use :meth:`translate`)."""
        import googletrans
        import httpx

        src, dest = ISO_TO_GOOGLE.get(source, source), ISO_TO_GOOGLE.get(target, target)
        results: list[str | None] = [None] * len(texts)
        semaphore = asyncio.Semaphore(self.concurrency)
        # a fresh client per batch, created and closed inside this event loop
        async with googletrans.Translator(service_urls=[self.service_url], raise_exception=True,
                                          timeout=httpx.Timeout(self.timeout)) as client:

            async def one(i: int) -> None:
                async with semaphore:
                    results[i] = await self._with_retries(client, texts[i], src, dest, i)

            tasks = [asyncio.ensure_future(one(i)) for i in range(len(texts))]
            try:
                done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            except BaseException:  # cancelled from outside: take the requests down with us
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
            for task in pending:  # one string failed for good: stop the others
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        errors = [t.exception() for t in done if not t.cancelled() and t.exception() is not None]
        if errors:
            failure = errors[0]
            missing = sum(r is None for r in results)
            what = failure.what if isinstance(failure, _AttemptError) else f"{type(failure).__name__}: {failure}"
            raise TranslationError(
                f"Google translation {source}->{target} failed at {self.endpoint}: {what}; "
                f"{missing} of {len(texts)} strings of the batch not translated"
            ) from failure
        return results  # type: ignore[return-value]

    async def _with_retries(self, client, text: str, src: str, dest: str, index: int) -> str:
        attempt = 0
        while True:
            try:
                return await self._attempt(client, text, src, dest)
            except _AttemptError as failure:
                if not failure.retryable or attempt >= self.retries:
                    if failure.retryable:
                        failure.what += f" (after {attempt + 1} attempts)"
                    raise
            # exponential backoff with a small deterministic jitter (spreads a burst of retries)
            jitter = 1.0 + 0.1 * (((index * 7919) + attempt * 104729) % 97) / 97
            await asyncio.sleep(min(self.backoff * 2**attempt * jitter, 120.0))
            attempt += 1

    async def _attempt(self, client, text: str, src: str, dest: str) -> str:
        import httpx

        try:
            result = await client.translate(text, dest=dest, src=src)
        except httpx.TimeoutException as exc:
            raise _AttemptError(f"timeout after {self.timeout}s ({type(exc).__name__})", True) from exc
        except httpx.TransportError as exc:  # connection refused/reset, protocol errors
            raise _AttemptError(f"connection error ({type(exc).__name__}: {exc})", True) from exc
        except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:  # JSON/shape trouble
            raise _AttemptError(f"unparseable response ({type(exc).__name__}: {exc})", False) from exc
        except Exception as exc:  # googletrans's bare Exception for a status other than 200
            match = _STATUS.search(str(exc))
            if match is None:
                raise _AttemptError(f"{type(exc).__name__}: {exc}", False) from exc
            status = int(match.group(1))
            raise _AttemptError(f"HTTP {status}", status == 429 or status >= 500) from exc
        return self._check(result, text)

    @staticmethod
    def _check(result, text: str) -> str:
        """The translated text, once the reply is known to have the expected shape."""
        segments = (getattr(result, "extra_data", None) or {}).get("translation")
        translated = getattr(result, "text", None)
        if (not isinstance(segments, list) or not isinstance(translated, str)
                or not all(isinstance(s, list) and s and (s[0] is None or isinstance(s[0], str))
                           for s in segments)):
            raise _AttemptError(f"unparseable response (translation segments {str(segments)[:80]!r})", False)
        if text.strip() and not translated.strip():
            raise _AttemptError("empty translation for a non-empty string", False)
        return translated
