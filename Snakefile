# Rebuilds "Small States' Security and Foreign Policy: A Case Study of Mongolian Permanent Neutral
# Status" (EpSBS 2018) from its sources. Run it through `make` (see README.md); the data flow:
#   data/raw -> validate_data -> process_figure_data -> plot_figure -> figures/
#   paper/metadata.yaml -> assemble -> build/tex/paper.tex -> compile -> publish -> build/paper.pdf
from snakemake.utils import min_version

min_version("9.0")


configfile: "paper/metadata.yaml"


include: "scripts/rules/common.smk"
include: "scripts/rules/figures.smk"
include: "scripts/rules/paper.smk"


rule all:
    default_target: True
    input:
        rules.publish.output.pdf,
