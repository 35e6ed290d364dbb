"""Lint output: compiler-style lines, a JSON report and a Markdown report with the coverage matrix."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from scripts.stages.lint.checks import CHECKS, Coverage, Finding
from scripts.stages.lint.research_questions import similarity_settings, verdict

SEVERITIES = ("error", "warning", "info")


def line_of(item: Finding) -> str:
    return f"{item.path}:{item.line}:{item.col}: {item.severity} {item.code} {item.message}"


def counts(findings: list[Finding]) -> dict[str, int]:
    return {severity: sum(1 for f in findings if f.severity == severity) for severity in SEVERITIES}


def summary(findings: list[Finding]) -> str:
    n = counts(findings)
    return f"lint: {n['error']} errors, {n['warning']} warnings, {n['info']} notes"


def decided(top: dict[str, Any] | None, similarity: dict[str, Any]) -> str:
    """A section's verdict as the check decided it per question (research_questions.question_verdicts)."""
    return top.get("verdict") or verdict(top, similarity) if top else verdict(top, similarity)


def to_json(findings: list[Finding], coverage: Coverage, similarity: dict[str, Any]) -> str:
    similarity = similarity_settings({"similarity": similarity})
    report = {
        "summary": counts(findings),
        "findings": [asdict(f) for f in findings],
        "research_questions": [
            {
                **question,
                "sections": {
                    sid: {"status": decided(matches[0] if matches else None, similarity), "best": matches}
                    for sid, matches in coverage.matches.get(question["id"], {}).items()
                },
            }
            for question in coverage.questions
        ],
        "thresholds": similarity,
        "checks": {code: {"severity": s, "description": d} for code, (s, d) in CHECKS.items()},
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def cell(best: list[dict[str, Any]], similarity: dict[str, Any]) -> str:
    top = best[0] if best else None
    return f"{decided(top, similarity)} ({top['score']:.3f})" if top else "not addressed"


def to_markdown(findings: list[Finding], coverage: Coverage, similarity: dict[str, Any]) -> str:
    similarity = similarity_settings({"similarity": similarity})
    lines = ["# Lint report", "", f"**{summary(findings)}**", ""]
    if coverage.questions:
        sections = list(next(iter(coverage.matches.values()), {}))
        lines += ["## Research questions × sections", ""]
        lines += [
            f"Best sentence of the section by {similarity['method']} similarity: addressed by evidence ≥ "
            f"{similarity['addressed']}, weak ≥ {similarity['weak']}; an `\\addresses{{…}}` marker is "
            "authoritative. Captions, headings, floats, the research-question section and sentences that "
            "name or restate a question, or say what the authors did not do, are no evidence. Outside the "
            "answer sections a sentence weighs half"
            + ("; a finding under a heading that names the question, three times." if similarity["structure"] else ".")
            + f" Once an answer section addresses a question, the other answer sections need "
            f"{similarity['other_answer_sections']} × {similarity['addressed']}, and so does a section whose "
            "title names the question's own topic (of its half-weighed score). A sentence clearly closer to "
            "another question of the paper is that question's evidence."
            + (
                " When the answer sections name at least two of the paper's questions, and at least half of them "
                '("RQ2: ..."), a question they never name is addressed by a marker only.'
                if similarity["naming"]
                else ""
            ),
            "",
            "Similarity is evidence, not proof: on real papers held out from the check's tuning, about four in "
            "ten of the sections it called addressed by evidence did not really answer the question, and about "
            'half of the questions that the papers never answer were called addressed (README, "Lint"). Read the '
            "sentence below each verdict; mark where a question is answered with `\\addresses{RQn}`.",
            "",
            "| question | " + " | ".join(sections) + " |",
            "|---|" + "---|" * len(sections),
        ]
        for question in coverage.questions:
            cells = [cell(coverage.matches[question["id"]][sid], similarity) for sid in sections]
            lines.append(f"| {question['id']} | " + " | ".join(cells) + " |")
        lines += ["", "### Questions and their best sentences", ""]
        for question in coverage.questions:
            follow_up = (
                " (no word of its own: matched with the question before it too)" if question.get("context") else ""
            )
            lines.append(
                f"- **{question['id']}** ({question['file']}:{question['line']}): {question['text']}{follow_up}"
            )
            for sid, best in coverage.matches[question["id"]].items():
                lines.append(f"  - {sid}: {decided(best[0] if best else None, similarity)}")
                for match in best:
                    how = "marker" if match["marker"] else f"{match['score']:.3f}"
                    text = match.get("sentence", "").replace("|", "\\|")
                    lines.append(f"    - {match['file']}:{match['line']} ({how}): {text}")
        lines.append("")
    lines += ["## Findings", ""]
    if findings:
        lines += ["| where | severity | code | message |", "|---|---|---|---|"]
        for item in findings:
            message = item.message.replace("|", "\\|")
            lines.append(f"| {item.path}:{item.line}:{item.col} | {item.severity} | {item.code} | {message} |")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"
