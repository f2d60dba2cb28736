#!/bin/bash
# One GPU session, one command: the kernels' compile report, the fused kernel's cases and its self-check on
# CUDA (bf16 included), the benchmark, the step profile (bench/profile_step.py), then the mini preset's directions on Fashion-MNIST (bench/mini_check.py).
#   bash bench/gpu_check.sh bench/results/h100.json     (also writes bench/results/h100-mini.json)
# Needs torch with CUDA and Triton only. SpikingJelly joins the comparison when its wheels are in
# .whl/ (spikingjelly-2.0.0, loguru, scienceplots: `pip download --no-deps -d .whl ...`; carry .whl to
# a machine without network); they are installed without dependencies into a scratch folder.
set -u
out=${1:-bench.json}
export PYTHONPATH=$PWD
if ls .whl/spikingjelly-*.whl >/dev/null 2>&1; then
    python -m pip install -q --no-deps --target /tmp/tfsnn-bench-sj .whl/*.whl && PYTHONPATH=$PYTHONPATH:/tmp/tfsnn-bench-sj
fi
python -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, torch.cuda.get_device_name())"
python -m tfsnn.kernels.compile_check    # registers and spills of every kernel, sm_80 and sm_90
python -m pytest -q -p no:cacheprovider -o python_files='*.py' tests/interpreted/lif_triton_cases.py tests/interpreted/self_check_cases.py -s 2>&1 | tail -n 15
status=${PIPESTATUS[0]}
python bench/bench_lif.py --out "$out"
status=$(( status || $? ))
# where an SDT step's and an MTT iteration's time goes (host enqueue against GPU, operators by host time)
python bench/profile_step.py 2>&1 | grep -v '^USDT\|^ERROR' | tee "${out%.json}-profile.txt"
status=$(( status || ${PIPESTATUS[0]} ))
# the mini preset's directions on real Fashion-MNIST (data/fashion/FashionMNIST/raw: carry it along)
timeout 420 python bench/mini_check.py --epochs 4 --runs-dir /tmp/tfsnn-mini-check --out "${out%.json}-mini.json"
exit $(( status || $? ))
