"""A recorded arXiv daily listing, replayed offline: `tracker run --replay FILE`.

The recording (RSS or Atom, as rss.arxiv.org serves it) is served by a loopback HTTP server on
127.0.0.1 at whatever path the listing source asks for, so the real source, HTTP client and
parser read it: only the host differs from a live night. The run is then configured as of the
listing's date, with the listing as its only source and no GitHub: nothing leaves the machine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from tracker.config import Config
from tracker.errors import InputError, SourceError
from tracker.sources.arxiv_listing import parse_listing

RSS_TYPE = "application/rss+xml; charset=utf-8"
LISTING_PATH = "/rss/"


@dataclass(frozen=True)
class Recording:
    """A recorded listing: its file, its bytes and the announcement day it holds."""

    path: Path
    content: bytes
    date: dt.date
    papers: int


def read_recording(path: Path) -> Recording:
    """Read and check a recorded listing. Raises InputError when it cannot be replayed."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the recorded listing {path}: {exc.strerror}") from None
    try:
        listing = parse_listing(content, str(path))
    except SourceError as exc:
        raise InputError(f"{path} is not an arXiv listing: {exc}") from None
    if listing.date is None:
        raise InputError(
            f"{path} has no announcement date",
            hint="a recorded listing carries the channel's <pubDate>, as arXiv writes it",
        )
    return Recording(path, content, listing.date, len(listing.papers))


class ReplayServer:
    """Serves one recording on 127.0.0.1 at a free port, for every GET path, until closed."""

    def __init__(self, recording: Recording) -> None:
        body = recording.content

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not self.path.startswith(LISTING_PATH):
                    self.send_error(404, "a replay serves the recorded listing only")
                    return
                self.send_response(200)
                self.send_header("Content-Type", RSS_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the run prints its own progress

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def replay_config(config: Config, base_url: str) -> Config:
    """`config` with the daily listing read from `base_url` as its only source, no venue
    look-ups, and no GitHub (no token, no repository): a replay never publishes, never reads a
    repository, and every URL it could ask points at the replay server."""
    arxiv = dataclasses.replace(
        config.arxiv,
        search=False,
        listing=True,
        rss_url=f"{base_url}{LISTING_PATH.rstrip('/')}",
        api_url=f"{base_url}/api/query",
    )
    bot = dataclasses.replace(config.bot, repository="", venue_updates=False)
    dblp = dataclasses.replace(config.dblp, streams=[], arxiv_lookups=False)
    openreview = dataclasses.replace(config.openreview, venues=[])
    return dataclasses.replace(
        config,
        arxiv=arxiv,
        feeds=[],
        dblp=dblp,
        openreview=openreview,
        bot=bot,
        github_token=None,
    )
