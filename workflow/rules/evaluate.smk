# Extra evaluations of a calibrated model: one job evaluates every requested T of one kind.


rule evaluate:
    input:
        "results/{preset}/runs/{run}/model.pt",
    output:
        "results/{preset}/runs/{run}/eval-{kind}.json",
    params:
        args=lambda w: " ".join(PLAN.eval_args(w.kind)),
        root=lambda w: run_cfg(w).data_root,
        device=lambda w: run_cfg(w).device,
    threads: config.get("train_threads", 2)
    resources:
        gpu=GPU,
        mem_mb=resource("evaluate", "mem_mb", 4000),
        runtime=resource("evaluate", "runtime", 30),
    log:
        "results/{preset}/logs/evaluate/{run}-{kind}.log",
    conda:
        "../envs/tfsnn.yaml"
    shell:
        "OMP_NUM_THREADS={threads} python -m tfsnn eval --model {input} {params.args} --data-root {params.root} --device {params.device}"
        " --out {output} > {log} 2>&1"
