"""Editors' `verify` and archivists' `archive` / `verify-archive`, on a built copy of the project.

The tests run in file order on one built copy: the archive tests first, the test that changes raw data last.
"""

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from helpers import change_first_survey_value

from scripts.commands.archive import (
    check_sums,
    debian_packages,
    installed_files_sha256,
    media_type,
    pack,
    sha256sums,
)
from scripts.commands.verify import FigureResult, figure_problems


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=project, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )


# --- pure parts ------------------------------------------------------------------------------------


def test_pack_is_deterministic_and_normalises_owner_mode_and_time():
    files = {"b.txt": b"two", "a/run": b"#!/bin/sh\n", "a/data.csv": b"x,y\n1,2\n"}
    first = pack(files, "top", 1519862400, {"a/run"})
    assert first == pack(dict(reversed(list(files.items()))), "top", 1519862400, {"a/run"})
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:gz") as tar:
        members = tar.getmembers()
    assert [member.name for member in members] == ["top/a/data.csv", "top/a/run", "top/b.txt"]
    assert {(member.uid, member.gid, member.mtime) for member in members} == {(0, 0, 1519862400)}
    assert [oct(member.mode) for member in members] == ["0o644", "0o755", "0o644"]


def test_check_sums_names_altered_missing_and_unlisted_files(tmp_path):
    files = {"data/raw/a.csv": b"1,2\n", "README.md": b"hello\n"}
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "SHA256SUMS").write_text(sha256sums(files))
    assert check_sums(tmp_path) == []
    (tmp_path / "data/raw/a.csv").write_bytes(b"1,3\n")
    (tmp_path / "README.md").unlink()
    (tmp_path / "extra.txt").write_text("?")
    problems = check_sums(tmp_path)
    assert problems[0].startswith("README.md: missing")
    assert problems[1].startswith("data/raw/a.csv: altered")
    assert problems[2] == "extra.txt: not listed in SHA256SUMS"


def test_the_debian_package_list_is_the_one_install_tex_uses(tmp_path):
    """install-tex.sh, run as a user without sudo and without TeX, names exactly the list's packages."""
    import shutil

    listing = tmp_path / "list.txt"
    listing.write_text("# comment\ntexlive-base  # why\n\nbiber\n")
    assert debian_packages(listing) == ["texlive-base", "biber"]
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("sed", "dirname"):
        (tools / tool).symlink_to(shutil.which(tool))
    (tools / "id").write_text("#!/bin/sh\necho 1000\n")
    (tools / "id").chmod(0o755)
    script = Path(__file__).parent.parent / "scripts/setup/install-tex.sh"
    ran = subprocess.run(["/bin/bash", script], env={"PATH": str(tools)}, capture_output=True, text=True)
    assert ran.returncode == 1
    hint = ran.stderr.splitlines()[1]
    assert hint.split("--no-install-recommends ", 1)[1].split() == debian_packages()


def test_installed_files_sha256_ignores_scripts_and_pip_bookkeeping():
    from importlib.metadata import FileHash, PackagePath

    def entry(path: str, digest: str | None) -> PackagePath:
        file = PackagePath(path)
        file.hash = FileHash(f"sha256={digest}") if digest else None
        return file

    files = [entry("pkg/__init__.py", "aaa"), entry("pkg-1.0.dist-info/RECORD", None)]
    base = installed_files_sha256(files)
    assert base == installed_files_sha256(list(reversed(files)))
    extra = [entry("../../../bin/tool", "bbb"), entry("pkg-1.0.dist-info/INSTALLER", "ccc")]
    assert installed_files_sha256(files + extra) == base
    assert installed_files_sha256([entry("pkg/__init__.py", "ddd")]) != base
    assert installed_files_sha256([entry("pkg-1.0.dist-info/RECORD", None)]) is None


def test_media_types_are_fixed_here_and_fall_back_on_the_bytes():
    assert media_type("scripts/workflow/rules/build.smk", b"rule x:") == "text/x-python"
    assert media_type(".ci/run", b"#!/bin/sh") == "text/x-shellscript"
    assert media_type("LICENSE", b"MIT") == "text/plain"
    assert media_type("colour.icc", b"\xff\xfe\x00\x80") == "application/octet-stream"


