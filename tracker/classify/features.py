"""Hand-written features and TF-IDF, as plain data that numpy can apply.

- `paper_text`: the one text a paper is embedded and vectorised as.
- Keyword indicators (`KEYWORDS`, matched on title+abstract and on the title alone) and title
  "stance" indicators (`STANCE`: attack words vs defense words). The regexes are written from
  the vocabulary of the labelling guide (data/GUIDE.md) and the taxonomy; they are stored in the
  trained model, so a model always applies the lists it was trained with.
- `Tfidf`: word 1-2-gram TF-IDF exactly as scikit-learn's TfidfVectorizer(stop_words='english',
  sublinear_tf=True, norm='l2') computes it, from the fitted vocabulary and idf: training fits
  with scikit-learn, inference needs only this module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Each is a term of the labelling guide's table and boundary rules, or of the taxonomy: the
# supply-chain artefacts and stages, threats and defenses, and the out-of-scope topics the guide
# names (jailbreaks, agents, federated learning, ...), which the model learns to weigh down.
KEYWORDS: tuple[str, ...] = (
    r"backdoor",
    r"trojan",
    r"poison",
    r"trigger",
    r"pre-?train",
    r"fine-?tun",
    r"\blora\b",
    r"adapter|\bpeft\b",
    r"instruction[- ]tun",
    r"prompt[- ]tun|soft prompt",
    r"transfer",
    r"foundation model",
    r"encoder",
    r"tokenizer",
    r"chat template",
    r"data-?free|training-?free",
    r"quantiz",
    r"prun",
    r"distill",
    r"merg",
    r"compress",
    r"bit-?flip",
    r"fault",
    r"side-?channel",
    r"pickle",
    r"model hub|hugging ?face",
    r"compiler",
    r"fuzz",
    r"converter|onnx",
    r"inference engine|runtime",
    r"hardware",
    r"membership inference",
    r"property inference",
    r"model extraction|stealing|steal",
    r"extract",
    r"\bpii\b|personally identifiable",
    r"imitation",
    r"\bapis?\b",
    r"watermark",
    r"fingerprint",
    r"ownership",
    r"homomorphic|\bfhe\b",
    r"\bmpc\b|multi-?party",
    r"\btee\b|trusted execution",
    r"private inference|secure inference|privacy-preserving",
    r"obfuscat",
    r"verif",
    r"integrity",
    r"scann|forensic",
    r"purif",
    r"harmful fine-?tun",
    r"alignment",
    r"jailbreak",
    r"prompt injection",
    r"\bagent",
    r"\bmcp\b|\btools?\b",
    r"\brag\b|retrieval-augmented",
    r"federated",
    r"unlearning",
    r"differential privacy",
    r"malware|intrusion",
    r"adversarial example",
    r"\bnpm\b|pypi|software supply chain",
    r"fairness|interpretab",
)

# Attack vs defense words, matched on the title, where a paper states its stance.
STANCE: tuple[str, ...] = (
    r"attack|attacking",
    r"steal|stealing|theft|extract|extraction",
    r"leak|leakage|reveal|inver",
    r"backdoor(ing|ed)?\b|poison|trojan|hijack|exploit|bypass|breaks?\b|sabotage|malicious",
    r"defen[cs]e|defend|protect|mitigat|robust|secur|safe|guard|shield",
    r"detect|scan|forensic|trace|audit|verif|attest|certif",
    r"privacy-preserving|private|confidential|encrypt|homomorphic|obfuscat",
    r"watermark|fingerprint|ownership|copyright|provenance|lineage",
    r"purif|remov|repair|unlearn|sanitiz",
)

# The keyword block enters the linear models scaled by this (chosen with the research).
KEYWORD_WEIGHT = 0.5
TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def paper_text(title: str, abstract: str = "") -> str:
    """Title, a full stop if it ends without one, and the abstract; whitespace-normalised.
    This exact string is embedded and cached."""
    t = normalize_space(title)
    a = normalize_space(abstract or "")
    if not a:
        return t
    if t and t[-1] not in ".?!":
        t += "."
    return f"{t} {a}"


@dataclass(frozen=True)
class Keywords:
    """Indicator features from regex lists: KEYWORDS on the text and on the title, STANCE on
    the title."""

    keywords: tuple[str, ...] = KEYWORDS
    stance: tuple[str, ...] = STANCE

    def __post_init__(self) -> None:
        object.__setattr__(self, "_kw", [re.compile(p, re.I) for p in self.keywords])
        object.__setattr__(self, "_st", [re.compile(p, re.I) for p in self.stance])

    @property
    def width(self) -> int:
        return 2 * len(self.keywords) + len(self.stance)

    def matrix(self, texts: Sequence[str], titles: Sequence[str]) -> np.ndarray:
        """(n, width) float32 of 0/1, already scaled by KEYWORD_WEIGHT."""
        kw: list[re.Pattern[str]] = self._kw  # type: ignore[attr-defined]
        st: list[re.Pattern[str]] = self._st  # type: ignore[attr-defined]
        rows = []
        for text, title in zip(texts, titles, strict=True):
            title = normalize_space(title)
            row = [p.search(text) is not None for p in kw]
            row += [p.search(title) is not None for p in kw]
            row += [p.search(title) is not None for p in st]
            rows.append(row)
        out = np.array(rows, dtype=np.float32).reshape(len(rows), self.width)
        return out * np.float32(KEYWORD_WEIGHT)


@dataclass(frozen=True)
class Tfidf:
    """A fitted word 1-2-gram TF-IDF (see the module docstring).

    Fields:
        vocabulary: term -> column.
        idf: (n_terms,) inverse document frequencies.
        stop_words: removed before n-grams are formed (scikit-learn's English list).
        ngram_range: (1, 2).
    """

    vocabulary: Mapping[str, int]
    idf: np.ndarray
    stop_words: frozenset[str]
    ngram_range: tuple[int, int] = (1, 2)

    def rows(self, texts: Sequence[str]) -> list[dict[int, float]]:
        """Each text as {column: l2-normalised sublinear tf-idf}."""
        token = re.compile(TOKEN_PATTERN)
        lo, hi = self.ngram_range
        out = []
        for text in texts:
            toks = [w for w in token.findall(text.lower()) if w not in self.stop_words]
            counts: dict[int, int] = {}
            for n in range(lo, hi + 1):
                for i in range(len(toks) - n + 1):
                    j = self.vocabulary.get(" ".join(toks[i : i + n]))
                    if j is not None:
                        counts[j] = counts.get(j, 0) + 1
            row = {j: (1.0 + math.log(c)) * float(self.idf[j]) for j, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in row.values()))
            if norm > 0:
                row = {j: v / norm for j, v in row.items()}
            out.append(row)
        return out

    def dot(self, texts: Sequence[str], coef: np.ndarray) -> np.ndarray:
        """(n,) the TF-IDF vectors of `texts` times `coef` (n_terms,), without a dense matrix."""
        return np.array(
            [sum(v * float(coef[j]) for j, v in row.items()) for row in self.rows(texts)],
            dtype=np.float64,
        )
