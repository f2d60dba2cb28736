"""Where a training step's time goes: GPU-bound or launch-bound, and which operators cost the host most.

    PYTHONPATH=. python bench/profile_step.py            # GPU: ResNet-19, batch 128, bf16, channels_last

For the ReLU floor and the fused LIF at T = 1 and 6 it reports the step's wall time next to the host's
time to enqueue it (no synchronisation): when the two are close the step waits on Python and launches,
not on the GPU. Then it profiles one MTT iteration (s = 3) and lists the operators by host time, with
the number of GPU kernels launched. It measures; it asserts nothing.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_lif import variants  # noqa: E402
from tfsnn.models import build_model  # noqa: E402
from tfsnn.neuron import replace_lifs  # noqa: E402
from tfsnn.temporal import make_sampler  # noqa: E402


def main() -> None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    cuda = device.type == "cuda"
    width, size, batch = (1.0, 32, 128) if cuda else (0.125, 8, 32)
    x = torch.randn(batch, 3, size, size, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    if cuda:
        x = x.contiguous(memory_format=torch.channels_last)
    makers = variants(device)
    for name in ("relu", "triton" if "triton" in makers else "torch"):
        model = replace_lifs(build_model("resnet19", 10, width=width), makers[name]).to(device)
        if cuda:
            model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step(t):
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
                loss = F.cross_entropy(model(x, t).float(), y)
            loss.backward()
            opt.step()

        for T in (1, 6):
            wall, host = [], []
            for i in range(13):
                if cuda:
                    torch.cuda.synchronize()
                a = time.perf_counter()
                step(T)
                b = time.perf_counter()
                if cuda:
                    torch.cuda.synchronize()
                c = time.perf_counter()
                if i >= 3:
                    host.append((b - a) * 1e3)
                    wall.append((c - a) * 1e3)
            print(f"{name:8s} T={T}: step {statistics.median(wall):6.1f} ms, host enqueue {statistics.median(host):6.1f} ms")
        if name != "relu":
            sampler = make_sampler("mtt", model.n_stages, 6, seed=0)
            for _ in range(3):
                step(sampler.sample())
            acts = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if cuda else [])
            with torch.profiler.profile(activities=acts) as prof:
                opt.zero_grad(set_to_none=True)
                for _ in range(3):
                    t = sampler.sample()
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
                        loss = F.cross_entropy(model(x, t).float(), y)
                    loss.backward()
                opt.step()
                if cuda:
                    torch.cuda.synchronize()
            events = prof.key_averages()
            kernels = sum(e.count for e in events if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA)
            print(f"one MTT iteration (s=3, {name}): {kernels} GPU kernels")
            print(events.table(sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=50))


if __name__ == "__main__":
    main()
