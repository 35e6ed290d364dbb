# The structure lint. lint_report is part of the default build and never fails it (lint errors do
# not block the PDF); `lint` is its own target and fails when the report has errors.


# The sources are linted while TeX compiles; lint_report then adds the one check that needs the PDF
# (its page count), so the lint adds almost nothing to a build's time.
rule lint_sources:
    input:
        config=rules.write_config.output.config,
        metadata="paper/metadata.yaml",
        sections=SECTION_FILES,
        bibliography=config["bibliography"],
        # the paper's own .sty, .cls and .tex files: their macros are known to P003
        preamble=get_preamble_files(),
        figures=get_figure_files(),  # X004 checks that every included graphic exists
        code=get_lint_code(),
    output:
        json=LINT_SOURCES.as_posix(),
    log:
        "build/logs/lint_sources.log",
    shell:
        "python -m scripts.stages.lint --exit-zero --config {input.config} --json {output.json} > {log} 2>&1"


rule lint_report:
    input:
        sources=rules.lint_sources.output.json,
        config=rules.write_config.output.config,
        pdf=rules.compile.output.pdf,  # the same bytes as build/paper.pdf; this way lint runs beside publish
        code="scripts/stages/lint/__main__.py",
    output:
        json=LINT_REPORT_JSON.as_posix(),
        markdown=LINT_REPORT_MD.as_posix(),
    log:
        "build/logs/lint_report.log",
    shell:
        "python -m scripts.stages.lint --exit-zero --config {input.config} --sources-report {input.sources} --pdf {input.pdf}"
        " --json {output.json} --markdown {output.markdown} > {log} 2>&1"


rule lint:
    input:
        report=rules.lint_report.output.json,
    log:
        "build/logs/lint.log",
    shell:
        "python -m scripts.stages.lint verdict {input.report} > {log} 2>&1"
