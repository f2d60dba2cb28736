# One training run = two jobs: train (checkpoint every epoch, resumes) and BN calibration + evaluation.


rule train:
    input:
        data=lambda w: f"results/{w.preset}/data/{PLAN.runs[w.run].dataset}.json",
        mlflow="results/{preset}/mlflow.ready",
        parent=parent_model,
    output:
        model="results/{preset}/runs/{run}/trained.pt",
        history="results/{preset}/runs/{run}/train.json",
    params:
        settings=run_settings,
        root=lambda w: run_cfg(w).data_root,
        device=lambda w: run_cfg(w).device,
        workers=lambda w: run_cfg(w).workers,
        uri=MLFLOW_URI,
        out=out_dir,
        launch=TFSNN_TRAIN,
        omp=config.get("train_threads", 2),
    threads: config.get("train_threads", 2) * TRAIN_PROCS
    resources:
        gpu=GPU * TRAIN_PROCS,
        mem_mb=resource("train", "mem_mb", 4000),
        runtime=resource("train", "runtime", 30),
    log:
        "results/{preset}/logs/train/{run}.log",
    conda:
        "../envs/tfsnn.yaml"
    shell:
        "OMP_NUM_THREADS={params.omp} {params.launch} train --stage train --settings {params.settings} --expect-run-id {wildcards.run}"
        " --data-root {params.root} --device {params.device} --workers {params.workers}"
        " --out {params.out} --preset {wildcards.preset} --tracking-uri {params.uri} > {log} 2>&1"


rule calibrate:
    input:
        model="results/{preset}/runs/{run}/trained.pt",
        history="results/{preset}/runs/{run}/train.json",
    output:
        model="results/{preset}/runs/{run}/model.pt",
        result="results/{preset}/runs/{run}/eval.json",
    params:
        root=lambda w: run_cfg(w).data_root,
        device=lambda w: run_cfg(w).device,
        uri=MLFLOW_URI,
        out=out_dir,
    threads: config.get("train_threads", 2)
    resources:
        gpu=GPU,
        mem_mb=resource("evaluate", "mem_mb", 4000),
        runtime=resource("evaluate", "runtime", 30),
    log:
        "results/{preset}/logs/calibrate/{run}.log",
    conda:
        "../envs/tfsnn.yaml"
    shell:
        "OMP_NUM_THREADS={threads} python -m tfsnn calibrate --run-dir {params.out} --data-root {params.root} --device {params.device}"
        " --preset {wildcards.preset} --tracking-uri {params.uri} > {log} 2>&1"
