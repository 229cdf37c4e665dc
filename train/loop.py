"""The training run: shards in, checkpoints + log.jsonl + hf/ out, resumable from the last checkpoint.

    run(cfg, shard_dir=..., out_dir=..., seed=...) -> summary dict

One call trains from the latest checkpoint in out_dir/checkpoints (or from scratch, or from
cfg.init_from) up to cfg.max_steps. Under torchrun every rank calls it with the same arguments; rank 0
writes the files. Per step: accumulate gradients over the micro-batches (engine.train_step), one sync to
read the loss and gradient norm, stop or skip on a non-finite value, set the learning rate, update.
Around the steps: validation loss and a sample every eval_every steps, a checkpoint every
checkpoint_every, and one on SIGTERM/SIGINT before leaving (so a preempted job resumes where it was).
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import time
from typing import Callable, Optional

import torch
import torch.distributed as dist

from shard.reader import ShardError
from train import checkpoint as ckpt
from train.data import BatchLoader, Layout, ShardSet, TokenWindows, read_shard_folder, val_windows
from train.engine import (Runtime, lr_at, make_optimizer, peak_flops, prepare_model, set_attention_kernel,
                          setup_runtime, train_step)
from train.logs import TrainLog
from train.model import GPT, GPTConfig, flops_per_token
from webtext.errors import WebtextError

Note = Callable[[str], None]


class NonFiniteLoss(WebtextError):
    """The loss or gradient norm became NaN or infinite; the message names the step."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM/SIGINT: a checkpoint was written; rerunning resumes from it."""


def initial_weights(cfg, shards: ShardSet) -> tuple[GPTConfig, Optional[dict], str]:
    """The model's shape and starting weights: cfg.init_from (HF folder or checkpoint) or a fresh preset."""
    vocab = cfg.vocab_size or shards.vocab_size
    if cfg.init_from and not os.path.exists(cfg.init_from):
        raise WebtextError(f"train.init_from: {cfg.init_from} not found")
    if cfg.init_from:
        if os.path.isdir(cfg.init_from) and os.path.isfile(os.path.join(cfg.init_from, "config.json")):
            from train.hf import load_pretrained

            mcfg, weights = load_pretrained(cfg.init_from, pad_to_multiple=cfg.pad_vocab_multiple, dropout=cfg.dropout)
            return mcfg, weights, f"Hugging Face model {cfg.init_from}"
        state = ckpt.load(ckpt.resolve(cfg.init_from))
        mcfg = GPTConfig.from_dict(state["model_config"])
        mcfg.dropout = cfg.dropout
        return mcfg, state["model"], f"checkpoint {cfg.init_from}"
    if vocab is None:
        raise WebtextError(f"{shards.folder}: no tokenizer.json or manifest vocab_size; set train.vocab_size")
    mcfg = GPTConfig.preset(cfg.model, vocab_size=vocab, pad_to_multiple=cfg.pad_vocab_multiple,
                            n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd,
                            block_size=cfg.context, dropout=cfg.dropout)
    return mcfg, None, f"{cfg.model} from scratch"


def resolve_parallel(cfg, mcfg: GPTConfig) -> str:
    if cfg.parallel != "auto":
        return cfg.parallel
    return "fsdp" if mcfg.n_embd >= 1280 else "ddp"  # gpt2-large and gpt2-xl


def use_compile(cfg, rt: Runtime) -> bool:
    return rt.cuda if cfg.compile == "auto" else bool(cfg.compile)


