"""Trains the stroke model with CTC on UNIPEN (training contributors) and
synthetic Hershey ink.

  python -m handwriting.train.train --time-budget-min 90 [--resume]

Writes under --work (default .cache/handwriting/run): ckpt/last.pt (every
--ckpt-min minutes and on exit, also on SIGTERM/SIGINT), ckpt/best.pt (best
validation CER on UNIPEN words), train_log.jsonl and train.log. The learning
rate follows warmup + cosine over the wall-clock budget, so a resumed run
continues the same schedule. Runs on CPU (one thread by default) or CUDA if
available, without code changes.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import charset
from . import data as data_mod
from . import itempack
from .data import Synth, item_features, unipen_items, _feasible
from .model import StrokeModel, greedy_decode, num_params, out_length

REPO = Path(__file__).resolve().parents[2]

# Share of each source in a training batch.
MIX = {"unipen-words": 0.55, "unipen-8": 0.10, "unipen-chars": 0.05, "synth": 0.30}


def edit_distance(a, b) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def collate(feats: list, ids: list, device):
    T = max(len(f) for f in feats)
    x = np.zeros((len(feats), T, feats[0].shape[1]), dtype=np.float32)
    for i, f in enumerate(feats):
        x[i, :len(f)] = f
    lengths = torch.tensor([len(f) for f in feats])
    targets = torch.tensor([k for t in ids for k in t], dtype=torch.long)
    target_lengths = torch.tensor([len(t) for t in ids])
    return torch.from_numpy(x).to(device), lengths, targets, target_lengths


@torch.no_grad()
def evaluate(model, items, device, batch_points=20000):
    """CER (edit distance / reference length) per group and word accuracy, greedy decoding."""
    model.eval()
    errs, chars, words, correct = {}, {}, {}, {}
    order = sorted(range(len(items)), key=lambda i: len(item_features(items[i], None)))
    i = 0
    while i < len(order):
        batch = [order[i]]
        i += 1
        while i < len(order) and (len(batch) + 1) * len(item_features(items[order[i]], None)) <= batch_points:
            batch.append(order[i])
            i += 1
        feats = [item_features(items[k], None) for k in batch]
        x, lengths, _, _ = collate(feats, [items[k].ids for k in batch], device)
        logp = model(x).float().cpu()
        for j, k in enumerate(batch):
            hyp = greedy_decode(logp[j], int(out_length(lengths[j])))
            it = items[k]
            groups = [it.group, "all"] + (["unipen-words"] if it.group in ("unipen-6", "unipen-7") else [])
            for g in groups:
                errs[g] = errs.get(g, 0) + edit_distance(hyp, it.ids)
                chars[g] = chars.get(g, 0) + len(it.ids)
                words[g] = words.get(g, 0) + 1
                correct[g] = correct.get(g, 0) + (hyp == it.ids)
    model.train()
    return {g: {"cer": errs[g] / max(chars[g], 1), "word_acc": correct[g] / words[g], "n": words[g]}
            for g in errs}


def make_batches(draw, rng, batch_points: int, max_batch: int, pool: int = 192):
    """Draws `pool` samples, sorts them by length and cuts them into batches
    of at most batch_points padded points (less padding than random batches)."""
    items = sorted((draw(rng) for _ in range(pool)), key=lambda fi: len(fi[0]))
    batches, cur = [], []
    for f, ids in items:
        if cur and ((len(cur) + 1) * len(f) > batch_points or len(cur) >= max_batch):
            batches.append(([c[0] for c in cur], [c[1] for c in cur]))
            cur = []
        cur.append((f, ids))
    if cur:
        batches.append(([c[0] for c in cur], [c[1] for c in cur]))
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


# What `draw` samples from: set in main() before worker processes fork.
_SOURCES: dict = {}


def draw(rng, seen: dict):
    """One augmented training sample (features, ids) from the mix; counts it in `seen`."""
    names, p = _SOURCES["names"], _SOURCES["p"]
    while True:
        src = names[rng.choice(len(names), p=p)]
        if src == "synth":
            it = _SOURCES["synth"].sample(rng)
            if it is None:
                continue
        else:
            pool = _SOURCES["pools"][src]
            it = pool[rng.integers(len(pool))]
        f = item_features(it, rng)
        if _feasible(len(f), it.ids):
            seen[src] = seen.get(src, 0) + 1
            return f, it.ids


def _worker_batches(task):
    """A worker process's share: one pool of batches from its own seed."""
    seed, batch_points, max_batch, pool = task
    seen: dict = {}
    batches = make_batches(lambda r: draw(r, seen), np.random.default_rng(seed), batch_points, max_batch,
                           pool)
    return batches, seen


