"""Write the training labels that ship with tracker, from the full labelled stream.

    python -m benchmarks.training_labels PATH/stream-2026.jsonl

The full stream is 45 MB (24,918 papers of 44 nights). What `tracker train` uses, kept:
`id`, `title`, `abstract`, `categories` (for figures by category; not a model input),
`announced`, `in_scope`, `section`, `sure` and `reviewed`. Dropped: `version`, `authors`,
`comment`, `source` and `in_sample` (no fit or figure reads them). Rows: every in-scope row and
every negative an annotator read are kept; of the negatives labelled out unread, one in
`EASY_NEGATIVES_KEPT`, chosen by a hash of the paper's key, the same ones `tracker train`
keeps when it thins the full stream, each with `count` saying how many rows it stands for.
Written as xz (`models/training/stream-2026.jsonl.xz`), rows in the stream's order.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
from pathlib import Path

from benchmarks.data import REPO, stream_lines
from tracker.classify.data import EASY_NEGATIVES_KEPT, Label, thinned_out

OUT = REPO / "models" / "training" / "stream-2026.jsonl.xz"
KEPT = ("id", "title", "abstract", "categories", "announced", "in_scope", "section", "sure")


def thin_rows(lines: list[str]) -> tuple[list[dict[str, object]], int]:
    """(rows to ship, rows left out)."""
    out, left = [], 0
    for line in lines:
        row = json.loads(line)
        label = Label(
            title=row["title"],
            abstract=row.get("abstract") or "",
            in_scope=bool(row["in_scope"]),
            section=None,
            categories=(),
            night="",
            sure=True,
            id=row.get("id"),
            reviewed=row.get("reviewed") is not False,
        )
        if thinned_out(label):
            left += 1
            continue
        kept: dict[str, object] = {k: row.get(k) for k in KEPT}
        kept["reviewed"] = label.reviewed
        if not label.in_scope and not label.reviewed:
            kept["count"] = EASY_NEGATIVES_KEPT
        out.append(kept)
    return out, left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stream", type=Path, help="the full labelled stream (JSONL)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows, left = thin_rows(list(stream_lines(args.stream)))
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    tmp = args.out.with_suffix(".tmp")
    # preset 9 with no timestamp in the format: the same rows give the same bytes
    tmp.write_bytes(lzma.compress(text.encode(), preset=9))
    os.replace(tmp, args.out)
    print(
        f"wrote {args.out}: {len(rows):,} rows ({left:,} unread negatives left out), "
        f"{args.out.stat().st_size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
