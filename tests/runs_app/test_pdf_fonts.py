"""PDF output keeps text beyond Latin-1 with the fonts the image installs.

The Docker image installs Debian's fonts-dejavu-core, which has the upright
DejaVu faces only. These tests build a font folder holding exactly what that
package installs (read from dpkg on this machine) and check that a document in
Cyrillic and Greek embeds DejaVu and keeps every character, italics included.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from runs_app.pdf import REQUIRED_FONTS, render_pdf

DEJAVU_CORE = "fonts-dejavu-core"
TEXT = "# Привет, мир\n\nΚαλημέρα *κόσμε* and **жирный** `код`: “quoted” — done."


def _package_fonts(package: str) -> list[Path]:
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not available to list what fonts-dejavu-core installs")
    listing = subprocess.run(
        ["dpkg", "-L", package], capture_output=True, text=True, check=False
    )
    fonts = [
        Path(line) for line in listing.stdout.splitlines() if line.endswith(".ttf")
    ]
    if listing.returncode != 0 or not fonts:
        pytest.skip(f"{package} is not installed on this machine")
    return fonts


def _text_streams(pdf: bytes) -> str:
    """Every stream of the document, inflated where compressed, as one string."""
    parts = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            parts.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            parts.append(raw.decode("latin-1"))
    return "\n".join(parts)


def _mapped_code_points(pdf: bytes) -> set[str]:
    # The ToUnicode map of an embedded font pairs each glyph with the text it
    # stands for: `<glyph> <code point>`.
    return {
        chr(int(point, 16))
        for point in re.findall(
            r"<[0-9A-Fa-f]{4}>\s*<([0-9A-Fa-f]{4})>", _text_streams(pdf)
        )
    }


@pytest.fixture
def core_fonts_only(tmp_path, settings):
    """A font folder with exactly what fonts-dejavu-core installs."""
    for font in _package_fonts(DEJAVU_CORE):
        (tmp_path / font.name).symlink_to(font)
    settings.RB_PDF_FONT_DIR = str(tmp_path)
    return tmp_path


def test_the_fonts_pdf_output_needs_are_all_in_fonts_dejavu_core():
    installed = {font.name for font in _package_fonts(DEJAVU_CORE)}
    assert set(REQUIRED_FONTS) <= installed


def test_the_default_font_folder_is_where_debian_installs_dejavu(settings):
    installed = {str(font.parent) for font in _package_fonts(DEJAVU_CORE)}
    assert installed == {settings.RB_PDF_FONT_DIR}


def test_text_beyond_latin1_is_kept_with_only_fonts_dejavu_core(core_fonts_only):
    assert not (core_fonts_only / "DejaVuSans-Oblique.ttf").exists()

    pdf = render_pdf(TEXT, title="Greetings")

    assert pdf.startswith(b"%PDF")
    assert b"/FontFile2" in pdf  # an embedded TrueType font
    assert b"DejaVuSans" in pdf
    assert b"/Helvetica" not in pdf
    kept = _mapped_code_points(pdf)
    for word in ("Привет", "мир", "Καλημέρα", "κόσμε", "жирный", "код"):
        assert set(word) <= kept, word
    assert {"“", "”", "—"} <= kept


def test_without_the_fonts_text_beyond_latin1_is_replaced_not_fatal(tmp_path, settings):
    settings.RB_PDF_FONT_DIR = str(tmp_path)  # an empty folder

    pdf = render_pdf(TEXT)

    assert pdf.startswith(b"%PDF")
    assert b"/FontFile2" not in pdf
    assert b"/Helvetica" in pdf
    assert b"DejaVu" not in pdf
