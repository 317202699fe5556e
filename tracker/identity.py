"""Paper identity: arXiv ids, DOIs, titles, and the same-paper decision.

This is the only module that decides whether two records are the same paper. It prefers
precision to recall: when in doubt it says "different", because merging two different papers
loses one of them silently, while a missed merge is a visible duplicate that `tracker check`
reports.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, runtime_checkable
from urllib.parse import unquote, urlsplit

# --- arXiv ids -------------------------------------------------------------------------------

# New style: YYMM.NNNN (2007-2014) or YYMM.NNNNN (2015-), optional version.
_NEW_ID = r"(?P<new>\d{4}\.\d{4,5})"
# Old style: archive(.subject class)/YYMMNNN, e.g. cs/0112017, math.GT/0309136, hep-th/9901001.
_OLD_ID = r"(?P<old>[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})"
_ID_RE = re.compile(rf"^(?:arxiv:)?(?:{_NEW_ID}|{_OLD_ID})(?:v(?P<version>\d+))?$", re.IGNORECASE)
_ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org", "browse.arxiv.org"}
_ARXIV_PATH_RE = re.compile(r"^/(?:abs|pdf|html|format|ps)/(?P<id>.+?)(?:\.pdf)?/?$")
_ARXIV_DOI_RE = re.compile(r"^10\.48550/arxiv\.(?P<id>.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class ArxivId:
    """An arXiv identifier split into the id proper and the version (None when absent)."""

    id: str
    version: int | None = None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"


def parse_arxiv_id(text: str) -> ArxivId | None:
    """Parse a bare id (`2301.01234v2`, `arXiv:cs/0112017`) or an arxiv.org abs/pdf/html URL.

    Returns None for anything else, including URLs of other hosts.
    """
    text = text.strip()
    if "://" in text or text.startswith(("arxiv.org/", "www.arxiv.org/")):
        return arxiv_id_from_url(text)
    doi = _ARXIV_DOI_RE.match(text)
    if doi:
        text = doi.group("id")
    m = _ID_RE.match(text)
    if not m:
        return None
    ident = m.group("new") or m.group("old")
    if m.group("old"):
        archive, number = ident.split("/")
        # The archive is lower case, the subject class upper case: math.GT/0309136.
        if "." in archive:
            arch, subj = archive.split(".")
            archive = f"{arch.lower()}.{subj.upper()}"
        else:
            archive = archive.lower()
        ident = f"{archive}/{number}"
    version = int(m.group("version")) if m.group("version") else None
    return ArxivId(ident, version)


def arxiv_id_from_url(url: str) -> ArxivId | None:
    """The arXiv id in an arxiv.org `/abs/`, `/pdf/` or `/html/` URL, else None."""
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in _ARXIV_HOSTS:
        return None
    m = _ARXIV_PATH_RE.match(unquote(parts.path))
    if not m:
        return None
    candidate = m.group("id")
    if "://" in candidate:
        return None
    return parse_arxiv_id(candidate)


def normalize_arxiv_id(text: str) -> str | None:
    """The versionless arXiv id in `text` (bare id or URL), or None."""
    parsed = parse_arxiv_id(text)
    return parsed.id if parsed else None


# --- DOIs ------------------------------------------------------------------------------------

_DOI_RE = re.compile(r"(10\.\d{4,9}/\S+)", re.IGNORECASE)
_DOI_HOSTS = {"doi.org", "dx.doi.org", "www.doi.org"}
# dl.acm.org/doi/10.1145/..., /doi/abs/..., /doi/pdf/..., /doi/fullHtml/...
_ACM_PATH_RE = re.compile(
    r"^/doi/(?:(?:abs|pdf|full|fullHtml|epdf|book)/)?(?P<doi>10\.\d{4,9}/.+)$"
)


def normalize_doi(text: str) -> str | None:
    """A lower-cased bare DOI from `10.x/y`, `doi:10.x/y` or a doi.org / dl.acm.org URL."""
    text = text.strip()
    if "://" in text or text.startswith(("doi.org/", "dx.doi.org/", "dl.acm.org/")):
        return doi_from_url(text)
    if text.lower().startswith("doi:"):
        text = text[4:].strip()
    m = _DOI_RE.fullmatch(text)
    return _clean_doi(m.group(1)) if m else None


def doi_from_url(url: str) -> str | None:
    """The DOI in a doi.org or dl.acm.org/doi URL, else None."""
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = unquote(parts.path)
    if host in _DOI_HOSTS:
        m = _DOI_RE.fullmatch(path.lstrip("/"))
        return _clean_doi(m.group(1)) if m else None
    if host in {"dl.acm.org", "www.dl.acm.org"}:
        m = _ACM_PATH_RE.match(path)
        return _clean_doi(m.group("doi")) if m else None
    return None


def _clean_doi(doi: str) -> str:
    return doi.rstrip(".,;/").lower()


# --- titles ----------------------------------------------------------------------------------

_LATEX_CMD_ARG = re.compile(r"\\[a-zA-Z]+\*?\s*\{([^{}]*)\}")
_LATEX_CMD = re.compile(r"\\[a-zA-Z]+\*?")
_LATEX_ESCAPE = re.compile(r"\\([&%$#_{}])")
_LATEX_MATH = re.compile(r"\$([^$]*)\$")
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
# A hyphen (or Unicode hyphen/dash) joining two word pieces, maybe broken across a line.
_HYPHEN_JOIN = re.compile(r"(\w)[-\u2010\u2011\u2012\u2013\u00ad]\s*(\w)")
_NON_WORD = re.compile(r"[\W_]+")
# Where a subtitle starts: a colon, or a spaced dash.
_SUBTITLE_SPLIT = re.compile(r"\s*:\s+|\s+[-\u2013\u2014]{1,2}\s+")
_MIN_MAIN_TITLE_WORDS = 4


def normalize_title(title: str) -> str:
    """The comparison key of a title.

    Folds case, accents and Unicode compatibility forms, joins hyphenated words
    (`pre-trained`, `pre- trained` and `pretrained` agree), strips LaTeX markup (`\\textit{X}`,
    `$...$`, braces, escapes) and reduces punctuation and whitespace to single spaces.
    """
    text = _strip_latex(title)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _APOSTROPHES.sub("", text.casefold()).replace("&", " and ")
    # Apply twice: overlapping matches such as `a-b-c` need a second pass.
    text = _HYPHEN_JOIN.sub(r"\1\2", _HYPHEN_JOIN.sub(r"\1\2", text))
    return " ".join(_NON_WORD.sub(" ", text).split())


def main_title(title: str) -> str:
    """The normalised title before its subtitle (`X: a study of Y` -> `x`), or the whole."""
    stripped = _strip_latex(title)
    parts = _SUBTITLE_SPLIT.split(stripped, maxsplit=1)
    return normalize_title(parts[0])


def _strip_latex(text: str) -> str:
    text = _LATEX_ESCAPE.sub(r"\1", text)
    # Inside math, sub- and superscript marks are markup: $L_2$ reads "L2".
    text = _LATEX_MATH.sub(lambda m: m.group(1).replace("_", "").replace("^", ""), text)
    previous = None
    while previous != text:  # nested commands: \textbf{\emph{X}}
        previous = text
        text = _LATEX_CMD_ARG.sub(r"\1", text)
    text = _LATEX_CMD.sub(" ", text)
    return text.replace("$", "").replace("{", "").replace("}", "").replace("~", " ")


# --- authors ---------------------------------------------------------------------------------

_DISAMBIGUATION = re.compile(r"\s+\d{4}$")  # dblp's homonym number: "Wei Wang 0001"
_INITIAL = re.compile(r"^\w$")


def surname_keys(name: str) -> frozenset[str]:
    """The folded words that may be `name`'s family name: the part before a comma ("Liu,
    Hongbin"), else the last and the first word (name order differs between sources:
    "Hongbin Liu", "LIU Hongbin"). Initials and dblp's homonym numbers are left out."""
    name = _DISAMBIGUATION.sub("", name.strip())
    if "," in name:
        words = normalize_title(name.split(",", 1)[0]).split()
        return frozenset(words[-1:])
    words = [w for w in normalize_title(name).split() if not _INITIAL.match(w)]
    return frozenset({words[0], words[-1]}) if words else frozenset()


