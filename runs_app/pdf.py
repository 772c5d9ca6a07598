"""A model's text (Markdown) rendered into a PDF document.

Markdown goes to HTML with markdown-it (raw HTML and images switched off: the
model's text must not make the renderer load files or URLs), and fpdf2 lays the
HTML out. fpdf2 lays out only plain text inside table cells, so cells lose
their emphasis; should its HTML support still refuse some nesting, the text is
laid out as plain paragraphs instead: a model's answer always becomes a
document. PDF's built-in fonts cover Latin-1 only, so DejaVu is embedded when
the system has it (Debian's fonts-dejavu-core, in RB_PDF_FONT_DIR); without it,
characters outside Latin-1 are replaced rather than failing the run.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from django.conf import settings
from fpdf import FPDF
from fpdf.errors import FPDFException
from fpdf.html import DEFAULT_TAG_STYLES
from markdown_it import MarkdownIt
from markdown_it.token import Token

# Debian's fonts-dejavu-core (installed in the image) ships the upright faces
# only; fonts-dejavu-extra adds the obliques. Italics use an oblique face when
# one is there and are set upright otherwise, so the core package is enough.
_REGULAR = "DejaVuSans.ttf"
_BOLD = "DejaVuSans-Bold.ttf"
_MONO = "DejaVuSansMono.ttf"
REQUIRED_FONTS = (_REGULAR, _BOLD, _MONO)
_FACES = {
    "": (_REGULAR,),
    "B": (_BOLD,),
    "I": ("DejaVuSans-Oblique.ttf", _REGULAR),
    "BI": ("DejaVuSans-BoldOblique.ttf", _BOLD),
}
# Typography models like, spelled in Latin-1 for the built-in fonts.
_PLAIN = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "…": "...",
        "•": "-",
        "\u00a0": " ",
    }
)


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).disable("image").enable("table")


def _html(text: str) -> str:
    md = _markdown()
    tokens = md.parse(text)
    in_cell = False
    for token in tokens:
        if token.type in {"th_open", "td_open"}:
            in_cell = True
        elif token.type in {"th_close", "td_close"}:
            in_cell = False
        elif in_cell and token.type == "inline":
            token.children = [Token("text", "", 0, content=_plain(token))]
    return md.renderer.render(tokens, md.options, {})


def _plain(inline: Token) -> str:
    return "".join(
        " " if child.type in {"softbreak", "hardbreak"} else child.content
        for child in inline.children or []
    )


def _font_dir() -> Path:
    return Path(settings.RB_PDF_FONT_DIR)


def _has_unicode_fonts() -> bool:
    return all((_font_dir() / name).is_file() for name in REQUIRED_FONTS)


def _latin1(text: str) -> str:
    """`text` with what Latin-1 lacks spelled plainly, accents kept where they
    decompose, and anything else shown as "?"."""
    text = unicodedata.normalize("NFKC", text.translate(_PLAIN))
    kept = []
    for char in text:
        if ord(char) < 256:
            kept.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)[0]
        kept.append(base if ord(base) < 256 else "?")
    return "".join(kept)


def _document(title: str) -> tuple[FPDF, str, str]:
    """A new one-page document, its font family and its monospace family."""
    pdf = FPDF()
    pdf.set_title(title or "Rightbrain output")
    pdf.set_creator("Rightbrain")
    pdf.add_page()
    if not _has_unicode_fonts():
        return pdf, "Helvetica", "Courier"
    fonts = _font_dir()
    for style, choices in _FACES.items():
        face = next(name for name in choices if (fonts / name).is_file())
        pdf.add_font("DejaVu", style=style, fname=fonts / face)
    pdf.add_font("DejaVuMono", fname=fonts / _MONO)
    return pdf, "DejaVu", "DejaVuMono"


def render_pdf(text: str, *, title: str = "") -> bytes:
    """The document's bytes (they start with %PDF)."""
    pdf, family, mono = _document(title)
    if family == "Helvetica":
        text = _latin1(text)
    pdf.set_font(family, size=11)
    try:
        pdf.write_html(
            _html(text),
            font_family=family,
            tag_styles={
                "code": DEFAULT_TAG_STYLES["code"].replace(family=mono),
                "pre": DEFAULT_TAG_STYLES["pre"].replace(font_family=mono),
            },
            # A plain dash, which every font has.
            ul_bullet_char="-",
        )
    except (FPDFException, NotImplementedError):
        pdf, family, _mono = _document(title)
        pdf.set_font(family, size=11)
        pdf.multi_cell(0, text=text)
    return bytes(pdf.output())
