"""Compile the fused LIF kernels for the GPUs users have, on any machine (no GPU needed).

Triton ships ``ptxas``, so ``triton.compile`` with a CUDA target turns both kernels into sm_80 (A100)
and sm_90 (H100/H200) cubins on a CPU-only machine. ``ptxas -v`` on the same PTX then reports the
registers per thread and any spill to local memory, which a kernel that keeps its membrane in
registers must not have.

    python -m tfsnn.kernels.compile_check        # one line per dtype x direction x architecture
"""
from __future__ import annotations

import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import membrane_code

ARCHS = (80, 90)
DTYPES = ("fp32", "bf16", "fp16")
DIRECTIONS = ("forward", "backward")


@dataclass(frozen=True)
class Compiled:
    direction: str
    dtype: str
    arch: int
    registers: int
    spill_stores: int
    spill_loads: int
    seconds: float

    def line(self) -> str:
        return (f"{self.direction:8s} {self.dtype:5s} sm_{self.arch}  {self.registers:3d} registers  "
                f"spills {self.spill_stores}/{self.spill_loads} bytes (store/load)  {self.seconds:.2f} s")


def signature(direction: str, dtype: str) -> dict[str, str]:
    """The argument types of a launch from ``LIFTriton`` (fp32 runs save the float32 membrane, half
    precision runs one uint8 code per neuron-step)."""
    state = "*fp32" if dtype == "fp32" else "*u8"
    data = f"*{dtype}"
    if direction == "forward":
        args = dict(x_ptr=data, x_tstride="i32", out_ptr=data, state_ptr=state, T="i32", S="i32", tau="fp32",
                    v_th="fp32", lo="fp32", hi="fp32", bins_per_h="fp32")
    else:
        args = dict(gs_ptr=data, state_ptr=state, gx_ptr=data, T="i32", S="i32", last="i32", tau="fp32",
                    v_th="fp32", h="fp32")
    return args | dict(CODE="constexpr", LEVELS="constexpr", BLOCK="constexpr")


def ptxas_usage(ptx: str, arch: int) -> tuple[int, int, int]:
    """(registers per thread, spill store bytes, spill load bytes) that ``ptxas -v`` reports for ``ptx``."""
    from triton.backends.nvidia.compiler import get_ptxas

    target = re.search(r"^\.target\s+(\S+)", ptx, re.M).group(1)    # sm_80, sm_90a
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "kernel.ptx"
        src.write_text(ptx)
        r = subprocess.run([get_ptxas(arch).path, "-v", f"--gpu-name={target}", str(src), "-o", str(src) + ".o"],
                           capture_output=True, text=True, check=True)
    report = r.stdout + r.stderr
    registers = int(re.search(r"Used (\d+) registers", report).group(1))
    stores = int(re.search(r"(\d+) bytes spill stores", report).group(1))
    loads = int(re.search(r"(\d+) bytes spill loads", report).group(1))
    return registers, stores, loads


def compile_kernel(direction: str, dtype: str, arch: int, maxnreg: int | None = None) -> Compiled:
    """One kernel as a launch would compile it; ``maxnreg`` caps the registers (tests force a spill)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from .lif_triton import BLOCK, _lif_backward, _lif_forward

    fn = _lif_forward if direction == "forward" else _lif_backward
    constexprs = {"CODE": dtype != "fp32", "LEVELS": membrane_code.LEVELS, "BLOCK": BLOCK}
    start = time.perf_counter()
    kernel = triton.compile(ASTSource(fn=fn, signature=signature(direction, dtype), constexprs=constexprs),
                            target=GPUTarget("cuda", arch, 32), options={"maxnreg": maxnreg} if maxnreg else None)
    seconds = time.perf_counter() - start
    if not kernel.asm.get("cubin"):
        raise RuntimeError(f"triton produced no cubin for the {direction} kernel ({dtype}, sm_{arch})")
    return Compiled(direction, dtype, arch, *ptxas_usage(kernel.asm["ptx"], arch), seconds)


def compile_all() -> list[Compiled]:
    return [compile_kernel(d, t, a) for d in DIRECTIONS for t in DTYPES for a in ARCHS]


if __name__ == "__main__":
    for c in compile_all():
        print(c.line())
