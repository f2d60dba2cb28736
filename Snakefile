# tfsnn: every table and figure of "Temporal Flexibility in Spiking Neural Networks" as a target.
#   snakemake --cores all table4                                   smoke preset (CPU, minutes)
#   snakemake table4 --cores all --resources gpu=1 --configfile config/mini.yaml
#   snakemake table4 --configfile config/paper.yaml --workflow-profile workflow/profiles/slurm
#   snakemake built --report report.html                          report of every table and figure built
# Rules only wire files to `python -m tfsnn ...`; the logic lives in the tfsnn package.
import copy

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


# A preset given with --configfile replaces the default (smoke) preset instead of being merged over
# it, so that no smoke value leaks into mini or paper; --config key=value still applies on top.
if workflow.overwrite_configfiles:
    config.clear()
    config.update(copy.deepcopy(workflow.config_settings.overwrite_config))


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


rule all:
    input:
        [f for target in PLAN.targets for f in PLAN.outputs(target) + PLAN.inputs(target)],


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/targets.smk"
