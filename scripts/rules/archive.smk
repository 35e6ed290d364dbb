# For editors and archivists: verify_report redraws every figure from the raw data in a clean
# temporary folder and compares it with figures/ and the PDF's manifest (it never fails the workflow;
# `make verify` does, on a failed figure). archive packs a version that rebuilds to the same bytes.


rule verify_report:
    input:
        pdf=rules.publish.output.pdf,
        figures=get_figure_files(),
        raw=get_raw_files(),
        code=["scripts/verify.py", "scripts/provenance.py", *FIGURE_CODE],
    output:
        html="build/verify/report.html",
        json="build/verify/report.json",
    log:
        main="build/logs/verify_report.log",
        rebuild="build/logs/verify_report-rebuild.log",
    threads: 2  # the nested figure rebuild runs jobs in parallel (capped at --cores)
    shell:
        "python -m scripts.verify --exit-zero --pdf {input.pdf} --html {output.html} --json {output.json}"
        " --cores {threads} --rebuild-log {log.rebuild} > {log.main} 2>&1"


rule archive:
    input:
        outputs=list(ARCHIVED_OUTPUTS),
        sources=get_project_files,
        code="scripts/archive.py",
    output:
        archive=f"build/archive/{archive_name(config)}.tar.gz",
    log:
        "build/logs/archive.log",
    shell:
        "python -m scripts.archive pack --out {output.archive} > {log} 2>&1"
