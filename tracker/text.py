"""Text from papers and people is hostile: the one sanitiser every stored or shown text goes
through (STYLE rule 14).

`plain` decides which characters of a title, an author name, an abstract or a message may
reach papers.yaml, rejected.yaml, the rendered lists, a pull request or a terminal:

- ANSI/VT escape sequences (CSI such as `ESC[2J`, which clears a screen; OSC such as a
  terminal title or hyperlink; two-character ESC sequences) are removed whole, so no `[2J`
  is left behind;
- every other control character (C0, DEL, C1), the bidi embeddings, overrides, isolates and
  marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C: U+202E reverses the text after
  it), the line and paragraph separators, and zero-width spaces and joiners-of-nothing (U+200B,
  U+2060, U+FEFF) are removed or become a space;
- a lone surrogate (which no file can hold in UTF-8) becomes U+FFFD;
- whitespace runs fold into one space (with `lines=True`, line breaks are kept and only the
  characters above are replaced).

Markdown, HTML and YAML escaping are separate, later steps of each output (`inert` for pull
requests, `escape_markdown` for the lists, ruamel for YAML): they make visible characters
inert in one format; `plain` removes the invisible ones for all of them.
"""

from __future__ import annotations

import re

# ESC [ params intermediates final | ESC ] ... (BEL | ESC \) | ESC P/X/^/_ ... ESC \ | ESC x.
_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]"
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|[ -/]*[0-~])"
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the 8-bit CSI
)
# Characters that draw nothing and may only confuse: removed without a trace.
_INVISIBLE = re.compile(r"[\u200b\u2060\ufeff\u00ad]")
# Control and direction characters: each becomes a space (a tab or newline in a title is a
# word break, not nothing).
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_CONTROL_KEEP_LINES = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def plain(text: str, *, lines: bool = False) -> str:
    """`text` with nothing that could move the cursor, colour or clear a terminal, reverse the
    text around it, or hide in a file (see the module docstring); one line with whitespace
    folded, or with `lines`, the same lines."""
    text = _ESCAPE.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = _SURROGATE.sub("\ufffd", text)
    if lines:
        text = text.replace("\r\n", "\n")
        return _CONTROL_KEEP_LINES.sub(" ", text)
    return " ".join(_CONTROL.sub(" ", text).split())