class BatchSource:
    """Training batches, made in this process or, with workers, by a pool of
    processes kept at most two tasks per worker ahead (the GPU case: the
    features and the synthetic ink are CPU work)."""

    def __init__(self, workers: int, seed: int, batch_points: int, max_batch: int, pool: int, rng,
                 seen: dict):
        self.workers, self.seed, self.rng, self.seen = workers, seed, rng, seen
        self.batch_points, self.max_batch, self.samples_per_task = batch_points, max_batch, pool
        self.queue: list = []
        self.tasks = 0
        self.pending: collections.deque = collections.deque()
        self.pool = multiprocessing.get_context("fork").Pool(workers) if workers > 0 else None
        if self.pool:
            for _ in range(2 * workers):
                self._submit()

    def _submit(self):
        self.tasks += 1
        task = ((self.seed, self.tasks), self.batch_points, self.max_batch, self.samples_per_task)
        self.pending.append(self.pool.apply_async(_worker_batches, (task,)))

    def next(self):
        if not self.queue:
            if self.pool:
                batches, seen = self.pending.popleft().get()
                self._submit()
                for k, v in seen.items():
                    self.seen[k] = self.seen.get(k, 0) + v
                self.queue = batches
            else:
                self.queue = make_batches(lambda r: draw(r, self.seen), self.rng, self.batch_points,
                                          self.max_batch, self.samples_per_task)
        return self.queue.pop()

    def close(self):
        if self.pool:
            self.pool.terminate()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=str(REPO / ".cache/handwriting/run"))
    ap.add_argument("--unipen", default=str(REPO / ".cache/handwriting/unipen"))
    ap.add_argument("--unipen-cache", default=str(REPO / ".cache/handwriting/unipen_samples.pkl"))
    ap.add_argument("--corpus", default=str(REPO / ".cache/lm/corpus"))
    ap.add_argument("--items", default=None,
                    help="UNIPEN items from an item pack (itempack.py) instead of --unipen")
    ap.add_argument("--workers", type=int, default=0,
                    help="processes making batches (0: in this process; for a GPU, the spare cores)")
    ap.add_argument("--time-budget-min", type=float, default=90.0)
    ap.add_argument("--max-steps", type=int, default=10**9)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup-steps", type=int, default=300)
    ap.add_argument("--batch-points", type=int, default=12000, help="padded points per batch")
    ap.add_argument("--max-batch", type=int, default=64)
    ap.add_argument("--pool", type=int, default=192,
                    help="samples drawn, sorted by length and cut into batches at a time (at least --max-batch)")
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--ckpt-min", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=160)
    ap.add_argument("--conv", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--augment", choices=data_mod.AUGMENTS, default="default",
                    help="training augmentation: default (data.augment) or strong (data.augment_strong: "
                         "more writer variety)")
    ap.add_argument("--init", default=None,
                    help="start from this checkpoint's weights (same config) with a fresh optimizer and schedule")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    data_mod.AUGMENT = args.augment  # set before worker processes fork
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    work = Path(args.work)
    (work / "ckpt").mkdir(parents=True, exist_ok=True)
    logf = (work / "train.log").open("a")
    jlog = (work / "train_log.jsonl").open("a")

    def log(msg):
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    log(f"start: {' '.join(sys.argv)} device={device} threads={args.threads}")
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    if args.items:
        train, valid = itempack.load(Path(args.items), log)
    else:
        train, valid, _ = unipen_items(Path(args.unipen), Path(args.unipen_cache), log)
    synth = Synth(Path(args.corpus), "train", 3_000_000, log)
    synth_valid_src = Synth(Path(args.corpus), "valid", 400_000, log)
    pools = {
        "unipen-words": [it for it in train if it.group in ("unipen-6", "unipen-7")],
        "unipen-8": [it for it in train if it.group == "unipen-8"],
        "unipen-chars": [it for it in train if it.group == "unipen-chars"],
    }
    log("train pools: " + ", ".join(f"{k} {len(v)}" for k, v in pools.items()))
    # Fixed validation subsets: all valid words and lines would take too long
    # on one core every few hundred steps; the export evaluates everything.
    vrng = np.random.default_rng(1234)
    vwords = [it for it in valid if it.group in ("unipen-6", "unipen-7")]
    vlines = [it for it in valid if it.group == "unipen-8"]
    vsub = [vwords[i] for i in vrng.choice(len(vwords), min(600, len(vwords)), replace=False)]
    vsub += [vlines[i] for i in vrng.choice(len(vlines), min(120, len(vlines)), replace=False)]
    vsynth = []
    for lang in ("en", "de", "fr", "es", "it", "pt", "ru"):
        n = 0
        while n < (120 if lang == "ru" else 30):
            it = synth_valid_src.sample(vrng, lang)
            if it is not None and _feasible(len(item_features(it, None)), it.ids):
                vsynth.append(it)
                n += 1
    vsub += vsynth
    log(f"validation subset: {len(vsub)} samples")

    names = list(MIX)
    seen = {k: 0 for k in MIX}  # samples drawn per source (pool draws are counted when batched)
    _SOURCES.update(names=names, p=np.array([MIX[k] for k in names]), synth=synth, pools=pools)
    # Forked before CUDA starts in this process.
    batches = BatchSource(args.workers, args.seed, args.batch_points, args.max_batch,
                          max(args.pool, args.max_batch), rng, seen)

    model = StrokeModel(len(charset.CHARS), conv=args.conv, hidden=args.hidden, layers=args.layers).to(device)
    log(f"model: {num_params(model)} parameters, config {model.config}")
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    step, elapsed, best = 0, 0.0, float("inf")
    init = None  # the run this one continues: its checkpoint, steps, minutes and samples
    if args.init:
        ck = torch.load(args.init, map_location=device, weights_only=False)
        if ck["config"] != model.config or ck["charset"] != charset.CHARS:
            sys.exit(f"{args.init}: another model configuration or charset")
        model.load_state_dict(ck["model"])
        prior = ck.get("init") or {"steps": 0, "elapsed": 0.0, "seen": {}}
        init = {"checkpoint": str(args.init), "steps": prior["steps"] + ck["step"],
                "elapsed": prior["elapsed"] + ck["elapsed"],
                "seen": {k: prior["seen"].get(k, 0) + ck.get("seen", {}).get(k, 0) for k in MIX}}
        log(f"initialised from {args.init}: {init['steps']} steps, {init['elapsed'] / 60:.1f} min before")
    last = work / "ckpt/last.pt"
    if args.resume and last.exists():
        ck = torch.load(last, map_location=device, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed, best = ck["step"], ck["elapsed"], ck["best"]
        seen.update(ck.get("seen", {}))
        init = ck.get("init")
        rng = np.random.default_rng([args.seed, step])
        batches.rng = rng
        log(f"resumed at step {step}, {elapsed / 60:.1f} min, best CER {best:.4f}")

    budget = args.time_budget_min * 60.0

    def save(path):
        tmp = path.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "elapsed": elapsed, "best": best, "config": model.config,
                    "charset": charset.CHARS, "args": vars(args), "seen": seen, "init": init}, tmp)
        os.replace(tmp, path)

    def validate():
        """Scores the validation subset; keeps the weights as best.pt when they beat the best so far."""
        nonlocal best
        res = evaluate(model, vsub, device)
        words_cer = res["unipen-words"]["cer"]
        log(f"eval step {step}: words CER {words_cer:.4f} | " + " | ".join(
            f"{g} CER {r['cer']:.4f} acc {r['word_acc']:.3f} (n={r['n']})" for g, r in sorted(res.items())))
        jlog.write(json.dumps({"step": step, "eval": res, "words_cer": words_cer,
                               "elapsed_s": round(time.time() - t_start, 1)}) + "\n")
        jlog.flush()
        if words_cer < best:
            best = words_cer
            save(work / "ckpt/best.pt")
            log(f"new best {best:.4f} saved")

    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t_start = time.time() - elapsed
    t_ckpt = time.time()
    model.train()
    loss_avg, n_avg, t_rate = 0.0, 0, time.time()
    while not stop["flag"] and step < args.max_steps:
        elapsed = time.time() - t_start
        if elapsed >= budget:
            break
        frac = elapsed / budget
        lr = args.lr * min(1.0, (step + 1) / args.warmup_steps) * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        feats, ids = batches.next()
        max_t = max(len(f) for f in feats)
        x, lengths, targets, target_lengths = collate(feats, ids, device)
        logp = model(x)
        loss = F.ctc_loss(logp.transpose(0, 1).float(), targets, out_length(lengths), target_lengths,
                          blank=0, reduction="mean", zero_infinity=True)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        loss_avg += loss.item()
        n_avg += 1
        if step % 50 == 0:
            rate = 50 / (time.time() - t_rate)
            t_rate = time.time()
            log(f"step {step} loss {loss_avg / n_avg:.4f} lr {lr:.2e} batch {len(feats)}x{max_t} "
                f"{rate:.2f} steps/s elapsed {elapsed / 60:.1f}/{args.time_budget_min:.0f} min")
            jlog.write(json.dumps({"step": step, "loss": loss_avg / n_avg, "lr": lr,
                                   "elapsed_s": round(elapsed, 1)}) + "\n")
            jlog.flush()
            loss_avg, n_avg = 0.0, 0
        if step % args.eval_every == 0:
            validate()
        if time.time() - t_ckpt > args.ckpt_min * 60:
            save(last)
            t_ckpt = time.time()
    elapsed = time.time() - t_start
    batches.close()
    if step % args.eval_every:  # the end of the schedule, usually its best weights
        validate()
    save(last)
    summary = {"seen": seen, "steps": step, "elapsed_min": elapsed / 60, "best_words_cer": best,
               "params": num_params(model), "device": str(device), "threads": args.threads}
    (work / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    log(f"done: {summary}")


if __name__ == "__main__":
    main()
