"""The one HTTP policy for every outbound request: the sources' GETs and the GitHub client's.

`HttpClient` is the policy object. What it guarantees for every request a source makes:

- a timeout on connecting and on each read, and a deadline of `DEADLINE_FACTOR` x timeout for
  the whole response, status line and headers included: a server that never answers, or drips
  its headers or body a byte at a time, cannot stall the nightly run (the deadline is enforced
  on every read of the socket, see `DeadlineAdapter`);
- a minimum delay between two requests to the same host (`delay`), and never less than
  `ARXIV_MIN_DELAY` (3 s) between two requests to any arXiv host, whatever the configuration
  says: arXiv's terms of use ask for one request every three seconds;
- retries after HTTP 429, any 5xx, connection errors and timeouts, decided and counted by
  urllib3's `Retry` (`Backoff`): exponential backoff, and at least as long as a `Retry-After`
  header asks (a server asking for longer than `MAX_BACKOFF` is not retried this run); a host
  name that does not resolve is retried once only (without a network, a run fails in seconds);
- a size limit (`MAX_BYTES`), checked against Content-Length and again while the body streams
  (on the decoded bytes, so a compressed bomb is cut off too);
- our User-Agent, which carries a contact address.

The GitHub client (`tracker.publish.github`) goes through PyGithub, which builds its own
`requests` session; it takes the same policy's `retry()` (reads only) and timeout, so both
stacks share one retry machinery and one set of settings (`http.*`).

The clock and the sleep function are injectable so tests can check delays without waiting.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import io
import json
import socket
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from tracker.config import HttpConfig
from tracker.errors import SourceError

ARXIV_MIN_DELAY = 3.0  # seconds between two requests to arXiv, a floor no setting can lower
DEADLINE_FACTOR = 5  # a whole response may take at most this many timeouts
UNRESOLVED_ATTEMPTS = 2  # tries of a request whose host name does not resolve
# The largest answer accepted: an arXiv API page of 100 results is about 300 KB, a daily
# listing of every category we read about 2 MB; 20 MB leaves room and stops a runaway body.
MAX_BYTES = 20_000_000
# The longest wait before a retry, and the longest Retry-After honoured: a server asking for
# more is not retried in this run (the next night tries again), so one source cannot hold the
# nightly job for long.
MAX_BACKOFF = 120.0
RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
_CHUNK = 64 * 1024
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

    def json(self, service: str) -> Any:
        """The body as JSON; RetryableResponse (from a response check) when `service` answered
        something else (an HTML error page, a cut-off body)."""
        try:
            return json.loads(self.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RetryableResponse(
                f"{service} answered something that is not JSON ({exc.__class__.__name__} at "
                f"{short_url(self.url)})"
            ) from None


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


# --- retries: urllib3's Retry with tracker's schedule ----------------------------------------


class Backoff(Retry):
    """urllib3's `Retry` (what to retry, the counting, Retry-After parsing) with tracker's
    schedule: the first retry waits `backoff_factor` seconds and each further one twice as long,
    up to `backoff_max` (urllib3's own schedule retries the first time at once). A Retry-After
    given as an HTTP date is read against `wallclock`, injectable for tests."""

    wallclock: Callable[[], float] = staticmethod(time.time)

    def new(self, **kw: Any) -> Backoff:
        retry = super().new(**kw)
        retry.wallclock = self.wallclock
        return retry

    def get_backoff_time(self) -> float:
        errors = 0
        for attempt in reversed(self.history):
            if attempt.redirect_location is not None:
                break
            errors += 1
        if errors == 0:
            return 0.0
        return float(min(self.backoff_max, self.backoff_factor * 2 ** (errors - 1)))

    def parse_retry_after(self, retry_after: str) -> float:
        value = retry_after.strip()
        if value.isdigit():
            seconds = float(value)
        else:
            try:
                when = email.utils.parsedate_to_datetime(value).timestamp()
            except (TypeError, ValueError):
                raise urllib3.exceptions.InvalidHeader(f"Invalid Retry-After: {value}") from None
            seconds = max(0.0, when - self.wallclock())
        return min(seconds, self.retry_after_max)


def make_retry(
    retries: int,
    backoff: float,
    *,
    max_backoff: float = MAX_BACKOFF,
    methods: Collection[str] = frozenset({"GET"}),
    statuses: Collection[int] = RETRY_STATUSES,
    retry_after: bool = True,
    wallclock: Callable[[], float] = time.time,
) -> Backoff:
    """The retry policy: at most `retries` retries of `methods` after connection errors,
    timeouts and `statuses`; waits `backoff`, doubled each time (at most `max_backoff`);
    `retry_after`: honour a Retry-After header (never capped here: the caller decides whether
    a long one is worth waiting for)."""
    retry = Backoff(
        total=retries,
        connect=None,
        read=None,
        status=None,
        other=None,
        redirect=None,
        allowed_methods=frozenset(methods),
        status_forcelist=frozenset(statuses),
        backoff_factor=backoff,
        backoff_max=max_backoff,
        retry_after_max=2**31,
        respect_retry_after_header=retry_after,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    retry.wallclock = wallclock
    return retry


# --- the deadline: every read of the socket waits at most until it -----------------------------

# The monotonic time by which the response being read must have arrived whole, or None.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "tracker_http_deadline", default=None
)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Within the block, every read from a `DeadlineAdapter` connection fails with a timeout
    once `seconds` have passed (yields the deadline, in `time.monotonic()` seconds)."""
    at = time.monotonic() + seconds
    token = _DEADLINE.set(at)
    try:
        yield at
    finally:
        _DEADLINE.reset(token)


class _DeadlineReader(io.RawIOBase):
    """The read side of a socket whose every receive waits at most until the deadline: what
    http.client reads the status line, the headers and the body from."""

    def __init__(self, sock: _DeadlineSocket) -> None:
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(buffer)

    def fileno(self) -> int:
        return int(self._sock.fileno())

    def close(self) -> None:
        if not self.closed:
            self._sock.reader_closed()
        super().close()


class _DeadlineSocket:
    """A connected socket (plain or TLS) whose receives honour the current deadline: each one
    waits at most the connection's timeout, and never past the deadline. Everything else is
    the socket's own."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._timeout = sock.gettimeout()
        # As with socket.makefile: the socket really closes once it and its readers are closed
        # (http.client closes the connection while the response body is still to be read).
        self._readers = 0
        self._closed = False

    def settimeout(self, value: float | None) -> None:
        self._timeout = value
        self._sock.settimeout(value)

    def gettimeout(self) -> float | None:
        return self._timeout

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        at = _DEADLINE.get()
        if at is not None:
            left = at - time.monotonic()
            if left <= 0:
                raise TimeoutError("the response did not arrive before its deadline")
            self._sock.settimeout(left if self._timeout is None else min(self._timeout, left))
        return self._sock.recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        buffer = bytearray(bufsize)
        n = self.recv_into(buffer, bufsize, flags)
        return bytes(buffer[:n])

    def makefile(self, mode: str = "r", buffering: int | None = None, **_: Any) -> Any:
        if "r" not in mode or "w" in mode:  # http.client only reads through a file
            return self._sock.makefile(mode, buffering or -1)  # type: ignore[call-overload]
        self._readers += 1
        return io.BufferedReader(_DeadlineReader(self), buffering or io.DEFAULT_BUFFER_SIZE)

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closed and self._readers <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._readers <= 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _DeadlineHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _DeadlineHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A requests transport whose connections honour `deadline()`. Retries are not its job
    (`max_retries` 0): `HttpClient.get` runs them, so that a failure while reading the body or
    a check of the content counts against the same budget as a failed connection."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _DeadlineHTTPPool,
            "https": _DeadlineHTTPSPool,
        }


# --- the client ------------------------------------------------------------------------------


class HttpClient:
    """The HTTP policy (see the module docstring), and the polite GET every source uses.

    Arguments:
        session: the session to send through (connection pooling, proxies); its http and https
            transports are replaced by a `DeadlineAdapter`. A new one when None.
        timeout: seconds for connecting and for each read.
        delay: minimum seconds between two requests to the same host.
        retries: retries after a retryable failure (so at most `retries + 1` attempts).
        backoff: the first wait before a retry, doubled on each further retry.
        max_backoff: the longest wait before a retry, also the longest Retry-After honoured.
        max_bytes: the largest response body accepted.
        user_agent: the User-Agent header, with a contact address.
        clock: monotonic seconds (for delays).
        sleep: how to wait.
        wallclock: epoch seconds, to read a Retry-After given as an HTTP date.
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: float = HttpConfig.timeout,
        delay: float = HttpConfig.delay,
        retries: int = HttpConfig.retries,
        backoff: float = HttpConfig.backoff,
        max_backoff: float = MAX_BACKOFF,
        max_bytes: int = MAX_BYTES,
        user_agent: str = HttpConfig.user_agent,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wallclock: Callable[[], float] = time.time,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive: every request needs one")
        self.session = session if session is not None else requests.Session()
        adapter = DeadlineAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
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
    def from_config(cls, config: HttpConfig, **overrides: Any) -> HttpClient:
        """A client with the settings of `config` (`overrides` win, e.g. a test's clock)."""
        settings: dict[str, Any] = {
            "timeout": config.timeout,
            "delay": config.delay,
            "retries": config.retries,
            "backoff": config.backoff,
            "user_agent": config.user_agent,
        }
        settings.update(overrides)
        return cls(**settings)

    @property
    def deadline(self) -> float:
        """Seconds a whole response may take, status line, headers and body included."""
        return DEADLINE_FACTOR * self.timeout

    def retry(
        self,
        *,
        methods: Collection[str] = frozenset({"GET"}),
        statuses: Collection[int] = RETRY_STATUSES,
        retry_after: bool = True,
    ) -> Backoff:
        """This policy's retries as urllib3 `Retry` (`make_retry`), for a transport that runs
        its own retries (the GitHub client's)."""
        return make_retry(
            self.retries,
            self.backoff,
            max_backoff=self.max_backoff,
            methods=methods,
            statuses=statuses,
            retry_after=retry_after,
            wallclock=self._wallclock,
        )

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
        retry = self.retry()
        attempts = 0
        hint = "the service may be down or rate-limiting; the next run will try again"
        while True:
            self._wait_turn(url)
            attempts += 1
            try:
                response = self._send(url, headers)
                if check is not None:
                    check(response)
                return response
            except RetryableResponse as exc:
                again = _Again(str(exc))
            except _Again as exc:
                again = exc
            if again.unresolved:
                # A name that does not resolve is retried once (a DNS hiccup), not for
                # minutes: without a network every source would wait out its backoff.
                remaining = UNRESOLVED_ATTEMPTS - attempts
                if retry.total is not None and retry.total > remaining:
                    retry = retry.new(total=remaining)
                hint = "check the network connection and the URL in the configuration"
            try:
                retry = retry.increment("GET", url, response=again.response, error=again.error)
            except MaxRetryError:
                raise HttpError(
                    f"GET {short_url(url)} failed after {attempts} attempt(s): {again.message}",
                    url,
                    hint=hint,
                ) from None
            wait = retry.get_backoff_time()
            asked = retry.get_retry_after(again.response) if again.response else None
            if asked is not None:
                if asked > self.max_backoff:  # honour it by not retrying now
                    raise HttpError(
                        f"GET {short_url(url)}: {again.message}; the server asks to wait longer "
                        f"than {self.max_backoff:g} s",
                        url,
                        hint="try again later",
                    )
                wait = max(wait, asked)
            self._sleep(wait)

    # --- internals ---------------------------------------------------------------------------

    def _wait_turn(self, url: str) -> None:
        last = self._last.get(host_key(url))
        if last is None:
            return
        remaining = last + self.min_interval(url) - self._clock()
        if remaining > 0:
            self._sleep(remaining)

    def _send(self, url: str, headers: dict[str, str]) -> HttpResponse:
        at = time.monotonic() + self.deadline
        try:
            with (
                deadline(self.deadline) as at,
                self.session.get(
                    url, headers=headers, timeout=(self.timeout, self.timeout), stream=True
                ) as raw,
            ):
                status = raw.status_code
                if status in RETRY_STATUSES:
                    raise _Again(f"HTTP {status} {raw.reason or ''}".strip(), response=raw.raw)
                if not 200 <= status < 300:
                    raise HttpError(
                        f"GET {short_url(url)}: HTTP {status} {raw.reason or ''}".rstrip(),
                        url,
                        status,
                        hint="check the URL in the configuration",
                    )
                body = self._read_body(raw, url)
                return HttpResponse(raw.url or url, status, CaseInsensitiveDict(raw.headers), body)
        except (
            requests.Timeout,
            requests.ConnectionError,
            urllib3.exceptions.HTTPError,
            TimeoutError,
        ) as exc:
            if time.monotonic() >= at:
                raise _Again(
                    f"response took longer than {self.deadline:g} s to arrive", error=exc
                ) from None
            if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
                raise _Again(
                    f"no answer within the timeout of {self.timeout:g} s", error=exc
                ) from None
            if _unresolved(exc):
                host = urlsplit(url).hostname
                raise _Again(
                    f"cannot resolve {host}: no network, or DNS is failing",
                    error=exc,
                    unresolved=True,
                ) from None
            raise _Again(f"connection failed ({_reason(exc)})", error=exc) from None
        except requests.RequestException as exc:  # invalid URL, too many redirects, ...
            raise HttpError(f"GET {short_url(url)}: {_reason(exc)}", url) from None
        finally:
            self._last[host_key(url)] = self._clock()

    def _read_body(self, raw: requests.Response, url: str) -> bytes:
        declared = raw.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise HttpError(
                f"GET {short_url(url)}: response of {int(declared)} bytes is larger than the "
                f"limit of {self.max_bytes} bytes",
                url,
                raw.status_code,
                hint="the source answered far more than a listing or a page of results",
            )
        chunks: list[bytes] = []
        size = 0
        while chunk := raw.raw.read1(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > self.max_bytes:
                raise HttpError(
                    f"GET {short_url(url)}: response larger than the limit of "
                    f"{self.max_bytes} bytes",
                    url,
                    raw.status_code,
                    hint="the source answered far more than a listing or a page of results",
                )
            chunks.append(chunk)
        return b"".join(chunks)


class _Again(Exception):
    """An attempt failed in a way a retry may fix: `error` (what urllib3's Retry counts as a
    connection, read or other error) or `response` (a retryable status), else a content check."""

    def __init__(
        self,
        message: str,
        *,
        error: Exception | None = None,
        response: Any = None,
        unresolved: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error = error
        self.response = response
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


def _reason(exc: Exception) -> str:
    text = str(exc)
    # urllib3 nests its reason deep inside; the last part is the readable one.
    if "Caused by" in text:
        text = text.rsplit("Caused by", 1)[-1].strip(" ()'\"")
    return text[:200] or type(exc).__name__
