"""The paper's figures from run result files, in one seaborn style, as PNG and PDF (atomically)."""
from __future__ import annotations

from pathlib import Path

from ..io import atomic_path, write_json
from .results import accuracy, load, run_id
from .table import PERCENT

DPI = 200


def _style():
    import matplotlib

    matplotlib.use("Agg")
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.1)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": DPI, "savefig.bbox": "tight", "pdf.fonttype": 42,
                         "figure.constrained_layout.use": True})   # room for the suptitle
    return plt, sns


def build_figure(name: str, spec: dict, preset: str, prefix: str | Path, modules: tuple[str, ...] = ()) -> list[Path]:
    """Figure ``name`` (a declared target, :mod:`tfsnn.pipeline.targets`) as PNG, PDF and a provenance sidecar."""
    from ..pipeline.rehearsal import is_rehearsal
    from ..pipeline.targets import get

    build = get(name, "figure", modules).build
    plt, sns = _style()
    fig, runs, title = build(spec, plt, sns)
    fig.suptitle(f"{title} (preset: {preset}{'; numbers test the pipeline only' if is_rehearsal(preset) else ''})",
                 fontsize="medium")
    prefix = Path(prefix)
    paths = []
    for ext in (".png", ".pdf"):
        path = prefix.with_suffix(ext)
        with atomic_path(path) as tmp:
            # no creation date in the PDF: the same results draw the same bytes
            fig.savefig(tmp, format=ext[1:], metadata={"CreationDate": None} if ext == ".pdf" else None)
        paths.append(path)
    plt.close(fig)
    prov = Path(f"{prefix}.provenance.json")
    write_json(prov, {"figure": name, "preset": preset, "runs": sorted(set(runs))})
    return paths + [prov]


def fig4(spec: dict, plt, sns):
    from ..temporal import ttm_groups

    fig, axes = plt.subplots(1, 2, figsize=(8, 2.8))
    colors = sns.color_palette("colorblind")
    for ax, (kind, (t_in, t_out)) in zip(axes, (("down", spec["down"]), ("up", spec["up"]))):
        # groups are always of the longer sequence into the shorter one's count
        long, short = max(t_in, t_out), min(t_in, t_out)
        groups = ttm_groups(long, short)
        for row, n, y in ((0, t_in, 1.0), (1, t_out, 0.0)):
            for j in range(n):
                is_long = n == long
                grp = next(i for i, g in enumerate(groups) if j in g) if is_long else j
                ax.add_patch(plt.Rectangle((j - 0.4, y - 0.15), 0.8, 0.3, color=colors[grp % len(colors)], alpha=0.85))
                ax.text(j, y, str(j + 1), ha="center", va="center", fontsize=9, color="white")
        for i, g in enumerate(groups):
            for j in g:
                src, dst = ((j, i) if kind == "down" else (i, j))
                ax.annotate("", xy=(dst, 0.17), xytext=(src, 0.83),
                            arrowprops=dict(arrowstyle="->", color=colors[i % len(colors)], lw=1.2))
        ax.set_xlim(-0.7, long - 0.3)
        ax.set_ylim(-0.4, 1.4)
        ax.set_yticks([0, 1], [f"t_out={t_out}", f"t_in={t_in}"])
        ax.set_xticks([])
        ax.grid(False)
        ax.set_title(f"({'A' if kind == 'down' else 'B'}) {'down' if kind == 'down' else 'up'}-sampling "
                     f"{t_in} → {t_out}" + (" (sum)" if kind == "down" else " (copy)"))
    return fig, [], "Fig. 4: TTM grouping (Eq. 8)"


def fig7b(spec: dict, plt, sns):
    fig, ax = plt.subplots(figsize=(5, 3.6))
    runs = []
    for line in spec["lines"]:
        ys = [accuracy(line["evals"][0], T) * PERCENT for T in spec["ts"]]
        ax.plot(spec["ts"], ys, marker="o", label=line["label"])
        runs += [run_id(f) for f in line["evals"]]
    ax.set_xlabel("inference time step T")
    ax.set_ylabel("test accuracy (%)")
    ax.set_xticks(spec["ts"])
    ax.legend(frameon=False)
    return fig, runs, "Fig. 7B: accuracy by granularity g"


