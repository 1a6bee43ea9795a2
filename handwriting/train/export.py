"""Exports a checkpoint to ONNX (fp32 and int8), validates both on the
validation writers and synthetic ink, and writes the release folder.

  python -m handwriting.train.export --ckpt .cache/handwriting/run1/ckpt/best.pt \
      --out handwriting/models/nib-hw-1

1. fp32 ONNX (opset 17, TorchScript exporter): input `features` [1, T, 8],
   output `log_probs` [T', C], T dynamic. Checked against PyTorch (max abs
   difference of the log-probabilities).
2. int8: onnxruntime `quantize_dynamic`, int8 weights (per output channel,
   symmetric) for the LSTM and linear layers (DynamicQuantizeLSTM, MatMulInteger);
   the small convolutions stay fp32.
3. Greedy CER and word accuracy of fp32 and int8 on every validation sample
   (UNIPEN contributors held out from training, by category and style, and
   synthetic Hershey ink per language), one sample at a time as the engine
   runs it, and the int8 latency on one thread. int8 CER must be within
   --max-cer-gap (absolute) of fp32 on the UNIPEN words, else exit 1.
4. Release folder: model.int8.onnx, charset.txt, metrics.json, MODEL_CARD.md
   (card.py) and SHA256SUMS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from . import card, charset
from .data import LANGS, Synth, _feasible, item_features, unipen_items
from .model import StrokeModel, greedy_decode, num_params, out_length
from .preprocess import FEATURES_VERSION, FEATURE_NAMES, NUM_FEATURES
from .train import REPO, edit_distance

# ONNX Runtime's PyPI build queues usage telemetry with a device id under
# ~/.cache/Microsoft unless this is set before the library loads.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

OPSET = 17


class Wrapper(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, features):
        return self.model(features)[0]


def export_fp32(model, path: Path) -> None:
    x = torch.randn(1, 120, NUM_FEATURES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrapper(model).eval(), (x,), str(path), input_names=["features"],
                          output_names=["log_probs"],
                          dynamic_axes={"features": {1: "points"}, "log_probs": {0: "frames"}},
                          opset_version=OPSET, do_constant_folding=True, dynamo=False)
    model.eval()  # the exporter restores the wrapper's mode, which would reach the model
    import onnx

    onnx.checker.check_model(str(path))


def quantize(fp32: Path, int8: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                     reduce_range=False, op_types_to_quantize=["MatMul", "Gemm", "LSTM"],
                     extra_options={"WeightSymmetric": True})


def session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def evaluate(sess, items, keys_of):
    """Greedy CER / word accuracy per key, and per-sample latency (s)."""
    stats, times = {}, []
    for it in items:
        f = item_features(it, None)
        t0 = time.perf_counter()
        logp = sess.run(None, {"features": f[None]})[0]
        times.append(time.perf_counter() - t0)
        hyp = greedy_decode(torch.from_numpy(logp), logp.shape[0])
        e = edit_distance(hyp, it.ids)
        for k in keys_of(it):
            s = stats.setdefault(k, [0, 0, 0, 0])
            s[0] += e
            s[1] += len(it.ids)
            s[2] += hyp == it.ids
            s[3] += 1
    table = {k: {"cer": round(e / max(c, 1), 4), "word_acc": round(ok / n, 4), "n": n}
             for k, (e, c, ok, n) in sorted(stats.items())}
    return table, times


def keys_of(it) -> list:
    keys = [it.group]
    if it.group in ("unipen-6", "unipen-7"):
        keys.append("unipen-words")
        keys.append(f"unipen-words-{(it.style or 'unknown').lower()}")
    if it.group.startswith("synth"):
        keys.append(it.contributor)  # synth-<lang>
    return keys


def samples_seen(ck: dict, run_dir: Path) -> dict:
    """Training samples per source: counted by train.py, or for runs before
    the counter estimated from the batch sizes in train.log and the mix."""
    if ck.get("seen"):
        before = (ck.get("init") or {}).get("seen", {})
        return {"counted": True, **{k: v + before.get(k, 0) for k, v in ck["seen"].items()}}
    import re

    from .train import MIX

    log = run_dir / "train.log"
    text = log.read_text() if log.exists() else ""
    sizes = [int(m.group(1)) for m in re.finditer(r" batch (\d+)x\d+ ", text)]
    total = ck["step"] * (sum(sizes) / len(sizes)) if sizes else 0
    return {"counted": False, **{k: int(round(total * v)) for k, v in MIX.items()}}


def continued_from(ck: dict) -> dict | None:
    """The earlier run a checkpoint continued (train.py --init), with that
    run's arguments read from its checkpoint, for the card."""
    init = ck.get("init")
    if not init:
        return None
    before = torch.load(init["checkpoint"], map_location="cpu", weights_only=False)
    return {**init, "args": before["args"], "run": run_folder(Path(init["checkpoint"]))}


