"""The pieces of a training step, shared by the trainer (train/loop.py) and bench/train_gpu.py.

- Runtime: the device, the precision and, under torchrun, the rank and world (DDP or FSDP);
- prepare_model: load weights, shard (FSDP2) or replicate (DDP), torch.compile;
- make_optimizer: AdamW, fused on GPU, weight decay on matrices only;
- lr_at: linear warm-up then cosine decay;
- train_step: gradient accumulation, gradient sync on the last micro-step only, clipping; returns the
  mean loss and gradient norm as device tensors (the caller syncs once per step to check them).
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from typing import Optional

import torch
import torch.distributed as dist

from webtext.errors import WebtextError

# bf16 dense peak per device (TFLOP/s, vendor figures), for MFU when train.peak_tflops is not set.
PEAK_TFLOPS = {"H100 PCIe": 756.0, "H200": 989.0, "H100": 989.0, "A100": 312.0}  # first match wins


@dataclass
class Runtime:
    device: torch.device
    amp_dtype: Optional[torch.dtype]  # autocast dtype (bf16) or None for fp32
    rank: int = 0
    local_rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


def setup_runtime(device: str = "auto", precision: str = "auto", cpu_threads: int = 0) -> Runtime:
    """Pick the device and precision; join the process group when started by torchrun (WORLD_SIZE > 1)."""
    if device == "cuda" and not torch.cuda.is_available():
        raise WebtextError("train.device is cuda but no CUDA device is visible to PyTorch")
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
        torch.backends.cuda.matmul.allow_tf32 = True  # fp32 matmuls outside autocast use TF32
        torch.backends.cudnn.allow_tf32 = True
    else:
        dev = torch.device("cpu")
        if cpu_threads:
            torch.set_num_threads(cpu_threads)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", device_id=dev if use_cuda else None)
    if precision == "auto":
        amp = torch.bfloat16 if use_cuda and torch.cuda.is_bf16_supported() else None
    else:
        amp = torch.bfloat16 if precision == "bf16" else None
    return Runtime(device=dev, amp_dtype=amp, rank=rank, local_rank=local_rank, world=world)


def set_attention_kernel(name: str, rt: Runtime) -> None:
    """Restrict scaled_dot_product_attention to one kernel on GPU ("auto" leaves PyTorch's choice)."""
    if name == "auto" or not rt.cuda:
        return
    torch.backends.cuda.enable_flash_sdp(name == "flash")
    torch.backends.cuda.enable_mem_efficient_sdp(name == "efficient")
    torch.backends.cuda.enable_cudnn_sdp(name == "cudnn")
    torch.backends.cuda.enable_math_sdp(name == "math")


# What torch.compile's modes switch on, as Inductor options (torch.compile takes a mode or options, not both).
MODE_OPTIONS = {
    "default": {},
    "reduce-overhead": {"triton.cudagraphs": True},
    "max-autotune-no-cudagraphs": {"max_autotune": True},
    "max-autotune": {"max_autotune": True, "triton.cudagraphs": True},
}


def compile_kwargs(mode: str, options: Optional[dict] = None) -> dict:
    """torch.compile's keyword arguments for a mode plus extra Inductor options."""
    if options:
        return {"options": {**MODE_OPTIONS[mode], **options}}
    return {"mode": None if mode == "default" else mode}


class Prepared:
    """The model as the step calls it (compiled, DDP or FSDP) and as it was built (raw)."""

    def __init__(self, raw: torch.nn.Module, model, ddp=None, fsdp: bool = False):
        self.raw, self.model, self.ddp, self.fsdp = raw, model, ddp, fsdp

    def set_grad_sync(self, enabled: bool) -> None:
        """All-reduce gradients only on the last micro-step of an accumulation."""
        if self.ddp is not None:
            self.ddp.require_backward_grad_sync = enabled
        elif self.fsdp:
            self.raw.set_requires_gradient_sync(enabled)


def prepare_model(raw: torch.nn.Module, rt: Runtime, *, weights: Optional[dict] = None, compile: bool = False,
                  compile_mode: str = "default", compile_options: Optional[dict] = None, parallel: str = "ddp") -> Prepared:
    """Move to the device, load weights, wrap for DDP or FSDP when world > 1, and compile."""
    raw.to(rt.device)
    how = compile_kwargs(compile_mode, compile_options)
    if rt.world > 1 and parallel == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        mp = MixedPrecisionPolicy(param_dtype=rt.amp_dtype, reduce_dtype=torch.float32) if rt.amp_dtype else MixedPrecisionPolicy()
        for block in raw.transformer.h:
            if compile:
                block.compile(**how)  # per block: FSDP gathers each block's weights around its forward
            fully_shard(block, mp_policy=mp)
        fully_shard(raw, mp_policy=mp)
        if weights is not None:
            set_model_state_dict(raw, weights, options=StateDictOptions(full_state_dict=True))
        return Prepared(raw, raw, fsdp=True)
    if weights is not None:
        raw.load_state_dict(weights)
    model, ddp = raw, None
    if rt.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        ddp = model = DistributedDataParallel(raw, device_ids=[rt.local_rank] if rt.cuda else None)
    if compile:
        model = torch.compile(model, **how)
    return Prepared(raw, model, ddp=ddp)


def make_optimizer(raw: torch.nn.Module, *, lr: float, weight_decay: float, betas=(0.9, 0.95), eps: float = 1e-8,
                   device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices (linear weights, embeddings) only; fused kernels on GPU."""
    params = [p for p in raw.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, fused=device.type == "cuda")


def lr_at(step: int, *, lr: float, warmup: int, decay_steps: int, min_ratio: float) -> float:
    """Learning rate for update number `step` (0-based): linear warm-up, cosine to lr * min_ratio, then flat."""
    if step < warmup:
        return lr * (step + 1) / warmup
    if step >= decay_steps:
        return lr * min_ratio
    progress = (step - warmup) / max(1, decay_steps - warmup)
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def train_step(prep: Prepared, next_batch, accum: int, rt: Runtime, grad_clip: float):
    """Forward and backward over `accum` micro-batches, then clip. Returns (mean loss, grad norm) tensors;
    the loss is this rank's. Nothing here waits for the device."""
    loss_sum = torch.zeros((), device=rt.device, dtype=torch.float32)
    for micro in range(accum):
        x, y = next_batch()
        prep.set_grad_sync(micro == accum - 1)
        with rt.autocast():
            loss = prep.model(x, y)
        (loss / accum).backward()
        loss_sum += loss.detach().float()
    norm = torch.nn.utils.clip_grad_norm_(prep.raw.parameters(), grad_clip if grad_clip > 0 else float("inf"))
    if hasattr(norm, "full_tensor"):  # FSDP2: a DTensor
        norm = norm.full_tensor()
    return loss_sum / accum, norm


def peak_flops(rt: Runtime, configured: Optional[float]) -> Optional[float]:
    """FLOP/s of one device for MFU: the configured figure, or a known GPU's bf16 dense peak."""
    if configured:
        return configured * 1e12
    if rt.cuda and rt.amp_dtype == torch.bfloat16:
        name = torch.cuda.get_device_name(rt.device)
        for key, tflops in PEAK_TFLOPS.items():
            if key in name:
                return tflops * 1e12
    return None
