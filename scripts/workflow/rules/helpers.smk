# Helpers shared by the rules: the validated metadata (config), the data package, and input functions.
import json
from pathlib import Path
import shlex

from scripts.commands.archive import ARCHIVED_OUTPUTS, archive_name
from scripts.common import UserError, project_files
from scripts.stages.data import DESCRIPTOR, find_resource, load_descriptor, processing_options, provenance_status
from scripts.stages.metadata import validate_metadata
from scripts.paths import (
    ARCHIVES,
    COMPILED_PDF,
    CONFIG,
    FIGURE_FRAGMENT,
    LINT_REPORT_JSON,
    LINT_REPORT_MD,
    LINT_SOURCES,
    MANIFEST_JSON,
    MANIFEST_TEX,
    PAPER_PDF,
    PAPER_TEX,
    PLOTTED_FIGURE,
    PROCESSED_TABLE,
    PUBLISHED_FIGURE,
    VALIDATION_REPORT,
    VERIFY_REBUILD_LOG,
    VERIFY_REPORT_HTML,
    VERIFY_REPORT_JSON,
    for_each,
)
from scripts.stages.preflight import preflight
from scripts.stages.provenance import FIGURE_CODE

try:
    validate_metadata(config)
    PACKAGE = load_descriptor(DESCRIPTOR)
    preflight(config, PACKAGE)
except UserError as err:
    raise WorkflowError(str(err)) from None

FIGURES = {figure["id"]: figure for figure in config["figures"]}
SECTION_FILES = [section["file"] for section in config["sections"]]


wildcard_constraints:
    figure="|".join(FIGURES) or "(?!)",
    resource="|".join(r["name"] for r in PACKAGE["resources"]) or "(?!)",


def get_resource(name):
    return find_resource(PACKAGE, name)


def get_raw_file(wildcards):
    """The raw CSV of a data resource (for validate_data) or of a figure's resource."""
    name = getattr(wildcards, "resource", None) or FIGURES[wildcards.figure]["data"]
    return f"{DESCRIPTOR.parent}/{get_resource(name)['path']}"


def get_resource_entry(wildcards):
    """The resource's descriptor entry, passed to the step: editing it (e.g. its hash) reruns only that resource."""
    return json.dumps(get_resource(wildcards.resource), sort_keys=True)


def get_figure_resource_entry(wildcards):
    return json.dumps(get_resource(FIGURES[wildcards.figure]["data"]), sort_keys=True)


def get_validation_report(wildcards):
    return VALIDATION_REPORT.format(resource=FIGURES[wildcards.figure]["data"])


def get_figure_kind(wildcards):
    return FIGURES[wildcards.figure]["kind"]


def get_figure_provenance(wildcards):
    return provenance_status(get_resource(FIGURES[wildcards.figure]["data"]))


def get_processing_args(wildcards):
    """Command-line options of `scripts.stages.data <kind>`, from metadata processing.<kind>."""
    return shlex.join(processing_options(config["processing"][FIGURES[wildcards.figure]["kind"]]))


def get_provenance_args(wildcards):
    """--provenance <figure>=<status> for every figure (assembly writes the caption note from it)."""
    return " ".join(
        f"--provenance {figure_id}={provenance_status(get_resource(figure['data']))}"
        for figure_id, figure in FIGURES.items()
    )


def get_raw_files():
    return [f"{DESCRIPTOR.parent}/{resource['path']}" for resource in PACKAGE["resources"]]


def get_figure_files():
    return for_each(PUBLISHED_FIGURE, "figure", FIGURES)


def get_validation_reports():
    return for_each(VALIDATION_REPORT, "resource", [resource["name"] for resource in PACKAGE["resources"]])


def get_plotted_figures():
    return for_each(PLOTTED_FIGURE, "figure", FIGURES)


def get_processed_tables():
    return for_each(PROCESSED_TABLE, "figure", FIGURES)


def get_figure_fragments():
    return for_each(FIGURE_FRAGMENT, "figure", FIGURES)


def get_preamble_files():
    """The paper's own .sty, .cls and .tex files and what they \\input: the lint reads them for macro definitions."""
    from scripts.stages.lint.macros import paper_files

    return [path.as_posix() for path in paper_files(Path("paper"))]


def get_lint_code():
    return sorted(str(path) for path in Path("scripts/stages/lint").glob("*.py"))


def get_project_files(wildcards):
    """The project's sources as git sees them (a function: listed only when the archive is wanted)."""
    return project_files()
