# The structure lint. lint_report is part of the default build and never fails it (lint errors do
# not block the PDF); `lint` is its own target and fails when the report has errors.


rule lint_report:
    input:
        metadata="paper/metadata.yaml",
        sections=SECTION_FILES,
        bibliography=config["bibliography"],
        pdf=rules.publish.output.pdf,
        code=get_lint_code(),
    output:
        json="build/lint/report.json",
        markdown="build/lint/report.md",
    log:
        "build/logs/lint_report.log",
    shell:
        "python -m scripts.lint --exit-zero --pdf {input.pdf} --json {output.json}"
        " --markdown {output.markdown} > {log} 2>&1"


rule lint:
    input:
        report=rules.lint_report.output.json,
    log:
        "build/logs/lint.log",
    shell:
        "python -m scripts.lint verdict {input.report} > {log} 2>&1"