def authors_overlap(a: Iterable[str], b: Iterable[str]) -> bool | None:
    """Whether two author lists share a family name; None when either list is empty (the seed
    catalog lists no authors: that is no evidence either way)."""
    keys_a = [surname_keys(n) for n in a]
    keys_b = [surname_keys(n) for n in b]
    if not any(keys_a) or not any(keys_b):
        return None
    names_b = frozenset().union(*keys_b)
    return any(k & names_b for k in keys_a)


# --- same paper ------------------------------------------------------------------------------


@runtime_checkable
class Identifiable(Protocol):
    """What identity reads of a record (`tracker.paper.Paper` has it all): this module sits
    below the record, so the record can use its id parsing."""

    @property
    def title(self) -> str: ...

    @property
    def arxiv_id(self) -> str | None: ...

    @property
    def doi(self) -> str | None: ...

    @property
    def year(self) -> int | None: ...

    @property
    def authors(self) -> tuple[str, ...]: ...

    @property
    def links(self) -> Mapping[str, str]: ...


def paper_ids(paper: Identifiable) -> tuple[str | None, str | None]:
    """The paper's (versionless arXiv id, DOI), looking into its links and arXiv DOIs too."""
    arxiv = normalize_arxiv_id(paper.arxiv_id) if paper.arxiv_id else None
    doi = normalize_doi(paper.doi) if paper.doi else None
    if doi and arxiv is None:
        from_doi = parse_arxiv_id(doi)
        if from_doi:
            arxiv, doi = from_doi.id, None
    for url in paper.links.values():
        if arxiv is None:
            arxiv = normalize_arxiv_id(url) if "arxiv" in url else None
        if doi is None and ("doi" in url):
            doi = doi_from_url(url)
    if doi and _ARXIV_DOI_RE.match(doi):
        doi = None
    return arxiv, doi