def gather_state(prep, optimizer, rt: Runtime) -> tuple[dict, dict]:
    """Full (unsharded) model and optimiser state dicts on CPU, keyed by parameter name; complete on rank 0."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict, get_optimizer_state_dict

    opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_model_state_dict(prep.raw, options=opts), get_optimizer_state_dict(prep.raw, optimizer, options=opts)


def rng_states() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(states: list, rt: Runtime) -> None:
    if not states or len(states) != rt.world:
        return  # another world size: the generators start from the seed instead
    mine = states[rt.rank]
    torch.set_rng_state(mine["torch"])
    if "cuda" in mine and torch.cuda.is_available() and len(mine["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(mine["cuda"])


def all_gather_objects(obj, rt: Runtime) -> list:
    if rt.world == 1:
        return [obj]
    out = [None] * rt.world
    dist.all_gather_object(out, obj)
    return out


@torch.no_grad()
def validation_loss(prep, windows: Optional[TokenWindows], total: int, micro_batch: int, rt: Runtime) -> Optional[float]:
    """Mean loss over the first `total` validation windows, shared out across ranks."""
    if windows is None or len(windows) == 0:
        return None
    mine = val_windows(windows, total, rt.world, rt.rank)
    raw = prep.raw
    was_training = raw.training
    raw.eval()
    acc = torch.zeros(2, dtype=torch.float64, device=rt.device)
    for i in range(0, len(mine), micro_batch):
        rows = mine[i:i + micro_batch]
        block = torch.from_numpy(windows.gather_rows(rows)).to(rt.device)
        with rt.autocast():
            loss = raw(block[:, :-1], block[:, 1:])
        acc += torch.stack([loss.double() * len(rows), torch.tensor(float(len(rows)), device=rt.device, dtype=torch.float64)])
    raw.train(was_training)
    if rt.world > 1:
        dist.all_reduce(acc)
    total_rows = acc[1].item()
    return acc[0].item() / total_rows if total_rows else None


class Sampler:
    """Text samples at each evaluation: seeded per step, decoded with the shards' tokenizer when it loads."""

    def __init__(self, tokenizer_path: Optional[str], eot_id: Optional[int], prompt: str, tokens: int, seed: int, note: Note):
        self.tokens, self.seed = tokens, seed
        self.tok = None
        if tokens and tokenizer_path:
            try:
                from tokenizers import Tokenizer

                self.tok = Tokenizer.from_file(tokenizer_path)
            except Exception as e:  # tokenizers missing or a file it cannot read: samples are optional
                note(f"no text samples: cannot load {tokenizer_path} ({type(e).__name__}: {e})")
        start = [eot_id] if eot_id is not None else [0]
        self.prompt = (self.tok.encode(prompt, add_special_tokens=False).ids if self.tok and prompt else []) or start

    def __call__(self, prep, step: int, rt: Runtime) -> Optional[str]:
        if not self.tok:
            return None
        raw = prep.raw
        was_training = raw.training
        raw.eval()
        gen = torch.Generator().manual_seed(self.seed * 1000003 + step)
        idx = torch.tensor([self.prompt], device=rt.device)
        with rt.autocast():
            out = raw.generate(idx, self.tokens, generator=gen)
        raw.train(was_training)
        return self.tok.decode(out[0].tolist(), skip_special_tokens=False)


class StopFlag:
    """Turns SIGTERM/SIGINT into a flag checked between steps (main thread only; else a no-op)."""

    def __init__(self):
        self.raised = False
        self._old = {}

    def __enter__(self):
        try:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._old[sig] = signal.signal(sig, self._handle)
        except ValueError:  # not the main thread
            self._old = {}
        return self

    def _handle(self, signum, frame):
        if self.raised:  # a second signal: leave now
            raise KeyboardInterrupt
        self.raised = True

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False


