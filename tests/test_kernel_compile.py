"""The fused LIF kernels compile to sm_80 and sm_90 cubins without a GPU, with no register spill."""
import pytest

pytest.importorskip("triton")

from tfsnn.kernels import compile_check  # noqa: E402


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """A Triton cache of its own: every kernel is really compiled, not read back from ~/.triton."""
    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path / "triton-cache"))
    return tmp_path / "triton-cache"


def test_every_dtype_direction_and_architecture_compiles_without_spills(fresh_cache):
    compiled = compile_check.compile_all()
    print("\n" + "\n".join(c.line() for c in compiled))
    assert len(compiled) == len(compile_check.DIRECTIONS) * len(compile_check.DTYPES) * len(compile_check.ARCHS) == 12
    assert any(fresh_cache.rglob("*.cubin")), "the kernels came from an old cache, not from this compile"
    for c in compiled:
        assert 0 < c.registers <= 255, c.line()
        assert c.spill_stores == 0 and c.spill_loads == 0, f"register spill: {c.line()}"


def test_a_spill_is_detected(fresh_cache):
    """The check can fail: capping the backward kernel at 24 registers forces ptxas to spill."""
    c = compile_check.compile_kernel("backward", "bf16", 90, maxnreg=24)
    assert c.registers <= 24 and c.spill_stores > 0 and c.spill_loads > 0


def test_the_launch_signature_matches_the_kernels():
    """The compile covers the kernels as they are: one type per parameter of each @triton.jit function."""
    from tfsnn.kernels.lif_triton import _lif_backward, _lif_forward

    for direction, fn in (("forward", _lif_forward), ("backward", _lif_backward)):
        assert list(compile_check.signature(direction, "fp32")) == fn.arg_names
