"""PDF/A-3b: what can be checked without a full validator (veraPDF is Java and cannot be installed here).

pikepdf reads the built paper and checks, in the PDF's own objects: the XMP metadata and its PDF/A
identification (part 3, conformance B), the sRGB output intent, embedded fonts, no transparency, no
JavaScript, no encryption, printable annotations, AFRelationship on every attachment, /Lang, outline
entries, and that the document info agrees with the XMP. qpdf's structural check runs through pikepdf
(the same library as `qpdf --check`). What this does not cover is listed in README.md, "Journal style".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

from scripts.stages.metadata import load_metadata

# Document info key -> the XMP property that must hold the same value (ISO 19005-3, 6.6.2.3.1).
INFO_TO_XMP = {
    "/Title": "dc:title",
    "/Author": "dc:creator",
    "/Subject": "dc:description",
    "/Keywords": "pdf:Keywords",
    "/Producer": "pdf:Producer",
    "/Creator": "xmp:CreatorTool",
    "/CreationDate": "xmp:CreateDate",
    "/ModDate": "xmp:ModifyDate",
    "/Trapped": "pdf:Trapped",
}
PRISM = "http://prismstandard.org/namespaces/basic/3.0/"  # hyperxmp writes the DOI as prism:doi
# Annotation flags (PDF 32000-1, table 165): Print must be set; Hidden, Invisible, NoView, ToggleNoView not.
PRINT, FORBIDDEN_FLAGS = 4, 1 | 2 | 32 | 256


@pytest.fixture(scope="module")
def pdf(project: Path) -> Iterator[pikepdf.Pdf]:
    with pikepdf.open(project / "build/paper.pdf") as document:
        yield document


def dictionaries(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary | pikepdf.Stream]:
    """Every dictionary and stream object of the file (indirect objects, and dictionaries nested in them)."""
    pending = list(pdf.objects)
    seen: set[tuple[int, int]] = set()
    while pending:
        obj = pending.pop()
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            yield obj
            pending.extend(value for value in obj.values() if isinstance(value, pikepdf.Dictionary | pikepdf.Array))
        elif isinstance(obj, pikepdf.Array):
            pending.extend(value for value in obj if isinstance(value, pikepdf.Dictionary | pikepdf.Array))


def transparency(obj: pikepdf.Dictionary | pikepdf.Stream) -> str | None:
    """Why this object makes the page transparent (soft mask, group, blend mode), or None.

    Opacity (/CA, /ca) is checked where it is used, by `painted_translucent`."""
    soft_mask = obj.get("/SMask")
    if soft_mask is not None and soft_mask != pikepdf.Name("/None"):
        return "/SMask"
    group = obj.get("/Group")
    if isinstance(group, pikepdf.Dictionary) and group.get("/S") == pikepdf.Name.Transparency:
        return "transparency group"
    if obj.get("/BM") not in (None, pikepdf.Name.Normal, pikepdf.Name.Compatible):
        return f"blend mode {obj.get('/BM')}"
    return None


STROKING = {"S", "s", "B", "B*", "b", "b*"}
FILLING = {"f", "F", "f*", "B", "B*", "b", "b*", "sh", "Tj", "TJ", "'", '"', "BI"}


def painted_translucent(
    content: pikepdf.Object, resources: pikepdf.Dictionary, alpha: tuple[float, float] = (1.0, 1.0)
) -> list[str]:
    """Painting operators that run with a stroke (/CA) or fill (/ca) opacity below 1, in a content stream
    and the form XObjects it draws. matplotlib writes an ExtGState with /CA 0 for the axes' invisible
    edge and uses it only to build a path it never paints (`n`): that is not transparency."""
    found: list[str] = []
    stroke, fill = alpha
    saved: list[tuple[float, float]] = []
    for operands, operator in pikepdf.parse_content_stream(content):
        op = str(operator)
        if op == "q":
            saved.append((stroke, fill))
        elif op == "Q" and saved:
            stroke, fill = saved.pop()
        elif op == "gs":
            state = resources.ExtGState[operands[0]]
            stroke, fill = float(state.get("/CA", stroke)), float(state.get("/ca", fill))
        elif (op in STROKING and stroke < 1) or (op in FILLING and fill < 1):
            found.append(f"{op} with opacity {stroke}/{fill}")
        elif op == "Do":
            xobject = resources.XObject[operands[0]]
            if xobject.get("/Subtype") == pikepdf.Name.Form:
                found += painted_translucent(xobject, xobject.get("/Resources", resources), (stroke, fill))
            elif fill < 1:
                found.append(f"image with opacity {fill}")
    return found


def font_is_embedded(font: pikepdf.Dictionary) -> bool:
    if font.get("/Subtype") == pikepdf.Name.Type3:
        return True  # glyphs are content streams inside the font
    if font.get("/Subtype") == pikepdf.Name.Type0:
        return all(font_is_embedded(descendant) for descendant in font.DescendantFonts)
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_qpdf_finds_no_structural_problem(pdf):
    assert pdf.check_pdf_syntax() == []  # the steps of `qpdf --check`


def test_xmp_parses_and_declares_pdfa_3b(pdf):
    metadata = pdf.open_metadata()  # raises if the XMP packet is not well-formed XML
    assert metadata.pdfa_status == "3B"
    assert metadata["pdfaid:part"] == "3" and metadata["pdfaid:conformance"] == "B"
    assert "/Filter" not in pdf.Root.Metadata  # PDF/A: the metadata stream is not compressed


def test_xmp_has_title_doi_keywords_and_the_reproductions_creator(pdf, project):
    paper = load_metadata(project / "paper/metadata.yaml")
    metadata = pdf.open_metadata()
    assert metadata["dc:title"] == paper["title"]
    assert metadata[f"{{{PRISM}}}doi"] == paper["doi"]
    assert set(metadata["dc:subject"]) == set(paper["keywords"])
    assert metadata["dc:creator"] == [paper["journal"]["reproduction_creator"]]
    assert "unknown" not in " ".join(metadata["dc:creator"]).lower()
    assert metadata["dc:language"] == {"en-GB"}


def test_document_info_matches_the_xmp(pdf):
    metadata = pdf.open_metadata()
    info = pdf.docinfo
    assert set(INFO_TO_XMP) <= set(info.keys())
    for key, prop in INFO_TO_XMP.items():
        value = metadata[prop]
        if key.endswith("Date"):
            assert str(info[key]) == "D:" + value.replace("-", "").replace(":", "").replace("T", "")
        elif key == "/Author":
            assert str(info[key]) == ", ".join(value)
        elif key == "/Trapped":
            assert info[key] == pikepdf.Name("/" + value)
        else:
            assert str(info[key]) == value, key


def test_the_document_ids_do_not_depend_on_where_it_was_built(pdf, project):
    import uuid

    paper = load_metadata(project / "paper/metadata.yaml")
    seed = f"https://doi.org/{paper['doi']}|{paper['build']['source_date']}"
    assert pdf.open_metadata()["xmpMM:DocumentID"] == f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed)}"
    assert str(project) not in pdf.Root.Metadata.read_bytes().decode()


def test_srgb_output_intent(pdf):
    intents = pdf.Root.OutputIntents
    assert len(intents) == 1
    intent = intents[0]
    assert intent.S == pikepdf.Name.GTS_PDFA1
    profile = intent.DestOutputProfile
    assert int(profile.N) == 3  # an RGB profile
    assert profile.read_bytes()[36:40] == b"acsp"  # an ICC profile's signature
    assert "sRGB" in str(intent.OutputConditionIdentifier)


def test_every_font_is_embedded(pdf):
    fonts = [obj for obj in dictionaries(pdf) if obj.get("/Type") == pikepdf.Name.Font and "/BaseFont" in obj]
    assert fonts
    assert [str(font.BaseFont) for font in fonts if not font_is_embedded(font)] == []


def test_no_transparency_javascript_or_encryption(pdf):
    found = [(repr(obj.objgen), why) for obj in dictionaries(pdf) if (why := transparency(obj))]
    assert found == []
    translucent = {number: painted_translucent(page.obj, page.Resources) for number, page in enumerate(pdf.pages, 1)}
    assert {number: ops for number, ops in translucent.items() if ops} == {}
    javascript = [obj for obj in dictionaries(pdf) if "/JS" in obj or obj.get("/S") == pikepdf.Name.JavaScript]
    assert javascript == []
    assert "/JavaScript" not in pdf.Root.get("/Names", {})
    assert not pdf.is_encrypted and "/Encrypt" not in pdf.trailer


def test_every_annotation_prints(pdf):
    annotations = [annotation for page in pdf.pages for annotation in page.get("/Annots", [])]
    assert annotations  # the citations and URLs are links
    flags = [int(annotation.get("/F", 0)) for annotation in annotations]
    assert all(flag & PRINT and not flag & FORBIDDEN_FLAGS for flag in flags)


def test_every_attachment_has_an_af_relationship_and_is_in_the_catalog_af(pdf):
    attachments = dict(pdf.attachments)
    assert "manifest.json" in attachments
    for name, spec in attachments.items():
        assert spec.obj.get("/AFRelationship") == pikepdf.Name.Supplement, name
        assert "/UF" in spec.obj and spec.obj.EF.F.get("/Subtype") is not None, name
    in_catalog = {spec.objgen for spec in pdf.Root.AF}
    assert {spec.obj.objgen for spec in attachments.values()} <= in_catalog


def test_language_and_outline(pdf):
    assert str(pdf.Root.Lang) == "en-GB"
    with pdf.open_outline() as outline:
        titles = [item.title for item in outline.root]
    assert titles[0] == "Abstract" and titles[-1] == "References"
    assert "Introduction" in titles
