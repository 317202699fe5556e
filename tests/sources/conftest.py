"""Fixtures for the sources tests: a loopback server, a fake clock, a client factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.servers import LoopbackServer
from tracker.http import HttpClient

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
USER_AGENT = "tracker-tests/1.0 (mailto:tests@example.org)"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FakeClock:
    """Monotonic time that only moves when something sleeps: delays are recorded, not waited."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


MakeHttp = Callable[..., HttpClient]


@pytest.fixture
def make_http(clock: FakeClock) -> Iterator[MakeHttp]:
    """Build an HttpClient on the fake clock; keyword arguments override the test defaults
    (timeout 2 s, no delay, 3 retries, backoff 1 s doubling, cap 60 s, 1 MB)."""
    sessions: list[requests.Session] = []

    def make(**overrides: Any) -> HttpClient:
        session = requests.Session()
        sessions.append(session)
        settings: dict[str, Any] = {
            "timeout": 2.0,
            "delay": 0.0,
            "retries": 3,
            "backoff": 1.0,
            "max_backoff": 60.0,
            "max_bytes": 1_000_000,
            "user_agent": USER_AGENT,
            "clock": clock.monotonic,
            "sleep": clock.sleep,
        }
        settings.update(overrides)
        return HttpClient(session, **settings)

    yield make
    for session in sessions:
        session.close()