def paper_key(paper: Identifiable) -> str:
    """One key per paper, for de-duplicating rows that carry little more than an arXiv id and a
    title (labelled data): `arxiv:<versionless id>` when the paper has one, else
    `title:<normalised title>`. Records with equal keys are the same paper by `same_paper`;
    `same_paper` matches more (DOIs, a title with and without its subtitle)."""
    arxiv, _ = paper_ids(paper)
    return f"arxiv:{arxiv}" if arxiv else f"title:{normalize_title(paper.title)}"


def same_paper(a: Identifiable, b: Identifiable) -> bool:
    """Whether `a` and `b` are the same paper.

    Same when they share an arXiv id (any version) or a DOI. Otherwise, when no identifier
    contradicts it (two different arXiv ids, or two different DOIs) and their author lists, when
    both have one, share a family name: when their normalised titles are equal, or when one
    title is the other's main title plus a subtitle and that main title is specific enough (at
    least four words) and the years are at most two apart: a preprint and its published
    version (a venue record and the catalog's preprint, or the other way round).
    """
    a_arxiv, a_doi = paper_ids(a)
    b_arxiv, b_doi = paper_ids(b)
    if a_arxiv and a_arxiv == b_arxiv:
        return True
    if a_doi and a_doi == b_doi:
        return True
    if (a_arxiv and b_arxiv) or (a_doi and b_doi):
        return False  # both identified, differently
    if authors_overlap(a.authors, b.authors) is False:
        return False  # same words, different people: two papers
    ta, tb = normalize_title(a.title), normalize_title(b.title)
    if not ta or not tb:
        return False
    if ta == tb:
        return True
    if a.year and b.year and abs(a.year - b.year) > 2:
        return False
    return _subtitle_variant(a.title, ta, b.title, tb)


