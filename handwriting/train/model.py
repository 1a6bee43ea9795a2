"""The stroke model: 1-D convolutions with 4x temporal downsampling, a
two-layer bidirectional LSTM and a linear CTC output.

Input  features [B, T, 8] (preprocess.features, float32)
Output log-probabilities [B, T', C] over charset.txt (blank = 0), where
       T' = ceil(ceil(T / 2) / 2) (two stride-2 convolutions, padding 2).

A fixed per-feature scale (a buffer, part of the exported graph) brings the
features to unit order, so the engine feeds preprocess.features as is.
"""

from __future__ import annotations

import torch
from torch import nn

from .preprocess import NUM_FEATURES, STEP

# dx, dy are ~STEP within a stroke; y is ~[-1, 1]; the rest are unit sized.
FEATURE_SCALE = [1.0 / STEP, 1.0 / STEP, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0]


def out_length(t):
    """Output frames for t input points (works on ints and tensors)."""
    for _ in range(2):
        t = (t - 1) // 2 + 1
    return t


class StrokeModel(nn.Module):
    def __init__(self, num_classes: int, conv: int = 128, hidden: int = 160, layers: int = 2,
                 dropout: float = 0.15):
        super().__init__()
        self.config = dict(num_classes=num_classes, conv=conv, hidden=hidden, layers=layers,
                           dropout=dropout)
        self.register_buffer("scale", torch.tensor(FEATURE_SCALE).view(1, 1, NUM_FEATURES))
        self.conv = nn.Sequential(
            nn.Conv1d(NUM_FEATURES, conv // 2, 5, padding=2), nn.GELU(),
            nn.Conv1d(conv // 2, conv, 5, stride=2, padding=2), nn.GELU(),
            nn.Conv1d(conv, conv, 5, stride=2, padding=2), nn.GELU(),
        )
        self.norm = nn.LayerNorm(conv)
        self.rnn = nn.LSTM(conv, hidden, num_layers=layers, bidirectional=True, batch_first=True,
                           dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.clamp(x * self.scale, -20.0, 20.0)
        h = self.conv(x.transpose(1, 2)).transpose(1, 2)
        h, _ = self.rnn(self.norm(h))
        return torch.log_softmax(self.out(self.drop(h)), dim=-1)


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def greedy_decode(logp: torch.Tensor, length: int) -> list[int]:
    """Best path: argmax per frame, repeats merged, blanks dropped."""
    best = logp[:length].argmax(-1).tolist()
    out, prev = [], 0
    for k in best:
        if k != prev and k != 0:
            out.append(k)
        prev = k
    return out