def run(cfg, *, shard_dir: str, out_dir: str, seed: int, note: Optional[Note] = None,
        stop_after_steps: Optional[int] = None) -> dict:
    """Train per cfg (the train block). Returns the summary the stage reports (rank 0's is complete).
    stop_after_steps: leave after that many steps of this call with a checkpoint, as a preemption would."""
    rt = setup_runtime(cfg.device, cfg.precision, cfg.cpu_threads)
    rt.barrier()  # under torchrun, rank 0's stage runner has now prepared out_dir
    say: Note = (note or print) if rt.is_main else (lambda _m: None)
    set_attention_kernel(cfg.attention, rt)

    shards = read_shard_folder(shard_dir)
    train_windows = TokenWindows(shards.train, cfg.context, seed=seed, shuffle=True)
    val = TokenWindows(shards.val, cfg.context, shuffle=False) if shards.val else None
    if len(train_windows) == 0:
        raise ShardError(f"{shard_dir}: the train shards hold {train_windows.token_count} tokens, fewer than one "
                         f"window of context {cfg.context} + 1; lower train.context")

    ckpt_dir = os.path.join(out_dir, "checkpoints")
    resume_path = ckpt.latest(ckpt_dir)
    state = ckpt.load(resume_path) if resume_path else None
    if state:
        mcfg = GPTConfig.from_dict(state["model_config"])
        weights, origin = state["model"], f"checkpoint {resume_path} (step {state['step']})"
    else:
        mcfg, weights, origin = initial_weights(cfg, shards)
    if cfg.context > mcfg.block_size:
        raise WebtextError(f"train.context {cfg.context} is longer than the model's {mcfg.block_size} positions")
    if shards.vocab_size and shards.vocab_size > mcfg.vocab_size:
        raise WebtextError(f"the shards' tokenizer has {shards.vocab_size} tokens, the model only {mcfg.vocab_size}")

    if cfg.batch_tokens % (cfg.micro_batch * cfg.context * rt.world):
        raise WebtextError(f"train.batch_tokens {cfg.batch_tokens} is not a multiple of micro_batch x context x "
                           f"processes = {cfg.micro_batch} x {cfg.context} x {rt.world}")
    accum = cfg.batch_tokens // (cfg.micro_batch * cfg.context * rt.world)
    layout = Layout(cfg.micro_batch, accum, rt.world, rt.rank)

    torch.manual_seed(seed)  # the same initial weights on every rank
    raw = GPT(mcfg)
    raw.loss_impl = cfg.loss_impl
    parallel = resolve_parallel(cfg, mcfg)
    compiled = use_compile(cfg, rt)
    prep = prepare_model(raw, rt, weights=weights, compile=compiled, compile_mode=cfg.compile_mode,
                         compile_options=cfg.compile_options, parallel=parallel)
    del weights
    optimizer = make_optimizer(raw, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(cfg.beta1, cfg.beta2),
                               eps=cfg.eps, device=rt.device)
    torch.manual_seed(seed + rt.rank)  # dropout differs across ranks, as their data does

    step, tokens, elapsed, skipped, cursor = 0, 0, 0.0, 0, 0
    if state:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

        if state.get("optimizer"):
            set_optimizer_state_dict(raw, optimizer, state["optimizer"], options=StateDictOptions(full_state_dict=True))
        step, tokens = int(state["step"]), int(state.get("tokens", 0))
        elapsed, skipped = float(state.get("elapsed", 0.0)), int(state.get("skipped", 0))
        cursor = int((state.get("data") or {}).get("cursor", 0))
        restore_rng((state.get("rng") or {}).get("ranks") or [], rt)
        del state

    decay_steps = cfg.decay_steps or cfg.max_steps
    fpt = flops_per_token(mcfg, cfg.context)
    peak = peak_flops(rt, cfg.peak_tflops)
    step_tokens = cfg.batch_tokens
    params = raw.num_params()
    say(f"{origin}: {params:,} parameters, {mcfg.n_layer} layers x {mcfg.n_embd}, vocab {mcfg.vocab_size}"
        f"{f' (padded to {mcfg.padded_vocab_size})' if mcfg.padded_vocab_size != mcfg.vocab_size else ''}; "
        f"{rt.device.type} x {rt.world}{f' {parallel}' if rt.world > 1 else ''}, "
        f"{'bf16' if rt.amp_dtype else 'fp32'}, compile {'on' if compiled else 'off'}; "
        f"{step_tokens:,} tokens/step = {cfg.micro_batch} x {cfg.context} x {accum} accumulation x {rt.world}; "
        f"{len(train_windows):,} train windows ({train_windows.token_count:,} tokens)")

    if rt.is_main:
        os.makedirs(ckpt_dir, exist_ok=True)
        if shards.tokenizer:
            shutil.copyfile(shards.tokenizer, os.path.join(out_dir, "tokenizer.json"))
    log = TrainLog(out_dir, enabled=rt.is_main, resume_step=step if step else None,
                   tensorboard=cfg.tensorboard, note=say)
    sampler = Sampler(shards.tokenizer, shards.eot_id, cfg.sample_prompt, cfg.sample_tokens, seed, say) \
        if (rt.is_main or prep.fsdp) else None
    val_total = cfg.eval_batches * cfg.micro_batch

    def evaluate(at_step: int) -> Optional[float]:
        loss = validation_loss(prep, val, val_total, cfg.micro_batch, rt)
        sample = sampler(prep, at_step, rt) if sampler else None
        record = {"step": at_step, "tokens": tokens, "val_loss": loss}
        if sample is not None:
            record["sample"] = sample
        log.write(record)
        if loss is not None:
            say(f"step {at_step}: val loss {loss:.4f}")
        return loss

    saved = [step if resume_path else None]  # the step of the newest checkpoint (same on every rank)

    def save() -> None:
        saved[0] = step
        model_state, optim_state = gather_state(prep, optimizer, rt)
        rngs = all_gather_objects(rng_states(), rt)
        if rt.is_main:
            ckpt.save(ckpt_dir, step, {
                "model_config": mcfg.to_dict(), "model": model_state, "optimizer": optim_state,
                "tokens": tokens, "elapsed": elapsed, "skipped": skipped,
                "data": {"cursor": cursor, "seed": seed, "context": cfg.context},
                "rng": {"ranks": rngs}, "config": _plain(cfg),
                "schedule": {"lr": cfg.lr, "warmup_steps": cfg.warmup_steps, "decay_steps": decay_steps,
                             "min_lr_ratio": cfg.min_lr_ratio},
            }, cfg.keep_checkpoints)
        rt.barrier()

    loader = BatchLoader(train_windows, layout, cursor, device=str(rt.device), prefetch=cfg.prefetch,
                         vocab_size=mcfg.vocab_size)
    last_loss, last_val, first_step = None, None, step
    timed_tokens, timed_seconds = 0, 0.0
    in_a_row = 0
    try:
        with StopFlag() as stop:
            if step == 0 and cfg.eval_every:
                last_val = evaluate(0)
            t_last = t_said = time.perf_counter()
            while step < cfg.max_steps:
                lr = lr_at(step, lr=cfg.lr, warmup=cfg.warmup_steps, decay_steps=decay_steps, min_ratio=cfg.min_lr_ratio)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                loss_t, norm_t = train_step(prep, loader.next, accum, rt, cfg.grad_clip)
                flags = torch.stack([loss_t, norm_t.float(), loss_t.new_full((), float(stop.raised))])
                if rt.world > 1:
                    dist.all_reduce(flags)  # mean loss over ranks; any rank's stop request stops all
                    flags[0] /= rt.world
                loss, norm, stop_now = flags.tolist()  # the step's one sync with the device
                finite = loss == loss and norm == norm and abs(loss) != float("inf") and abs(norm) != float("inf")
                if finite:
                    optimizer.step()
                    in_a_row = 0
                optimizer.zero_grad(set_to_none=True)
                step += 1
                tokens += step_tokens
                cursor = loader.cursor
                now = time.perf_counter()
                dt, t_last = now - t_last, now
                elapsed += dt
                if step > first_step + 1:  # the first step of a run includes compiling and warm-up
                    timed_tokens, timed_seconds = timed_tokens + step_tokens, timed_seconds + dt
                tps = step_tokens / dt if dt > 0 else None
                if not finite:
                    bad = "loss" if not math.isfinite(loss) else "gradient norm"
                    what = f"step {step}: {bad} is {loss if bad == 'loss' else norm}"
                    log.write({"step": step, "tokens": tokens, "loss": loss, "lr": lr, "grad_norm": norm,
                               "nonfinite": True, "skipped": cfg.on_nonfinite == "skip", "time": round(elapsed, 3)})
                    if cfg.on_nonfinite == "stop":
                        last = ckpt.latest(ckpt_dir)
                        raise NonFiniteLoss(
                            f"{what}; the update was not applied. "
                            + (f"To go on from the last checkpoint, copy {last} out of {out_dir} (a changed train: "
                               f"block restarts the stage) and set train.init_from to the copy, with a lower train.lr; "
                               if last else "")
                            + "or set train.on_nonfinite: skip")
                    skipped += 1
                    in_a_row += 1
                    say(f"{what}: update skipped ({in_a_row} in a row)")
                    if in_a_row > cfg.max_skips:
                        raise NonFiniteLoss(f"{what}: {in_a_row} non-finite steps in a row (train.max_skips is {cfg.max_skips})")
                else:
                    last_loss = loss
                    if step % cfg.log_every == 0 or step == cfg.max_steps:
                        mfu = (tps * fpt / rt.world / peak) if (tps and peak) else None
                        log.write({"step": step, "tokens": tokens, "loss": loss, "lr": lr, "grad_norm": norm,
                                   "tokens_per_s": round(tps, 1) if tps else None,
                                   "mfu": round(mfu, 4) if mfu is not None else None, "time": round(elapsed, 3)})
                        if now - t_said >= 2.0 or step <= first_step + 3 or step == cfg.max_steps:  # log.jsonl has all
                            t_said = now
                            say(f"step {step}/{cfg.max_steps}: loss {loss:.4f}, lr {lr:.2e}, grad norm {norm:.3f}, "
                                f"{tps:,.0f} tokens/s" + (f", MFU {mfu:.1%}" if mfu is not None else ""))
                at_end = step == cfg.max_steps
                if cfg.eval_every and step % cfg.eval_every == 0 and not at_end:
                    last_val = evaluate(step)
                    t_last = time.perf_counter()  # evaluation time is not training time
                leaving = bool(stop_now) or (stop_after_steps is not None and step - first_step >= stop_after_steps)
                if (step % cfg.checkpoint_every == 0 and not at_end) or leaving:
                    save()
                    t_last = time.perf_counter()
                if leaving:
                    if stop_now:
                        say(f"stopped by a signal after step {step}: checkpoint saved; rerun to resume from it")
                        raise Interrupted(f"stopped by a signal after step {step}")
                    return {"stopped_at": step, "final_loss": last_loss}
            # the end: final evaluation, checkpoint, Hugging Face folder
            last_val = evaluate(step)
            if saved[0] != step:
                save()
    finally:
        loader.close()
        log.close()

    agreement = rank_agreement(prep, optimizer, rt)
    if rt.is_main and cfg.export_hf:
        from train.hf import export

        final_state = ckpt.load(ckpt.checkpoint_path(ckpt_dir, step))["model"]
        export(final_state, mcfg, os.path.join(out_dir, "hf"), tokenizer=shards.tokenizer, eot_id=shards.eot_id)
        say(f"Hugging Face model written to {os.path.join(out_dir, 'hf')}")
    rt.barrier()
    usable = int(train_windows.counts.sum()) * cfg.context
    return {
        "counts": {"in": train_windows.token_count, "out": usable,
                   "dropped": {"shard_tail": train_windows.token_count - usable} if train_windows.token_count > usable else {}},
        "final_loss": last_loss, "final_val_loss": last_val, "steps": step, "tokens": tokens, "params": params,
        "tokens_per_s": round(timed_tokens / timed_seconds, 1) if timed_seconds else None,
        "mfu": round(timed_tokens / timed_seconds * fpt / rt.world / peak, 4) if (timed_seconds and peak) else None,
        "skipped_steps": skipped, "train_seconds": round(elapsed, 3),
        "model": {"n_layer": mcfg.n_layer, "n_head": mcfg.n_head, "n_embd": mcfg.n_embd, "vocab_size": mcfg.vocab_size,
                  "padded_vocab_size": mcfg.padded_vocab_size, "context": cfg.context, "origin": origin},
        "batch": {"tokens": step_tokens, "micro_batch": cfg.micro_batch, "accumulation": accum, "processes": rt.world},
        "engine": {"device": str(rt.device.type), "precision": "bf16" if rt.amp_dtype else "fp32", "compile": compiled,
                   "compile_mode": cfg.compile_mode, "compile_options": cfg.compile_options,
                   "parallel": parallel if rt.world > 1 else None, "loss_impl": cfg.loss_impl, "attention": cfg.attention},
        "ranks": agreement,
    }


