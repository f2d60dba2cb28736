# One training run = two jobs: train (checkpoint every epoch, resumes) and BN calibration + evaluation.


rule train:
    input:
        data=run_manifest,
        mlflow=L.mlflow_file("ready"),
        parent=parent_model,
    output:
        model=L.trained_model("{run}"),
        history=L.train_file("{run}"),
    log:
        L.log("train", "{run}"),
    priority: run_priority
    conda:
        "../envs/tfsnn.yaml"
    threads: THREADS * TRAIN_PROCS
    resources:
        gpu=GPU * TRAIN_PROCS,
        nodes=1,  # SLURM: --nodes=1, all of a torchrun --standalone job's GPUs on one node
        mem_mb=resource("train", "mem_mb"),
        runtime=resource("train", "runtime"),
    params:
        settings=run_settings,
        root=run_root,
        device=run_device,
        workers=run_workers,
        uri=MLFLOW_URI,
        out=out_dir,
        launch=TFSNN_TRAIN,
        omp=THREADS,
    shell:
        "OMP_NUM_THREADS={params.omp} {params.launch} train --stage train --settings {params.settings} --expect-run-id {wildcards.run}"
        " --data-root {params.root} --device {params.device} --workers {params.workers}"
        " --out {params.out} --preset {wildcards.preset} --tracking-uri {params.uri} > {log} 2>&1"


rule calibrate:
    input:
        model=L.trained_model("{run}"),
        history=L.train_file("{run}"),
    output:
        model=L.model_file("{run}"),
        result=L.eval_file("{run}"),
    log:
        L.log("calibrate", "{run}"),
    conda:
        "../envs/tfsnn.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
        mem_mb=resource("evaluate", "mem_mb"),
        runtime=resource("evaluate", "runtime"),
    params:
        root=run_root,
        device=run_device,
        uri=MLFLOW_URI,
        out=out_dir,
    shell:
        "OMP_NUM_THREADS={threads} python -m tfsnn calibrate --run-dir {params.out} --data-root {params.root} --device {params.device}"
        " --preset {wildcards.preset} --tracking-uri {params.uri} > {log} 2>&1"
