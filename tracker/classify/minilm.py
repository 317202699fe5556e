"""A pure-numpy forward pass of a BERT-style sentence-transformers model (all-MiniLM-L6-v2).

Same pipeline as sentence-transformers' Transformer -> Pooling(mean) -> Normalize: WordPiece
tokenisation with the model's own `tokenizer.json` ([CLS] text [SEP], truncated to
`max_seq_length`), BERT embeddings, N x [self-attention + residual + LayerNorm, GELU FFN +
residual + LayerNorm], mean over the real tokens, L2 normalisation. It matches
sentence-transformers 6.2 to about 2e-7 per component, so both fill one embedding cache.

Why it exists: importing sentence-transformers (torch, transformers) takes 4-6 s, this module
about 0.3 s, which is what lets `tracker classify --title ...` answer in well under 3 s.
Depends only on numpy, scipy (exact GELU through erf), tokenizers and safetensors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MiniLM"]

_SQRT_HALF = np.float32(0.7071067811865476)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=-1, keepdims=True)
    return xc / np.sqrt(var + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, BERT's "gelu"; in place on `x`, a fresh temporary."""
    from scipy.special import erf

    e = erf(x * _SQRT_HALF)
    e += 1.0
    e *= 0.5
    x *= e
    return x


class MiniLM:
    """Sentence embeddings in numpy.

    Arguments:
        model_dir: a sentence-transformers model folder (config.json, tokenizer.json,
            model.safetensors).
        max_seq_length: tokens kept per text (the model's own setting when None).
        replacement: tensors that replace the model's own, by name (for example a fine-tuned
            last layer: `encoder.layer.5.*`); each must name an existing tensor of the same
            shape.
    """

    def __init__(
        self,
        model_dir: Path,
        max_seq_length: int | None = None,
        replacement: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        if max_seq_length is None:
            st_cfg = model_dir / "sentence_bert_config.json"
            max_seq_length = (
                int(json.loads(st_cfg.read_text(encoding="utf-8"))["max_seq_length"])
                if st_cfg.exists()
                else 256
            )
        if cfg.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"unsupported activation {cfg.get('hidden_act')!r}")
        self.max_seq_length = int(max_seq_length)
        self.n_layers = int(cfg["num_hidden_layers"])
        self.n_heads = int(cfg["num_attention_heads"])
        self.hidden = int(cfg["hidden_size"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()  # tokenizer.json ships Fixed(128) padding: pad per batch
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)

        w = load_file(str(model_dir / "model.safetensors"))
        if "embeddings.word_embeddings.weight" not in w:  # checkpoints saved with "bert."
            w = {k.removeprefix("bert."): v for k, v in w.items()}
        for name, value in (replacement or {}).items():
            key = name.removeprefix("bert.")
            if key not in w or w[key].shape != value.shape:
                raise ValueError(f"replacement tensor {name!r} matches no tensor of the model")
            w[key] = value
        f32 = np.float32
        self.word = w["embeddings.word_embeddings.weight"].astype(f32)
        self.pos = w["embeddings.position_embeddings.weight"].astype(f32)
        self.tok_type0 = w["embeddings.token_type_embeddings.weight"][0].astype(f32)
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers: list[dict[str, Any]] = []
        for i in range(self.n_layers):
            p = f"encoder.layer.{i}."
            qkv = ("query", "key", "value")
            # Q, K and V fused into one (hidden, 3*hidden) matrix; weights stored as (in, out)
            qkv_w = np.concatenate([w[f"{p}attention.self.{n}.weight"] for n in qkv])
            qkv_b = np.concatenate([w[f"{p}attention.self.{n}.bias"] for n in qkv])
            self.layers.append(
                {
                    "qkv_w": np.ascontiguousarray(qkv_w.T, dtype=f32),
                    "qkv_b": qkv_b.astype(f32),
                    "ao_w": np.ascontiguousarray(w[p + "attention.output.dense.weight"].T, f32),
                    "ao_b": w[p + "attention.output.dense.bias"].astype(f32),
                    "ln1": (
                        w[p + "attention.output.LayerNorm.weight"],
                        w[p + "attention.output.LayerNorm.bias"],
                    ),
                    "in_w": np.ascontiguousarray(w[p + "intermediate.dense.weight"].T, f32),
                    "in_b": w[p + "intermediate.dense.bias"].astype(f32),
                    "out_w": np.ascontiguousarray(w[p + "output.dense.weight"].T, f32),
                    "out_b": w[p + "output.dense.bias"].astype(f32),
                    "ln2": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
                }
            )

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """ids, mask: (B, L) -> (B, hidden) mean-pooled, L2-normalised embeddings."""
        b, length = ids.shape
        heads, d = self.n_heads, self.hidden // self.n_heads
        x = self.word[ids] + self.pos[:length][None, :, :] + self.tok_type0
        x = _layer_norm(x, *self.emb_ln, self.eps)
        # additive attention mask: 0 for tokens, the most negative float for padding (as HF)
        neg = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min)
        neg = neg.astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(d))
        for lw in self.layers:
            qkv = x @ lw["qkv_w"]
            qkv += lw["qkv_b"]
            qkv = qkv.reshape(b, length, 3, heads, d).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            # a contiguous K^T lets numpy hand each (L, D) x (D, L) product to BLAS
            s = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2))
            s *= scale
            s += neg
            s -= s.max(axis=-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b, length, self.hidden)
            a = ctx @ lw["ao_w"]
            a += lw["ao_b"]
            a += x
            x = _layer_norm(a, lw["ln1"][0], lw["ln1"][1], self.eps)
            h = x @ lw["in_w"]
            h += lw["in_b"]
            h = _gelu(h)
            o = h @ lw["out_w"]
            o += lw["out_b"]
            o += x
            x = _layer_norm(o, lw["ln2"][0], lw["ln2"][1], self.eps)
        m = mask[:, :, None].astype(np.float32)
        pooled = (x * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norm, 1e-12)).astype(np.float32)

    def _batches(
        self, texts: list[str], batch_size: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        encs = self.tokenizer.encode_batch(texts)
        order = np.argsort([-len(e.ids) for e in encs], kind="stable")
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            length = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), length), dtype=np.int64)
            mask = np.zeros((len(idx), length), dtype=np.int64)
            for r, i in enumerate(idx):
                n = len(encs[i].ids)
                ids[r, :n] = encs[i].ids
                mask[r, :n] = 1
            yield idx, ids, mask

    def encode(self, texts: Sequence[str], batch_size: int = 4) -> np.ndarray:
        """Embed `texts` -> (n, hidden) float32 rows of unit norm.

        Batches are made of length-sorted texts (little padding) and run in one thread per
        core (at most 4) with BLAS held to one thread each: numpy releases the GIL in matmul
        and in the element-wise ufuncs, which BLAS threading alone leaves on one core.
        """
        texts = list(texts)
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        if not texts:
            return out
        batches = list(self._batches(texts, batch_size))
        threads = min(4, os.cpu_count() or 1)

        def work(batch: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
            idx, ids, mask = batch
            out[idx] = self._forward(ids, mask)

        if threads <= 1 or len(batches) < 2:
            for batch in batches:
                work(batch)
            return out
        from threadpoolctl import threadpool_limits

        with (
            threadpool_limits(limits=1, user_api="blas"),
            ThreadPoolExecutor(max_workers=threads) as pool,
        ):
            list(pool.map(work, batches))
        return out
