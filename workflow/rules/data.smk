# Dataset preparation (stand-ins are generated, real data is checked when the job runs) and the
# MLflow store, created once before any training job starts.


rule prepare_data:
    output:
        L.data_manifest("{dataset}"),
    log:
        L.log("prepare", "{dataset}"),
    priority: prepare_priority
    conda:
        "../envs/tfsnn.yaml"
    resources:
        mem_mb=resource("prepare", "mem_mb"),
        runtime=resource("prepare", "runtime"),
    params:
        root=dataset_root,
    shell:
        "python -m tfsnn prepare {wildcards.dataset} --root {params.root} --manifest {output} > {log} 2>&1"


rule mlflow_store:
    output:
        L.mlflow_file("ready"),
    log:
        L.log("mlflow", "store"),
    priority: STORE_PRIORITY
    localrule: True
    conda:
        "../envs/tfsnn.yaml"
    params:
        uri=MLFLOW_URI,
    shell:
        "python -m tfsnn mlflow-init --preset {wildcards.preset} --tracking-uri {params.uri} --stamp {output}"
        " > {log} 2>&1"
