"""Benchmark: one training step of ResNet-19 with each LIF implementation, and MTT's cost per iteration.

    PYTHONPATH=. python bench/bench_lif.py                    # GPU: the measured bar of DESIGN.md
    PYTHONPATH=. python bench/bench_lif.py --quick            # CPU: width 1/8, 8x8 inputs, 5 timed steps

First checks each LIF against the torch reference (identical spikes, gradient error; the fused kernel in
float32 and bfloat16), then times one step (forward, backward, SGD step; bf16 autocast and channels_last
on a GPU) at T=6 and T=4 for the ReLU floor (the same network with ReLU: the same conv work), the torch
reference, the fused Triton kernel (CUDA), and SpikingJelly 2.0's LIFNode when it is importable
(`pip install --no-deps spikingjelly==2.0.0 loguru scienceplots`); per variant it also reports the
peak GPU memory and the bytes of activations one forward pass keeps for the backward pass (any device).
Then the median of 50 seeded MTT iterations (s = 3) against the median SDT step at T = 6. Prints a table
and writes JSON (device, versions, commit, every figure); `python bench/report.py bench.json` turns the
JSON into the README's table. Not a test: it measures, it never asserts a speed.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfsnn.engine import train_one_epoch  # noqa: E402
from tfsnn.models import build_model  # noqa: E402
from tfsnn.memory import saved_activation_bytes  # noqa: E402
from tfsnn.neuron import LIF, lif_multistep, replace_lifs  # noqa: E402
from tfsnn.temporal import make_sampler  # noqa: E402


class FreshState(nn.Module):
    """A stateful SpikingJelly neuron started from rest on every call, as tfsnn's LIF is."""

    def __init__(self, node: nn.Module):
        super().__init__()
        self.node = node

    def forward(self, x_seq):
        self.node.reset()
        return self.node(x_seq)


def spikingjelly_lif():
    """SpikingJelly 2.0's LIFNode configured as the paper's LIF (tau 0.5 leak, hard reset, triangle surrogate);
    it picks its own kernels for the device (Triton on CUDA)."""
    from spikingjelly.activation_based import neuron, surrogate

    return FreshState(neuron.LIFNode(tau=2.0, decay_input=False, v_reset=0.0, detach_reset=False, step_mode="m",
                                     surrogate_function=surrogate.PiecewiseQuadratic(alpha=1.0)))


def variants(device: torch.device) -> dict:
    """name -> make(lif): what replaces each LIF of the network."""
    out = {"relu": lambda lif: nn.ReLU(),   # the ANN floor: ReLU on the same [T, B, ...] tensors
           "torch": lambda lif: LIF(backend="torch")}
    if device.type == "cuda":
        out["triton"] = lambda lif: LIF(backend="triton")
    try:
        spikingjelly_lif()
        out["spikingjelly"] = lambda lif: spikingjelly_lif()
    except ImportError:
        pass
    return out


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def settle(device) -> int:
    """Bytes the GPU holds once every dropped object is collected (0 off CUDA): the baseline a variant's
    peak is measured from, so that memory a previous variant left behind is not counted against this one."""
    gc.collect()
    if device.type != "cuda":
        return 0
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    return torch.cuda.memory_allocated()


