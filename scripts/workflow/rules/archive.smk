# For editors and archivists: verify_report redraws every figure from the raw data in a clean
# temporary folder and compares it with figures/ and the PDF's manifest (it never fails the workflow;
# `make verify` does, on a failed figure). archive packs a version that rebuilds to the same bytes.


rule verify_report:
    input:
        pdf=rules.publish.output.pdf,
        config=rules.write_config.output.config,
        package=DESCRIPTOR.as_posix(),
        figures=get_figure_files(),
        raw=get_raw_files(),
        code=["scripts/commands/verify.py", "scripts/stages/provenance.py", *FIGURE_CODE],
        # The figures are redrawn by the workflow itself in a clean copy of the project's files.
        sources=get_project_files,
    output:
        html=VERIFY_REPORT_HTML.as_posix(),
        json=VERIFY_REPORT_JSON.as_posix(),
    log:
        main="build/logs/verify_report.log",
        rebuild=VERIFY_REBUILD_LOG.as_posix(),
    threads: 2  # the nested figure rebuild runs jobs in parallel (capped at --cores)
    shell:
        "python -m scripts.commands.verify --exit-zero --config {input.config} --pdf {input.pdf} --html {output.html} --json {output.json}"
        " --cores {threads} --rebuild-log {log.rebuild} > {log.main} 2>&1"


rule archive:
    input:
        outputs=list(ARCHIVED_OUTPUTS),
        config=rules.write_config.output.config,
        sources=get_project_files,
        code="scripts/commands/archive.py",
    output:
        archive=(ARCHIVES / f"{archive_name(config)}.tar.gz").as_posix(),
    log:
        "build/logs/archive.log",
    shell:
        "python -m scripts.commands.archive pack --config {input.config} --out {output.archive} > {log} 2>&1"
