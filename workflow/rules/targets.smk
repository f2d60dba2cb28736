# One named target per table and figure of the paper: `snakemake --cores all table4`.
# A target also lists the run results its table or figure reads: Snakemake does not rebuild a table
# whose (intermediate) inputs were deleted unless they are asked for, so asking for them here makes
# `snakemake table4` rebuild a deleted run result, and then the table, and nothing else.

for _target in PLAN.targets:

    rule:
        name:
            _target
        default_target: False
        input:
            PLAN.outputs(_target),
            PLAN.inputs(_target),
        localrule: True


# Every table and figure built so far at this preset (tables with their HTML): the report of what
# exists, whatever was built, is `snakemake built --report report.html`.
rule built:
    input:
        built_outputs,
    localrule: True
