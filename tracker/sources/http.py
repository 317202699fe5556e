"""The one polite HTTP client every source uses.

What it guarantees for every request, whoever makes it (our sources, or the `arxiv` package
through `ClientSession`):

- a timeout on connecting and on each read, and an overall deadline of
  `DEADLINE_FACTOR` x timeout for the whole response, so a server that never answers, or
  trickles bytes, cannot stall the nightly run;
- a minimum delay between two requests to the same host (`HttpConfig.delay`), and never less
  than `ARXIV_MIN_DELAY` (3 s) between two requests to any arXiv host, whatever the
  configuration says: arXiv's terms of use ask for one request every three seconds;
- retries with exponential backoff after HTTP 429, any 5xx, connection errors and timeouts,
  waiting at least as long as a `Retry-After` header asks (capped by `max_backoff`: a server
  asking for longer is not retried); a host name that does not resolve is retried once only
  (without a network, a run fails in seconds, not minutes);
- a size limit (`max_bytes`), checked against Content-Length and again while the body streams
  (on the decoded bytes, so a compressed bomb is cut off too);
- our User-Agent, which carries a contact address.

Only GET: nothing in tracker's fetch layer posts. The clock and the sleep function are
injectable so tests can check the delays without waiting for them.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from tracker.config import HttpConfig
from tracker.sources.base import SourceError

ARXIV_MIN_DELAY = 3.0  # seconds between two requests to arXiv, a floor no setting can lower
DEADLINE_FACTOR = 5  # a whole response may take at most this many timeouts
UNRESOLVED_ATTEMPTS = 2  # tries of a request whose host name does not resolve
_CHUNK = 64 * 1024
_RETRY_STATUS = frozenset({429}) | frozenset(range(500, 600))
_MAX_URL_IN_MESSAGE = 160


class HttpError(SourceError):
    """A request failed for good: the retries are used up, or the answer cannot be used.

    Fields: `url`, and `status` when the server answered (None for connection errors,
    timeouts and refused bodies).
    """

    def __init__(self, message: str, url: str, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint)
        self.url = url
        self.status = status


class RetryableResponse(Exception):
    """Raised by a response check (`HttpClient.get(check=...)`) to have the request retried:
    the server answered 200 with something that a retry may fix (an empty page of results)."""


@dataclass(frozen=True)
class HttpResponse:
    """A complete response: the final URL (after redirects), status, headers and body."""

    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased (`application/rss+xml`), or ""."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


def host_key(url: str) -> str:
    """The key delays are kept under: the host, with every arXiv host sharing one key."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "arxiv.org" or host.endswith(".arxiv.org"):
        return "arxiv.org"
    return host


def short_url(url: str) -> str:
    """The URL cut to a readable length for messages."""
    if len(url) <= _MAX_URL_IN_MESSAGE:
        return url
    return url[: _MAX_URL_IN_MESSAGE - 3] + "..."


