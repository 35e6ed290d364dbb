"""Lint output: compiler-style lines, a JSON report and a Markdown report with the coverage matrix."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from scripts.lint.checks import CHECKS, Coverage, Finding, status

SEVERITIES = ("error", "warning", "info")


def line_of(item: Finding) -> str:
    return f"{item.path}:{item.line}:{item.col}: {item.severity} {item.code} {item.message}"


def counts(findings: list[Finding]) -> dict[str, int]:
    return {severity: sum(1 for f in findings if f.severity == severity) for severity in SEVERITIES}


def summary(findings: list[Finding]) -> str:
    n = counts(findings)
    return f"lint: {n['error']} errors, {n['warning']} warnings, {n['info']} notes"


def to_json(findings: list[Finding], coverage: Coverage, similarity: dict[str, Any]) -> str:
    report = {
        "summary": counts(findings),
        "findings": [asdict(f) for f in findings],
        "research_questions": [
            {
                **question,
                "sections": {
                    sid: {"status": status(matches[0]["score"] if matches else 0.0, similarity), "best": matches}
                    for sid, matches in coverage.matches.get(question["id"], {}).items()
                },
            }
            for question in coverage.questions
        ],
        "thresholds": similarity,
        "checks": {code: {"severity": s, "description": d} for code, (s, d) in CHECKS.items()},
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def to_markdown(findings: list[Finding], coverage: Coverage, similarity: dict[str, Any]) -> str:
    lines = ["# Lint report", "", f"**{summary(findings)}**", ""]
    if coverage.questions:
        sections = list(next(iter(coverage.matches.values()), {}))
        lines += ["## Research questions × sections", ""]
        lines += [
            "Best TF-IDF cosine of the question with a paragraph of the section: "
            f"addressed ≥ {similarity['addressed']}, weak ≥ {similarity['weak']}; "
            "an `\\addresses{…}` marker counts as 1.",
            "",
            "| question | " + " | ".join(sections) + " |",
            "|---|" + "---|" * len(sections),
        ]
        for question in coverage.questions:
            cells = []
            for sid in sections:
                best = coverage.matches[question["id"]][sid]
                score = best[0]["score"] if best else 0.0
                cells.append(f"{status(score, similarity)} ({score:.3f})")
            lines.append(f"| {question['id']} | " + " | ".join(cells) + " |")
        lines += ["", "### Questions and their best paragraphs", ""]
        for question in coverage.questions:
            lines.append(f"- **{question['id']}** ({question['file']}:{question['line']}): {question['text']}")
            for sid, best in coverage.matches[question["id"]].items():
                where = ", ".join(f"{m['file']}:{m['line']} ({m['score']:.3f})" for m in best)
                lines.append(f"  - {sid}: {where or '-'}")
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
