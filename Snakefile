# tfsnn: every table and figure of "Temporal Flexibility in Spiking Neural Networks" as a target.
#   snakemake --cores all table4                                   smoke preset (CPU, minutes)
#   snakemake table4 --cores all --resources gpu=1 --configfile config/mini.yaml
#   snakemake table4 --configfile config/paper.yaml --workflow-profile workflow/profiles/slurm
#   snakemake built --report report.html                          report of every table and figure built
# Rules only wire files to `python -m tfsnn ...`; the logic lives in the tfsnn package.
import copy

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

from tfsnn.errors import TfsnnError
from tfsnn.pipeline.plan import validated

min_version("9.0")


configfile: "config/config.yaml"


# A preset given with --configfile replaces the default (smoke) preset instead of being merged over
# it, so that no smoke value leaks into mini or paper; --config key=value still applies on top.
if workflow.overwrite_configfiles:
    config.clear()
    config.update(copy.deepcopy(workflow.config_settings.overwrite_config))


# Checked against workflow/schemas/config.schema.yaml (tfsnn.pipeline.preset_schema): --config strings
# read as YAML (gpu=true), an unknown key or a wrong value fails in one line (did-you-mean), defaults in.
try:
    validated(config)
except TfsnnError as e:
    raise WorkflowError(f"config error: {e}")


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
