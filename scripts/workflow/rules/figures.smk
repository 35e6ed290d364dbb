# Raw data -> validated -> processed table -> figure. One chain per figure, so a changed raw file
# reruns only its own figure. Each rule lists its stage's module as an input (`code`): Snakemake does
# not track the code that a shell command runs, and a changed stage must rerun.


rule validate_data:
    input:
        raw=get_raw_file,
        code="scripts/stages/data.py",
    output:
        report=VALIDATION_REPORT,
    log:
        "build/logs/validate_data/{resource}.log",
    params:
        entry=get_resource_entry,
    shell:
        "python -m scripts.stages.data validate --entry {params.entry:q} --report {output.report} > {log} 2>&1"


rule process_figure_data:
    input:
        raw=get_raw_file,
        validation=get_validation_report,
        code="scripts/stages/data.py",
    output:
        table=PROCESSED_TABLE,
    log:
        "build/logs/process_figure_data/{figure}.log",
    params:
        kind=get_figure_kind,
        entry=get_figure_resource_entry,
        options=get_processing_args,
    shell:
        "python -m scripts.stages.data {params.kind} --raw {input.raw} --entry {params.entry:q}"
        " --out {output.table} {params.options} > {log} 2>&1"


rule plot_figure:
    input:
        table=rules.process_figure_data.output.table,
        style="paper/figure-style.mplstyle",
        code="scripts/stages/figures.py",
    output:
        figure=report(
            PLOTTED_FIGURE,
            caption="../captions/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
    log:
        "build/logs/plot_figure/{figure}.log",
    params:
        kind=get_figure_kind,
        provenance=get_figure_provenance,
    shell:
        "python -m scripts.stages.figures {params.kind} --table {input.table} --provenance {params.provenance}"
        " --style {input.style} --out {output.figure} > {log} 2>&1"


# figures/ is replaced only from a complete plot, so a failed plot leaves the committed figure as it was.
rule publish_figure:
    input:
        figure=rules.plot_figure.output.figure,
        code="scripts/stages/compile.py",
    output:
        figure=PUBLISHED_FIGURE,
    log:
        "build/logs/publish_figure/{figure}.log",
    shell:
        "python -m scripts.stages.compile publish --pdf {input.figure} --to {output.figure} > {log} 2>&1"
