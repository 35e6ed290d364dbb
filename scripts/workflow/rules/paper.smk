# Metadata -> .tex (PyLaTeX) -> PDF (latexmk) -> the user-facing PDF. Sections are inputs of the
# compile only: editing one reruns compile and publish, nothing else.


# The metadata, validated once and written as the config every later step reads (none re-reads or
# re-validates paper/metadata.yaml; they read it only to name a line in an error).
rule write_config:
    input:
        metadata="paper/metadata.yaml",
        schema="scripts/workflow/schemas/metadata.schema.yaml",
        code="scripts/stages/metadata.py",
    output:
        config=CONFIG.as_posix(),
    log:
        "build/logs/write_config.log",
    shell:
        "python -m scripts.stages.metadata --metadata {input.metadata} --out {output.config} > {log} 2>&1"


rule assemble:
    input:
        config=rules.write_config.output.config,
        metadata="paper/metadata.yaml",
        code="scripts/stages/assemble.py",
    output:
        tex=PAPER_TEX.as_posix(),
        fragments=get_figure_fragments(),
    log:
        "build/logs/assemble.log",
    params:
        provenance=get_provenance_args,
    shell:
        "python -m scripts.stages.assemble --config {input.config} --metadata {input.metadata} --out {output.tex}"
        " {params.provenance} > {log} 2>&1"


# The provenance manifest that compile attaches to the PDF: sha256 of each figure, its code and raw
# data, the data's provenance status, and the Python, package and TeX versions.
rule manifest:
    input:
        config=rules.write_config.output.config,
        package=DESCRIPTOR.as_posix(),
        figures=get_figure_files(),
        raw=get_raw_files(),
        code=["scripts/stages/provenance.py", *FIGURE_CODE],
        requirements="requirements.txt",
    output:
        json=MANIFEST_JSON.as_posix(),
        tex=MANIFEST_TEX.as_posix(),
    log:
        "build/logs/manifest.log",
    shell:
        "python -m scripts.stages.provenance write --config {input.config} --descriptor {input.package}"
        " --json {output.json} --tex {output.tex} > {log} 2>&1"


rule compile:
    input:
        tex=rules.assemble.output.tex,
        fragments=rules.assemble.output.fragments,
        sections=SECTION_FILES,
        bibliography=config["bibliography"],
        style="paper/epsbs.sty",
        figures=get_figure_files(),
        # Not read by TeX: with the tables as inputs, a build from a fresh clone runs every figure's
        # chain (checking the raw data's hashes, redrawing figures/) instead of trusting figures/.
        tables=get_processed_tables(),
        manifest=rules.manifest.output.tex,
        manifest_json=rules.manifest.output.json,  # attached to the PDF by the fragment
        code="scripts/stages/compile.py",
    output:
        pdf=COMPILED_PDF.as_posix(),
    log:
        "build/logs/compile.log",
    params:
        source_date=config["build"]["source_date"],
        timeout=config["build"]["latexmk_timeout_seconds"],
    shell:
        "python -m scripts.stages.compile pdf --tex {input.tex} --source-date {params.source_date}"
        " --bibliography {input.bibliography} --timeout {params.timeout} > {log} 2>&1"


# A separate step, so that a failed compile never removes the last good build/paper.pdf.
rule publish:
    input:
        pdf=rules.compile.output.pdf,
        code="scripts/stages/compile.py",
    output:
        pdf=report(PAPER_PDF.as_posix(), caption="../captions/paper.rst", category="Paper"),
    log:
        "build/logs/publish.log",
    shell:
        "python -m scripts.stages.compile publish --pdf {input.pdf} --to {output.pdf} > {log} 2>&1"
