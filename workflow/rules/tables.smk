# Tables from result files: CSV, Markdown, LaTeX and a provenance sidecar (run ids per cell).

TABLES = [t for t, (kind, _) in PLAN.targets.items() if kind == "table"]


rule table:
    input:
        lambda w: PLAN.inputs(w.name),
    output:
        csv=report(
            "results/{preset}/tables/{name}.csv",
            caption="../report/target.rst",
            category="Tables",
            labels={"target": "{name}"},
        ),
        md="results/{preset}/tables/{name}.md",
        tex="results/{preset}/tables/{name}.tex",
        provenance="results/{preset}/tables/{name}.provenance.json",
    params:
        spec=spec_json,
        caption=lambda w: TARGETS[w.name][1],
        uri=MLFLOW_URI,
        out=out_prefix,
    wildcard_constraints:
        name="|".join(TABLES),
    log:
        "results/{preset}/logs/tables/{name}.log",
    localrule: True
    conda:
        "../envs/tfsnn.yaml"
    shell:
        "python -m tfsnn table {wildcards.name} --spec {params.spec} --preset {wildcards.preset}"
        " --out {params.out} --tracking-uri {params.uri} > {log} 2>&1"
