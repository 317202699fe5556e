"""OpenReview's API v2 (`https://api2.openreview.net`) as a loopback server sees it.

`GET /notes?content.venueid=ICLR.cc/2026/Conference&offset=0&limit=1000` answers
`{"notes": [...], "count": N}`. A note is written as the API writes one (the fields
`openreview-py`'s `Note.from_json` reads): `id`, `forum`, `number`, `cdate`, `mdate`, `pdate`,
`odate`, `tcdate`, `tmdate` (milliseconds since the epoch), `invitations`, `domain`, `readers`,
`writers`, `signatures`, and `content` whose every field is `{"value": ...}`: `title`,
`authors`, `authorids`, `abstract`, `keywords`, `venue` ("ICLR 2026 Poster", "Accepted by TMLR"),
`venueid`, `pdf`, `_bibtex`. Errors are JSON `{"name", "message", "status", "details"}`, as in
`RateLimitError` (429, with Retry-After).

    api = OpenReviewApi([openreview_note(paper, venueid="ICLR.cc/2026/Conference",
                                         venue="ICLR 2026 Poster", published=date)])
    server.route("/notes", api)

`limit` is capped at 1000 as the API does; `sort=tmdate:desc` (or any `field:asc|desc` of the
date fields and `number`) orders the notes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.servers.loopback import Reply, Request
from tracker.paper import Paper

JSON_TYPE = "application/json; charset=utf-8"
MAX_LIMIT = 1000


def millis(day: dt.date, hour: int = 12) -> int:
    return int(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).timestamp() * 1000)


def openreview_note(
    paper: Paper,
    *,
    venueid: str,
    venue: str,
    published: dt.date,
    number: int = 1,
    modified: dt.date | None = None,
) -> dict[str, Any]:
    """A note of an accepted paper, as `GET /notes` returns it."""
    note_id = hashlib.sha1(paper.title.encode()).hexdigest()[:10]
    created = published - dt.timedelta(days=120)
    domain = venueid
    content: dict[str, Any] = {
        "title": {"value": paper.title},
        "authors": {"value": list(paper.authors)},
        "authorids": {"value": [f"~{a.replace(' ', '_')}1" for a in paper.authors]},
        "keywords": {"value": ["backdoor"]},
        "abstract": {"value": paper.abstract},
        "venue": {"value": venue},
        "venueid": {"value": venueid},
        "pdf": {"value": f"/pdf/{hashlib.sha1(note_id.encode()).hexdigest()}.pdf"},
        "_bibtex": {"value": f"@inproceedings{{x{number},\ntitle={{{paper.title}}}\n}}"},
    }
    return {
        "id": note_id,
        "forum": note_id,
        "number": number,
        "cdate": millis(created),
        "mdate": millis(modified or published),
        "pdate": millis(published),
        "odate": millis(created + dt.timedelta(days=10)),
        "tcdate": millis(created),
        "tmdate": millis(modified or published, 13),
        "invitations": [f"{domain}/-/Submission", f"{domain}/-/Post_Submission"],
        "domain": domain,
        "readers": ["everyone"],
        "writers": [domain],
        "signatures": [f"{domain}/Submission{number}/Authors"],
        "content": content,
        "license": "CC BY 4.0",
    }


def error_json(name: str, message: str, status: int, **details: Any) -> bytes:
    """An API error body."""
    return json.dumps(
        {"name": name, "message": message, "status": status, "details": details}
    ).encode()


def rate_limited(seconds: int = 2) -> Reply:
    """The API's 429: a RateLimitError and Retry-After."""
    body = error_json(
        "RateLimitError",
        f"Too many requests: You have made 61 requests, surpassing the limit of 60 requests. "
        f"Please try again in {seconds} seconds",
        429,
        limit=60,
        remaining=0,
    )
    return Reply(429, body, JSON_TYPE, headers={"Retry-After": str(seconds)})


@dataclass
class OpenReviewApi:
    """`GET /notes` over `notes`, filtered by `content.venueid` (exact), paged by
    `offset`/`limit`, ordered by `sort`. `requests` records each query's parameters."""

    notes: Sequence[Mapping[str, Any]]
    requests: list[Mapping[str, str]] = field(default_factory=list)

    def __call__(self, request: Request) -> Reply:
        params = {k: v[0] for k, v in request.query.items() if v}
        self.requests.append(params)
        venueid = params.get("content.venueid")
        if venueid is None:
            body = error_json("ValidationError", "Missing filter", 400, path="query")
            return Reply(400, body, JSON_TYPE)
        matching = [n for n in self.notes if n["content"]["venueid"]["value"] == venueid]
        sort = params.get("sort", "number:asc")
        key, _, order = sort.partition(":")
        matching.sort(key=lambda n: n.get(key) or 0, reverse=order == "desc")
        offset = int(params.get("offset", "0"))
        limit = min(int(params.get("limit", str(MAX_LIMIT))), MAX_LIMIT)
        page = matching[offset : offset + limit]
        body = json.dumps({"notes": list(page), "count": len(matching)}, ensure_ascii=False)
        return Reply(200, body.encode("utf-8"), JSON_TYPE)
