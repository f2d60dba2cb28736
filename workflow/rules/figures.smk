# Figures from result files: PNG, PDF and a provenance sidecar.


rule figure:
    input:
        target_inputs,
    output:
        png=report(
            L.figure_files("{name}")[0],
            caption="../report/target.rst",
            category="Figures",
            labels={"target": "{name}"},
        ),
        pdf=L.figure_files("{name}")[1],
        provenance=L.figure_files("{name}")[2],
    log:
        L.log("figures", "{name}"),
    wildcard_constraints:
        name="|".join(FIGURES),
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
        "python -m tfsnn figure {wildcards.name} --spec {params.spec} --preset {wildcards.preset}"
        " --out {params.out} --tracking-uri {params.uri} {params.modules} > {log} 2>&1"
