"""Benchmark: one training step of ResNet-19 with each LIF implementation, and MTT's cost per iteration.

    PYTHONPATH=. python bench/bench_lif.py                    # GPU: the measured bar of DESIGN.md
    PYTHONPATH=. python bench/bench_lif.py --quick            # CPU: width 1/8, 8x8 inputs, fewer repeats

First checks that the backends agree (identical spikes, close gradients), then times one step
(forward, backward, SGD step; bf16 autocast and channels_last on a GPU) at T=6 and T=4 for the ReLU
floor (the same network with ReLU: the same conv work), the torch reference, the fused Triton kernel,
and SpikingJelly 2.0's LIFNode when it is installed; then the median of 50 seeded MTT iterations
(s = 3) against the median SDT step at T = 6. Prints a table and writes JSON (device, versions,
commit, every figure). `python bench/report.py bench.json` turns the JSON into the README's table.
Not a test: it measures, it never asserts a speed.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfsnn.models import build_model  # noqa: E402
from tfsnn.neuron import LIF, lif_multistep  # noqa: E402
from tfsnn.temporal import make_sampler  # noqa: E402


class SeqReLU(nn.Module):
    """The ANN floor: ReLU where the LIF was, on the same [T, B, ...] tensors."""

    def forward(self, x_seq):
        return F.relu(x_seq)


def spikingjelly_lif():
    """SpikingJelly 2.0's LIFNode configured as the paper's LIF (tau 0.5 leak, hard reset, triangle surrogate)."""
    from spikingjelly.activation_based import neuron, surrogate

    kw = dict(tau=2.0, decay_input=False, v_reset=0.0, surrogate_function=surrogate.PiecewiseQuadratic(alpha=1.0),
              detach_reset=False, step_mode="m")
    for backend in ("triton", "cupy", "torch"):
        try:
            return neuron.LIFNode(backend=backend, **kw), backend
        except Exception:
            continue
    return neuron.LIFNode(**kw), "torch"


def swap_neurons(model: nn.Module, make) -> nn.Module:
    for name, child in model.named_children():
        if isinstance(child, LIF):
            setattr(model, name, make())
        else:
            swap_neurons(child, make)
    return model


def variants(device: torch.device) -> dict:
    out = {"relu": lambda: SeqReLU(), "torch": lambda: LIF(backend="torch")}
    if device.type == "cuda":
        out["triton"] = lambda: LIF(backend="triton")
    try:
        spikingjelly_lif()
        out["spikingjelly"] = lambda: spikingjelly_lif()[0]
    except Exception:
        pass
    return out


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(model, x, y, configs, device, amp, repeats, warmup) -> dict:
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def step(group):
        opt.zero_grad(set_to_none=True)
        for t in group:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = F.cross_entropy(model(x, t).float(), y)
            loss.backward()
        opt.step()

    for group in configs[:warmup]:
        step(group)
    times = []
    for group in configs[warmup:warmup + repeats]:
        sync(device)
        start = time.perf_counter()
        step(group)
        sync(device)
        times.append((time.perf_counter() - start) * 1000)
    peak = torch.cuda.max_memory_allocated() / 2 ** 30 if device.type == "cuda" else None
    return {"median_ms": statistics.median(times), "min_ms": min(times), "peak_gib": peak, "n": len(times)}


def check_backends(device) -> dict:
    """The fused kernel against the reference: identical spikes, gradient error (fp32 and bf16)."""
    if device.type != "cuda":
        return {"skipped": "no CUDA device: tests/test_lif_triton.py checks the kernel under TRITON_INTERPRET=1"}
    out = {}
    g = torch.Generator(device="cpu").manual_seed(0)
    for dtype in (torch.float32, torch.bfloat16):
        x = (torch.randn(6, 64, 32, 16, 16, generator=g) * 1.3).to(device=device, dtype=dtype)
        x = torch.stack([f.contiguous(memory_format=torch.channels_last) for f in x])
        ref_in = x.float().detach().requires_grad_(True)
        fused_in = x.detach().requires_grad_(True)
        ref = lif_multistep(ref_in, backend="torch")
        fused = lif_multistep(fused_in, backend="triton")
        w = torch.randn(ref.shape, device=device)
        (ref * w).sum().backward()
        (fused.float() * w).sum().backward()
        err = ((fused_in.grad.float() - ref_in.grad).abs().max() / ref_in.grad.abs().max()).item()
        out[str(dtype).replace("torch.", "")] = {"spikes_identical": bool(torch.equal(fused.float(), ref)),
                                                 "max_grad_error_rel": err,
                                                 "layout_kept": fused.stride() == x.stride()}
    return out


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CPU-sized: width 1/8, 8x8 inputs, batch 32, few repeats")
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
    mtt_iters = args.mtt_iters or (10 if quick else 50)
    amp = device.type == "cuda"
    torch.manual_seed(0)
    x = torch.randn(batch, 3, size, size, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    if device.type == "cuda":
        x = x.contiguous(memory_format=torch.channels_last)

    def fresh(make):
        torch.manual_seed(0)
        m = swap_neurons(build_model("resnet19", 10, width=width), make).to(device)
        return m.to(memory_format=torch.channels_last) if device.type == "cuda" else m

    result = {"device": torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or "cpu",
              "torch": torch.__version__, "triton": _triton_version(), "commit": commit(),
              "settings": {"arch": "resnet19", "width": width, "input": size, "batch": batch, "amp_bf16": amp,
                           "channels_last": device.type == "cuda", "repeats": repeats, "mtt_iterations": mtt_iters},
              "check": check_backends(device), "step": {}, "mtt": {}}
    makers = variants(device)
    for T in (6, 4):
        for name, make in makers.items():
            model = fresh(make)
            r = time_steps(model, x, y, [[T]] * (repeats + 3), device, amp, repeats, 3)
            result["step"].setdefault(str(T), {})[name] = r
            del model
            if device.type == "cuda":
                torch.cuda.empty_cache()
        floor = result["step"][str(T)]["relu"]["median_ms"]
        for name, r in result["step"][str(T)].items():
            r["x_floor"] = r["median_ms"] / floor
    fastest = "triton" if "triton" in makers else "torch"
    model = fresh(makers[fastest])
    sampler = make_sampler("mtt", model.n_stages, 6, seed=0)
    mtt_groups = [[sampler.sample() for _ in range(3)] for _ in range(mtt_iters + 3)]
    mtt = time_steps(model, x, y, mtt_groups, device, amp, mtt_iters, 3)
    sdt = time_steps(model, x, y, [[6]] * (mtt_iters + 3), device, amp, mtt_iters, 3)
    result["mtt"] = {"backend": fastest, "s": 3, "mtt_median_ms": mtt["median_ms"], "sdt_median_ms": sdt["median_ms"],
                     "ratio": mtt["median_ms"] / sdt["median_ms"],
                     "conv_work_ratio": sum(sum(sum(t) for t in g) for g in mtt_groups[3:]) / (len(mtt_groups[3:]) * 6 * 8)}
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
             "", "| LIF | T | ms/step | x ReLU floor | peak GiB |", "|---|---|---|---|---|"]
    for T, rows in result["step"].items():
        for name, r in rows.items():
            peak = "-" if r["peak_gib"] is None else f"{r['peak_gib']:.2f}"
            lines.append(f"| {name} | {T} | {r['median_ms']:.1f} | {r['x_floor']:.2f} | {peak} |")
    m = result["mtt"]
    lines += ["", f"MTT (s=3, {m['backend']}): {m['mtt_median_ms']:.1f} ms per iteration vs SDT T=6 "
              f"{m['sdt_median_ms']:.1f} ms: {m['ratio']:.2f}x (conv work {m['conv_work_ratio']:.2f}x)"]
    if "skipped" not in result["check"]:
        for dtype, c in result["check"].items():
            lines.append(f"check {dtype}: spikes identical {c['spikes_identical']}, layout kept {c['layout_kept']}, "
                         f"max gradient error {c['max_grad_error_rel']:.2e} (relative to the largest)")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
