"""Identity rules: arXiv ids, DOIs, titles, and which records are the same paper."""

from __future__ import annotations

import pytest

from tracker.identity import (
    ArxivId,
    PaperIndex,
    authors_overlap,
    normalize_arxiv_id,
    normalize_doi,
    normalize_title,
    parse_arxiv_id,
    same_paper,
    same_title,
)
from tracker.paper import Paper


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2603.06862", ArxivId("2603.06862")),
        ("2603.06862v3", ArxivId("2603.06862", 3)),
        ("arXiv:2305.14710v1", ArxivId("2305.14710", 1)),
        ("0704.0001", ArxivId("0704.0001")),
        ("https://arxiv.org/abs/2211.08229", ArxivId("2211.08229")),
        ("http://arxiv.org/abs/2211.08229v2", ArxivId("2211.08229", 2)),
        ("https://arxiv.org/pdf/2211.08229v2.pdf", ArxivId("2211.08229", 2)),
        ("https://arxiv.org/pdf/2211.08229", ArxivId("2211.08229")),
        ("https://arxiv.org/html/2603.06862v1", ArxivId("2603.06862", 1)),
        ("https://export.arxiv.org/abs/2603.06862", ArxivId("2603.06862")),
        ("arxiv.org/abs/2603.06862", ArxivId("2603.06862")),
        ("cs/0112017", ArxivId("cs/0112017")),
        ("cs/0112017v1", ArxivId("cs/0112017", 1)),
        ("math.GT/0309136", ArxivId("math.GT/0309136")),
        ("hep-th/9901001v2", ArxivId("hep-th/9901001", 2)),
        ("https://arxiv.org/abs/hep-th/9901001", ArxivId("hep-th/9901001")),
        ("10.48550/arXiv.2305.14710", ArxivId("2305.14710")),
    ],
)
def test_arxiv_ids_parse_in_every_form(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2603.068",  # too few digits
        "26036.06862",
        "https://example.org/abs/2603.06862",  # not arXiv
        "https://arxiv.org/list/cs.CR/new",
        "arXiv 2023",
        "cs/01120",
    ],
)
def test_things_that_are_not_arxiv_ids_are_rejected(text: str) -> None:
    assert parse_arxiv_id(text) is None


def test_version_does_not_change_the_identity() -> None:
    assert normalize_arxiv_id("2305.14710v1") == normalize_arxiv_id(
        "https://arxiv.org/pdf/2305.14710v4"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.1145/3243734.3243757", "10.1145/3243734.3243757"),
        ("doi:10.1145/3243734.3243757", "10.1145/3243734.3243757"),
        ("https://doi.org/10.1145/3243734.3243757", "10.1145/3243734.3243757"),
        ("https://dx.doi.org/10.1007/S11633-022-1377-5", "10.1007/s11633-022-1377-5"),
        ("https://dl.acm.org/doi/abs/10.1145/3460120.3485370", "10.1145/3460120.3485370"),
        ("https://dl.acm.org/doi/10.1145/3460120.3485370", "10.1145/3460120.3485370"),
        ("https://dl.acm.org/doi/pdf/10.1145/3460120.3485370", "10.1145/3460120.3485370"),
    ],
)
def test_dois_normalise_from_ids_and_resolver_links(text: str, expected: str) -> None:
    assert normalize_doi(text) == expected


@pytest.mark.parametrize(
    "text", ["https://ieeexplore.ieee.org/abstract/document/9581257/", "11.1145/x", "doi"]
)
def test_non_dois_are_rejected(text: str) -> None:
    assert normalize_doi(text) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Weight Poisoning Attacks on Pretrained Models",
            "weight poisoning attacks on pretrained models",
        ),
        (
            "Weight Poisoning Attacks on Pre-trained Models",
            "Weight poisoning attacks on pretrained models",
        ),
        (
            "Weight Poisoning Attacks on Pre- trained Models",
            "Weight Poisoning Attacks on Pretrained Models",
        ),
        (
            "Weight Poisoning Attacks on Pre\u2010trained Models",
            "Weight Poisoning Attacks on Pretrained Models",
        ),
        (
            "Can\u2019t Steal? Cont-Steal! Contrastive Stealing",
            "Cant steal cont-steal contrastive stealing",
        ),
        ("Café  au   lait", "cafe au lait"),
        ("ﬁne-tuning attacks", "finetuning attacks"),  # the fi ligature
        ("\\textit{BadEncoder}: Backdoor Attacks", "BadEncoder: backdoor attacks"),
        ("Attacks on $\\mathcal{L}_2$ Models", "Attacks on L2 Models"),
        ("Privacy \\& Security of {BERT}", "Privacy and Security of BERT"),
    ],
)
def test_titles_that_differ_only_in_form_normalise_equal(a: str, b: str) -> None:
    assert normalize_title(a) == normalize_title(b)


def paper(title: str, **fields: object) -> Paper:
    return Paper(title=title, **fields)  # type: ignore[arg-type]


def test_same_arxiv_id_in_different_versions_is_the_same_paper() -> None:
    a = paper("A title", arxiv_id="2305.14710", arxiv_version=1)
    b = paper("A completely revised title", links={"pdf": "https://arxiv.org/pdf/2305.14710v3"})
    assert same_paper(a, b)


def test_same_doi_is_the_same_paper() -> None:
    a = paper("Model-reuse attacks", doi="10.1145/3243734.3243757")
    b = paper(
        "Model reuse attacks on DL systems",
        links={"pdf": "https://dl.acm.org/doi/abs/10.1145/3243734.3243757"},
    )
    assert same_paper(a, b)


