"""The Google backend: the unmodified googletrans client, through GoogleTranslator, against a local fake endpoint.

The fake (tests/support/fake_google.py) serves HTTPS on 127.0.0.1 with a self-signed certificate; SSL_CERT_FILE points
at
it before any client is made. Nothing here contacts the real Google.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from conj_harness.errors import UnknownNameError
from conj_harness.translators.base import TranslationError
from conj_harness.translators.google import GoogleTranslator, run_sync
from tests.support.fake_google import FakeGoogle, fake_translate


@pytest.fixture(scope="module")
def fake():
    with FakeGoogle() as server:
        yield server


@pytest.fixture
def google(fake, monkeypatch):
    """A factory of translators aimed at the fake, with counters reset and tiny back-offs."""
    monkeypatch.setenv("SSL_CERT_FILE", fake.cert_file)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    fake.reset_counters()
    fake.latency = 0.0
    fake._failures.clear()

    def make(**kwargs) -> GoogleTranslator:
        kwargs.setdefault("service_url", fake.host)
        kwargs.setdefault("backoff", 0.01)
        kwargs.setdefault("timeout", 2.0)
        return GoogleTranslator(**kwargs)

    yield make
    fake._failures.clear()


TEXTS = [f"sentence number {i} is here." for i in range(12)]


def test_batch_in_order(google, fake):
    tr = google()
    out = tr.translate(TEXTS, "en", "fr")
    assert out == [fake_translate(t, "fr") for t in TEXTS]
    assert out[3] == "[fr] here. is 3 number sentence"
    assert fake.requests == len(TEXTS)
    assert tr.model.startswith("googletrans-4.") and tr.endpoint == f"https://{fake.host}/translate_a/single"
    # a second batch on the same GoogleTranslator (new event loop) works too: no "Event loop is closed"
    assert tr.translate(["one more."], "en", "de") == ["[de] more. one"]


def test_service_url_from_env(google, fake, monkeypatch):
    monkeypatch.setenv("CONJ_GOOGLE_SERVICE_URL", fake.host)
    tr = GoogleTranslator(backoff=0.01)
    assert tr.service_url == fake.host
    assert tr.translate(["hello world"], "en", "es") == ["[es] world hello"]
    monkeypatch.delenv("CONJ_GOOGLE_SERVICE_URL")
    assert GoogleTranslator().host == "translate.google.com"


def test_language_code_mapping(google, fake):
    tr = google()
    assert {"zh", "he", "jv", "fr", "en"} <= set(tr.supported_languages())
    assert tr.translate(["shalom world"], "en", "he") == ["[iw] world shalom"]
    assert tr.translate(["ni hao"], "zh", "en") == ["[en] hao ni"]
    assert fake.queries == ["shalom world", "ni hao"]


def test_concurrency_bounded(google, fake):
    fake.latency = 0.05
    texts = [f"text {i}" for i in range(24)]
    out = google(concurrency=4).translate(texts, "en", "fr")
    assert out == [fake_translate(t, "fr") for t in texts]
    assert fake.max_in_flight == 4


@pytest.mark.parametrize("status", [429, 503])
def test_error_burst_shorter_than_retries_succeeds(google, fake, status):
    fake.fail_next(3, status)
    out = google(retries=5, concurrency=1).translate(["a b c", "d e"], "en", "fr")
    assert out == ["[fr] c b a", "[fr] e d"]
    assert fake.requests == 2 + 3  # three failed attempts, then one success each


def test_hang_is_retried(google, fake):
    fake.fail_next(1, "hang")
    t0 = time.monotonic()
    out = google(timeout=0.3, retries=2).translate(["slow one"], "en", "fr")
    assert out == ["[fr] one slow"]
    assert fake.requests == 2
    assert time.monotonic() - t0 < 5


def test_past_retries_is_an_error(google, fake):
    fake.fail_next(100, 429)
    texts = ["first string", "second string", "third string"]
    with pytest.raises(TranslationError) as info:
        google(retries=2, concurrency=1).translate(texts, "en", "fr")
    message = str(info.value)
    assert fake.host in message and "/translate_a/single" in message
    assert "HTTP 429" in message and "3 attempts" in message
    assert "3 of 3 strings" in message
    assert fake.requests == 3  # gave up after the first string: the others were never sent
    for text in texts:  # never the source text as a translation
        assert text not in message


def test_partial_batch_counts_untranslated(google, fake):
    fake.fail_next(1, 400)  # not retryable: fails at once
    with pytest.raises(TranslationError, match=r"HTTP 400; 3 of 3 strings"):
        google(concurrency=1).translate(["x", "y", "z"], "en", "fr")


def test_unparseable_response_is_an_error(google, fake):
    fake.fail_next(1, "garbage")
    with pytest.raises(TranslationError, match="unparseable response"):
        google().translate(["anything at all"], "en", "fr")
    assert fake.requests == 1  # not retried


def test_unchanged_text_is_passed_on(google, fake):
    fake.fail_next(1, "echo")
    assert google().translate(["Unchanged text here"], "en", "fr") == ["Unchanged text here"]


def test_dead_endpoint_fails_fast(google):
    tr = google(service_url=FakeGoogle.dead(), retries=2)
    t0 = time.monotonic()
    with pytest.raises(TranslationError, match=r"connection error .* \(after 3 attempts\); 2 of 2 strings"):
        tr.translate(["hello", "world"], "en", "fr")
    assert time.monotonic() - t0 < 3


def test_unknown_language(google, fake):
    with pytest.raises(UnknownNameError) as info:
        google().translate(["hello"], "en", "xx")
    assert "'xx'" in str(info.value) and "fr" in info.value.valid and "zh" in info.value.valid
    assert fake.requests == 0 and fake.token_requests == 0


def test_empty_strings_make_no_request(google, fake):
    tr = google()
    assert tr.translate(["", "   "], "en", "fr") == ["", "   "]
    assert fake.requests == 0 and fake.token_requests == 0
    assert tr.translate(["", "two words", "\n"], "en", "fr") == ["", "[fr] words two", "\n"]
    assert fake.requests == 1


def test_long_text_split_and_rejoined(google, fake):
    text = "The cat sat. The dog ran away! Is it over? Yes it is over."
    tr = google(max_chars=20)
    assert tr.translate([text, "short."], "en", "fr") == [fake_translate(text, "fr"), "[fr] short."]
    assert fake.requests == 5  # four parts of at most 20 characters, plus the short one
    assert all(len(q) <= 20 for q in fake.queries)


def test_callable_from_a_running_event_loop(google, fake):
    tr = google()

    async def inside():
        return tr.translate(["from a loop"], "en", "fr")

    assert asyncio.run(inside()) == ["[fr] loop a from"]
    assert run_sync(tr.translate_async(["x y"], "en", "fr")) == ["[fr] y x"]
