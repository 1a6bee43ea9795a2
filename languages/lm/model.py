"""A small decoder-only transformer LM with an explicit key/value cache.

Architecture: token embedding (tied with the output projection), `n_layers`
pre-LayerNorm blocks (multi-head self-attention with rotary position
embeddings, GELU MLP, no biases in the linear layers), a final LayerNorm.

One forward serves training and incremental inference:

    logits, present_k, present_v = model(input_ids, past_k, past_v)

    input_ids  [B, T]            int64
    past_k     [L, B, H, P, Dh]  keys of the P tokens already seen (after RoPE)
    past_v     [L, B, H, P, Dh]
    logits     [B, T, V]
    present_k  [L, B, H, P+T, Dh] = past_k with the T new positions appended
    present_v  [L, B, H, P+T, Dh]

The new tokens get positions P .. P+T-1 and attend causally among
themselves and to all P cached positions. Training calls
`model(input_ids)` (no cache, P = 0, `need_cache=False`) and uses
`scaled_dot_product_attention(is_causal=True)`; the cache path and ONNX
export use an explicit mask that is mathematically the same.
RoPE has no table and no maximum length, so P + T may exceed the 64-token
training context (quality degrades beyond it; the engine keeps at most 64).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class LMConfig:
    vocab_size: int = 16000
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 1024
    context: int = 64
    dropout: float = 0.0
    rope_base: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def to_dict(self) -> dict:
        return asdict(self)

    def param_count(self) -> int:
        """Parameters of the model (tied embedding counted once)."""
        d = self.d_model
        block = 4 * d * d + 2 * d * self.d_ff + 2 * 2 * d  # qkv+out, mlp, 2 LayerNorms
        return self.vocab_size * d + self.n_layers * block + 2 * d


def rope_angles(positions: torch.Tensor, inv_freq: torch.Tensor):
    """cos, sin of shape [T, Dh/2] for integer positions [T]."""
    angles = positions.to(inv_freq.dtype)[:, None] * inv_freq[None, :]
    return torch.cos(angles), torch.sin(angles)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [B, H, T, Dh]; rotate the halves (GPT-NeoX layout)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class Block(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.head_dim = cfg.head_dim
        self.dropout = cfg.dropout
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc1 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.fc2 = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, cos, sin, past_k=None, past_v=None, mask=None):
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q = q.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        k = k.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        v = v.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        if past_k is not None:
            k = torch.cat((past_k.to(k.dtype), k), dim=2)
            v = torch.cat((past_v.to(v.dtype), v), dim=2)
        if mask is None:
            y = F.scaled_dot_product_attention(
                q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
            )
        else:
            # Explicit attention (cache path, ONNX export): mask is True where blocked.
            scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
            scores = scores.masked_fill(mask, torch.finfo(scores.dtype).min)
            probs = torch.softmax(scores, dim=-1)
            y = torch.matmul(self.drop(probs), v)
        y = y.transpose(1, 2).reshape(B, T, D)
        x = x + self.drop(self.proj(y))
        x = x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)))))
        return x, k, v


class TinyLM(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        assert cfg.d_model % cfg.n_heads == 0 and cfg.head_dim % 2 == 0
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        inv_freq = 1.0 / (cfg.rope_base ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.float32) / cfg.head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.apply(self._init)
        for block in self.blocks:  # GPT-2 style scaled init of residual projections
            nn.init.normal_(block.proj.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))
            nn.init.normal_(block.fc2.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, input_ids, past_k=None, past_v=None, need_cache: bool = True):
        B, T = input_ids.shape
        x = self.drop(self.embed(input_ids))
        if past_k is None and not need_cache and not torch.onnx.is_in_onnx_export():
            past_len = 0
            mask = None  # fused causal attention
        else:
            past_len = 0 if past_k is None else past_k.shape[3]
            # query i (absolute position past_len + i) may see keys 0 .. past_len + i
            q_pos = torch.arange(T, device=input_ids.device) + past_len
            k_pos = torch.arange(T + past_len, device=input_ids.device)
            mask = k_pos[None, :] > q_pos[:, None]
        positions = torch.arange(T, device=input_ids.device) + past_len
        cos, sin = rope_angles(positions, self.inv_freq)
        keys, values = [], []
        for i, block in enumerate(self.blocks):
            pk = past_k[i] if past_k is not None else None
            pv = past_v[i] if past_v is not None else None
            x, k, v = block(x, cos, sin, pk, pv, mask)
            if need_cache:
                keys.append(k)
                values.append(v)
        logits = F.linear(self.ln_f(x), self.embed.weight)
        if not need_cache:
            return logits, None, None
        return logits, torch.stack(keys), torch.stack(values)

    def empty_cache(self, batch: int, device=None, dtype=torch.float32):
        c = self.cfg
        shape = (c.n_layers, batch, c.n_heads, 0, c.head_dim)
        return torch.zeros(shape, device=device, dtype=dtype), torch.zeros(shape, device=device, dtype=dtype)


def self_test() -> None:
    """Cache path == full forward, and fused == explicit attention."""
    torch.manual_seed(0)
    cfg = LMConfig(vocab_size=300, d_model=64, n_layers=2, n_heads=4, d_ff=128)
    model = TinyLM(cfg).eval()
    ids = torch.randint(0, cfg.vocab_size, (3, 11))
    with torch.no_grad():
        full, _, _ = model(ids, need_cache=False)
        full2, k, v = model(ids)
        assert torch.allclose(full, full2, atol=1e-5)
        pk, pv = model.empty_cache(3)
        outs = []
        for t in range(ids.shape[1]):
            lo, pk, pv = model(ids[:, t : t + 1], pk, pv)
            outs.append(lo)
        step = torch.cat(outs, dim=1)
        assert torch.allclose(full, step, atol=1e-4), (full - step).abs().max()
        lo1, pk, pv = model(ids[:, :5], *model.empty_cache(3))
        lo2, pk, pv = model(ids[:, 5:], pk, pv)
        assert torch.allclose(full, torch.cat((lo1, lo2), 1), atol=1e-4)
        assert pk.shape == (2, 3, 4, 11, 16) and torch.allclose(pk, k, atol=1e-5)
    print("model self-test ok")


if __name__ == "__main__":
    self_test()
