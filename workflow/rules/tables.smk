# Tables from result files: CSV, Markdown, LaTeX, HTML (what the report shows) and a provenance sidecar
# (run ids per cell).


rule table:
    input:
        target_inputs,
    output:
        csv=report(
            L.table_files("{name}")[0],
            caption="../report/target.rst",
            category="Tables",
            labels={"target": "{name}", "format": "CSV"},
        ),
        md=L.table_files("{name}")[1],
        tex=L.table_files("{name}")[2],
        provenance=L.table_files("{name}")[3],
        html=report(
            L.table_files("{name}")[4],
            caption="../report/target.rst",
            category="Tables",
            labels={"target": "{name}", "format": "table"},
        ),
    log:
        L.log("tables", "{name}"),
    wildcard_constraints:
        name="|".join(TABLES),
    localrule: True
    conda:
        "../envs/tfsnn.yaml"
    params:
        spec=spec_json,
        caption=target_caption,
        report_caption=report_caption,
        modules=TARGET_MODULES,
        uri=MLFLOW_URI,
        out=out_prefix,
    shell:
        "python -m tfsnn table {wildcards.name} --spec {params.spec} --preset {wildcards.preset}"
        " --out {params.out} --tracking-uri {params.uri} {params.modules} > {log} 2>&1"
