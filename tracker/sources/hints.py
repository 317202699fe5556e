"""What a paper's free text says about it: code links in the abstract or comment, and the
venue an arXiv comment announces ("Accepted at USENIX Security 2026", "To appear in CCS'25").

Both are heuristics tuned for precision: a wrong venue in the catalog is worse than a missing
one, so a comment that only says "submitted to" or "under review at" gives no venue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.identity import normalize_doi, parse_arxiv_id

# --- code links ------------------------------------------------------------------------------

# Repository hosts: a link needs an owner and a project to count (a user page is not code).
_REPO_HOSTS = r"github\.com|gitlab\.com|bitbucket\.org|codeberg\.org|gitee\.com"
_URL = re.compile(
    r"(?:https?://)?(?:www\.)?"
    r"(?:(?P<repo_host>" + _REPO_HOSTS + r")/(?P<owner>[\w.-]+)/(?P<project>[\w.-]+)"
    r"|(?P<anon>anonymous\.4open\.science)/r/(?P<anon_id>[\w.-]+)"
    r"|(?P<hf>huggingface\.co)/(?:(?P<hf_kind>datasets|spaces)/)?(?P<hf_owner>[\w.-]+)/(?P<hf_name>[\w.-]+))",
    re.IGNORECASE,
)
# GitHub paths that are not repositories (github.com/features/copilot, /orgs/x/...).
_NOT_OWNERS = {
    "features",
    "orgs",
    "topics",
    "marketplace",
    "sponsors",
    "about",
    "pricing",
    "settings",
}
_HF_NOT_OWNERS = {"docs", "blog", "papers", "models", "learn", "tasks", "join", "login"}
_HF_KIND = {None: "model", "datasets": "dataset", "spaces": "demo"}


def code_links(*texts: str | None) -> dict[str, str]:
    """Code and artefact links found in `texts`, as link kind -> URL.

    The first repository link (GitHub, GitLab, Bitbucket, Codeberg, Gitee, Anonymous GitHub) is
    `code`, further ones `code-2`, `code-3`...; Hugging Face links are `model`, `dataset` or
    `demo`. URLs are normalised to `https://host/owner/project` (no `.git`, no trailing
    punctuation, no deeper path), and each appears once.
    """
    links: dict[str, str] = {}
    seen: set[str] = set()
    repos = 0
    for text in texts:
        if not text:
            continue
        # LaTeX wrappers (\url{...}, \href{...}{...}) and line-broken URLs are common in comments.
        text = text.replace("\\url{", " ").replace("\\href{", " ").replace("}", " ")
        for m in _URL.finditer(text):
            if m.group("repo_host"):
                owner, project = m.group("owner"), _clean_name(m.group("project"))
                if owner.lower() in _NOT_OWNERS or not project:
                    continue
                url = f"https://{m.group('repo_host').lower()}/{owner}/{project}"
                kind = None
            elif m.group("anon"):
                ident = _clean_name(m.group("anon_id"))
                if not ident:
                    continue
                url = f"https://anonymous.4open.science/r/{ident}"
                kind = None
            else:
                owner, name = m.group("hf_owner"), _clean_name(m.group("hf_name"))
                if owner.lower() in _HF_NOT_OWNERS or not name:
                    continue
                hf_kind = m.group("hf_kind")
                prefix = f"{hf_kind.lower()}/" if hf_kind else ""
                url = f"https://huggingface.co/{prefix}{owner}/{name}"
                kind = _HF_KIND[hf_kind.lower() if hf_kind else None]
            if url.lower() in seen:
                continue
            seen.add(url.lower())
            if kind is None:
                repos += 1
                kind = "code" if repos == 1 else f"code-{repos}"
            if kind not in links:
                links[kind] = url
    return links


def _clean_name(name: str) -> str:
    name = name.rstrip(".-")
    if name.lower().endswith(".git"):
        name = name[:-4]
    return name


def venue_doi(text: str) -> str | None:
    """The DOI in `text` (bare or as a URL), unless it is arXiv's own DOI (10.48550/arXiv.*),
    which names the preprint, not where it was published."""
    doi = normalize_doi(text)
    if doi is None or parse_arxiv_id(doi) is not None:
        return None
    return doi


# --- venue hints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VenueHint:
    """A venue and year read from a comment; `year` is None when the text names none."""

    venue: str
    year: int | None


# Canonical names as the catalog writes them, each with the spellings seen in arXiv comments.
# Longer and more specific spellings come first within the alternation (built below).
_VENUES: dict[str, tuple[str, ...]] = {
    "USENIX": ("USENIX Security Symposium", "USENIX Security", "USENIX Sec", "USENIX"),
    "CCS": ("ACM CCS", "ACM SIGSAC CCS", "CCS"),
    "NDSS": ("NDSS Symposium", "NDSS"),
    "SP": ("IEEE S&P", "IEEE SP", "IEEE Symposium on Security and Privacy", "S&P", "Oakland"),
    "IEEE EuroS&P": ("IEEE EuroS&P", "EuroS&P", "EuroSP"),
    "AsiaCCS": ("ACM AsiaCCS", "AsiaCCS", "ASIA CCS"),
    "ACSAC": ("ACSAC",),
    "RAID": ("RAID",),
    "ESORICS": ("ESORICS",),
    "PETS": ("PoPETs", "PETS"),
    "SaTML": ("IEEE SaTML", "SaTML"),
    "NeurIPS": ("NeurIPS", "NIPS"),
    "ICML": ("ICML",),
    "ICLR": ("ICLR",),
    "AAAI": ("AAAI",),
    "IJCAI": ("IJCAI",),
    "KDD": ("ACM SIGKDD", "SIGKDD", "KDD"),
    "WWW": ("The Web Conference", "TheWebConf", "WWW"),
    "ACL": ("ACL",),
    "EMNLP": ("EMNLP",),
    "NAACL": ("NAACL",),
    "COLING": ("COLING",),
    "CVPR": ("CVPR",),
    "ICCV": ("ICCV",),
    "ECCV": ("ECCV",),
    "ACM Multimedia": ("ACM Multimedia", "ACM MM", "ACMMM"),
    "ICSE": ("ICSE",),
    "FSE": ("ESEC/FSE", "FSE"),
    "ASE": ("ASE",),
    "ISSTA": ("ISSTA",),
    "ASPLOS": ("ASPLOS",),
    "DAC": ("DAC",),
    "MLSys": ("MLSys",),
    "ICASSP": ("ICASSP",),
    "IEEE Transactions on Dependable and Secure Computing": (
        "IEEE Transactions on Dependable and Secure Computing",
        "IEEE TDSC",
        "TDSC",
    ),
    "IEEE Transactions on Information Forensics and Security": (
        "IEEE Transactions on Information Forensics and Security",
        "IEEE TIFS",
        "TIFS",
    ),
    "TPAMI": ("IEEE TPAMI", "TPAMI"),
    "ACM TOSEM": ("ACM TOSEM", "TOSEM"),
    "TMLR": ("TMLR",),
}
_ALIASES = sorted(
    ((alias, canon) for canon, aliases in _VENUES.items() for alias in aliases),
    key=lambda pair: -len(pair[0]),
)
_CANON = {alias.lower(): canon for alias, canon in _ALIASES}
_KNOWN_VENUE = "|".join(re.escape(alias) for alias, _ in _ALIASES)
# A year right after the venue: "CCS 2025", "CCS'25", "CCS ’25", "CCS-2025", "USENIX Security '26".
_YEAR = r"(?:\s*[-,]?\s*(?:(?P<year>(?:19|20)\d\d)|['’‘](?P<short>\d\d)))"
_KNOWN_RE = re.compile(rf"(?<![\w&])(?P<venue>{_KNOWN_VENUE})(?![\w&]){_YEAR}?", re.IGNORECASE)
_ACCEPTED = re.compile(
    r"\b(?:accepted|to\s+appear|appear(?:s|ed|ing)?|published|presented|camera[-\s]ready"
    r"|in\s+proceedings|proceedings\s+of|oral|spotlight|poster)\b",
    re.IGNORECASE,
)
# Words that say the paper is not (yet) at that venue.
_NOT_ACCEPTED = re.compile(
    r"\b(?:submitted|submission|under\s+review|in\s+review|rejected|withdrawn|preprint\s+for"
    r"|extended\s+version\s+of|extends?\s+(?:our|the)|follow[-\s]up)\b",
    re.IGNORECASE,
)
# An unknown venue after an acceptance phrase: "Accepted at the XYZ Conference 2025".
_UNKNOWN_RE = re.compile(
    r"\b(?i:accepted|to\s+appear|appear(?:s|ed)?|published|presented)"
    r"(?i:\s+(?:for\s+(?:publication|presentation)|as\s+(?:an?\s+)?[\w\s-]{0,30}?paper))?"
    r"\s+(?i:at|in|to|by|for)\s+"
    r"(?i:the\s+)?(?P<venue>[A-Z][\w&'’./-]*"
    r"(?:\s+(?:[A-Z0-9][\w&'’./-]*|on|of|for|and|in|the|&)){0,9}?)"
    r"\s*(?:['’]?(?P<year>(?:19|20)\d\d)|['’](?P<short>\d\d))(?!\d)"
)
# Words that show a parenthesised acronym names a venue, when no year is given.
_VENUE_WORD = re.compile(
    r"\b(?:Transactions|Journal|Conference|Symposium|Workshop|Letters|Proceedings|Magazine)\b"
)
_PAREN_ACRONYM = re.compile(
    r"\((?P<venue>[A-Z][A-Za-z0-9&-]*[A-Z])(?:\s*(?:(?P<year>(?:19|20)\d\d)|['’]?(?P<short>\d\d)))?\)"
)
_ANY_YEAR = re.compile(r"(?<!\d)(?:(?P<year>(?:19|20)\d\d)|['’](?P<short>\d\d))(?!\d)")
_PROCEEDINGS = re.compile(r"^(?:the\s+)?proceedings\s+of\s+(?:the\s+)?", re.IGNORECASE)
_WORKSHOP = re.compile(r"\bworkshops?\b", re.IGNORECASE)
_CLAUSE_SPLIT = re.compile(r"[;\n]|\.\s+(?=[A-Z])")


def venue_hint(*texts: str | None) -> VenueHint | None:
    """The venue (and year) that an arXiv comment or journal reference says the paper is at.

    Reads clause by clause and returns the first confident hint: a known venue with no
    "submitted"/"under review" wording in its clause, or any capitalised name after
    "accepted at", "to appear in", "published in" followed by a year. A workshop at a venue
    becomes "<venue> Workshop". Known venues get the catalog's spelling (`USENIX Security` ->
    `USENIX`, `IEEE S&P` -> `SP`).
    """
    for text in texts:
        if not text:
            continue
        for clause in _CLAUSE_SPLIT.split(text):
            hint = _clause_hint(clause)
            if hint is not None:
                return hint
    return None


def _clause_hint(clause: str) -> VenueHint | None:
    if _NOT_ACCEPTED.search(clause):
        return None
    workshop = bool(_WORKSHOP.search(clause))
    accepted = bool(_ACCEPTED.search(clause))
    known = list(_KNOWN_RE.finditer(clause))
    # Prefer a mention with its year ("the 35th USENIX Security Symposium (USENIX Security
    # 2026)"). A bare short acronym with neither a year nor an acceptance word is too weak
    # ("ACL anthology", "the ASE tool").
    with_year = [m for m in known if m.group("year") or m.group("short")]
    if with_year or (known and accepted):
        m = (with_year or known)[0]
        venue = _CANON[m.group("venue").lower()]
        year = _year(m.group("year"), m.group("short")) or _any_year(clause)
        return VenueHint(f"{venue} Workshop" if workshop else venue, year)
    if not accepted:
        return None
    # "Accepted to IEEE International Symposium on Hardware Oriented Security and Trust (HOST)
    # 2026": the acronym in parentheses is the venue's usual name.
    acronym = _PAREN_ACRONYM.search(clause)
    if acronym:
        year = _year(acronym.group("year"), acronym.group("short")) or _any_year(clause)
        if year or _VENUE_WORD.search(clause[: acronym.start()]):
            venue = acronym.group("venue")
            return VenueHint(f"{venue} Workshop" if workshop else venue, year)
    m2 = _UNKNOWN_RE.search(clause)
    if m2:
        venue = _PROCEEDINGS.sub("", m2.group("venue")).strip(" ,.-'’")
        if venue and venue[0].isupper():
            if workshop and "workshop" not in venue.lower():
                venue = f"{venue} Workshop"
            return VenueHint(venue, _year(m2.group("year"), m2.group("short")))
    return None


def _any_year(clause: str) -> int | None:
    m = _ANY_YEAR.search(clause)
    return _year(m.group("year"), m.group("short")) if m else None


def _year(full: str | None, short: str | None) -> int | None:
    if full:
        return int(full)
    if short:
        return 2000 + int(short)
    return None