class HttpClient:
    """A polite GET client over a `requests.Session` (see the module docstring).

    Arguments:
        session: the session to send requests through (connection pooling, proxies).
        timeout: seconds for connecting and for each read.
        delay: minimum seconds between two requests to the same host.
        retries: retries after a retryable failure (so at most `retries + 1` attempts).
        backoff: the first wait before a retry, doubled on each further retry.
        max_backoff: the longest wait before a retry, also the longest Retry-After honoured.
        max_bytes: the largest response body accepted.
        user_agent: the User-Agent header, with a contact address.
        clock: monotonic seconds (for delays and deadlines).
        sleep: how to wait.
        wallclock: epoch seconds, to read a Retry-After given as an HTTP date.
    """

    def __init__(
        self,
        session: requests.Session,
        *,
        timeout: float = 30.0,
        delay: float = 3.0,
        retries: int = 4,
        backoff: float = 5.0,
        max_backoff: float = 120.0,
        max_bytes: int = 20_000_000,
        user_agent: str = HttpConfig.user_agent,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wallclock: Callable[[], float] = time.time,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive: every request needs one")
        self.session = session
        self.timeout = timeout
        self.delay = delay
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self._clock = clock
        self._sleep = sleep
        self._wallclock = wallclock
        self._last: dict[str, float] = {}  # host key -> clock() when its last request ended

    @classmethod
    def from_config(
        cls, config: HttpConfig, session: requests.Session | None = None, **overrides: Any
    ) -> HttpClient:
        """A client with the settings of `config` (`overrides` win, e.g. a test's clock)."""
        settings: dict[str, Any] = {
            "timeout": config.timeout,
            "delay": config.delay,
            "retries": config.retries,
            "backoff": config.backoff,
            "max_backoff": config.max_backoff,
            "max_bytes": config.max_bytes,
            "user_agent": config.user_agent,
        }
        settings.update(overrides)
        return cls(session if session is not None else requests.Session(), **settings)

    def min_interval(self, url: str) -> float:
        """The minimum seconds between two requests to the host of `url`."""
        if host_key(url) == "arxiv.org":
            return max(self.delay, ARXIV_MIN_DELAY)
        return self.delay

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        accept: str | None = None,
        check: Callable[[HttpResponse], None] | None = None,
    ) -> HttpResponse:
        """GET `url` politely and return the whole response (status 2xx only).

        `check` may inspect a 2xx response and raise `RetryableResponse` to have it retried
        like a 503. Raises HttpError when the retries are used up, on any other 4xx/3xx status,
        when the body is larger than `max_bytes`, or when `check` keeps failing.
        """
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        headers = {"User-Agent": self.user_agent}
        if accept:
            headers["Accept"] = accept
        attempts = self.retries + 1
        last_problem = ""
        hint = "the service may be down or rate-limiting; the next run will try again"
        for attempt in range(attempts):
            self._wait_turn(url)
            try:
                response = self._send(url, headers)
            except _Retryable as exc:
                last_problem = exc.message
                wait = self._backoff(attempt, exc.retry_after)
                if exc.unresolved:
                    # A name that does not resolve is retried once (a DNS hiccup), not for
                    # minutes: without a network every source would wait out its backoff.
                    attempts = min(attempts, UNRESOLVED_ATTEMPTS)
                    hint = "check the network connection and the URL in the configuration"
            else:
                if check is None:
                    return response
                try:
                    check(response)
                except RetryableResponse as exc:
                    last_problem = str(exc)
                    wait = self._backoff(attempt, None)
                else:
                    return response
            if attempt + 1 >= attempts:
                break
            if wait is None:  # Retry-After beyond the cap: honour it by not retrying now
                raise HttpError(
                    f"GET {short_url(url)}: {last_problem}; the server asks to wait longer than "
                    f"{self.max_backoff:g} s",
                    url,
                    hint="try again later, or raise http.max_backoff",
                )
            self._sleep(wait)
        raise HttpError(
            f"GET {short_url(url)} failed after {attempt + 1} attempt(s): {last_problem}",
            url,
            hint=hint,
        )

    # --- internals ---------------------------------------------------------------------------

    def _wait_turn(self, url: str) -> None:
        key = host_key(url)
        last = self._last.get(key)
        if last is None:
            return
        remaining = last + self.min_interval(url) - self._clock()
        if remaining > 0:
            self._sleep(remaining)

    def _backoff(self, attempt: int, retry_after: float | None) -> float | None:
        wait = min(self.backoff * (2**attempt), self.max_backoff)
        if retry_after is not None:
            if retry_after > self.max_backoff:
                return None
            wait = max(wait, retry_after)
        return wait

    def _send(self, url: str, headers: dict[str, str]) -> HttpResponse:
        started = self._clock()
        try:
            with self.session.get(
                url, headers=headers, timeout=(self.timeout, self.timeout), stream=True
            ) as raw:
                status = raw.status_code
                if status in _RETRY_STATUS:
                    raise _Retryable(
                        f"HTTP {status} {raw.reason or ''}".strip(),
                        _retry_after(raw.headers.get("Retry-After"), self._wallclock()),
                    )
                if not 200 <= status < 300:
                    raise HttpError(
                        f"GET {short_url(url)}: HTTP {status} {raw.reason or ''}".rstrip(),
                        url,
                        status,
                        hint="check the URL in the configuration",
                    )
                body = self._read_body(raw, url, started)
                return HttpResponse(raw.url or url, status, CaseInsensitiveDict(raw.headers), body)
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            raise _Retryable(f"no answer within the timeout of {self.timeout:g} s") from None
        except (requests.ConnectionError, urllib3.exceptions.HTTPError) as exc:
            if _unresolved(exc):
                host = urlsplit(url).hostname
                raise _Retryable(
                    f"cannot resolve {host}: no network, or DNS is failing", unresolved=True
                ) from None
            raise _Retryable(f"connection failed ({_reason(exc)})") from None
        except requests.RequestException as exc:  # invalid URL, too many redirects, ...
            raise HttpError(f"GET {short_url(url)}: {_reason(exc)}", url) from None
        finally:
            self._last[host_key(url)] = self._clock()

    def _read_body(self, raw: requests.Response, url: str, started: float) -> bytes:
        declared = raw.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise HttpError(
                f"GET {short_url(url)}: response of {int(declared)} bytes is larger than the "
                f"limit of {self.max_bytes} bytes",
                url,
                raw.status_code,
                hint="raise http.max_bytes if this source is trusted",
            )
        deadline = started + DEADLINE_FACTOR * self.timeout
        chunks: list[bytes] = []
        size = 0
        # read1 returns what has arrived (decoded), so a trickling server meets the deadline
        # check after each read instead of filling a whole chunk first.
        while chunk := raw.raw.read1(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > self.max_bytes:
                raise HttpError(
                    f"GET {short_url(url)}: response larger than the limit of "
                    f"{self.max_bytes} bytes",
                    url,
                    raw.status_code,
                    hint="raise http.max_bytes if this source is trusted",
                )
            if self._clock() > deadline:
                raise _Retryable(
                    f"response took longer than {DEADLINE_FACTOR * self.timeout:g} s to arrive"
                )
            chunks.append(chunk)
        return b"".join(chunks)


class _Retryable(Exception):
    def __init__(
        self, message: str, retry_after: float | None = None, *, unresolved: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.unresolved = unresolved


def _unresolved(exc: Exception) -> bool:
    """Whether `exc` (requests' or urllib3's) comes from a host name that did not resolve."""
    seen: Exception | None = exc
    for _ in range(5):  # requests wraps urllib3's MaxRetryError, which holds the reason
        if seen is None:
            return False
        if isinstance(seen, urllib3.exceptions.NameResolutionError):
            return True
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], Exception) else None
        seen = getattr(seen, "reason", None) or inner
    return False


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _reason(exc: Exception) -> str:
    text = str(exc)
    # urllib3 nests its reason deep inside; the last part is the readable one.
    if "Caused by" in text:
        text = text.rsplit("Caused by", 1)[-1].strip(" ()'\"")
    return text[:200] or type(exc).__name__


class ClientSession(requests.Session):
    """A `requests.Session` whose GETs go through an `HttpClient`.

    For libraries that insist on a session of their own (the `arxiv` package): every request
    they make gets our timeout, delays, retries, size limit and User-Agent. Failures raise
    HttpError, so the library never sees an error status (and never runs its own retry loop).
    `check` is applied to every 2xx response, as in `HttpClient.get`.
    """

    def __init__(
        self, http: HttpClient, check: Callable[[HttpResponse], None] | None = None
    ) -> None:
        super().__init__()
        self.http = http
        self.check = check

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        method = method.decode() if isinstance(method, bytes) else method
        url = url.decode() if isinstance(url, bytes) else url
        if method.upper() != "GET":
            raise HttpError(f"{method} {short_url(url)}: only GET is allowed", url)
        got = self.http.get(url, params=kwargs.get("params"), check=self.check)
        response = requests.Response()
        response.status_code = got.status
        response.url = got.url
        response.headers = CaseInsensitiveDict(got.headers)
        response._content = got.content
        response.encoding = "utf-8"
        return response
