# Rebuilds "Small States' Security and Foreign Policy: A Case Study of Mongolian Permanent Neutral
# Status" (EpSBS 2018) from its sources. Run it through `make` (see README.md); the data flow:
#   data/raw -> validate_data -> process_figure_data -> plot_figure -> publish_figure -> figures/
#   paper/metadata.yaml -> assemble -> build/tex/paper.tex -> compile -> publish -> build/paper.pdf
#   paper sources + PDF -> lint_report -> build/lint/report.{json,md}; `lint` fails on lint errors
#   figures + raw data + PDF -> verify_report (`make verify`) -> archive (`make archive`)
from snakemake.utils import min_version

min_version("9.0")


configfile: "paper/metadata.yaml"


report: "scripts/workflow/captions/workflow.rst"


include: "scripts/workflow/rules/helpers.smk"
include: "scripts/workflow/rules/figures.smk"
include: "scripts/workflow/rules/paper.smk"
include: "scripts/workflow/rules/lint.smk"
include: "scripts/workflow/rules/archive.smk"


# Besides the PDF, `all` asks for the steps' own outputs: a failed step deletes its output, and
# Snakemake does not rerun a step whose output is missing if what comes after it still exists.
rule all:
    default_target: True
    input:
        rules.publish.output.pdf,
        rules.compile.output.pdf,
        get_validation_reports(),
        get_plotted_figures(),
        rules.manifest.output.json,
        rules.lint_sources.output.json,
        rules.lint_report.output.json,
