# Raw data -> validated -> processed table -> figure. One chain per figure, so a changed raw file
# reruns only its own figure. Each rule lists its stage's module as an input (`code`): Snakemake does
# not track the code that a shell command runs, and a changed stage must rerun.


rule validate_data:
    input:
        raw=get_raw_file,
        code="scripts/data.py",
    output:
        report="build/data/{resource}.json",
    log:
        "build/logs/validate_data/{resource}.log",
    params:
        entry=get_resource_entry,
    shell:
        "python -m scripts.data validate --resource {wildcards.resource} --report {output.report} > {log} 2>&1"


rule process_figure_data:
    input:
        raw=get_raw_file,
        validation=get_validation_report,
        code="scripts/data.py",
    output:
        table="build/processed/{figure}.csv",
    log:
        "build/logs/process_figure_data/{figure}.log",
    params:
        kind=get_figure_kind,
        resource=get_figure_resource,
        options=get_processing_args,
    shell:
        "python -m scripts.data {params.kind} --raw {input.raw} --resource {params.resource}"
        " --out {output.table} {params.options} > {log} 2>&1"


rule plot_figure:
    input:
        table="build/processed/{figure}.csv",
        style="paper/figure-style.mplstyle",
        code="scripts/figures.py",
    output:
        figure=report(
            "build/figures/{figure}.pdf",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
    log:
        "build/logs/plot_figure/{figure}.log",
    params:
        kind=get_figure_kind,
        provenance=get_figure_provenance,
    shell:
        "python -m scripts.figures {params.kind} --table {input.table} --provenance {params.provenance}"
        " --style {input.style} --out {output.figure} > {log} 2>&1"


# figures/ is replaced only from a complete plot, so a failed plot leaves the committed figure as it was.
rule publish_figure:
    input:
        figure=rules.plot_figure.output.figure,
    output:
        figure="figures/{figure}.pdf",
    log:
        "build/logs/publish_figure/{figure}.log",
    shell:
        "python -m scripts.compile publish --pdf {input.figure} --to {output.figure} > {log} 2>&1"
