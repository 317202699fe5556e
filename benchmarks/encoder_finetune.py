"""Does a contrastively fine-tuned encoder pay? (issue 14, item 5)

A SetFit-style fine-tune of MiniLM's last transformer layer (the rest frozen) on the labelled
rows of the nights before --train-before and the catalog: pairs of an in-scope paper with
another in-scope paper (cosine target 1 in the same section, 0.6 in another) or with an
out-of-scope one (target 0: a read negative 2 times in 3, an unread one else), mean squared
error on the cosine, AdamW, --steps batches of 16 pairs, texts cut to 128 tokens, seeded. The
layer is saved as replacement tensors (what `classifier.embedding_replacement` loads).

Then the same classifier (`tracker.classify.train.fit`) is trained on the same rows twice, on
the stock encoder's embeddings and on the fine-tuned one's, and both score the labelled nights
from --score-from to --score-to, which neither the fine-tune nor the classifier saw. Printed:
average precision, the share of in-scope papers reached at 1, 2 and 5 wrong a night, per-night
top-10 and top-15, section top-1 and top-3.

Needs the `embed` extra (torch, sentence-transformers). Embedding ~11,000 texts with the
fine-tuned encoder takes about 9 minutes on 2 cores; the stock encoder's come from the cache.

    python -m benchmarks.encoder_finetune [--data PATH] [--train-before DATE]
        [--score-from DATE] [--score-to DATE] [--steps N] [--seed N]

The default split is the development protocol's (fine-tune and train on the nights up to
2026-02-06, score 2026-02-24 … 03-13); the temporal test nights (from 2026-03-16) are for a
confirmation, not for choosing. Appends to benchmarks/results/encoder_finetune.json and rewrites
the model card's table of every run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data import STREAM_HELP, default_stream, stream_missing
from benchmarks.docs import replace_block
from benchmarks.machine import machine
from tracker.classify.data import TrainingSet
from tracker.classify.embedder import (
    Embedder,
    EmbeddingCache,
    EmbeddingModel,
    _load_sentence_transformer,
)
from tracker.classify.train import embed_guide, fit, gather, predict_scores, predict_sections
from tracker.config import load_config

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "encoder_finetune.json"
PAIRS = 16


def finetune(ts: TrainingSet, rows: np.ndarray, steps: int, seed: int, out: Path) -> None:
    """Fine-tune the last layer on the training rows `rows`; save it to `out`."""
    import torch
    from safetensors.torch import save_file

    random.seed(seed)
    torch.manual_seed(seed)
    a = ts.arrays()
    pos = [int(i) for i in rows if a["y"][i]]
    hard = [int(i) for i in rows if not a["y"][i] and a["weight"][i] > 1.0]
    easy = [int(i) for i in rows if not a["y"][i] and a["weight"][i] <= 1.0 and not a["thin"][i]]
    print(f"fine-tuning on {len(pos)} in scope, {len(hard)} read, {len(easy)} unread", flush=True)
    st = _load_sentence_transformer(EmbeddingModel.open(""))
    st.max_seq_length = 128
    auto = st[0].auto_model
    for p in auto.parameters():
        p.requires_grad = False
    layer = auto.encoder.layer[-1]
    for p in layer.parameters():
        p.requires_grad = True
    st.train()
    opt = torch.optim.AdamW(list(layer.parameters()), lr=5e-5)

    def encode(ix: list[int]) -> Any:
        feats = st.preprocess([ts.texts[i] for i in ix])
        return torch.nn.functional.normalize(st(feats)["sentence_embedding"], dim=-1)

    started = time.perf_counter()
    for step in range(steps):
        left, right, target = [], [], []
        for _ in range(PAIRS):
            p, r = random.choice(pos), random.random()
            if r < 0.4:
                q = random.choice(pos)
                t = 1.0 if a["section"][p] == a["section"][q] else 0.6
            else:
                q, t = random.choice(hard if r < 0.8 else easy), 0.0
            left.append(p)
            right.append(q)
            target.append(t)
        cos = (encode(left) * encode(right)).sum(-1)
        loss = torch.nn.functional.mse_loss(cos, torch.tensor(target))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 0:
            print(f"step {step}: loss {loss.item():.4f}, {time.perf_counter() - started:.0f} s")
    n = len(auto.encoder.layer) - 1
    tensors = {
        f"encoder.layer.{n}.{k}": v.detach().contiguous() for k, v in layer.state_dict().items()
    }
    save_file(tensors, str(out))


def figures(
    ts: TrainingSet, test: np.ndarray, s: np.ndarray, proba: np.ndarray
) -> dict[str, float]:
    from sklearn.metrics import average_precision_score

    a = ts.arrays()
    y, c, night = a["y"][test], a["eval_count"][test], a["night"][test].astype(str)
    n_nights = len(set(night.tolist()))
    order = np.argsort(-s)
    wrong = np.cumsum(np.where(y[order], 0, c[order]))

    def reached(w: float) -> float:
        ok = wrong <= w * n_nights
        threshold = s[order][ok].min() if ok.any() else np.inf
        return float((y & (s >= threshold)).sum() / y.sum())

    def top(k: int) -> float:
        hit = 0
        for name in set(night.tolist()):
            m = night == name
            o = np.argsort(-s[m])
            hit += int((y[m][o] & (np.cumsum(c[m][o]) <= k)).sum())
        return hit / float(y.sum())

    sec, p = a["section"][test][y], proba[y]
    rank = (p > p[np.arange(len(sec)), sec][:, None]).sum(axis=1)
    return {
        "in_scope": int(y.sum()),
        "nights": n_nights,
        "ap": float(average_precision_score(y, s, sample_weight=c)),
        "reached_at_1": reached(1),
        "reached_at_2": reached(2),
        "reached_at_5": reached(5),
        "top10": top(10),
        "top15": top(15),
        "section_top1": float((rank == 0).mean()),
        "section_top3": float((rank < 3).mean()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_stream(), help=STREAM_HELP)
    date = dt.date.fromisoformat
    parser.add_argument("--train-before", type=date, default=dt.date(2026, 2, 7))
    parser.add_argument("--score-from", type=date, default=dt.date(2026, 2, 24))
    parser.add_argument("--score-to", type=date, default=dt.date(2026, 3, 13))
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--docs-only", action="store_true", help="measure nothing: rewrite the model card's table"
    )
    args = parser.parse_args()
    if args.docs_only:
        for path in replace_block("encoder-finetune", render(json.loads(RESULTS.read_text()))):
            print(f"updated {path}")
        return 0
    if stream_missing(args.data):
        return 2
    config = load_config(REPO / "tracker.yaml")
    inputs = gather(config.catalog_dir, [args.data])
    ts = inputs.ts
    a = ts.arrays()
    night = a["night"].astype(str)
    everyone = np.arange(len(ts))
    train = everyone[~(a["labelled"] & (night >= args.train_before.isoformat()))]
    test = everyone[
        a["labelled"]
        & (night >= args.score_from.isoformat())
        & (night <= args.score_to.isoformat())
    ]
    needed = np.union1d(train[~a["thin"][train]], test)
    cache = EmbeddingCache(config.cache_dir / "embeddings.sqlite3")
    results: dict[str, Any] = {
        "machine": machine(),
        "data": args.data.name,
        "train_before": args.train_before.isoformat(),
        "scored": f"{args.score_from} … {args.score_to}",
        "steps": args.steps,
        "seed": args.seed,
    }
    with tempfile.TemporaryDirectory() as tmp:
        replacement = Path(tmp) / "replacement.safetensors"
        started = time.perf_counter()
        finetune(ts, train, args.steps, args.seed, replacement)
        results["finetune_seconds"] = time.perf_counter() - started
        for name, model in (
            ("stock", EmbeddingModel.open("")),
            ("fine-tuned", EmbeddingModel.open("", replacement=replacement)),
        ):
            started = time.perf_counter()
            embedder = Embedder(model, cache)
            emb = np.zeros((len(ts), 384), np.float32)
            emb[needed] = embedder.embed([ts.texts[i] for i in needed])
            guide = embed_guide(inputs.guide_rows, inputs.leaf_ids, embedder)
            params = fit(ts, emb, train, guide, inputs.leaf_ids)
            s = predict_scores(params, ts, emb, test)
            proba = predict_sections(params, ts, emb, test)
            seconds = time.perf_counter() - started
            results[name] = {**figures(ts, test, s, proba), "seconds": seconds}
            print(name, json.dumps(results[name]), flush=True)
    previous = json.loads(RESULTS.read_text("utf-8")) if RESULTS.is_file() else []
    runs = [*previous, results]
    RESULTS.write_text(json.dumps(runs, indent=1) + "\n", "utf-8")
    print(f"appended to {RESULTS}")
    for path in replace_block("encoder-finetune", render(runs)):
        print(f"updated {path}")
    return 0


def render(runs: list[dict[str, Any]]) -> str:
    """Every run of this benchmark, the stock and the fine-tuned encoder side by side."""
    pct = lambda x: f"{100 * x:.1f} %"  # noqa: E731
    lines = [
        "| run: fine-tuned on nights before; scored | encoder | AP | reached at 1 / 2 / 5 "
        "wrong a night | top-10 / top-15 of a night | section top-1 / top-3 |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        where = (
            f"{run['train_before']}; {run['scored']} ({run['stock']['in_scope']} in scope), "
            f"seed {run['seed']}, {run['steps']} steps"
        )
        for name in ("stock", "fine-tuned"):
            r = run[name]
            lines.append(
                f"| {where} | {name} | {r['ap']:.3f} | {pct(r['reached_at_1'])} / "
                f"{pct(r['reached_at_2'])} / {pct(r['reached_at_5'])} | {pct(r['top10'])} / "
                f"{pct(r['top15'])} | {pct(r['section_top1'])} / {pct(r['section_top3'])} |"
            )
    machines = sorted({run["machine"] for run in runs})
    lines += [
        "",
        f"Measured by `python -m benchmarks.encoder_finetune`; machine: {'; '.join(machines)}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
