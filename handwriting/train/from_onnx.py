"""Rebuilds a PyTorch checkpoint of a released stroke model from its int8 ONNX
file, for fine-tuning with `train.py --init` when no checkpoint is kept.

  python -m handwriting.train.from_onnx --onnx handwriting/models/nib-hw-1/model.int8.onnx \
      --out .cache/handwriting/nib-hw-1-rebuilt/ckpt/best.pt [--check]

The int8 graph (export.py's quantize) holds the convolutions, LayerNorm and
biases in fp32; the weights are dequantized here:

- LSTM layers: com.microsoft DynamicQuantizeLSTM, W [dirs, input, 4H] and
  R [dirs, H, 4H] int8 with scales and zero points per output channel
  [dirs, 4H]; B [dirs, 8H] fp32 (input bias then recurrent bias). Gate
  blocks in ONNX order i, o, f, c; PyTorch's order is i, f, g(=c), o.
  Direction 0 is forward, 1 reverse (PyTorch's `_reverse`).
- Output layer: MatMulInteger with B [2H, C] int8, scale and zero point
  per column; PyTorch's Linear weight is its transpose. Its bias is the fp32
  Add operand.

The rebuilt fp32 model is the int8 model's weights exactly; only the
activations are no longer quantized (the int8 graph quantizes them on the
fly), so its outputs differ a little from onnxruntime's.

--check: max |difference| of log-probabilities against onnxruntime on UNIPEN
validation words, and greedy CER / word accuracy on all of them (one sample
at a time, as export.py measures).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from . import charset
from .model import StrokeModel, greedy_decode

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

REPO = Path(__file__).resolve().parents[2]
# ONNX gate blocks (i, o, f, c) taken in PyTorch's order (i, f, g, o)
ONNX_TO_TORCH_GATES = [0, 2, 3, 1]


def _reorder_gates(a: np.ndarray, hidden: int, axis: int) -> np.ndarray:
    blocks = np.split(a, 4, axis=axis)
    assert all(b.shape[axis] == hidden for b in blocks)
    return np.concatenate([blocks[k] for k in ONNX_TO_TORCH_GATES], axis=axis)


def _dequant(inits: dict, name: str) -> np.ndarray:
    """int8 weight [..., K, N] with scale / zero point [..., N] -> float32 [..., K, N]."""
    q = inits[name + "_quantized"].astype(np.float32)
    scale = inits[name + "_scale"].astype(np.float32)
    zp = inits[name + "_zero_point"].astype(np.float32)
    return (q - zp[..., None, :]) * scale[..., None, :]


def rebuild(onnx_path: Path, dropout: float = 0.15) -> StrokeModel:
    import onnx
    from onnx import numpy_helper

    g = onnx.load(str(onnx_path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    lstms = [n for n in g.node if n.op_type == "DynamicQuantizeLSTM"]
    mms = [n for n in g.node if n.op_type == "MatMulInteger"]
    assert len(mms) == 1 and lstms, "expected DynamicQuantizeLSTM layers and one MatMulInteger"
    hidden = next(a.i for a in lstms[0].attribute if a.name == "hidden_size")
    conv = inits["model.conv.4.weight"].shape[0]
    classes = inits["model.out.bias"].shape[0]
    assert classes == len(charset.CHARS), (classes, len(charset.CHARS))
    model = StrokeModel(classes, conv=conv, hidden=hidden, layers=len(lstms), dropout=dropout)
    sd = model.state_dict()
    new = {}
    for k in sd:
        if ("model." + k) in inits:
            new[k] = torch.from_numpy(inits["model." + k].copy())
    for layer, node in enumerate(lstms):
        w_name, r_name, b_name = node.input[1], node.input[2], node.input[3]
        assert w_name.endswith("_quantized") and r_name.endswith("_quantized")
        assert next(a.s for a in node.attribute if a.name == "direction") == b"bidirectional"
        W = _dequant(inits, w_name[: -len("_quantized")])  # [2, in, 4H]
        R = _dequant(inits, r_name[: -len("_quantized")])  # [2, H, 4H]
        B = inits[b_name]  # [2, 8H]
        for d, suffix in enumerate(("", "_reverse")):
            new[f"rnn.weight_ih_l{layer}{suffix}"] = torch.from_numpy(
                _reorder_gates(W[d].T, hidden, 0).copy())
            new[f"rnn.weight_hh_l{layer}{suffix}"] = torch.from_numpy(
                _reorder_gates(R[d].T, hidden, 0).copy())
            new[f"rnn.bias_ih_l{layer}{suffix}"] = torch.from_numpy(
                _reorder_gates(B[d, : 4 * hidden], hidden, 0).copy())
            new[f"rnn.bias_hh_l{layer}{suffix}"] = torch.from_numpy(
                _reorder_gates(B[d, 4 * hidden:], hidden, 0).copy())
    mm = mms[0]
    wq, wzp = mm.input[1], mm.input[3]
    base = wq[: -len("_quantized")]
    assert wzp == base + "_zero_point"
    W = _dequant(inits, base)  # [2H, C]
    new["out.weight"] = torch.from_numpy(W.T.copy())
    missing = set(sd) - set(new)
    extra = set(new) - set(sd)
    assert not missing and not extra, (missing, extra)
    for k, v in new.items():
        assert tuple(v.shape) == tuple(sd[k].shape), (k, v.shape, sd[k].shape)
    model.load_state_dict({k: v.float() for k, v in new.items()})
    model.eval()
    return model


def checkpoint(model: StrokeModel, onnx_path: Path, metrics_path: Path | None) -> dict:
    """train.py's checkpoint format; the released run's history (steps,
    minutes, samples, arguments) from its metrics.json when there is one, so
    that a run started from it with --init counts them."""
    ck = {"model": model.state_dict(), "opt": None, "step": 0, "elapsed": 0.0, "best": float("inf"),
          "config": model.config, "charset": charset.CHARS, "args": {}, "seen": {}, "init": None,
          "rebuilt_from_onnx": str(onnx_path)}
    if metrics_path and metrics_path.exists():
        t = json.loads(metrics_path.read_text())["training"]
        prior = t.get("continued_from") or {}
        before = prior.get("seen", {})
        total = {k: v for k, v in t["samples_seen"].items() if k != "counted"}
        ck.update(step=t["steps"], elapsed=t["minutes"] * 60.0, best=t["best_valid_words_cer_subset"],
                  args=t["args"], seen={k: v - before.get(k, 0) for k, v in total.items()})
        if prior:
            ck["init"] = {"checkpoint": prior["checkpoint"], "steps": prior["steps"],
                          "elapsed": prior["elapsed"], "seen": before}
    return ck


def check(model: StrokeModel, onnx_path: Path, unipen: Path, cache: Path, n_diff: int) -> dict:
    import onnxruntime as ort

    from .data import item_features, unipen_items
    from .train import edit_distance

    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    _, valid, _ = unipen_items(unipen, cache, with_train=False)
    words = [it for it in valid if it.group in ("unipen-6", "unipen-7")]
    diff_idx = set(np.random.default_rng(0).choice(len(words), n_diff, replace=False).tolist())
    errs = chars = correct = 0
    errs_ort = correct_ort = 0
    max_diff, argmax_agree, frames = 0.0, 0, 0
    t0 = time.time()
    with torch.no_grad():
        for i, it in enumerate(words):
            f = item_features(it, None)
            logp = model(torch.from_numpy(f[None]))[0]
            hyp = greedy_decode(logp, logp.shape[0])
            errs += edit_distance(hyp, it.ids)
            chars += len(it.ids)
            correct += hyp == it.ids
            if i in diff_idx:
                ref = sess.run(None, {"features": f[None]})[0]
                max_diff = max(max_diff, float(np.abs(ref - logp.numpy()).max()))
                argmax_agree += int((ref.argmax(-1) == logp.numpy().argmax(-1)).sum())
                frames += ref.shape[0]
                h2 = greedy_decode(torch.from_numpy(ref), ref.shape[0])
                errs_ort += edit_distance(h2, it.ids)
                correct_ort += h2 == it.ids
    res = {"n": len(words), "cer": errs / chars, "word_acc": correct / len(words),
           "ort_int8_vs_rebuilt_max_abs_logp_diff": max_diff, "diff_samples": n_diff,
           "argmax_agreement": argmax_agree / max(frames, 1), "seconds": round(time.time() - t0, 1)}
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onnx", default=str(REPO / "handwriting/models/nib-hw-1/model.int8.onnx"))
    ap.add_argument("--metrics", default=None, help="default: metrics.json next to --onnx")
    ap.add_argument("--out", default=str(REPO / ".cache/handwriting/nib-hw-1-rebuilt/ckpt/best.pt"))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--diff-samples", type=int, default=50)
    ap.add_argument("--unipen", default=str(REPO / ".cache/handwriting/unipen"))
    ap.add_argument("--unipen-cache", default=str(REPO / ".cache/handwriting/unipen_samples.pkl"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    onnx_path = Path(args.onnx)
    metrics = Path(args.metrics) if args.metrics else onnx_path.parent / "metrics.json"
    model = rebuild(onnx_path)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint(model, onnx_path, metrics), out)
    print(f"wrote {out}: config {model.config}")
    if args.check:
        res = check(model, onnx_path, Path(args.unipen), Path(args.unipen_cache), args.diff_samples)
        print(json.dumps(res, indent=1))
        (out.parent / "from_onnx_check.json").write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