def weight_checksum(state: dict) -> float:
    """Sum of all weights in float64, the tied lm_head.weight counted once (as the embedding)."""
    return float(sum(t.detach().double().sum().item() for k, t in sorted(state.items()) if k != "lm_head.weight"))


def replicated_optimizer_state(optimizer) -> list:
    """What every rank's optimiser holds in full whatever the parallelism: each group's hyperparameters (the
    learning rate as the loop last set it) and each parameter's update count (AdamW's `step`), in parameter
    order. Ranks that applied different numbers of updates (one skipping a step another took) or ended on
    different rates differ here."""
    out = []
    for group in optimizer.param_groups:
        out.append({k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(group.items())
                    if k in ("lr", "betas", "eps", "weight_decay")})
        out.append([float(optimizer.state[p]["step"]) if "step" in optimizer.state.get(p, {}) else 0.0
                    for p in group["params"]])
    return out


def rank_agreement(prep, optimizer, rt: Runtime) -> Optional[dict]:
    """Under torchrun, each rank's weight checksum, and whether the ranks agree.

    DDP: every rank holds a full replica of the weights; weight_checksums are the replicas' checksums and
    `agree` requires them equal (replicas drift apart if a gradient sync or an update is missed on one).
    FSDP: each weight exists once, sharded across the ranks, so there is no replica to compare (gathering
    the full weights on every rank would make them identical by construction); weight_checksums are each
    rank's checksum of its own shards (they differ; their sum is the model's checksum, which the
    two-process test compares with one process). For both, `agree` also requires the state every rank
    does replicate to be equal: the optimiser's hyperparameters and per-parameter update counts
    (replicated_optimizer_state), so that every shard or replica took the same updates at the same rates."""
    if rt.world == 1:
        return None
    state = prep.raw.state_dict()  # DDP: the full replica; FSDP2: DTensors holding this rank's shards
    if prep.fsdp:
        state = {k: (v.to_local() if hasattr(v, "to_local") else v) for k, v in state.items()}
    sums = all_gather_objects(weight_checksum(state), rt)
    replicated = all_gather_objects(replicated_optimizer_state(optimizer), rt)
    weights_agree = True if prep.fsdp else len(set(sums)) == 1
    return {"processes": rt.world, "weight_checksums": sums,
            "agree": weights_agree and all(r == replicated[0] for r in replicated)}


def _plain(cfg) -> dict:
    from webtext.schema import to_dict

    return to_dict(cfg)
