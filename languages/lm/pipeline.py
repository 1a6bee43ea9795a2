#!/usr/bin/env python3
"""The one command of the LM pipeline.

    python3 languages/lm/pipeline.py [STAGE ...] [options]

Stages (in this order; default `all`):
  corpus     corpus.py: unpack ../shared/data/text/text.tar.xz, clean, mix, split
  tokenizer  tokenizer.py: measure 8k/16k/24k vocabularies, train tokenizer.json
  tokenize   encode.py: token streams (uint16) for train and valid
  train      train.py: train (torchrun when --nproc > 1)
  export     export.py: ONNX fp32 + int8, checks, release files
  all        corpus tokenizer tokenize train export
  gpu        tokenize train export, from a prepared folder (--data-from): no tarball needed
  pack       write the prepared folder (--pack-dir): train/valid .txt.xz, tokenizer.json,
             tokenizer_report.json, corpus_stats.json

Folders: everything intermediate lives under --work (default .cache/lm, or
.cache/lm/tiny with --tiny): corpus/, tokenizer/, data/, ckpt/, export/.
The release files go to --release-dir (default languages/lm/release).

--tiny: a smoke run that finishes on a 2-core CPU in minutes: 6000 sentences
per language, a 2000-token vocabulary (no measurement), a 2-layer d=64 model,
300 steps.

Examples
  python3 languages/lm/pipeline.py all                       # everything, here (CPU: slow)
  python3 languages/lm/pipeline.py all --tiny                # smoke run
  python3 languages/lm/pipeline.py corpus tokenizer pack     # prepare the GPU folder
  python3 languages/lm/pipeline.py gpu --data-from .cache/lm/gpu_data \\
      --work /tmp/lm --release-dir "$OUT/release" --max-minutes 6.5 --device cuda   # see README.md
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, DEFAULT_RELEASE, HERE, ROOT, log  # noqa: E402

ORDER = ["corpus", "tokenizer", "tokenize", "train", "export"]
TINY = {
    "max_per_lang": 6000,
    "vocab": 2000,
    "model": ["--d-model", "64", "--layers", "2", "--heads", "2", "--d-ff", "256"],
    "train": ["--max-steps", "300", "--batch-size", "32", "--lr", "3e-3", "--warmup", "30", "--eval-every", "100",
              "--eval-sentences", "200", "--log-every", "50", "--ckpt-every", "100", "--dropout", "0.0"],
    "export_sentences": "200",
}


def run(cmd: list[str], env=None) -> None:
    log("$ " + " ".join(shlex.quote(str(c)) for c in cmd))
    t0 = time.time()
    res = subprocess.run([str(c) for c in cmd], env=env)
    if res.returncode != 0:
        log(f"stage failed with exit status {res.returncode}")
        sys.exit(res.returncode)
    log(f"stage done in {time.time() - t0:.0f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("stages", nargs="*", default=["all"], choices=ORDER + ["all", "gpu", "pack"])
    ap.add_argument("--tiny", action="store_true", help="smoke run: tiny data, vocabulary and model")
    ap.add_argument("--work", default=None, help="intermediate folder (default .cache/lm, .cache/lm/tiny with --tiny)")
    ap.add_argument("--release-dir", default=None,
                    help=f"final artifacts (default {DEFAULT_RELEASE.relative_to(ROOT)}; <work>/release with --tiny)")
    ap.add_argument("--data-from", default=None,
                    help="prepared folder with train/valid.<lang>.txt[.xz] and tokenizer.json (replaces corpus + tokenizer)")
    ap.add_argument("--pack-dir", default=str(CACHE / "gpu_data"))
    ap.add_argument("--tarball", default=None)
    ap.add_argument("--max-per-lang", type=int, default=None, help="corpus: sentence cap per language")
    ap.add_argument("--vocab", type=int, default=None, help="tokenizer: fixed size, no measurement")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for training (on CPU) and export")
    ap.add_argument("--nproc", type=int, default=1, help="train with torchrun --nproc_per_node=K")
    ap.add_argument("--max-minutes", type=float, default=None, help="training wall-clock budget")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--no-resume", action="store_true", help="train from scratch even if a checkpoint exists")
    ap.add_argument("--train-args", default="", help="extra arguments for train.py, one string")
    ap.add_argument("--export-args", default="", help="extra arguments for export.py, one string")
    ap.add_argument("--keep-weights", default=None, help="also save the exported weights as fp16 here (a .pt file)")
    ap.add_argument("--allow-fail", action="store_true", help="export: release files even if a check fails")
    args = ap.parse_args(argv)

    stages = []
    for s in args.stages:
        stages += ORDER if s == "all" else ["tokenize", "train", "export"] if s == "gpu" else [s]
    if "gpu" in args.stages and not args.data_from:
        sys.exit("the gpu stage needs --data-from DIR")
    work = Path(args.work) if args.work else (CACHE / "tiny" if args.tiny else CACHE)
    corpus = Path(args.data_from) if args.data_from else work / "corpus"
    tokenizer = (Path(args.data_from) if args.data_from else work / "tokenizer") / "tokenizer.json"
    data, ckpt, export_dir = work / "data", work / "ckpt", work / "export"
    release = Path(args.release_dir) if args.release_dir else (work / "release" if args.tiny else DEFAULT_RELEASE)
    py = sys.executable
    env = dict(os.environ)
    env.setdefault("RAYON_NUM_THREADS", str(max(1, args.threads)))  # tokenizers' thread pool
    env.setdefault("PYTHONUNBUFFERED", "1")
    model_args = TINY["model"] if args.tiny else []
    t_all = time.time()

    for stage in stages:
        log(f"=== stage {stage}")
        if stage == "corpus":
            if args.data_from:
                sys.exit("corpus: not with --data-from (the prepared folder is the corpus)")
            cmd = [py, HERE / "corpus.py", "--out", corpus]
            if args.tarball:
                cmd += ["--tarball", args.tarball]
            cap = args.max_per_lang or (TINY["max_per_lang"] if args.tiny else None)
            if cap:
                cmd += ["--max-per-lang", cap]
            run(cmd, env)
        elif stage == "tokenizer":
            if args.data_from:
                sys.exit("tokenizer: not with --data-from (the prepared folder holds tokenizer.json)")
            cmd = [py, HERE / "tokenizer.py", "--corpus", corpus, "--out", tokenizer]
            vocab = args.vocab or (TINY["vocab"] if args.tiny else None)
            if vocab:
                cmd += ["--vocab", vocab]
            if args.tiny:
                cmd += ["--final-chars", "400000", "--valid-lines", "500"] + model_args
            run(cmd, env)
        elif stage == "tokenize":
            run([py, HERE / "encode.py", "--corpus", corpus, "--tokenizer", tokenizer, "--out", data], env)
        elif stage == "train":
            train = [HERE / "train.py", "--data-dir", data, "--ckpt-dir", ckpt, "--device", args.device,
                     "--threads", args.threads, "--seed", args.seed] + model_args + (TINY["train"] if args.tiny else [])
            if args.max_minutes:
                train += ["--max-minutes", args.max_minutes]
            if args.max_steps:
                train += ["--max-steps", args.max_steps]
            if args.batch_size:
                train += ["--batch-size", args.batch_size]
            if args.no_resume:
                train += ["--no-resume"]
            train += shlex.split(args.train_args)
            if args.nproc > 1:
                run([py, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.nproc}"] + train, env)
            else:
                run([py] + train, env)
        elif stage == "export":
            repro = "python3 languages/lm/pipeline.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
            if args.data_from:  # how the prepared folder was made
                repro = (f"python3 languages/lm/pipeline.py corpus tokenizer pack --pack-dir {shlex.quote(args.data_from)}"
                         f"   # on the data machine\n{repro}   # on the training machine")
            cmd = [py, HERE / "export.py", "--ckpt-dir", ckpt, "--tokenizer", tokenizer, "--corpus", corpus,
                   "--data-dir", data, "--work-dir", export_dir, "--release-dir", release,
                   "--threads", args.threads, "--reproduce", repro]
            if args.tiny:
                cmd += ["--eval-sentences", TINY["export_sentences"]]
            if args.allow_fail:
                cmd += ["--allow-fail"]
            cmd += shlex.split(args.export_args)
            try:
                run(cmd, env)
            finally:
                if args.keep_weights and (ckpt / "best.pt").exists():
                    import torch

                    ck = torch.load(ckpt / "best.pt", map_location="cpu", weights_only=False)
                    ck["model"] = {k: v.half() for k, v in ck["model"].items()}
                    if (ckpt / "summary.json").exists():
                        import json

                        ck["summary"] = json.loads((ckpt / "summary.json").read_text())
                    Path(args.keep_weights).parent.mkdir(parents=True, exist_ok=True)
                    torch.save(ck, args.keep_weights)
                    log(f"fp16 weights -> {args.keep_weights}")
        elif stage == "pack":
            from corpus import pack

            extra = [tokenizer, tokenizer.with_name("tokenizer_report.json")]
            pack(corpus, Path(args.pack_dir), [p.name.split(".")[1] for p in sorted(corpus.glob("train.*.txt"))],
                 [p for p in extra if p.exists()])
    log(f"pipeline done in {(time.time() - t_all) / 60:.1f} min")


if __name__ == "__main__":
    main()
