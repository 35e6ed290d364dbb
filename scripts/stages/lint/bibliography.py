"""The bibliography: a .bib file read with pybtex, and its entries checked against biblatex's data model as
biber itself defines it (biber's own configuration, biber-tool.conf: entry types and their mandatory fields,
BibTeX type and field aliases, crossref inheritance)."""

from __future__ import annotations

import contextlib
import io
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

# Where Debian's biber package (and a CPAN install) keeps biber's default configuration.
BIBER_CONFIGS = (
    Path("/usr/share/perl5/Biber/biber-tool.conf"),
    *sorted(Path("/usr/local/share/perl").glob("*/Biber/biber-tool.conf")),
    *sorted(Path("/usr/lib/x86_64-linux-gnu/perl5").glob("*/Biber/biber-tool.conf")),
)
_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*(\w+)[ \t]*[{(][ \t]*([^,\s{}()]+)[ \t]*,", re.M)
NOT_ENTRIES = ("comment", "string", "preamble")
# A % comment (a whole line, or after a field's closing comma, brace or quote): biber reads it as a comment,
# also inside an entry; pybtex does not. A % inside a value (a URL's %20) is kept.
_COMMENT_LINE = re.compile(r"(?:^[ \t]*|(?<=[,}\"])[ \t]*)%.*$", re.M)


def _without_comments(text: str) -> str:
    """The text with its % comments blanked. A % inside a quoted value is the value's: INSPIRE's
    `SLACcitation = "%%CITATION = ASJOA,304,15;%%",`, which biber reads. A quote is open when the line before the %
    holds an odd number of quotes (not counting the escaped \\" of an umlaut)."""

    def blank(match: re.Match) -> str:
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[line_start : match.start()]
        if (before.count('"') - before.count('\\"')) % 2:
            return match[0]
        return " " * len(match[0])

    return _COMMENT_LINE.sub(blank, text)


@dataclass(frozen=True)
class DataModel:
    types: frozenset[str]
    type_aliases: dict[str, str]  # BibTeX type -> biblatex type (conference -> inproceedings)
    field_aliases: dict[str, str]  # BibTeX field -> biblatex field (journal -> journaltitle)
    type_fields: dict[str, set[str]] = field(default_factory=dict)  # fields an alias sets (phdthesis: type)
    # entry type -> mandatory groups; a group is met by any one of its fields (date or year, url/doi/eprint)
    mandatory: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    # (parent type, child type) -> [(parent field, child field)] for crossref inheritance beyond same-name fields
    inheritance: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)


def parse_data_model(xml_text: str) -> DataModel:
    """biber's configuration XML -> the parts of the data model the lint checks."""
    root = ElementTree.fromstring(xml_text)
    type_aliases, field_aliases, type_fields = {}, {}, {}
    for mapping in root.iterfind("./sourcemap/maps[@datatype='bibtex']/map"):
        source_type = None
        for step in mapping.iterfind("map_step"):
            if step.get("map_type_source"):
                source_type = step.get("map_type_source").lower()
                type_aliases[source_type] = step.get("map_type_target").lower()
            elif step.get("map_field_set") and source_type:  # e.g. @phdthesis -> @thesis with type = phdthesis
                type_fields.setdefault(source_type, set()).add(step.get("map_field_set").lower())
            if step.get("map_field_source") and step.get("map_field_target"):
                field_aliases[step.get("map_field_source").lower()] = step.get("map_field_target").lower()
    inheritance: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for rule in root.iterfind("./inheritance/inherit"):
        fields = [(f.get("source"), f.get("target")) for f in rule.iterfind("field")]
        for pair in rule.iterfind("type_pair"):
            inheritance.setdefault((pair.get("source"), pair.get("target")), []).extend(fields)
    mandatory: dict[str, list[tuple[str, ...]]] = {}
    for constraints in root.iterfind("./datamodel/constraints"):
        types = [t.text.strip() for t in constraints.iterfind("entrytype")]
        for constraint in constraints.iterfind("constraint[@type='mandatory']"):
            groups = [
                (child.text.strip(),) if child.tag == "field" else tuple(f.text.strip() for f in child)
                for child in constraint
                if child.tag in ("field", "fieldor", "fieldxor")
            ]
            for entry_type in types:
                mandatory.setdefault(entry_type, []).extend(groups)
    types = frozenset(t.text.strip() for t in root.iterfind("./datamodel/entrytypes/entrytype"))
    return DataModel(types, type_aliases, field_aliases, type_fields, mandatory, inheritance)


@cache
def data_model() -> DataModel | None:
    """biber's data model, or None when biber is not installed (then C003 cannot be checked)."""
    for path in BIBER_CONFIGS:
        if path.is_file():
            return parse_data_model(path.read_text(encoding="utf-8"))
    return None


@dataclass
class Entry:
    key: str
    type: str  # as written, lower-case
    fields: set[str]  # field and name-list names, lower-case, BibTeX aliases mapped to biblatex's
    line: int  # the line of its `@type{key,`
    raw: object  # the pybtex entry


def _entry_starts(text: str) -> list[tuple[re.Match, int]]:
    """Each entry's `@type{key,` match (not @comment, @string, @preamble) and its line, counted in one pass (a
    count from the top for each entry took seconds on a thesis's 2,800 entries)."""
    found, line, counted = [], 1, 0
    for match in _ENTRY_START.finditer(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        if match[1].lower() not in NOT_ENTRIES:
            found.append((match, line))
    return found


def entry_lines(text: str) -> list[tuple[str, str, int]]:
    """(type, key, line) of every entry's `@type{key,` line, in order."""
    return [(match[1].lower(), match[2], line) for match, line in _entry_starts(text)]


def _without_repeats(text: str) -> tuple[str, list[tuple[str, int, int]]]:
    """The text with every repeated key renamed (so that pybtex's strict parser still sees every syntax
    error after it), and (key, line, first line) of each repeat."""
    first: dict[str, int] = {}
    repeats = []
    pieces, last = [], 0
    for match, line in _entry_starts(text):
        key = match[2]
        if key.lower() in first:
            repeats.append((key, line, first[key.lower()]))
            pieces += [text[last : match.start(2)], f"{key}--repeated-on-line-{line}"]
            last = match.end(2)
        first.setdefault(key.lower(), line)
    return "".join([*pieces, text[last:]]), repeats


_RENAMED = re.compile(r"(\S+?)--repeated-on-line-(\d+)")


def _error_line(
    text: str, message: str, entries: list[tuple[str, str, int]] | None = None, by_key: dict[str, int] | None = None
) -> int:
    """The line of the entry a pybtex error names: by its key (a repeated entry's by the line its name carries),
    or else the entry that holds the name it quotes ("Too many commas in 'Becue, Martin ...'"); else 1.
    `entries` (entry_lines) and `by_key` (each key's first line): made once by a caller with many warnings."""
    if renamed := _RENAMED.search(message):
        return int(renamed[2])
    entries = entry_lines(text) if entries is None else entries
    by_key = {key: line for _, key, line in reversed(entries)} if by_key is None else by_key
    # a key is a whole word of the message: `smith` is not the entry `smith-2020`
    for word in re.split(r"[\s'\"(),]+", message):
        if word in by_key:
            return by_key[word]
    quoted = _TOO_MANY_COMMAS.match(message) or re.search(r"'([^']{3,})'", message)
    words = re.findall(r"[^\s\\{}]+", quoted[1])[:4] if quoted else []
    # pybtex quotes the name with its spaces made single: the same first words, across line breaks too
    if words and (at := re.search(r"[\s{}\\]*".join(map(re.escape, words)), text)):
        at_line = text.count("\n", 0, at.start()) + 1
        return max((line for _, _, line in entries if line <= at_line), default=at_line)
    return 1


_TOO_MANY_COMMAS = re.compile(r"Too many commas in '(.*)'", re.S)


def extended_name(message: str) -> bool:
    """Whether pybtex's "Too many commas" is about a name in biblatex's extended format, which biber reads:
    author = {family=Spek, given=Erik D., prefix=van der, useprefix=true} (every part a key=value)."""
    name = _TOO_MANY_COMMAS.match(message)
    return bool(name) and all(re.match(r"\s*[A-Za-z-]+\s*=", part) for part in name[1].split(","))


def parse_bib(
    text: str, model: DataModel | None, extended_names: bool = True
) -> tuple[list[Entry] | None, list[tuple[str, int, int]], list[tuple[int, str]]]:
    """(entries, repeated keys, errors as (line, message)). Never raises, never prints: pybtex's errors are
    captured (each becomes an error at its line), not printed to stderr.

    A syntax error gives no entries (the entry it breaks would be missing, making false C001s). A data error
    that BibTeX only warns about (a field given twice in an entry) still gives the entries."""
    from pybtex import errors
    from pybtex.database import parse_string
    from pybtex.scanner import PybtexError, PybtexSyntaxError

    renamed, repeats = _without_repeats(_without_comments(text))
    try:
        with errors.capture() as captured, contextlib.redirect_stderr(io.StringIO()):
            data = parse_string(renamed, "bibtex")
    except (PybtexError, ValueError, KeyError, IndexError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        shown = _RENAMED.sub(r"\1", message)  # a repeated entry's own key, not its temporary name
        return None, repeats, [(_error_line(text, message), f"does not parse: {shown}")]
    entries_at = entry_lines(text) if captured else []
    first_lines = {key: line for _, key, line in reversed(entries_at)}
    found = [
        (err.lineno or 1, f"does not parse: {err.error_type}")
        if isinstance(err, PybtexSyntaxError)
        else (_error_line(text, str(err), entries_at, first_lines), _RENAMED.sub(r"\1", str(err).splitlines()[0]))
        for err in captured
        if not (extended_names and extended_name(str(err)))
    ]
    if any(isinstance(err, PybtexSyntaxError) for err in captured):
        return None, repeats, found
    lines = {key: line for _, key, line in entry_lines(renamed)}
    aliases = model.field_aliases if model else {}
    entries = [
        Entry(
            key=key,
            type=entry.type.lower(),
            fields={aliases.get(name.lower(), name.lower()) for name in [*entry.fields.keys(), *entry.persons]},
            line=lines.get(key, 1),
            raw=entry,
        )
        for key, entry in data.entries.items()
        if "--repeated-on-line-" not in key
    ]
    for entry in entries:  # a name with nothing before its comma: biber crashes on it (SEGV in libbtparse)
        for role, persons in entry.raw.persons.items():
            for person in persons:
                if not person.last_names and person.first_names:
                    message = f"{role} ', {person}' has no family name before its comma: biber crashes when the entry"
                    found.append((entry.line, f"{message} is cited; write a body as {{Name of Body}}"))
    return entries, repeats, found


def biblatex_type(entry: Entry, model: DataModel) -> str:
    return model.type_aliases.get(entry.type, entry.type)


def resolved_fields(
    key: str, entries: dict[str, Entry], model: DataModel, seen: frozenset[str] = frozenset()
) -> set[str]:
    """An entry's fields with what it inherits: every field of its xdata entries, and its crossref parent's
    fields under the names biber's inheritance rules give them (title -> booktitle for book -> inbook...)."""
    entry = entries[key.lower()]
    names = set(entry.fields) | model.type_fields.get(entry.type, set())
    seen = seen | {key.lower()}
    if biblatex_type(entry, model) == "set":  # biber gives a set the data of its first member
        first = str(entry.raw.fields.get("entryset", "")).split(",")[0].strip().lower()
        if first in entries and first not in seen:
            names |= resolved_fields(first, entries, model, seen)
    for xdata in str(entry.raw.fields.get("xdata", "")).split(","):
        if xdata.strip().lower() in entries and xdata.strip().lower() not in seen:
            names |= resolved_fields(xdata.strip(), entries, model, seen)
    parent_key = str(entry.raw.fields.get("crossref", "")).strip().lower()
    if parent_key in entries and parent_key not in seen:
        parent = entries[parent_key]
        rules = model.inheritance.get((biblatex_type(parent, model), biblatex_type(entry, model)), [])
        for name in resolved_fields(parent_key, entries, model, seen):
            targets = [target for source, target in rules if source == name]
            names |= set(targets) or {name}
    return names


def key_aliases(entries: list[Entry]) -> dict[str, str]:
    """biblatex's `ids` field: other keys an entry may be cited by (lower-case alias -> its entry's key)."""
    return {
        alias.strip().lower(): entry.key.lower()
        for entry in entries
        for alias in str(entry.raw.fields.get("ids", "")).split(",")
        if alias.strip()
    }


def missing_fields(entries: list[Entry], model: DataModel) -> list[tuple[Entry, str]]:
    """(entry, what it lacks) for every mandatory field group of its type that it does not meet, after
    aliases and inheritance (a crossref or xdata may name its parent by one of the parent's `ids`, as biber
    resolves it)."""
    by_key = {entry.key.lower(): entry for entry in entries}
    by_key |= {alias: by_key[key] for alias, key in key_aliases(entries).items() if alias not in by_key}
    missing = []
    for entry in entries:
        groups = model.mandatory.get(biblatex_type(entry, model), [])
        if not groups:
            continue
        names = resolved_fields(entry.key, by_key, model)
        missing += [(entry, " or ".join(group)) for group in groups if not names & set(group)]
    return missing