def _subtitle_variant(raw_a: str, ta: str, raw_b: str, tb: str) -> bool:
    ma, mb = main_title(raw_a), main_title(raw_b)
    for main, other_full, full in ((ma, tb, ta), (mb, ta, tb)):
        # One side is exactly the other's main title, and that main title really is a part
        # split off by a subtitle separator (not just a prefix of a longer plain title).
        if main != full and main == other_full and len(main.split()) >= _MIN_MAIN_TITLE_WORDS:
            return True
    return False


def same_title(a: Identifiable, b: Identifiable) -> bool:
    """Whether `b` is `a` by exact title: equal normalised titles, no contradicting identifiers,
    authors that overlap when both are known. What borrowing an abstract from arXiv for a
    title-only venue record requires (no subtitle variants: a near title is not enough there).
    """
    ta, tb = normalize_title(a.title), normalize_title(b.title)
    return bool(ta) and ta == tb and same_paper(a, b)


T = TypeVar("T")


class PaperIndex(Generic[T]):
    """Known papers, looked up by identity: `find` returns the value stored for the same paper.

    Lookups go through arXiv id, DOI and title keys, then confirm with `same_paper`, so the
    index never disagrees with the pairwise rule.
    """

    def __init__(self, items: Iterable[tuple[Identifiable, T]] = ()) -> None:
        self._items: list[tuple[Identifiable, T]] = []
        self._keys: dict[str, list[int]] = {}
        for paper, value in items:
            self.add(paper, value)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[tuple[Identifiable, T]]:
        return iter(self._items)

    def add(self, paper: Identifiable, value: T, keys: list[str] | None = None) -> None:
        """Index `paper` with `value`; `keys` are its `index_keys`, when already computed."""
        self._add(paper, value, keys if keys is not None else index_keys(paper))

    def add_new(self, paper: Identifiable, value: T, keys: list[str] | None = None) -> bool:
        """Add `paper` unless the index holds the same paper already; whether it was added."""
        keys = keys if keys is not None else index_keys(paper)
        if self._find_all(paper, keys):
            return False
        self._add(paper, value, keys)
        return True

    def find_all(self, paper: Identifiable, keys: list[str] | None = None) -> list[T]:
        """The values stored for the same paper as `paper` (`keys`: its `index_keys`)."""
        return self._find_all(paper, keys if keys is not None else index_keys(paper))

    def _add(self, paper: Identifiable, value: T, keys: list[str]) -> None:
        index = len(self._items)
        self._items.append((paper, value))
        for key in keys:
            self._keys.setdefault(key, []).append(index)

    def _find_all(self, paper: Identifiable, keys: list[str]) -> list[T]:
        seen: set[int] = set()
        found: list[T] = []
        for key in keys:
            for index in self._keys.get(key, ()):
                if index in seen:
                    continue
                seen.add(index)
                other, value = self._items[index]
                if same_paper(paper, other):
                    found.append(value)
        return found

    def find(self, paper: Identifiable, keys: list[str] | None = None) -> T | None:
        found = self.find_all(paper, keys)
        return found[0] if found else None

    def __contains__(self, paper: object) -> bool:
        return isinstance(paper, Identifiable) and self.find(paper) is not None


def index_keys(paper: Identifiable) -> list[str]:
    """The keys a paper is indexed and looked up under (main title, title, arXiv id, DOI); an
    index confirms every key hit with `same_paper`. Costly enough (title normalisation) to
    compute once per paper when one paper meets several indexes."""
    arxiv, doi = paper_ids(paper)
    keys = [f"title:{main_title(paper.title)}", f"title:{normalize_title(paper.title)}"]
    if arxiv:
        keys.append(f"arxiv:{arxiv}")
    if doi:
        keys.append(f"doi:{doi}")
    return keys
