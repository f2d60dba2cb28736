# Analyses of a trained run (estimator, search, SEENN, noise, landscape, gradients, calibration sweep):
# one job per run and analysis, one JSON result.


rule analyze:
    input:
        model=L.model_file("{run}"),
        reads=analysis_reads,
    output:
        L.analysis_file("{run}", "{analysis}"),
    log:
        L.log("analysis", "{run}-{analysis}"),
    wildcard_constraints:
        analysis="|".join(re.escape(name) for name in ANALYSES),
    conda:
        "../envs/tfsnn.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
        mem_mb=resource("evaluate", "mem_mb"),
        runtime=resource("evaluate", "runtime"),
    params:
        args=analysis_args,
        reads=analysis_read_flags,
        root=run_root,
        device=run_device,
    shell:
        "OMP_NUM_THREADS={threads} python -m tfsnn analyze {params.args} {params.reads} --model {input.model}"
        " --data-root {params.root} --device {params.device} --out {output} > {log} 2>&1"
