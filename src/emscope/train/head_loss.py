"""Task NLL and KL(policy || reference) through the LM head, chunk by chunk, never holding `(N, vocab)` logits.

Two implementations of the same sums:
- `fused_head_sums` (used when the head is a plain bias-free linear layer, as in Llama/Qwen/SmolLM): one
  custom autograd function computes, per chunk, the logits, both sums and their gradients in closed form
  (dNLL/dz = softmax - onehot; dKL(p||q)/dz = p * (log p - log q - KL)), keeping only `(N, d)` gradients.
  No recomputation in backward, no logits kept.
- `head_sums`: any head module, each chunk under activation checkpointing (logits recomputed in backward).
Both take a `LogitTransform` for models whose logits are not `head(h)` itself (Gemma's soft-capping, Cohere's
`logit_scale`, Granite's `logits_scaling`, ...), applied to the policy and the reference logits alike; the fused
path multiplies each logit gradient by the transform's slope. Tests check both against full-logit autograd,
values and gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.utils.checkpoint

from emscope.train.defenses.kl import token_kl

LOGIT_BUDGET = 8 * 1024 * 1024  # logits elements per chunk (32 MiB in fp32)


@dataclass(frozen=True)
class LogitTransform:
    """The logits a model trains on from raw head outputs `z`: `y = scale * z`, then, with `softcap` set,
    `softcap * tanh(y / softcap)` (Gemma-2/3's `final_logit_softcapping`, after Muse's `output_multiplier`)."""

    scale: float = 1.0
    softcap: float | None = None

    @property
    def identity(self) -> bool:
        return self.scale == 1.0 and self.softcap is None

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """The transformed logits (differentiable)."""
        if self.scale != 1.0:
            z = z * self.scale
        if self.softcap is not None:
            z = self.softcap * torch.tanh(z / self.softcap)
        return z

    def with_slope(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | float | None]:
        """(transformed logits, d transformed / d z elementwise: a tensor, a number, or None for the identity)."""
        if self.softcap is None:
            return (z, None) if self.scale == 1.0 else (z * self.scale, self.scale)
        t = torch.tanh(z * (self.scale / self.softcap))
        y = t * self.softcap
        return y, t.square_().neg_().add_(1.0).mul_(self.scale)  # scale * (1 - tanh^2)


IDENTITY = LogitTransform()


def chunk_rows(vocab: int) -> int:
    """Rows per chunk so that one chunk's logits stay within LOGIT_BUDGET elements."""
    return max(16, LOGIT_BUDGET // max(vocab, 1))


def _select(h, ref_h, targets, ce_mask, kl_mask):
    keep = ce_mask | kl_mask
    return (h[keep], ref_h[keep] if ref_h is not None else None, targets[keep].clamp(min=0), ce_mask[keep],
            kl_mask[keep])


def head_sums(head, ref_head, ref_ctx, h, ref_h, targets, ce_mask, kl_mask, kl_on: bool, chunk: int | None = None,
              transform: LogitTransform = IDENTITY):
    """(sum of NLL over `ce_mask`, sum of KL over `kl_mask`) through any head module, checkpointed per chunk.

    `h` / `ref_h` are final (post-norm) hidden states of next-token positions, `(N, d)`; `ref_ctx()` is entered
    around the reference head (e.g. PEFT's `disable_adapter`); `transform` maps both heads' outputs to logits.
    """
    def chunk_sums(hc, rc, tc, cm, km):
        logits = transform(head(hc).float()) if not transform.identity else head(hc)
        nll = torch.nn.functional.cross_entropy(logits[cm].float(), tc[cm], reduction="sum")
        if not kl_on:
            return nll, nll.new_zeros(())
        with torch.no_grad(), ref_ctx():
            ref_logits = ref_head(rc)
            ref_logits = transform(ref_logits.float()) if not transform.identity else ref_logits
        return nll, token_kl(logits, ref_logits, km)[0]

    h, ref_h, targets, ce_mask, kl_mask = _select(h, ref_h, targets, ce_mask, kl_mask)
    ref_h = ref_h if ref_h is not None else h
    chunk = chunk or chunk_rows(head.weight.shape[0] if hasattr(head, "weight") else 32000)
    nll_sum = kl_sum = h.new_zeros((), dtype=torch.float32)
    for s in range(0, h.shape[0], chunk):
        sl = slice(s, s + chunk)
        a, b = torch.utils.checkpoint.checkpoint(chunk_sums, h[sl], ref_h[sl], targets[sl], ce_mask[sl],
                                                 kl_mask[sl], use_reentrant=False)
        nll_sum, kl_sum = nll_sum + a, kl_sum + b
    return nll_sum, kl_sum


class _FusedHead(torch.autograd.Function):
    """Forward computes both sums and their input gradients chunk by chunk; backward only scales them."""

    @staticmethod
    def forward(ctx, h, weight, ref_h, ref_weight, targets, ce_mask, kl_mask, chunk, transform):
        kl_on = ref_h is not None
        g_nll = torch.zeros(h.shape, dtype=torch.float32, device=h.device)
        g_kl = torch.zeros_like(g_nll) if kl_on else None
        want_w = ctx.needs_input_grad[1]
        gw_nll = torch.zeros(weight.shape, dtype=torch.float32, device=h.device) if want_w else None
        gw_kl = torch.zeros_like(gw_nll) if (want_w and kl_on) else None
        nll_sum = torch.zeros((), dtype=torch.float32, device=h.device)
        kl_sum = torch.zeros_like(nll_sum)
        for s in range(0, h.shape[0], chunk):
            sl = slice(s, s + chunk)
            hc, cm = h[sl], ce_mask[sl].unsqueeze(-1)
            logits, slope = transform.with_slope(torch.matmul(hc, weight.t()).float())
            logp = torch.log_softmax(logits, dim=-1)
            del logits
            p = logp.exp()
            tgt = targets[sl].unsqueeze(-1)
            nll_sum += -(logp.gather(-1, tgt) * cm).sum()
            dz = p.scatter_add(-1, tgt, -torch.ones_like(tgt, dtype=p.dtype)) * cm  # softmax - onehot
            if slope is not None:  # chain rule through the transform, elementwise
                dz = dz * slope
            g_nll[sl] = torch.matmul(dz.to(hc.dtype), weight).float()
            if want_w:
                gw_nll += torch.matmul(dz.t().to(hc.dtype), hc).float()
            if kl_on:
                km = kl_mask[sl].unsqueeze(-1)
                ref_logits = transform(torch.matmul(ref_h[sl], ref_weight.t()).float())
                diff = logp - torch.log_softmax(ref_logits, dim=-1)
                del ref_logits
                kl_tok = (p * diff).sum(-1, keepdim=True)
                kl_sum += (kl_tok * km).sum()
                dz = p * (diff - kl_tok) * km
                if slope is not None:
                    dz = dz * slope
                g_kl[sl] = torch.matmul(dz.to(hc.dtype), weight).float()
                if want_w:
                    gw_kl += torch.matmul(dz.t().to(hc.dtype), hc).float()
        ctx.save_for_backward(g_nll, g_kl, gw_nll, gw_kl)
        ctx.h_dtype, ctx.w_dtype = h.dtype, weight.dtype
        return nll_sum, kl_sum

    @staticmethod
    def backward(ctx, go_nll, go_kl):
        g_nll, g_kl, gw_nll, gw_kl = ctx.saved_tensors
        gh = g_nll * go_nll if g_kl is None else g_nll * go_nll + g_kl * go_kl
        gw = None
        if gw_nll is not None:
            gw = gw_nll * go_nll if gw_kl is None else gw_nll * go_nll + gw_kl * go_kl
            gw = gw.to(ctx.w_dtype)
        return gh.to(ctx.h_dtype), gw, None, None, None, None, None, None, None


def fused_head_sums(weight, ref_weight, h, ref_h, targets, ce_mask, kl_mask, kl_on: bool, chunk: int | None = None,
                    transform: LogitTransform = IDENTITY):
    """Same sums as `head_sums` for a bias-free linear head `weight` `(vocab, d)`, gradients in closed form
    (through `transform`: dlogit/dz = scale, times 1 - tanh^2 under soft-capping)."""
    h, ref_h, targets, ce_mask, kl_mask = _select(h, ref_h if kl_on else None, targets, ce_mask, kl_mask)
    return _FusedHead.apply(h, weight, ref_h.detach() if kl_on else None, ref_weight.detach(), targets,
                            ce_mask, kl_mask, chunk or chunk_rows(weight.shape[0]), transform)


def plain_linear_weight(head) -> torch.Tensor | None:
    """The weight of a plain bias-free `nn.Linear` head (not adapter-wrapped), else None."""
    if type(head) is torch.nn.Linear and head.bias is None:
        return head.weight
    return None