def run_folder(ckpt: Path) -> str:
    """A checkpoint's run folder, relative to the repository where it is inside."""
    run = ckpt.resolve().parent.parent
    return str(run.relative_to(REPO) if run.is_relative_to(REPO) else run)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", default=str(REPO / ".cache/handwriting/run1/ckpt/best.pt"))
    ap.add_argument("--work", default=None, help="default: the checkpoint's run folder / export")
    ap.add_argument("--out", default=str(REPO / "handwriting/models/nib-hw-1"))
    ap.add_argument("--unipen", default=str(REPO / ".cache/handwriting/unipen"))
    ap.add_argument("--unipen-cache", default=str(REPO / ".cache/handwriting/unipen_samples.pkl"))
    ap.add_argument("--corpus", default=str(REPO / ".cache/lm/corpus"))
    ap.add_argument("--synth-per-lang", type=int, default=100)
    ap.add_argument("--synth-ru", type=int, default=400)
    ap.add_argument("--max-cer-gap", type=float, default=0.01)
    ap.add_argument("--limit", type=int, default=0, help="evaluate only N UNIPEN samples (smoke)")
    ap.add_argument("--max-chars", type=int, default=1500,
                    help="isolated characters evaluated (a fixed random subset; words and lines are all used)")
    ap.add_argument("--hardware", default="2-core x86 CPU, 1 training thread")
    args = ap.parse_args()
    torch.set_num_threads(1)

    ckpt_path = Path(args.ckpt)
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    cfg = ck["config"]
    if ck["charset"] != charset.CHARS:
        sys.exit("the checkpoint's charset differs from charset.txt")
    model = StrokeModel(**cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    work = Path(args.work) if args.work else ckpt_path.parent.parent / "export"
    work.mkdir(parents=True, exist_ok=True)
    fp32, int8 = work / "model.fp32.onnx", work / "model.int8.onnx"
    export_fp32(model, fp32)
    quantize(fp32, int8)
    s32, s8 = session(fp32), session(int8)

    # agreement of ONNX fp32 with PyTorch at a few lengths
    diff = 0.0
    rng = np.random.default_rng(0)
    for t in (1, 2, 7, 64, 301, 1000):
        x = rng.normal(0, 0.3, (1, t, NUM_FEATURES)).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x))[0].numpy()
        got = s32.run(None, {"features": x})[0]
        assert got.shape == ref.shape == (int(out_length(t)), len(charset.CHARS)), (got.shape, ref.shape)
        diff = max(diff, float(np.abs(got - ref).max()))
    print(f"ONNX fp32 vs PyTorch: max |diff| {diff:.2e}")

    _, valid, ustats = unipen_items(Path(args.unipen), Path(args.unipen_cache), with_train=False)
    chars = [it for it in valid if it.group == "unipen-chars"]
    if len(chars) > args.max_chars:
        keep = set(np.random.default_rng(0).choice(len(chars), args.max_chars, replace=False).tolist())
        chars = [c for i, c in enumerate(chars) if i in keep]
    valid = [it for it in valid if it.group != "unipen-chars"] + chars
    if args.limit:
        valid = [valid[i] for i in np.random.default_rng(0).choice(len(valid), args.limit, replace=False)]
    synth = Synth(Path(args.corpus), "valid", 400_000)
    vrng = np.random.default_rng(4321)
    synth_items = []
    for lang in LANGS:
        n = 0
        while n < (args.synth_ru if lang == "ru" else args.synth_per_lang):
            it = synth.sample(vrng, lang)
            if it is not None and _feasible(len(item_features(it, None)), it.ids):
                synth_items.append(it)
                n += 1
    items = valid + synth_items
    print(f"evaluating {len(valid)} UNIPEN + {len(synth_items)} synthetic samples")
    t0 = time.time()
    res32, _ = evaluate(s32, items, keys_of)
    res8, times = evaluate(s8, items, keys_of)
    print(f"evaluation took {time.time() - t0:.0f} s")
    # Latency: each of 300 validation words run 3 times, the fastest counted,
    # so that preemption by other processes on the machine does not count.
    words = [it for it in items if it.group in ("unipen-6", "unipen-7")]
    word_times = []
    for it in [words[i] for i in np.random.default_rng(1).choice(len(words), min(300, len(words)), replace=False)]:
        f = item_features(it, None)[None]
        best_t = float("inf")
        for _ in range(3):
            t1 = time.perf_counter()
            s8.run(None, {"features": f})
            best_t = min(best_t, time.perf_counter() - t1)
        word_times.append(best_t)
    gap = res8["unipen-words"]["cer"] - res32["unipen-words"]["cer"]
    passed = gap <= args.max_cer_gap and diff < 1e-3

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(int8, out / "model.int8.onnx")
    shutil.copy(charset.PATH, out / "charset.txt")
    contributors_valid = sorted({it.contributor for it in valid})
    metrics = {
        "name": out.name,
        "passed": passed,
        "features": {"version": FEATURES_VERSION, "names": FEATURE_NAMES, "spec": "handwriting/FEATURES.md"},
        "model": {"config": cfg, "params": num_params(model), "opset": OPSET,
                  "int8_bytes": (out / "model.int8.onnx").stat().st_size,
                  "fp32_bytes": fp32.stat().st_size, "classes": len(charset.CHARS),
                  "onnx_fp32_vs_torch_max_abs": diff},
        "training": {"samples_seen": samples_seen(ck, ckpt_path.parent.parent), "steps": ck["step"], "minutes": round(ck["elapsed"] / 60, 1),
                     "continued_from": continued_from(ck),
                     "best_valid_words_cer_subset": ck["best"], "args": ck["args"],
                     "hardware": args.hardware, "checkpoint": ckpt_path.name,
                     "run": run_folder(ckpt_path)},
        "data": {"unipen_stats": dict(ustats), "valid_contributors": contributors_valid},
        "valid_fp32": res32,
        "valid_int8": res8,
        "int8_minus_fp32_words_cer": round(gap, 4),
        "latency_int8_one_thread_ms": {
            "words_p50": round(1000 * float(np.percentile(word_times, 50)), 2),
            "words_p99": round(1000 * float(np.percentile(word_times, 99)), 2),
            "words_max": round(1000 * float(np.max(word_times)), 2),
            "method": "300 validation words, fastest of 3 runs each, model only",
            "host": args.hardware},
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    card.write_card(metrics, out / "MODEL_CARD.md")
    names = ["model.int8.onnx", "charset.txt", "metrics.json", "MODEL_CARD.md"]
    (out / "SHA256SUMS").write_text("".join(f"{sha256(out / n)}  {n}\n" for n in names))
    print(json.dumps({k: metrics[k] for k in ("passed", "int8_minus_fp32_words_cer", "latency_int8_one_thread_ms")}))
    for k in res32:
        print(f"{k:28s} fp32 CER {res32[k]['cer']:.4f} acc {res32[k]['word_acc']:.3f} | "
              f"int8 CER {res8[k]['cer']:.4f} acc {res8[k]['word_acc']:.3f} (n={res32[k]['n']})")
    if not passed:
        sys.exit("export checks failed (see metrics.json)")


if __name__ == "__main__":
    main()
