# Extra evaluations of a calibrated model: one job evaluates every requested T of one kind.


rule evaluate:
    input:
        L.model_file("{run}"),
    output:
        L.extra_eval("{run}", "{kind}"),
    log:
        L.log("evaluate", "{run}-{kind}"),
    conda:
        "../envs/tfsnn.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
        mem_mb=resource("evaluate", "mem_mb"),
        runtime=resource("evaluate", "runtime"),
    params:
        args=eval_args,
        root=run_root,
        device=run_device,
    shell:
        "OMP_NUM_THREADS={threads} python -m tfsnn eval --model {input} {params.args} --data-root {params.root} --device {params.device}"
        " --out {output} > {log} 2>&1"
