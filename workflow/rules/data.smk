# Dataset preparation (stand-ins are generated, real data is checked when the job runs) and the
# MLflow store, created once before any training job starts.


rule prepare_data:
    output:
        "results/{preset}/data/{dataset}.json",
    params:
        root=lambda w: DATASET_ROOTS[w.dataset],
    log:
        "results/{preset}/logs/prepare/{dataset}.log",
    conda:
        "../envs/tfsnn.yaml"
    shell:
        "python -m tfsnn prepare {wildcards.dataset} --root {params.root} --manifest {output} > {log} 2>&1"


rule mlflow_store:
    output:
        "results/{preset}/mlflow.ready",
    params:
        uri=MLFLOW_URI,
    log:
        "results/{preset}/logs/mlflow_store.log",
    localrule: True
    conda:
        "../envs/tfsnn.yaml"
    shell:
        "python -m tfsnn mlflow-init --preset {wildcards.preset} --tracking-uri {params.uri} --stamp {output}"
        " > {log} 2>&1"
