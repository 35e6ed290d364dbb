"""Lint the paper's structure: research questions, journal template, citations, figures.

`python -m scripts.stages.lint` (see `__main__`); the checks and their codes are listed in `checks.CHECKS`.
"""