def result(**changes) -> FigureResult:
    fields = {
        "id": "poll",
        "provenance": "illustrative",
        "committed_sha256": "a" * 64,
        "rebuilt_sha256": "a" * 64,
        "manifest_sha256": "a" * 64,
        "comparison": "identical",
        "raw": [{"path": "data/raw/poll.csv", "expected": "1" * 64, "actual": "1" * 64}],
    }
    return FigureResult(**{**fields, **changes})


def test_figure_problems():
    assert figure_problems(result(), 2.0, {"data/raw/poll.csv": "1" * 64}) == []
    near = result(rebuilt_sha256="b" * 64, comparison="within tolerance", rms=0.5)
    assert figure_problems(near, 2.0, None) == []  # the PDF holds the committed figure, which is close enough
    far = figure_problems(result(rebuilt_sha256="b" * 64, comparison="differs", rms=7.0), 2.0, None)
    assert far == [
        "the rebuilt figure differs from figures/poll.pdf (RMS 7.00 > tolerance 2.0)",
        "the PDF's figure (sha256 aaaaaaaaaaaa…) is not the rebuilt one (bbbbbbbbbbbb…)",
    ]
    bad_hash = result(raw=[{"path": "data/raw/poll.csv", "expected": "1" * 64, "actual": "2" * 64}])
    assert "does not match" in figure_problems(bad_hash, 2.0, None)[0]
    assert figure_problems(result(manifest_sha256=None), 2.0, None) == ["the PDF's manifest does not list this figure"]


# --- archive ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(project) -> Path:
    built = run(project, "scripts.commands.build", "archive", "--cores", "2")
    assert built.returncode == 0, built.stderr
    (path,) = (project / "build/archive").glob("*.tar.gz")
    return path


def test_archive_holds_sources_outputs_lock_citation_and_ro_crate(archive):
    with tarfile.open(archive) as tar:
        names = {member.name.split("/", 1)[1] for member in tar.getmembers()}
        crate = json.load(
            tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith("ro-crate-metadata.json")))
        )
    expected = {
        "Snakefile",
        "data/raw/poll_responses.csv",
        "data/datapackage.json",
        "figures/threat-perception.pdf",
        "outputs/paper.pdf",
        "outputs/lint/report.json",
        "outputs/verify/report.html",
        "environment-lock.json",
        "CITATION.cff",
        "ro-crate-metadata.json",
        "ro-crate-preview.html",
        "LICENSE",
        "paper/RIGHTS.md",
        "SHA256SUMS",
    }
    assert expected <= names
    assert not any(name.startswith(("build/", ".venv/", ".snakemake/")) for name in names)
    graph = {entity["@id"]: entity for entity in crate["@graph"]}
    assert graph["./"]["mainEntity"] == {"@id": "Snakefile"}
    assert graph["#build"]["instrument"] == {"@id": "Snakefile"}
    assert {"@id": "outputs/paper.pdf"} in graph["#build"]["result"]
    assert (
        graph["data/raw/poll_responses.csv"]["sha256"]
        == hashlib.sha256((archive.parents[2] / "data/raw/poll_responses.csv").read_bytes()).hexdigest()
    )


def test_the_environment_lock_records_package_fingerprints_and_debian_versions(archive):
    with tarfile.open(archive) as tar:
        lock = json.load(tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith("environment-lock.json"))))
    assert re.fullmatch(r"[0-9a-f]{64}", lock["installed_files_sha256"]["snakemake"])
    assert "--require-hashes" in lock["package_hashes_note"]
    assert set(lock["debian_packages"]) == set(debian_packages())


def test_rocrate_validator_accepts_the_built_archive(archive, tmp_path):
    import rocrate_offline

    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    (folder,) = tmp_path.iterdir()
    rocrate_offline.ESCAPED.clear()
    # The Workflow Run Crate profile runs the checks of the three it builds on (test_archive_validators.py
    # runs each of them on the sources' crate).
    result = rocrate_offline.validate(folder, "workflow-run-crate-0.5", "REQUIRED")
    assert rocrate_offline.findings(result) == set()
    assert result.passed()
    assert rocrate_offline.ESCAPED == []


def test_the_rocrate_library_reads_the_crate_back(archive, tmp_path):
    from rocrate.rocrate import ROCrate

    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    (folder,) = tmp_path.iterdir()
    crate = ROCrate(folder)
    assert crate.mainEntity.id == "Snakefile"
    assert crate.datePublished.year == 2018


