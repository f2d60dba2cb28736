# Figures from result files: PNG, PDF and a provenance sidecar.

FIGURES = [t for t, (kind, _) in PLAN.targets.items() if kind == "figure"]


rule figure:
    input:
        lambda w: PLAN.inputs(w.name),
    output:
        png=report(
            "figures/{preset}/{name}.png",
            caption="../report/target.rst",
            category="Figures",
            labels={"target": "{name}"},
        ),
        pdf="figures/{preset}/{name}.pdf",
        provenance="figures/{preset}/{name}.provenance.json",
    params:
        spec=spec_json,
        caption=lambda w: TARGETS[w.name][1],
        uri=MLFLOW_URI,
        out=out_prefix,
    wildcard_constraints:
        name="|".join(FIGURES),
    log:
        "results/{preset}/logs/figures/{name}.log",
    localrule: True
    conda:
        "../envs/tfsnn.yaml"
    shell:
        "python -m tfsnn figure {wildcards.name} --spec {params.spec} --preset {wildcards.preset}"
        " --out {params.out} --tracking-uri {params.uri} > {log} 2>&1"
