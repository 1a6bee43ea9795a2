#!/usr/bin/env python3
"""Stage `export`: ONNX export, int8 quantization, checks and release files.

1. Loads <ckpt-dir>/best.pt (lowest validation loss; last.pt if there is none),
   or --ckpt FILE (e.g. the fp16 copy that `pipeline.py --keep-weights` saves).
2. Exports the engine graph (`EngineGraph`) as fp32 ONNX (opset 17,
   TorchScript exporter):
       inputs   input_ids [B, T] int64, positions [B, T] int64, parents [B, T] int64,
                attention_mask [B, T, T] f32, past_key [L, 1, H, P, Dh] f32,
                past_value (same), word_end_mask [V] f32
       outputs  next_log_probs [B, V], token_log_probs [B, T], end_log_probs [B, T],
                new_key [L, B, H, T, Dh], new_value (same)
   B, T and P are dynamic; P = 0 (zero-size past) starts a text; one cache
   is shared by all B rows, and only scores leave the graph. A row is a
   sequence (positions 0..T-1, each token's parent the one before it, a
   causal mask) or a tree of candidate words that share prefixes, each
   token scored after its ancestors only.
3. int8: `onnxruntime.quantization.quantize_dynamic` (int8 weights, per
   output channel, symmetric; activations quantized on the fly) on every
   weight MatMul, the tied output projection included. The embedding Gather
   is then rewired to read the *same* int8 matrix (gather of a column of the
   [d, V] int8 output weight, times that column's scale) and the fp32
   embedding table is dropped: the tied embedding is stored once, as int8.
4. Checks (any failure exits non-zero):
   (a) ONNX fp32 decoding token by token through the cache, in chunks, and
       rows sharing one cache reproduce the PyTorch full forward's
       log-probabilities (max abs difference <= --tol); also P = 0 and P > 0
       calls of the int8 model;
   (b) validation perplexity per language on a fixed subset (the first
       --eval-sentences sentences of valid.<lang>.txt, each scored from <s>,
       end-of-sentence included) for PyTorch fp32, ONNX fp32 and ONNX int8;
       int8 may be at most --max-int8-increase (5%) above ONNX fp32 for every
       language.
5. Writes into --release-dir: model.int8.onnx, tokenizer.json, metrics.json,
   MODEL_CARD.md (card.py) and SHA256SUMS. If a check fails, the files stay
   in --work-dir only (unless --allow-fail) and the exit status is 1.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    BOS_ID,
    CACHE,
    DEFAULT_RELEASE,
    EOS_ID,
    LANGS,
    METASPACE,
    PAD_ID,
    UNK_ID,
    eval_batches,
    log,
    read_lines,
    sha256_file,
    text_path,
    write_json,
)
from model import LMConfig, TinyLM  # noqa: E402

# ONNX Runtime's PyPI build queues usage telemetry with a device id under
# ~/.cache/Microsoft unless this is set before the library loads.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

INPUTS = ["input_ids", "positions", "parents", "attention_mask", "past_key", "past_value", "word_end_mask"]
OUTPUTS = ["next_log_probs", "token_log_probs", "end_log_probs", "new_key", "new_value"]
OPSET = 17


class EngineGraph(torch.nn.Module):
    """The graph the engine runs: scores for the rows of `input_ids`, all
    after one shared cache, without the vocabulary-wide logits ever leaving
    ONNX Runtime.

    inputs   input_ids      int64 [B, T]
             positions      int64 [B, T]  each token's position after the cache (its depth in a tree)
             parents        int64 [B, T]  the row position each token follows, -1 for the cache's end
             attention_mask f32   [B, T, T]  0 where token t may see token s of its row (itself and its
                                             ancestors), a large negative number elsewhere
             past_key       f32   [L, 1, H, P, Dh]  keys of the shared context (after RoPE); P = 0 starts a text
             past_value     f32   [L, 1, H, P, Dh]
             word_end_mask  f32   [V]  1 for each token that does not continue a word, else 0
    outputs  next_log_probs  f32  [B, V]      log P(next token) after each whole row (its last position)
             token_log_probs f32  [B, T]      log P(input_ids[b, t] | context, its ancestors); for a token
                                              after the cache's end, its log-probability after position 0
             end_log_probs   f32  [B, T]      log P(the word ends) after position t = log sum of the
                                              next-token probabilities of the tokens that end a word
             new_key         f32  [L, B, H, T, Dh]  keys of the T new tokens (append to past_key)
             new_value       f32  [L, B, H, T, Dh]

    The cache is broadcast over the B rows inside attention (past and new
    positions are scored apart and share one softmax), so the engine never
    copies the context's cache once per candidate word.

    The same computation as `TinyLM.forward`, spelled for few graph nodes
    (every node costs a keystroke microseconds): RoPE for queries and keys
    at once with whole-width cos/sin tables built once, the attention scale
    folded into the query weights, one additive attention bias for all layers.
    """

    def __init__(self, model: TinyLM):
        super().__init__()
        self.model = copy.deepcopy(model)
        d = model.cfg.d_model
        with torch.no_grad():
            for block in self.model.blocks:  # q = x W_q / sqrt(Dh): RoPE is linear, so the scale commutes
                block.qkv.weight[:d] *= 1.0 / math.sqrt(model.cfg.head_dim)

    def forward(self, input_ids, positions, parents, attention_mask, past_key, past_value, word_end_mask):
        m = self.model
        B, T = input_ids.shape
        P = past_key.shape[3]
        D, H, Dh = m.cfg.d_model, m.cfg.n_heads, m.cfg.head_dim
        half = Dh // 2
        x = m.embed(input_ids)
        angles = (positions + P).to(x.dtype)[..., None] * m.inv_freq  # [B, T, Dh/2]
        cos, sin = torch.cos(angles), torch.sin(angles)
        # GPT-NeoX halves: rope(x) = x * [cos, cos] + [x2, x1] * [-sin, sin]
        cos, sin = torch.cat((cos, cos), -1)[:, None], torch.cat((-sin, sin), -1)[:, None]  # [B, 1, T, Dh]
        bias = attention_mask[:, None]  # [B, 1, T, T]
        new_keys, new_values = [], []
        for i, block in enumerate(m.blocks):
            qkv = block.qkv(block.ln1(x)).view(B, T, 3 * H, Dh).transpose(1, 2)  # [B, 3H, T, Dh]
            qk, v = qkv.split([2 * H, H], dim=1)
            qk = qk * cos + torch.cat((qk[..., half:], qk[..., :half]), -1) * sin
            q, k = qk.split([H, H], dim=1)
            past_scores = torch.matmul(q, past_key[i].transpose(-2, -1))  # [B, H, T, P]
            new_scores = torch.matmul(q, k.transpose(-2, -1)) + bias
            probs = torch.softmax(torch.cat((past_scores, new_scores), dim=-1), dim=-1)
            to_past, to_new = probs.split([P, T], dim=-1)
            y = torch.matmul(to_past, past_value[i]) + torch.matmul(to_new, v)
            x = x + block.proj(y.transpose(1, 2).reshape(B, T, D))
            x = x + block.fc2(F.gelu(block.fc1(block.ln2(x))))
            new_keys.append(k)
            new_values.append(v)
        log_probs = torch.log_softmax(F.linear(m.ln_f(x), m.embed.weight), dim=-1)  # [B, T, V]
        end_log_probs = torch.log((torch.exp(log_probs) * word_end_mask).sum(-1))
        # token t is scored at its parent's position: one gather from the flat tensor (no [B, T, V] copy)
        V = log_probs.shape[-1]
        rows = torch.arange(B, device=input_ids.device)[:, None] * T
        at = (rows + parents.clamp(min=0)) * V + input_ids
        token_log_probs = log_probs.reshape(-1)[at.reshape(-1)].reshape(B, T)
        next_log_probs = log_probs[:, -1, :]
        return next_log_probs, token_log_probs, end_log_probs, torch.stack(new_keys), torch.stack(new_values)


def sequence_inputs(batch: int, length: int) -> dict:
    """The tree inputs of plain sequences: positions 0..T-1, each token after the one before, causal."""
    steps = np.arange(length)
    return {"positions": np.broadcast_to(steps, (batch, length)).astype(np.int64),
            "parents": np.broadcast_to(steps - 1, (batch, length)).astype(np.int64),
            "attention_mask": np.broadcast_to(np.where(steps[None, :] > steps[:, None], -1e9, 0.0),
                                              (batch, length, length)).astype(np.float32)}


def load_model(ckpt_dir: Path, ckpt: str | None = None):
    path = Path(ckpt) if ckpt else ckpt_dir / "best.pt"
    if not path.exists():
        path = ckpt_dir / "last.pt"
    ck = torch.load(path, map_location="cpu", weights_only=False)
    cfg = LMConfig(**ck["config"])
    cfg.dropout = 0.0
    model = TinyLM(cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    return model, cfg, path, ck


def export_onnx(model: TinyLM, path: Path) -> None:
    cfg = model.cfg
    ids = torch.randint(4, cfg.vocab_size, (2, 3))
    tree = {k: torch.from_numpy(v.copy()) for k, v in sequence_inputs(2, 3).items()}
    past = torch.zeros(cfg.n_layers, 1, cfg.n_heads, 5, cfg.head_dim)
    mask = torch.ones(cfg.vocab_size)
    dyn = {
        "input_ids": {0: "batch", 1: "seq"},
        "positions": {0: "batch", 1: "seq"},
        "parents": {0: "batch", 1: "seq"},
        "attention_mask": {0: "batch", 1: "seq", 2: "seq"},
        "past_key": {1: "past_batch", 3: "past"},
        "past_value": {1: "past_batch", 3: "past"},
        "next_log_probs": {0: "batch"},
        "token_log_probs": {0: "batch", 1: "seq"},
        "end_log_probs": {0: "batch", 1: "seq"},
        "new_key": {1: "batch", 3: "seq"},
        "new_value": {1: "batch", 3: "seq"},
    }
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            EngineGraph(model), (ids, tree["positions"], tree["parents"], tree["attention_mask"], past, past.clone(), mask),
            str(path), input_names=INPUTS, output_names=OUTPUTS,
            dynamic_axes=dyn, opset_version=OPSET, do_constant_folding=True, dynamo=False,
        )
    import onnx

    onnx.checker.check_model(str(path))


def quantize(fp32: Path, int8: Path, embed_name: str = "model.embed.weight") -> dict:
    """quantize_dynamic, then share the int8 output projection with the embedding Gather."""
    import onnx
    from onnx import helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = int8.with_name(int8.stem + ".plain.onnx")
    quantize_dynamic(
        str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=False,
        op_types_to_quantize=["MatMul"], extra_options={"WeightSymmetric": True},
    )
    m = onnx.load(str(tmp))
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    embed = numpy_helper.to_array(inits[embed_name])
    # Find the int8 weight that is the transposed embedding (the tied output projection).
    shapes = {name: tuple(init.dims) for name, init in inits.items()}
    logits_node = next(n for n in g.node if n.op_type == "MatMulInteger"
                       and shapes.get(n.input[1]) == tuple(reversed(embed.shape)))
    qname, zname = logits_node.input[1], logits_node.input[3]
    sname = qname[: -len("_quantized")] + "_scale"
    q = numpy_helper.to_array(inits[qname])
    scale = numpy_helper.to_array(inits[sname])
    zero = numpy_helper.to_array(inits[zname])
    assert q.shape == embed.T.shape and scale.shape == (embed.shape[0],), (q.shape, scale.shape)
    assert not zero.any(), "expected symmetric weights"
    err = np.abs(q.astype(np.float32) * scale[None, :] - embed.T).max()
    assert err <= scale.max() * 0.51 + 1e-6, f"{qname} is not the quantized embedding (error {err})"
    gather = next(n for n in g.node if n.op_type == "Gather" and n.input[0] == embed_name)
    ids, out = gather.input[1], gather.output[0]
    p = "/embed_int8"
    new_nodes = [
        helper.make_node("Gather", [qname, ids], [p + "/cols"], name=p + "/Gather", axis=1),          # [d, B, T] int8
        helper.make_node("Cast", [p + "/cols"], [p + "/cols_f"], name=p + "/Cast", to=onnx.TensorProto.FLOAT),
        helper.make_node("Transpose", [p + "/cols_f"], [p + "/rows"], name=p + "/Transpose", perm=[1, 2, 0]),
        helper.make_node("Gather", [sname, ids], [p + "/scale"], name=p + "/GatherScale", axis=0),   # [B, T]
        helper.make_node("Unsqueeze", [p + "/scale", p + "/axes"], [p + "/scale3"], name=p + "/Unsqueeze"),
        helper.make_node("Mul", [p + "/rows", p + "/scale3"], [out], name=p + "/Mul"),
    ]
    g.initializer.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), p + "/axes"))
    index = list(g.node).index(gather)
    g.node.remove(gather)
    for k, node in enumerate(new_nodes):
        g.node.insert(index + k, node)
    g.initializer.remove(inits[embed_name])
    onnx.checker.check_model(m)
    onnx.save(m, str(int8))
    tmp.unlink()
    return {"embedding_int8_max_abs_error": float(err), "shared_int8_weight": qname}


def ort_session(path: Path, threads: int):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def word_end_mask(tok) -> np.ndarray:
    """1.0 for each token that does not continue a word (the engine's rule, `tokenizer.continues_word`)."""
    from tokenizer import continues_word

    mask = np.ones(tok.get_vocab_size(), np.float32)
    for token, i in tok.get_vocab().items():
        if continues_word(token):
            mask[i] = 0.0
    return mask


def ort_run(sess, cfg: LMConfig, ids: np.ndarray, mask: np.ndarray, past=None, tree=None) -> dict:
    """One run of the engine graph over sequences (or the rows of `tree`); `past` (key, value) defaults
    to an empty cache. For sequences, token_log_probs is returned as [B, T-1]: log P(ids[:, t+1])."""
    if past is None:
        z = np.zeros((cfg.n_layers, 1, cfg.n_heads, 0, cfg.head_dim), np.float32)
        past = (z, z)
    feed = dict(tree if tree is not None else sequence_inputs(*ids.shape))
    feed.update({"input_ids": ids.astype(np.int64), "past_key": past[0], "past_value": past[1], "word_end_mask": mask})
    out = dict(zip(OUTPUTS, sess.run(OUTPUTS, feed)))
    if tree is None:
        out["token_log_probs"] = out["token_log_probs"][:, 1:]
    return out


def append_cache(past, out):
    """The cache after a run: past with the run's new keys and values appended."""
    if past is None:
        return out["new_key"], out["new_value"]
    return np.concatenate((past[0], out["new_key"]), 3), np.concatenate((past[1], out["new_value"]), 3)


def reference(model, ids: np.ndarray, mask: np.ndarray) -> dict:
    """PyTorch full forward: log-probabilities [N, T, V] and the word-end log-probabilities [N, T]."""
    with torch.no_grad():
        lp = torch.log_softmax(model(torch.from_numpy(ids), need_cache=False)[0], -1)
        end = torch.log((lp.exp() * torch.from_numpy(mask)).sum(-1))
    return {"log_probs": lp.numpy(), "end": end.numpy()}


def gathered(log_probs: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """log P(ids[:, t+1]) from log-probabilities [N, T, V]: [N, T-1]."""
    return np.take_along_axis(log_probs[:, :-1, :], ids[:, 1:, None], -1)[..., 0]


def check_incremental(model, cfg, sess_fp32, sess_int8, windows: np.ndarray, mask: np.ndarray, tol: float) -> dict:
    """(a): the engine graph through the cache == PyTorch full forward."""
    ref = reference(model, windows, mask)
    ref_tokens = gathered(ref["log_probs"], windows)
    res = {}
    # token by token, P = 0 .. T-1 (one cache per row)
    past, nexts, ends = None, [], []
    for t in range(windows.shape[1]):
        out = ort_run(sess_fp32, cfg, windows[:, t : t + 1], mask, past)
        past = append_cache(past, out)
        nexts.append(out["next_log_probs"])
        ends.append(out["end_log_probs"])
    res["token_by_token_max_abs_diff"] = float(max(np.abs(np.stack(nexts, 1) - ref["log_probs"]).max(),
                                                   np.abs(np.concatenate(ends, 1) - ref["end"]).max()))
    # a prefix in one call (P = 0, T = 10), then chunks of 7 (P > 0, T > 1)
    out = ort_run(sess_fp32, cfg, windows[:, :10], mask)
    diffs = [np.abs(out["token_log_probs"] - ref_tokens[:, :9]).max()]
    past = append_cache(None, out)
    for t in range(10, windows.shape[1], 7):
        chunk = windows[:, t : t + 7]
        out = ort_run(sess_fp32, cfg, chunk, mask, past)
        past = append_cache(past, out)
        stop = t + chunk.shape[1]
        diffs += [np.abs(out["token_log_probs"] - ref_tokens[:, t : stop - 1]).max(),
                  np.abs(out["end_log_probs"] - ref["end"][:, t:stop]).max(),
                  np.abs(out["next_log_probs"] - ref["log_probs"][:, stop - 1]).max()]
    res["chunked_max_abs_diff"] = float(max(diffs))
    res["present_key_shape"] = list(past[0].shape)
    # one shared context (batch 1) broadcast over rows that continue it differently
    shared, tails = windows[:1, :20], windows[:, 20:26]
    out = ort_run(sess_fp32, cfg, tails, mask, append_cache(None, ort_run(sess_fp32, cfg, shared, mask)))
    joined = np.concatenate((np.repeat(shared, len(tails), 0), tails), 1)
    ref_joined = reference(model, joined, mask)
    res["shared_context_max_abs_diff"] = float(max(
        np.abs(out["token_log_probs"] - gathered(ref_joined["log_probs"], joined)[:, 20:]).max(),
        np.abs(out["end_log_probs"] - ref_joined["end"][:, 20:]).max(),
        np.abs(out["next_log_probs"] - ref_joined["log_probs"][:, -1]).max()))
    res["tree_max_abs_diff"] = check_tree(sess_fp32, cfg, windows, mask)
    full = ort_run(sess_fp32, cfg, windows, mask)
    res["onnx_full_max_abs_diff"] = float(max(np.abs(full["token_log_probs"] - ref_tokens).max(),
                                              np.abs(full["end_log_probs"] - ref["end"]).max()))
    res["log_prob_scale"] = float(np.abs(ref_tokens).max())
    res["tolerance"] = tol
    res["passed"] = max(res["token_by_token_max_abs_diff"], res["chunked_max_abs_diff"],
                        res["shared_context_max_abs_diff"], res["tree_max_abs_diff"],
                        res["onnx_full_max_abs_diff"]) <= tol
    # int8: dynamic activation scales depend on the call, so cache and full
    # differ slightly; report the agreement of the next-token choice.
    past, q_steps = None, []
    for t in range(windows.shape[1]):
        out = ort_run(sess_int8, cfg, windows[:, t : t + 1], mask, past)
        past = append_cache(past, out)
        q_steps.append(out["next_log_probs"])
    q_step = np.stack(q_steps, 1)
    q_full = ort_run(sess_int8, cfg, windows, mask)["token_log_probs"]
    res["int8_token_by_token_vs_full_max_abs_diff"] = float(np.abs(gathered(q_step, windows) - q_full).max())
    res["int8_vs_fp32_top1_agreement"] = float((q_step.argmax(-1) == ref["log_probs"].argmax(-1)).mean())
    return res


def tree_inputs(parents: list[int]) -> dict:
    """The inputs of one row holding a tree: each token sees itself and its ancestors."""
    n = len(parents)
    positions, seen = [], np.full((n, n), -1e9, np.float32)
    for t, parent in enumerate(parents):
        positions.append(0 if parent < 0 else positions[parent] + 1)
        s = t
        while s >= 0:
            seen[t, s] = 0.0
            s = parents[s]
    return {"positions": np.array([positions], np.int64), "parents": np.array([parents], np.int64),
            "attention_mask": seen[None]}


def check_tree(sess, cfg, windows: np.ndarray, mask: np.ndarray) -> float:
    """Three words in one row as a tree (two share their first two tokens) score as three sequences."""
    past = append_cache(None, ort_run(sess, cfg, windows[:1, :20], mask))
    a, b, c = list(windows[0, 20:23]), list(windows[0, 20:22]) + list(windows[1, 22:24]), list(windows[2, 20:22])
    nodes, parents = a + b[2:] + c, [-1, 0, 1, 1, 3, -1, 5]
    tree = ort_run(sess, cfg, np.array([nodes]), mask, past, tree_inputs(parents))
    diffs = []
    for word, at in ((a, [0, 1, 2]), (b, [0, 1, 3, 4]), (c, [5, 6])):
        seq = ort_run(sess, cfg, np.array([word]), mask, past)
        diffs += [np.abs(tree["token_log_probs"][0, at[1:]] - seq["token_log_probs"][0]).max(),
                  np.abs(tree["end_log_probs"][0, at] - seq["end_log_probs"][0]).max()]
    return float(max(diffs))


def perplexities(model, cfg, tok, sess_fp32, sess_int8, corpus: Path, langs, n: int, batch: int, mask) -> dict:
    out = {}
    for lang in langs:
        sents = read_lines(text_path(corpus, "valid", lang))[:n]
        acc = {"pytorch_fp32": [0.0, 0], "onnx_fp32": [0.0, 0], "onnx_int8": [0.0, 0]}
        words = 0
        for x, y, w in eval_batches(tok, sents, cfg.context, batch):
            words += w
            keep = y != -100
            # the engine graph scores the tokens after the first of each row: feed <s> and the targets
            ids = np.concatenate((x[:, :1], np.where(keep, y, PAD_ID)), 1)
            with torch.no_grad():
                lt = torch.log_softmax(model(torch.from_numpy(x), need_cache=False)[0], -1).numpy()
            scores = {"pytorch_fp32": np.take_along_axis(lt, np.where(keep, y, 0)[..., None], -1)[..., 0],
                      "onnx_fp32": ort_run(sess_fp32, cfg, ids, mask)["token_log_probs"],
                      "onnx_int8": ort_run(sess_int8, cfg, ids, mask)["token_log_probs"]}
            for name, lp in scores.items():
                acc[name][0] -= float(lp[keep].astype(np.float64).sum())
                acc[name][1] += int(keep.sum())
        tokens = acc["onnx_fp32"][1]
        row = {"sentences": len(sents), "tokens": tokens, "words": words}
        for name, (s, c) in acc.items():
            row[f"ppl_{name}"] = round(math.exp(s / c), 4)
            row[f"word_ppl_{name}"] = round(math.exp(s / words), 3)
        row["int8_increase"] = round(row["ppl_onnx_int8"] / row["ppl_onnx_fp32"] - 1, 5)
        out[lang] = row
        log(f"ppl {lang}: pytorch {row['ppl_pytorch_fp32']:.3f}  onnx fp32 {row['ppl_onnx_fp32']:.3f}  "
            f"int8 {row['ppl_onnx_int8']:.3f} ({100 * row['int8_increase']:+.2f}%)")
    return out


def latency_ms(sess, cfg, mask, past_len: int, repeats: int = 50) -> float:
    ids = np.array([[5]], dtype=np.int64)
    pk = np.random.default_rng(0).standard_normal((cfg.n_layers, 1, cfg.n_heads, past_len, cfg.head_dim)).astype(np.float32)
    ort_run(sess, cfg, ids, mask, (pk, pk))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ort_run(sess, cfg, ids, mask, (pk, pk))
        times.append(time.perf_counter() - t0)
    return round(1e3 * float(np.median(times)), 3)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt-dir", default=str(CACHE / "ckpt"))
    ap.add_argument("--ckpt", default=None, help="a checkpoint file instead of <ckpt-dir>/best.pt (e.g. best.fp16.pt)")
    ap.add_argument("--tokenizer", default=str(CACHE / "tokenizer" / "tokenizer.json"))
    ap.add_argument("--corpus", default=str(CACHE / "corpus"), help="valid.<lang>.txt[.xz] (+ corpus_stats.json)")
    ap.add_argument("--data-dir", default=str(CACHE / "data"), help="encoded streams (for the decoding check)")
    ap.add_argument("--work-dir", default=str(CACHE / "export"))
    ap.add_argument("--release-dir", default=str(DEFAULT_RELEASE))
    ap.add_argument("--langs", nargs="+", default=list(LANGS))
    ap.add_argument("--eval-sentences", type=int, default=1000, help="per language")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tol", type=float, default=2e-3, help="max abs log-probability difference, ONNX fp32 vs PyTorch")
    ap.add_argument("--max-int8-increase", type=float, default=0.05)
    ap.add_argument("--allow-fail", action="store_true", help="write the release files even if a check fails")
    ap.add_argument("--reproduce", default="python3 languages/lm/pipeline.py all", help="command recorded in the card")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from tokenizers import Tokenizer

    work, release = Path(args.work_dir), Path(args.release_dir)
    work.mkdir(parents=True, exist_ok=True)
    model, cfg, ckpt_path, ck = load_model(Path(args.ckpt_dir), args.ckpt)
    tok = Tokenizer.from_file(args.tokenizer)
    if tok.get_vocab_size() != cfg.vocab_size:
        sys.exit(f"tokenizer has {tok.get_vocab_size()} tokens, the model {cfg.vocab_size}")
    if ck.get("tokenizer_sha256") not in (None, sha256_file(Path(args.tokenizer))):
        sys.exit(f"{args.tokenizer} is not the tokenizer that {ckpt_path} was trained with")
    log(f"exporting {ckpt_path} ({model.num_params():,} parameters)")

    fp32, int8 = work / "model.fp32.onnx", work / "model.int8.onnx"
    export_onnx(model, fp32)
    qinfo = quantize(fp32, int8)
    s32, s8 = ort_session(fp32, args.threads), ort_session(int8, args.threads)

    # (a) incremental decoding on real text: 4 windows of the full context from the valid stream
    from encode import load_split

    stream, _ = load_split(Path(args.data_dir), "valid")
    starts = np.flatnonzero(np.asarray(stream[: 200_000]) == BOS_ID)
    picks = starts[np.linspace(0, len(starts) - 1, 4).astype(int)]
    picks = [min(s, len(stream) - cfg.context) for s in picks]
    windows = np.stack([np.asarray(stream[s : s + cfg.context], dtype=np.int64) for s in picks])
    mask = word_end_mask(tok)
    inc = check_incremental(model, cfg, s32, s8, windows, mask, args.tol)
    log(f"incremental decoding: token-by-token max |diff| {inc['token_by_token_max_abs_diff']:.2e}, "
        f"chunked {inc['chunked_max_abs_diff']:.2e} -> {'ok' if inc['passed'] else 'FAILED'}")

    # (b) perplexities
    ppl = perplexities(model, cfg, tok, s32, s8, Path(args.corpus), args.langs, args.eval_sentences, args.batch, mask)
    worst = max(r["int8_increase"] for r in ppl.values())
    int8_ok = worst <= args.max_int8_increase
    log(f"int8 check: worst increase {100 * worst:+.2f}% (limit {100 * args.max_int8_increase:.0f}%) -> "
        f"{'ok' if int8_ok else 'FAILED'}")

    import onnx
    import onnxruntime
    import tokenizers

    summary_path = Path(args.ckpt_dir) / "summary.json"
    training = json.loads(summary_path.read_text()) if summary_path.exists() else ck.get("summary", {})
    corpus_stats_path = Path(args.corpus) / "corpus_stats.json"
    corpus_stats = json.loads(corpus_stats_path.read_text()) if corpus_stats_path.exists() else None
    tok_report_path = Path(args.tokenizer).with_name("tokenizer_report.json")
    tok_report = json.loads(tok_report_path.read_text()) if tok_report_path.exists() else None
    vocab = tok.get_vocab()
    from tokenizer import continues_word

    n_cont = sum(continues_word(t) for t in vocab)
    metrics = {
        "model": {
            "architecture": "decoder-only transformer, pre-LN, RoPE, GELU MLP, tied embedding",
            "config": {k: v for k, v in cfg.to_dict().items() if k != "dropout"},
            "params": model.num_params(),
            "checkpoint": ckpt_path.name,
            "checkpoint_step": ck.get("step"),
        },
        "interface": {
            "opset": OPSET,
            "inputs": {"input_ids": "int64 [B, T]",
                       "positions": "int64 [B, T]",
                       "parents": "int64 [B, T]",
                       "attention_mask": "float32 [B, T, T]",
                       "past_key": f"float32 [{cfg.n_layers}, 1, {cfg.n_heads}, P, {cfg.head_dim}]",
                       "past_value": f"float32 [{cfg.n_layers}, 1, {cfg.n_heads}, P, {cfg.head_dim}]",
                       "word_end_mask": f"float32 [{cfg.vocab_size}]"},
            "outputs": {"next_log_probs": f"float32 [B, {cfg.vocab_size}]",
                        "token_log_probs": "float32 [B, T]",
                        "end_log_probs": "float32 [B, T]",
                        "new_key": f"float32 [{cfg.n_layers}, B, {cfg.n_heads}, T, {cfg.head_dim}]",
                        "new_value": f"float32 [{cfg.n_layers}, B, {cfg.n_heads}, T, {cfg.head_dim}]"},
            "cache": ("one cache of P tokens is shared by the B rows (broadcast inside attention); append new_* to "
                      "past_* (axis 3) to extend it; P = 0 (zero-size) starts a text; keys are stored after RoPE at "
                      "absolute positions 0..P-1"),
            "scores": ("next_log_probs: log P(next token) after each whole row (its last position); "
                       "token_log_probs[b, t]: log P(input_ids[b, t] | cache, its ancestors in the row), for a token "
                       "after the cache's end its log-probability after position 0 (not a score); end_log_probs[b, t]: "
                       "log of the summed next-token probability of the tokens that end a word (word_end_mask = 1) "
                       "after position t"),
            "rows": ("a row is a sequence (positions 0..T-1, parents t-1, a causal attention_mask) or a tree of "
                     "candidate words sharing prefixes: positions = depth, parents = the row position a token "
                     "follows (-1: the cache's end), attention_mask 0 where a token sees itself and its ancestors, "
                     "-1e9 elsewhere (padding sees only itself)"),
            "context_tokens": cfg.context,
            "special_ids": {"<pad>": PAD_ID, "<s>": BOS_ID, "</s>": EOS_ID, "<unk>": UNK_ID},
            "sentence_start": "feed <s> first; P(<s>) as the next token = end of sentence",
            "word_boundary": (f"a token continues the current word iff it is not special, does not start with "
                              f"'{METASPACE}' and starts with a letter, mark, digit or apostrophe; "
                              f"P(word ends) = 1 - sum of next-token probabilities of those tokens"),
            "continuation_tokens": n_cont,
        },
        "files": {},
        "perplexity": ppl,
        "perplexity_protocol": (f"first {args.eval_sentences} sentences of valid.<lang>.txt per language, each scored alone "
                                f"from <s> with the end-of-sentence <s> as last target; per-token perplexity "
                                f"(word_ppl_*: the same total log-loss per whitespace word)"),
        "checks": {
            "incremental_decoding": inc,
            "int8_max_increase": args.max_int8_increase,
            "int8_worst_increase": worst,
            "int8_passed": int8_ok,
            "quantization": dict(qinfo, method="onnxruntime quantize_dynamic, QInt8 weights per output channel, symmetric; "
                                 "uint8 dynamic activations; all weight MatMuls incl. the tied output; embedding shares the int8 output weight"),
        },
        "latency_ms_one_token_past63": {
            "onnx_fp32": latency_ms(s32, cfg, mask, cfg.context - 1), "onnx_int8": latency_ms(s8, cfg, mask, cfg.context - 1),
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip()
            + f", {args.threads} thread{'s' if args.threads > 1 else ''} (export machine)",
        },
        "training": training,
        "tokenizer": {
            "vocab_size": tok.get_vocab_size(),
            "report": {k: tok_report[k] for k in ("table", "reason", "final_per_lang", "final_mean_tokens_per_word") if k in tok_report}
            if tok_report else None,
        },
        "corpus": {
            "train_sentences": corpus_stats["train_sentences"], "valid_sentences": corpus_stats["valid_sentences"],
            "train_bytes": corpus_stats["train_bytes"], "licences": corpus_stats["licences"],
            "per_language": {l: {"train_sentences": v["train_sentences"], "valid_sentences": v["valid_sentences"],
                                 "train_bytes": v["train_bytes"], "share_by_source": v["share_by_source"]}
                             for l, v in corpus_stats["languages"].items()},
        } if corpus_stats else None,
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "onnx": onnx.__version__,
                     "onnxruntime": onnxruntime.__version__, "tokenizers": tokenizers.__version__, "numpy": np.__version__},
        "reproduce": args.reproduce,
    }
    passed = inc["passed"] and int8_ok
    metrics["passed"] = passed

    shutil.copy2(args.tokenizer, work / "tokenizer.json")
    metrics["files"] = {
        "model.int8.onnx": int8.stat().st_size,
        "tokenizer.json": (work / "tokenizer.json").stat().st_size,
        "int8_model_plus_tokenizer": int8.stat().st_size + (work / "tokenizer.json").stat().st_size,
        "model.fp32.onnx (not released)": fp32.stat().st_size,
    }
    write_json(work / "metrics.json", metrics)
    from card import write_card

    write_card(metrics, work / "MODEL_CARD.md", previous=release / "MODEL_CARD.md")
    names = ["model.int8.onnx", "tokenizer.json", "metrics.json", "MODEL_CARD.md"]
    (work / "SHA256SUMS").write_text("".join(f"{sha256_file(work / n)}  {n}\n" for n in names))
    log(f"int8 model {int8.stat().st_size / 1e6:.2f} MB + tokenizer {metrics['files']['tokenizer.json'] / 1e6:.2f} MB")
    if passed or args.allow_fail:
        release.mkdir(parents=True, exist_ok=True)
        for n in names + ["SHA256SUMS"]:
            shutil.copy2(work / n, release / n)
        log(f"release files in {release}")
    if not passed:
        log("CHECKS FAILED" + ("" if args.allow_fail else f"; files left in {work}, not released"))
        sys.exit(1)


if __name__ == "__main__":
    main()