def test_archiving_twice_in_two_folders_gives_the_same_bytes(project, archive, tmp_path):
    """The same built project, packed again in another folder: the archive does not depend on where."""
    elsewhere = tmp_path / "another" / "folder"
    shutil.copytree(project, elsewhere, symlinks=True)
    again = run(elsewhere, "scripts.commands.archive", "pack", "--out", str(tmp_path / "again.tar.gz"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.tar.gz").read_bytes() == archive.read_bytes()


def test_verify_archive_rebuilds_the_same_pdf(project, archive):
    checked = run(project, "scripts.commands.archive", "verify", str(archive), "--cores", "2")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "PASS rebuilt PDF is byte-identical" in checked.stdout


def test_a_tampered_archive_fails_and_names_the_file(project, archive, tmp_path):
    with tarfile.open(archive) as tar:
        members = [(member, tar.extractfile(member).read()) for member in tar.getmembers()]
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(tampered, "w:gz") as out:
        for member, data in members:
            if member.name.endswith("data/raw/threat_survey.csv"):
                data = data.replace(b"40.2", b"40.3", 1)  # one byte
            out.addfile(member, io.BytesIO(data))
    checked = run(project, "scripts.commands.archive", "verify", str(tampered))
    assert checked.returncode == 1
    assert "FAIL data/raw/threat_survey.csv: altered" in checked.stdout
    assert "not rebuilt" in checked.stdout


def test_verify_archive_of_a_missing_file_is_one_readable_line(project):
    checked = run(project, "scripts.commands.archive", "verify", "no-such.tar.gz")
    assert checked.returncode == 1
    assert checked.stderr.startswith("error: no-such.tar.gz: archive not found")
    assert "Traceback" not in checked.stderr


def test_snakemake_report_registers_the_figures_and_the_pdf(project):
    made = run(project, "snakemake", "--report", "build/report.html")
    assert made.returncode == 0, made.stdout + made.stderr
    html = (project / "build/report.html").read_text()
    for name in ("paper.pdf", "neutrality-poll.pdf", "threat-perception.pdf"):
        assert name in html
    assert "data provenance: <strong>illustrative</strong>" in html  # the figure caption, rendered


# --- verify ----------------------------------------------------------------------------------------


def test_verify_passes_for_the_paper_as_built(project, archive):
    """What `make verify` runs: the workflow's verify_report step (here the one the archive needed, on the
    same built project), then the verdict on its report."""
    checked = run(project, "scripts.commands.verify", "verdict", "build/verify/report.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "verify: PASS neutrality-poll: identical" in checked.stdout
    assert "verify: PASS threat-perception: identical" in checked.stdout
    report = (project / "build/verify/report.html").read_text()
    assert "all figures verified" in report
    images = re.findall(r'<img alt="(\w+)" src="([^"]{0,30})', report)
    assert [alt for alt, _ in images] == ["committed", "rebuilt"] * 2
    assert all(source.startswith("data:image/png;base64,") for _, source in images)  # self-contained
    assert "<th>ci_low</th>" in report  # the processed rows behind the poll figure


def test_verify_a_pdf_without_manifest_fails(project):
    checked = run(project, "scripts.commands.verify", "--pdf", "figures/neutrality-poll.pdf", "--cores", "2")
    assert checked.returncode == 1
    assert "has no attached manifest.json" in checked.stdout
    assert checked.stdout.count("the PDF's manifest does not list this figure") == 2


def test_a_changed_raw_value_fails_verify_for_exactly_that_figure(project):
    change_first_survey_value(project, 50)
    unrecorded = run(project, "scripts.commands.verify", "--cores", "2")
    assert unrecorded.returncode == 1
    assert re.search(
        r"FAIL threat-perception: data/raw/threat_survey.csv: sha256 \w+ does not match", unrecorded.stdout
    )
    assert "PASS neutrality-poll" in unrecorded.stdout

    run(project, "scripts.stages.data", "rehash")  # the author records the change, but does not rebuild
    checked = run(project, "scripts.commands.verify", "--cores", "2")
    assert checked.returncode == 1
    assert "PASS neutrality-poll: identical" in checked.stdout
    assert "FAIL threat-perception: the PDF was built from another data/raw/threat_survey.csv" in checked.stdout
    assert "the rebuilt figure differs from figures/threat-perception.pdf (RMS" in checked.stdout
    summary = json.loads((project / "build/verify/report.json").read_text())
    assert [(figure["id"], figure["passed"]) for figure in summary["figures"]] == [
        ("neutrality-poll", True),
        ("threat-perception", False),
    ]
    assert 'alt="diff"' in (project / "build/verify/report.html").read_text()