def test_preprint_and_published_version_with_other_casing_are_the_same() -> None:
    a = paper(
        "BadPre: Task-agnostic backdoor attacks to pre-trained NLP foundation models",
        arxiv_id="2110.02467",
    )
    b = paper(
        "Badpre: task-agnostic backdoor attacks to pretrained nlp foundation models",
        venue="ICLR",
        year=2022,
    )
    assert same_paper(a, b)


def test_preprint_without_the_published_subtitle_is_the_same() -> None:
    a = paper(
        "Extracting Training Data from Large Language Models", arxiv_id="2012.07805", year=2020
    )
    b = paper(
        "Extracting Training Data from Large Language Models: A Study of GPT-2",
        venue="USENIX",
        year=2021,
    )
    assert same_paper(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # a longer title that is not a subtitle: a different paper
        (
            "Backdoor Attacks on Pre-trained Models",
            "Backdoor Attacks on Pre-trained Models by Layerwise Weight Poisoning",
        ),
        (
            "Extracting Training Data from Large Language Models",
            "Extracting Training Data from Diffusion Models",
        ),
        (
            "Detecting Backdoors in Pre-trained Encoders",
            "Detecting Backdoors in Pre-trained Encoders for Code",
        ),
        (
            "Membership Inference Attacks against GPT-3",
            "Membership Inference Attacks against GPT-4",
        ),
        ("Stealing Part I", "Stealing Part II"),
        # the same short main title with different subtitles
        ("BadNets: Identifying Vulnerabilities", "BadNets: Evaluating Backdooring Attacks"),
        # a short main title alone is not specific enough to merge
        (
            "Poison Forensics",
            "Poison Forensics: Traceback of Data Poisoning Attacks in Neural Networks",
        ),
        (
            "Instructions as Backdoors",
            "Instructions as Backdoors: Backdoor Vulnerabilities of Instruction Tuning",
        ),
    ],
)
def test_near_miss_titles_are_different_papers(a: str, b: str) -> None:
    assert not same_paper(paper(a), paper(b))
    assert not same_paper(paper(b), paper(a))


def test_equal_titles_with_conflicting_arxiv_ids_are_different_papers() -> None:
    a = paper("Introduction to Backdoors", arxiv_id="2301.00001")
    b = paper("Introduction to Backdoors", arxiv_id="2402.00002")
    assert not same_paper(a, b)


def test_subtitle_variants_years_apart_are_different_papers() -> None:
    a = paper("Attacks on Pre-trained Language Models Today", year=2019)
    b = paper("Attacks on Pre-trained Language Models Today: Revisited", year=2025)
    assert not same_paper(a, b)


def test_index_finds_by_any_identity_and_confirms_with_same_paper() -> None:
    index: PaperIndex[str] = PaperIndex()
    index.add(
        paper("Latent backdoor attacks on deep neural networks", doi="10.1145/3319535.3354209"),
        "latent",
    )
    index.add(paper("Badpre: Task-agnostic backdoor attacks", arxiv_id="2110.02467"), "badpre")
    assert (
        index.find(paper("Whatever", links={"abs": "https://arxiv.org/abs/2110.02467v2"}))
        == "badpre"
    )
    assert index.find(paper("LATENT BACKDOOR ATTACKS ON DEEP NEURAL NETWORKS")) == "latent"
    assert (
        index.find(paper("Latent backdoor attacks on deep neural networks", doi="10.9999/other"))
        is None
    )
    assert paper("Something else") not in index


# --- venue records and preprints (issue 12) -------------------------------------------------


def test_a_venue_record_is_the_catalog_preprint_of_the_same_title_and_authors() -> None:
    venue = Paper(
        "CorruptEncoder: Data Poisoning based Backdoor Attacks to Contrastive Learning.",
        authors=("Jinghuai Zhang", "Hongbin Liu 0002", "Jinyuan Jia", "Neil Zhenqiang Gong"),
        doi="10.1109/CVPR52733.2024.02278",
        venue="CVPR",
        year=2024,
    )
    preprint = Paper(
        "CorruptEncoder: Data Poisoning based Backdoor Attacks to Contrastive Learning",
        authors=("Jinghuai Zhang", "Hongbin Liu", "Jinyuan Jia", "Neil Zhenqiang Gong"),
        arxiv_id="2211.08229",
        venue="arXiv",
        year=2022,
    )
    assert same_paper(venue, preprint) and same_title(venue, preprint)
    # The seed catalog lists no authors: the title alone decides, as before.
    assert same_paper(venue, preprint.replace(authors=()))


def test_same_title_by_different_people_is_two_papers() -> None:
    a = Paper("Towards Robust Federated Learning", authors=("Alice Smith", "Bob Jones"))
    b = Paper("Towards Robust Federated Learning", authors=("Chen Wei", "Li Na"))
    assert not same_paper(a, b)
    assert PaperIndex([(a, 1)]).find(b) is None


def test_author_names_match_across_orders_commas_and_homonym_numbers() -> None:
    assert authors_overlap(["Hongbin Liu 0002"], ["Liu, Hongbin"])
    assert authors_overlap(["LIU Hongbin"], ["Hongbin Liu"])
    assert authors_overlap(["J. Zhang"], ["Jinghuai Zhang"])
    assert authors_overlap(["Ada Lovelace"], ["Grace Hopper"]) is False
    assert authors_overlap([], ["Grace Hopper"]) is None


def test_same_title_needs_the_exact_title_not_a_subtitle_variant() -> None:
    long = Paper("BadNets: Evaluating Backdooring Attacks on Deep Neural Networks")
    short = Paper("BadNets")
    assert not same_title(long, short)
    assert same_title(
        long, Paper("Badnets: evaluating backdooring attacks on deep neural networks.")
    )
