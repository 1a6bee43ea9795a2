#!/usr/bin/env python3
"""Stage `train`: train the LM on the token streams written by encode.py.

    python3 languages/lm/train.py [--max-minutes 7] [--device auto|cpu|cuda]
    torchrun --nproc_per_node=K languages/lm/train.py ...      (same options)

Batches: random 65-token windows (64 inputs + the shifted targets) of the
<s>-separated training stream. A language is drawn with probability
proportional to (its token count)^`--lang-alpha` (0.7 upsamples the smaller
languages a little); `--aligned` of the windows start at a sentence start
(<s>), the rest anywhere, so the model also sees contexts cut mid-sentence.
The windows of step s come from an RNG seeded with (seed, s): every rank
draws the same global batch and takes its own slice [rank::world], the
DistributedSampler equivalent, and a resumed run sees exactly the batches
that it would have seen.

Optimiser: AdamW (no weight decay on LayerNorms), linear warmup then cosine
decay to `--min-lr-ratio` x lr. bf16 autocast on CUDA, fp32 on CPU.
`--max-minutes` is a wall-clock budget for the whole training, summed over
resumed runs: the cosine schedule is stretched to end when it is spent (the
total number of steps is re-estimated from the measured step rate, on rank 0,
and broadcast), then the run evaluates, saves and stops cleanly.

Checkpoints (rank 0 only, atomic): <ckpt-dir>/last.pt every `--ckpt-every`
steps and at the end (model, optimiser, step, elapsed time: `--resume`, the
default, continues from it), best.pt (lowest mean validation loss) and
summary.json; train_log.jsonl holds the logged lines.

Validation: per language, the first `--eval-sentences` validation sentences,
each scored on its own from <s> (the protocol of common.eval_batches), every
`--eval-every` steps and at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BOS_ID, CACHE, eval_batches_from_ids, log, write_json  # noqa: E402
from encode import load_split, sentences_of  # noqa: E402
from model import LMConfig, TinyLM  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=str(CACHE / "data"))
    ap.add_argument("--ckpt-dir", default=str(CACHE / "ckpt"))
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=1024)
    ap.add_argument("--context", type=int, default=64)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=256, help="global sequences per step (all ranks)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--max-steps", type=int, default=200_000)
    ap.add_argument("--max-minutes", type=float, default=None, help="total wall-clock budget (all resumed runs)")
    ap.add_argument("--lang-alpha", type=float, default=0.7)
    ap.add_argument("--aligned", type=float, default=0.9, help="share of windows starting at <s>")
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--eval-sentences", type=int, default=1000, help="per language")
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--ckpt-every", type=int, default=2000)
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: 2)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA)")
    ap.add_argument("--no-resume", dest="resume", action="store_false")
    return ap.parse_args(argv)


# --- distributed helpers --------------------------------------------------------


class Dist:
    def __init__(self, device_arg: str):
        self.enabled = "WORLD_SIZE" in os.environ
        self.rank = int(os.environ.get("RANK", 0))
        self.world = int(os.environ.get("WORLD_SIZE", 1))
        self.local_rank = int(os.environ.get("LOCAL_RANK", 0))
        use_cuda = device_arg == "cuda" or (device_arg == "auto" and torch.cuda.is_available())
        if device_arg == "cuda" and not torch.cuda.is_available():
            sys.exit("--device cuda: no CUDA device")
        self.device = torch.device(f"cuda:{self.local_rank}" if use_cuda else "cpu")
        if use_cuda:
            torch.cuda.set_device(self.device)
        if self.enabled:
            import torch.distributed as dist

            dist.init_process_group(backend="nccl" if use_cuda else "gloo")
            self.rank, self.world = dist.get_rank(), dist.get_world_size()

    @property
    def main(self) -> bool:
        return self.rank == 0

    def broadcast_int(self, value: int) -> int:
        if not self.enabled:
            return value
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.int64, device=self.device)
        dist.broadcast(t, src=0)
        return int(t.item())

    def mean_(self, tensor: torch.Tensor) -> None:
        if self.enabled:
            import torch.distributed as dist

            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
            tensor /= self.world

    def barrier(self):
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()

    def close(self):
        if self.enabled:
            import torch.distributed as dist

            dist.destroy_process_group()


# --- data -------------------------------------------------------------------------


class Windows:
    """Random windows of the training stream, the same global batch on all ranks."""

    def __init__(self, data_dir, window, alpha, aligned, device):
        stream, meta = load_split(data_dir, "train")
        self.meta = meta
        self.window, self.aligned = window, aligned
        self.langs = [l for l, (_, n, _) in meta["splits"]["train"]["languages"].items() if n > window]
        arr = np.asarray(stream)
        self.data = torch.from_numpy(arr.astype(np.int32)).to(device)
        self.offsets, self.lengths, starts, self.start_off, self.n_starts = [], [], [], [], []
        for lang in self.langs:
            off, n, _ = meta["splits"]["train"]["languages"][lang]
            s = np.flatnonzero(arr[off : off + n - window] == BOS_ID) + off
            self.offsets.append(off)
            self.lengths.append(n)
            self.start_off.append(sum(len(x) for x in starts))
            self.n_starts.append(len(s))
            starts.append(s)
        self.starts = np.concatenate(starts)
        sizes = np.array(self.lengths, dtype=np.float64) ** alpha
        self.probs = sizes / sizes.sum()
        self.cum = np.cumsum(self.probs)
        self.cum[-1] = 1.0
        self.arange = torch.arange(window, device=device)
        self.device = device

    def batch(self, seed: int, step: int, global_batch: int, rank: int, world: int):
        rng = np.random.default_rng([seed, step])
        lang = np.searchsorted(self.cum, rng.random(global_batch), side="right")
        u = rng.random(global_batch)
        aligned = rng.random(global_batch) < self.aligned
        offsets = np.array(self.offsets)[lang]
        spans = np.array(self.lengths)[lang] - self.window
        anywhere = offsets + (u * spans).astype(np.int64)
        k = (u * np.array(self.n_starts)[lang]).astype(np.int64)
        at_start = self.starts[np.array(self.start_off)[lang] + k]
        pos = np.where(aligned, at_start, anywhere)[rank::world]
        idx = torch.from_numpy(pos).to(self.device)[:, None] + self.arange[None, :]
        w = self.data[idx].long()
        return w[:, :-1], w[:, 1:]


def load_eval(data_dir, context: int, per_lang: int, batch_size: int, device):
    stream, meta = load_split(data_dir, "valid")
    arr = np.asarray(stream)
    out = {}
    for lang, (off, n, _) in meta["splits"]["valid"]["languages"].items():
        sents = sentences_of(arr[off : off + n], per_lang)
        batches = [
            (torch.from_numpy(x).to(device), torch.from_numpy(y).to(device))
            for x, y, _ in eval_batches_from_ids(sents, [0] * len(sents), context, batch_size)
        ]
        out[lang] = batches
    return out


@torch.no_grad()
def evaluate(model, eval_sets, autocast) -> dict:
    was_training = model.training
    model.eval()
    res = {}
    for lang, batches in eval_sets.items():
        nll, count = 0.0, 0
        for x, y in batches:
            with autocast():
                logits, _, _ = model(x, need_cache=False)
            loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100, reduction="sum")
            nll += float(loss)
            count += int((y != -100).sum())
        res[lang] = nll / max(1, count)
    model.train(was_training)
    return res


# --- schedule, checkpoints ------------------------------------------------------------


def lr_at(step: int, total: int, args) -> float:
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = min(1.0, (step - args.warmup) / max(1, total - args.warmup))
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def save_atomic(obj, path: Path):
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def hardware(dist: Dist) -> str:
    if dist.device.type == "cuda":
        return f"{dist.world} x {torch.cuda.get_device_name(dist.device)}"
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads) x {dist.world}"


def main(argv=None):
    args = parse_args(argv)
    dist = Dist(args.device)
    device = dist.device
    if device.type == "cpu":
        torch.set_num_threads(args.threads or 2)
    else:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if args.batch_size % dist.world:
        sys.exit(f"--batch-size {args.batch_size} is not divisible by the world size {dist.world}")
    ckpt_dir = Path(args.ckpt_dir)
    if dist.main:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
    dist.barrier()

    windows = Windows(args.data_dir, args.context + 1, args.lang_alpha, args.aligned, device)
    meta = windows.meta
    cfg = LMConfig(
        vocab_size=meta["vocab_size"], d_model=args.d_model, n_layers=args.layers, n_heads=args.heads,
        d_ff=args.d_ff, context=args.context, dropout=args.dropout,
    )
    data_key = meta["key"]["tokenizer_sha256"]

    torch.manual_seed(args.seed)
    model = TinyLM(cfg).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.98), eps=1e-8, **({"fused": True} if device.type == "cuda" else {}),
    )

    step, elapsed_before, best = 0, 0.0, float("inf")
    total = args.max_steps
    last = ckpt_dir / "last.pt"
    if args.resume and last.exists():
        ck = torch.load(last, map_location=device, weights_only=False)
        if ck["config"] != cfg.to_dict() or ck.get("tokenizer_sha256") != data_key:
            sys.exit(f"{last} was trained with another model config or tokenizer: use --no-resume or another --ckpt-dir")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, elapsed_before, best = ck["step"], ck["elapsed"], ck.get("best_val", float("inf"))
        same_plan = all(ck["args"].get(k) == getattr(args, k) for k in ("max_steps", "max_minutes", "batch_size"))
        total = ck.get("total_steps", total) if same_plan else args.max_steps
        if dist.main:
            log(f"resumed from {last} at step {step} ({elapsed_before / 60:.1f} min trained)")

    raw = model
    if args.compile:
        model = torch.compile(model)
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)

    def autocast():
        if device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", enabled=False)

    eval_sets = load_eval(args.data_dir, args.context, args.eval_sentences, 256, device) if dist.main else None
    log_path = ckpt_dir / "train_log.jsonl"

    def record(entry: dict):
        if dist.main:
            print(json.dumps(entry), flush=True)
            with open(log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def checkpoint(val=None):
        nonlocal best
        if not dist.main:
            return
        state = {
            "model": raw.state_dict(), "optimizer": opt.state_dict(), "config": cfg.to_dict(), "step": step,
            "total_steps": total, "elapsed": elapsed_before + (time.time() - t_start), "best_val": best,
            "tokenizer_sha256": data_key, "args": vars(args),
        }
        if val is not None and val < best:
            best = val
            state["best_val"] = best
            save_atomic({"model": raw.state_dict(), "config": cfg.to_dict(), "step": step, "val": val,
                         "tokenizer_sha256": data_key}, ckpt_dir / "best.pt")
        save_atomic(state, last)

    params = raw.num_params()
    if dist.main:
        log(f"model {cfg.to_dict()} params {params:,}; device {hardware(dist)}; "
            f"global batch {args.batch_size} x {args.context} tokens; languages {dict(zip(windows.langs, [round(float(p), 3) for p in windows.probs]))}")
    budget = args.max_minutes * 60 if args.max_minutes else None
    t_start = time.time()
    rate_t0, rate_step0 = None, None
    loss_sum = torch.zeros((), device=device)
    loss_n = 0
    sync_every = max(1, min(args.log_every, 50))
    model.train()
    last_val = None
    while True:
        if step % sync_every == 0 or step >= total:
            # Rank 0 decides the step count from the wall-clock budget; all ranks follow.
            if dist.main and budget is not None:
                now = time.time()
                spent = elapsed_before + now - t_start
                if rate_t0 is None and step > 0:
                    rate_t0, rate_step0 = now, step
                    total = min(total, args.max_steps)
                elif rate_t0 is not None and now > rate_t0 + 1e-3 and step > rate_step0:
                    rate = (step - rate_step0) / (now - rate_t0)
                    reserve = 5.0 + 0.02 * budget
                    total = min(args.max_steps, step + max(0, int((budget - reserve - spent) * rate)))
                if spent >= budget:
                    total = min(total, step)
            total = dist.broadcast_int(total)
        if step >= total:
            break
        lr = lr_at(step, total, args)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = windows.batch(args.seed, step, args.batch_size, dist.rank, dist.world)
        with autocast():
            logits, _, _ = model(x, need_cache=False)
        loss = F.cross_entropy(logits.float().view(-1, cfg.vocab_size), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        step += 1
        loss_sum += loss.detach()
        loss_n += 1
        if step % args.log_every == 0:
            dist.mean_(loss_sum)  # the loss of the whole global batch
            spent = elapsed_before + time.time() - t_start
            record({"step": step, "total_steps": total, "lr": round(lr, 6), "train_loss": round(float(loss_sum) / loss_n, 4),
                    "minutes": round(spent / 60, 2), "tokens": step * args.batch_size * args.context})
            loss_sum.zero_()
            loss_n = 0
        if step % args.eval_every == 0 and step < total and dist.main:
            val = evaluate(raw, eval_sets, autocast)
            last_val = sum(val.values()) / len(val)
            record({"step": step, "val_loss": {k: round(v, 4) for k, v in val.items()}, "val_mean": round(last_val, 4),
                    "val_ppl": {k: round(math.exp(v), 2) for k, v in val.items()}})
            if last_val < best:
                checkpoint(last_val)
        if step % args.ckpt_every == 0 and step < total:
            checkpoint()

    train_seconds = elapsed_before + time.time() - t_start
    if dist.main:
        val = evaluate(raw, eval_sets, autocast)
        mean = sum(val.values()) / len(val)
        record({"step": step, "final": True, "val_loss": {k: round(v, 4) for k, v in val.items()}, "val_mean": round(mean, 4),
                "val_ppl": {k: round(math.exp(v), 2) for k, v in val.items()}})
        checkpoint(mean)
        write_json(ckpt_dir / "summary.json", {
            "steps": step, "tokens_seen": step * args.batch_size * args.context,
            "train_seconds": round(train_seconds, 1), "hardware": hardware(dist), "world_size": dist.world,
            "params": params, "config": cfg.to_dict(), "best_val_mean_loss": round(best, 4),
            "final_val_loss": {k: round(v, 4) for k, v in val.items()},
            "args": {k: v for k, v in vars(args).items()}, "torch": torch.__version__,
        })
        log(f"training done: {step} steps, {train_seconds / 60:.1f} min, best mean val loss {best:.4f}")
    dist.barrier()
    dist.close()


if __name__ == "__main__":
    main()
