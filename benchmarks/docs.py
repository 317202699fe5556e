"""Benchmarks write their figures into README.md and models/MODEL_CARD.md, between markers
`<!-- benchmark:NAME -->` and `<!-- /benchmark:NAME -->`, so the documents never drift from the
last measurement."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = (REPO / "README.md", REPO / "models" / "MODEL_CARD.md")


def replace_block(name: str, text: str, paths: tuple[Path, ...] = DOCS) -> list[Path]:
    """Put `text` between the markers of block `name` in each of `paths` that has them."""
    start, end = f"<!-- benchmark:{name} -->", f"<!-- /benchmark:{name} -->"
    changed = []
    for path in paths:
        doc = path.read_text(encoding="utf-8")
        if start not in doc or end not in doc:
            continue
        head, rest = doc.split(start, 1)
        _, tail = rest.split(end, 1)
        path.write_text(f"{head}{start}\n{text.strip()}\n{end}{tail}", encoding="utf-8")
        changed.append(path)
    return changed
