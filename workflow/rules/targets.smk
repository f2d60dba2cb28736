# One named target per table and figure of the paper: `snakemake --cores all table4`.

for _target in TARGETS:

    rule:
        name:
            _target
        input:
            PLAN.outputs(_target),
        localrule: True
        default_target: False
