# Analyses of a trained run (estimator, search, SEENN, noise, landscape, gradients, calibration sweep):
# one job per run and analysis, one JSON result.


rule analyze:
    input:
        model="results/{preset}/runs/{run}/model.pt",
        extra=lambda w: PLAN.analysis_inputs(w.run, w.analysis),
    output:
        "results/{preset}/runs/{run}/analysis-{analysis}.json",
    params:
        args=lambda w: " ".join(PLAN.analysis_args(w.analysis)),
        estimator=lambda w, input: f"--estimator {input.extra}" if input.extra else "",
        root=lambda w: run_cfg(w).data_root,
        device=lambda w: run_cfg(w).device,
    wildcard_constraints:
        analysis="|".join(Plan.ANALYSES),
    threads: config.get("train_threads", 2)
    resources:
        gpu=GPU,
        mem_mb=resource("evaluate", "mem_mb", 4000),
        runtime=resource("evaluate", "runtime", 30),
    log:
        "results/{preset}/logs/analysis/{run}-{analysis}.log",
    conda:
        "../envs/tfsnn.yaml"
    shell:
        "OMP_NUM_THREADS={threads} python -m tfsnn analyze {params.args} {params.estimator} --model {input.model}"
        " --data-root {params.root} --device {params.device} --out {output} > {log} 2>&1"