def time_steps(model, x, y, T, device, amp, repeats, warmup=3, base=0) -> dict:
    """One SDT training step at ``T`` (forward, backward, SGD step): median ms and peak GPU memory above
    ``base`` (the model's parameters, gradients and optimiser state included)."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = F.cross_entropy(model(x, T).float(), y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        step()
        sync(device)
        times.append((time.perf_counter() - start) * 1000)
    peak = (torch.cuda.max_memory_allocated() - base) / 2 ** 30 if device.type == "cuda" else None
    return {"median_ms": statistics.median(times), "min_ms": min(times), "peak_gib": peak, "n": len(times)}


def engine_iterations(model, x, y, method, s, iters, device, amp, warmup=3) -> tuple[float, list]:
    """Median ms per iteration of the real training loop (tfsnn.engine.train_one_epoch, Algorithm 1) over
    ``iters`` seeded iterations on one batch, and the configurations the timed iterations drew."""
    sampler = make_sampler(method, model.n_stages, 6, seed=0)
    drawn = []

    class Recorded:
        def sample(self):
            drawn.append(sampler.sample())
            return drawn[-1]

    stamps = []

    def after_step():
        sync(device)
        stamps.append(time.perf_counter())

    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    train_one_epoch(model, [(x, y)] * (warmup + 1 + iters), opt, Recorded(), s, device,
                    autocast_dtype=torch.bfloat16 if amp else None, after_step=after_step)
    times = [(b - a) * 1000 for a, b in zip(stamps, stamps[1:])][warmup:]
    return statistics.median(times), drawn[(warmup + 1) * s:]


def host_syncs(model, x, y, n, device, amp) -> int | None:
    """Synchronising CUDA calls in one epoch of ``n`` MTT iterations (s = 3); the same count for every ``n``
    means none inside a step (only the epoch's closing reductions). None off CUDA."""
    if device.type != "cuda":
        return None
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    sampler = make_sampler("mtt", model.n_stages, 6, seed=1)
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            train_one_epoch(model, [(x, y)] * n, opt, sampler, 3, device, autocast_dtype=torch.bfloat16 if amp else None)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    return sum("synchroniz" in str(w.message) for w in caught)


def t_scan(model, x, y, device, amp, repeats) -> dict:
    """The SDT step at T = 1..6 and the least-squares line through it: ``fixed_ms`` is what a step costs
    whatever its T (launches, optimiser, the T-free layers), the part an MTT iteration pays s times."""
    ms = {T: time_steps(model, x, y, T, device, amp, repeats)["median_ms"] for T in range(1, 7)}
    n, sx, sy = len(ms), sum(ms), sum(ms.values())
    slope = (n * sum(T * m for T, m in ms.items()) - sx * sy) / (n * sum(T * T for T in ms) - sx * sx)
    return {"ms": {str(T): m for T, m in ms.items()}, "fixed_ms": (sy - slope * sx) / n, "per_T_ms": slope}


def saved_gib(model, x, y, t, device, amp) -> float:
    """GiB of activations one forward pass keeps for the backward pass (tfsnn.memory)."""
    def forward():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            return F.cross_entropy(model(x, t).float(), y)

    return saved_activation_bytes(model, forward) / 2 ** 30


def check_backends(device, makers: dict) -> dict:
    """Each LIF against the torch reference on float32 currents (bf16 too for the fused kernel): identical
    spikes and the largest gradient error relative to the largest gradient. The fused kernel is also
    checked on the CPU in CI, under TRITON_INTERPRET=1 (tests/interpreted/)."""
    out = {}
    g = torch.Generator(device="cpu").manual_seed(0)
    cases = [(name, torch.float32) for name in makers if name not in ("relu", "torch")]
    if "triton" in makers:
        cases.append(("triton", torch.bfloat16))
    for name, dtype in cases:
        x = (torch.randn(6, 64, 32, 16, 16, generator=g) * 1.3).to(device=device, dtype=dtype)
        x = torch.stack([f.contiguous(memory_format=torch.channels_last) for f in x])
        ref_in = x.float().detach().requires_grad_(True)
        other_in = x.detach().requires_grad_(True)
        ref = lif_multistep(ref_in, backend="torch")
        other = makers[name](None).to(device)(other_in)
        w = torch.randn(ref.shape, device=device)
        (ref * w).sum().backward()
        (other.float() * w).sum().backward()
        err = ((other_in.grad.float() - ref_in.grad).abs().max() / ref_in.grad.abs().max()).item()
        out[f"{name} {str(dtype).replace('torch.', '')}"] = {
            "spikes_identical": bool(torch.equal(other.float(), ref)), "max_grad_error_rel": err,
            "layout_kept": other.stride() == x.stride()}
    return out


def commit() -> str:
    """The commit checked out, and a digest of the code that ran (tfsnn/ and bench/ sources): a copied
    working tree can carry a stale .git, so the digest says which code was measured whatever HEAD says."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent).stdout.strip() or "unknown"
    except OSError:
        head = "unknown"
    return f"{head}, source {source_digest()}"


def source_digest() -> str:
    """sha256 (12 hex digits) over the paths and bytes of every .py file under tfsnn/ and bench/."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(p for d in ("tfsnn", "bench") for p in (root / d).rglob("*.py")):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CPU-sized: width 1/8, 8x8 inputs, batch 32, 5 timed steps per variant")
    p.add_argument("--width", type=float)
    p.add_argument("--size", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--repeats", type=int)
    p.add_argument("--mtt-iters", type=int)
    p.add_argument("--out", default="bench.json")
    args = p.parse_args(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    quick = args.quick or device.type == "cpu"
    width = args.width or (0.125 if quick else 1.0)
    size = args.size or (8 if quick else 32)
    batch = args.batch or (32 if quick else 128)
    repeats = args.repeats or (5 if quick else 20)
    mtt_iters = args.mtt_iters or 50
    amp = device.type == "cuda"
    torch.manual_seed(0)
    x = torch.randn(batch, 3, size, size, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    if device.type == "cuda":
        x = x.contiguous(memory_format=torch.channels_last)

    def fresh(make):
        torch.manual_seed(0)
        m = replace_lifs(build_model("resnet19", 10, width=width), make).to(device)
        return m.to(memory_format=torch.channels_last) if device.type == "cuda" else m

    result = {"device": torch.cuda.get_device_name() if device.type == "cuda" else
              f"cpu ({platform.machine()}, {torch.get_num_threads()} threads)",
              "torch": torch.__version__, "triton": _triton_version(), "commit": commit(),
              "settings": {"arch": "resnet19", "width": width, "input": size, "batch": batch, "amp_bf16": amp,
                           "channels_last": device.type == "cuda", "repeats": repeats, "mtt_iterations": mtt_iters},
              "step": {}, "mtt": {}}
    makers = variants(device)
    result["check"] = check_backends(device, makers)
    for T in (6, 4):
        for name, make in makers.items():
            base = settle(device)
            model = fresh(make)
            r = time_steps(model, x, y, T, device, amp, repeats, base=base)
            r["saved_gib"] = saved_gib(model, x, y, T, device, amp)
            del model
            r["left_gib"] = (settle(device) - base) / 2 ** 30   # what the variant left allocated after it
            result["step"].setdefault(str(T), {})[name] = r
        floor = result["step"][str(T)]["relu"]["median_ms"]
        floor_saved = result["step"][str(T)]["relu"]["saved_gib"]
        for name, r in result["step"][str(T)].items():
            r["x_floor"] = r["median_ms"] / floor
            r["saved_x_floor"] = r["saved_gib"] / floor_saved
            if r["peak_gib"] is not None:
                r["peak_x_floor"] = r["peak_gib"] / result["step"][str(T)]["relu"]["peak_gib"]
    fastest = "triton" if "triton" in makers else "torch"
    model = fresh(makers[fastest])
    result["t_scan"] = t_scan(model, x, y, device, amp, repeats)
    mtt, configs = engine_iterations(model, x, y, "mtt", 3, mtt_iters, device, amp)
    sdt, _ = engine_iterations(model, x, y, "sdt", 1, mtt_iters, device, amp)
    result["mtt"] = {"backend": fastest, "s": 3, "iterations": mtt_iters, "mtt_median_ms": mtt, "sdt_median_ms": sdt,
                     "ratio": mtt / sdt,
                     "conv_work_ratio": sum(sum(t) for t in configs) / (mtt_iters * 6 * model.n_stages),
                     "host_syncs": {str(n): host_syncs(model, x, y, n, device, amp) for n in (2, 6)}}
    print(table(result))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


def _triton_version() -> str | None:
    try:
        import triton

        return triton.__version__
    except ImportError:
        return None


def table(result: dict) -> str:
    s = result["settings"]
    lines = [f"ResNet-19 x{s['width']}, {s['input']}x{s['input']}, batch {s['batch']}, bf16 {s['amp_bf16']}, "
             f"on {result['device']} (torch {result['torch']}, triton {result['triton']}, commit {result['commit']})",
             "", "| LIF | T | ms/step | x ReLU floor | peak GiB | x floor | saved for backward GiB | x floor |",
             "|---|---|---|---|---|---|---|---|"]
    for T, rows in result["step"].items():
        for name, r in rows.items():
            peak = "- | -" if r["peak_gib"] is None else f"{r['peak_gib']:.2f} | {r['peak_x_floor']:.2f}"
            lines.append(f"| {name} | {T} | {r['median_ms']:.1f} | {r['x_floor']:.2f} | {peak} | "
                         f"{r['saved_gib']:.3f} | {r['saved_x_floor']:.2f} |")
    m = result["mtt"]
    lines += ["", f"MTT (s=3, {m['backend']}, median of {m.get('iterations', '?')} seeded iterations of the training "
              f"loop): {m['mtt_median_ms']:.1f} ms per iteration vs SDT T=6 {m['sdt_median_ms']:.1f} ms: "
              f"{m['ratio']:.2f}x (conv work {m['conv_work_ratio']:.2f}x)"]
    scan = result.get("t_scan")
    if scan:
        lines.append(f"SDT step by T ({m['backend']}): " + ", ".join(f"T={T} {v:.1f}" for T, v in scan["ms"].items())
                     + f" ms; fit {scan['fixed_ms']:.1f} ms + {scan['per_T_ms']:.1f} ms x T")
    syncs = m.get("host_syncs") or {}
    if any(v is not None for v in syncs.values()):
        lines.append("host synchronisations per epoch: " + ", ".join(f"{v} with {n} iterations" for n, v in syncs.items()))
    for case, c in result["check"].items():
        lines.append(f"check {case} against the reference: spikes identical {c['spikes_identical']}, layout kept "
                     f"{c['layout_kept']}, max gradient error {c['max_grad_error_rel']:.2e} (of the largest)")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