def fig7c(spec: dict, plt, sns):
    fig, ax = plt.subplots(figsize=(5, 3.6))
    T = str(spec["T"])
    history = load(spec["train"][0])["epochs"]
    epochs = [e["epoch"] for e in history]
    if "test_acc_calibrated" not in history[0]:
        raise ValueError(f"{spec['train'][0]} has no per-epoch calibration data; train with track_calibration")
    ax.plot(epochs, [e["test_acc_calibrated"][T] * PERCENT for e in history], label="with BN calibration")
    ax.plot(epochs, [e["test_acc_uncalibrated"][T] * PERCENT for e in history], label="running statistics")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"test accuracy at T={T} (%)")
    ax.legend(frameon=False)
    return fig, [load(spec["train"][0])["run_id"]], "Fig. 7C: effect of BN calibration during training"


def _noise(spec: dict, plt, sns, title: str):
    fig, ax = plt.subplots(figsize=(5, 3.6))
    runs = []
    for line in spec["lines"]:
        d = load(line[f"noise-{spec['kind']}"][0])
        xs = [p["sigma2"] for p in d["points"]]
        mean = [p["mean"] * PERCENT for p in d["points"]]
        ax.plot(xs, mean, marker="o", label=line["label"])
        ax.fill_between(xs, [p["min"] * PERCENT for p in d["points"]], [p["max"] * PERCENT for p in d["points"]],
                        alpha=0.25)
        runs.append(d["run_id"])
    positive = [p["sigma2"] for p in d["points"] if p["sigma2"] > 0]
    if positive:
        ax.set_xscale("symlog", linthresh=min(positive))
    ax.set_xlabel("noise variance σ²")
    ax.set_ylabel(f"test accuracy at T={d['T']} (%)")
    ax.legend(frameon=False)
    return fig, runs, title + f" (mean, min-max band over {d['repeats']} draws)"


def fig5(spec: dict, plt, sns):
    return _noise(spec, plt, sns, "Fig. 5: Gaussian noise on the weights")


def fig6(spec: dict, plt, sns):
    return _noise(spec, plt, sns, "Fig. 6: Gaussian noise on the inputs")


def _estimate(spec: dict, plt, sns, title: str):
    path = spec["group"]["estimator"][0]
    d = load(path)
    v = d["validation"]
    fig, ax = plt.subplots(figsize=(4.2, 4))
    est, meas = [x * PERCENT for x in v["predicted"]], [x * PERCENT for x in v["measured"]]
    ax.scatter(est, meas, s=10, alpha=0.6, label=f"{d['n_val']} validation configurations")
    lo, hi = min(est + meas), max(est + meas)
    ax.plot([lo, hi], [lo, hi], color="grey", lw=1, ls="--", label="estimate = measured")
    r = v["pearson_r"]
    ax.set_xlabel("estimated accuracy (%)")
    ax.set_ylabel(f"measured accuracy, {d['split']} split (%)")
    ax.legend(frameon=False, loc="upper left", title=None if r is None else f"r = {r:.3f}")
    return fig, [d["run_id"]], title


def fig7a(spec: dict, plt, sns):
    return _estimate(spec, plt, sns, "Fig. 7A: estimated vs measured accuracy (CIFAR100)")


def fig8(spec: dict, plt, sns):
    return _estimate(spec, plt, sns, "Fig. 8: estimated vs measured accuracy (CIFAR10)")


def fig9(spec: dict, plt, sns):
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(8, 3.4))
    runs = []
    for line in spec["lines"]:
        d = load(line["landscape"][0])
        alphas = [p["alpha"] for p in d["points"]]
        ax_loss.plot(alphas, [p["loss"] for p in d["points"]], marker=".", label=line["label"])
        ax_acc.plot(alphas, [p["accuracy"] * PERCENT for p in d["points"]], marker=".", label=line["label"])
        runs.append(d["run_id"])
    ax_loss.set_xlabel("α (filter-normalised direction)")
    ax_loss.set_ylabel("test loss")
    ax_acc.set_xlabel("α (filter-normalised direction)")
    ax_acc.set_ylabel(f"test accuracy at T={d['T']} (%)")
    ax_loss.legend(frameon=False)
    return fig, runs, "Fig. 9: 1D loss landscapes"
