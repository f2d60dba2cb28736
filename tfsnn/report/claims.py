"""The paper's directional claims, measured on this preset's runs, each with a verdict.

Never fails: a claim that does not hold is reported as such. Accuracies in percent points; a claim
"A > B" holds when A - B exceeds the preset's ``claims_margin`` (0 unless set).
"""
from __future__ import annotations

from .results import accuracy, run_id
from .table import PERCENT, Table, text_cell

HOLDS, FAILS = "holds", "does not hold"


def _pp(x: float) -> str:
    return f"{x * PERCENT:.2f}"


def _acc(group: dict, T, key: str = "accuracy") -> float:
    return accuracy(group["evals"][0], T, key)


def check_claims(spec: dict, preset: str) -> Table:
    t_max, margin = spec["t_max"], spec["margin"]
    mtt, nmt, sdt, star = spec["mtt"], spec["nmt"], spec["sdt"], spec["sdt_star"]
    table = Table("claims", "The paper's directional claims on this preset's runs", preset,
                  ["Claim", "Paper", "Measured", "Verdict", "Runs"])

    def add(claim: str, where: str, measured: str, ok: bool, groups: list[dict]) -> None:
        runs = sorted({run_id(f) for g in groups for f in g["evals"][:1]})
        verdict = text_cell(HOLDS if ok else FAILS)
        verdict.runs = runs
        table.add(Claim=claim, Paper=where, Measured=measured, Verdict=verdict, Runs=", ".join(runs))

    ts = list(range(1, t_max + 1))
    mtt_acc = [_acc(mtt, T) for T in ts]
    sdt_acc = [_acc(sdt, T) for T in ts]
    spread_mtt, spread_sdt = max(mtt_acc) - min(mtt_acc), max(sdt_acc) - min(sdt_acc)
    add(f"MTT's accuracy varies less across T=1..{t_max} than SDT's", "4.3, Table 4",
        f"spread MTT {_pp(spread_mtt)} vs SDT {_pp(spread_sdt)}", spread_sdt - spread_mtt > margin, [mtt, sdt])

    for T in spec["low_ts"]:
        loss_sdt = _acc(sdt, t_max) - _acc(sdt, T)
        loss_mtt = _acc(mtt, t_max) - _acc(mtt, T)
        add(f"from T={t_max} to T={T}, the SDT (T={t_max}) model loses more accuracy than MTT", "5.2, Table 1",
            f"SDT loses {_pp(loss_sdt)}, MTT loses {_pp(loss_mtt)}", loss_sdt - loss_mtt > margin, [sdt, mtt])

    T = spec["nmt_T"]
    if str(T) in star:
        a, b = _acc(nmt, T), _acc(star[str(T)], T)
        add(f"NMT beats SDT* (a model trained at T={T}) at T={T}", "4.1, Table 1",
            f"NMT {_pp(a)} vs SDT* {_pp(b)}", a - b > margin, [nmt, star[str(T)]])

    cal = [_acc(mtt, T) for T in ts]
    uncal = [_acc(mtt, T, "accuracy_uncalibrated") for T in ts]
    gain = min(c - u for c, u in zip(cal, uncal))
    add("BN calibration raises MTT's accuracy at every T", "4.3.2, Fig. 7C",
        f"smallest gain {_pp(gain)} (T=1..{t_max}); at T={t_max}: {_pp(uncal[-1])} -> {_pp(cal[-1])}",
        gain > margin, [mtt])

    a, b = _acc(mtt, t_max), _acc(sdt, t_max)
    add(f"MTT matches or beats SDT at T={t_max}", "5.4, Fig. 7B", f"MTT {_pp(a)} vs SDT {_pp(b)}",
        a - b >= -margin, [mtt, sdt])

    table.notes.append(f"Accuracies in percent on the test split; margin {margin * PERCENT:g} points. "
                       f"The claims are the paper's; the verdicts are this preset's.")
    return table
