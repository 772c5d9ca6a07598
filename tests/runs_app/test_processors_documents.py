"""Checklist item 46: document_content_extractor puts the text of an uploaded PDF,
DOCX, PPTX, CSV, XLSX or TXT file, named by the variable, into the prompt."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document
from openpyxl import Workbook
from pptx import Presentation
from pptx.util import Inches

from runs_app.models import RunFile, TaskRun

pytestmark = pytest.mark.usefixtures("run_media")

GOOD = {"sentiment": "positive"}


def _pdf(text: str) -> bytes:
    """A one-page PDF showing `text`, written out by hand (xref offsets and all)."""
    content = f"BT /F1 18 Tf 20 100 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 144] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _docx() -> bytes:
    document = Document()
    document.add_heading("Returns policy", level=1)
    document.add_paragraph("Items may be returned within 30 days.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Item"
    table.cell(0, 1).text = "Refund"
    table.cell(1, 0).text = "Blender"
    table.cell(1, 1).text = "Full"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _pptx() -> bytes:
    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Quarterly results"
    slide.placeholders[1].text = "Revenue grew 12 percent"
    box = slide.shapes.add_textbox(Inches(1), Inches(5), Inches(4), Inches(1))
    box.text_frame.text = "Churn fell to 3 percent"
    slide.notes_slide.notes_text_frame.text = "Mention the new region"
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def _xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    sheet.append(["order", "customer", "total"])
    sheet.append([1001, "Acme, Inc.", 129.5])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


DOCUMENTS = {
    "invoice.pdf": (
        lambda: _pdf("Invoice 42 total 99 EUR"),
        ["Invoice 42 total 99 EUR"],
    ),
    "policy.docx": (
        _docx,
        ["Returns policy", "returned within 30 days", "Blender | Full"],
    ),
    "results.pptx": (
        _pptx,
        [
            "Quarterly results",
            "Revenue grew 12 percent",
            "Churn fell to 3 percent",
            "Mention the new region",
        ],
    ),
    "orders.xlsx": (
        _xlsx,
        ["Sheet: Orders", "order,customer,total", '1001,"Acme, Inc.",129.5'],
    ),
    "orders.csv": (
        lambda: b"order,total\n1001,129.50\n",
        ["order,total\n1001,129.50"],
    ),
    "notes.txt": (
        lambda: "Café delivery was late.".encode(),
        ["Café delivery was late."],
    ),
}


def _task(run_task, **config):
    return run_task(
        user_prompt="Read: {doc}",
        input_processors=[
            {
                "param_name": "doc",
                "input_processor": "document_content_extractor",
                "config": config,
            }
        ],
    )


def _run(client, task, filename, files):
    """A multipart run whose `doc` names `filename`; `files` are (name, bytes)."""
    return client.client.post(
        client.url(f"/task/{task['id']}/run"),
        {
            "task_input": json.dumps({"doc": filename}),
            "task_files": [SimpleUploadedFile(name, data) for name, data in files],
        },
    )


def _prompt(fake_llm) -> str:
    return fake_llm.requests[-1]["messages"][-1]["content"]


@pytest.mark.parametrize("filename", list(DOCUMENTS))
def test_the_named_documents_text_replaces_the_filename(run_task, fake_llm, filename):
    make, expected = DOCUMENTS[filename]
    data = make()
    client, task = _task(run_task)
    fake_llm.answer(GOOD)
    response = _run(client, task, filename, [(filename, data)])
    assert response.status_code == 200, response.json()
    prompt = _prompt(fake_llm)
    assert prompt.startswith("Read: ")
    for text in expected:
        assert text in prompt
    assert filename not in prompt
    # The document is kept with the run like an image.
    stored = response.json()["files"][0]
    assert stored["original_filename"] == filename
    assert stored["size_bytes"] == len(data)
    assert response.json()["run_data"] == {"submitted": {"doc": filename}}


def test_documents_sent_base64_in_json_are_read_too(run_task, fake_llm):
    client, task = _task(run_task)
    fake_llm.answer(GOOD)
    response = client.post(
        f"/task/{task['id']}/run",
        {
            "task_input": {"doc": "policy.docx"},
            "task_files": [
                {
                    "filename": "policy.docx",
                    "content": base64.b64encode(_docx()).decode(),
                }
            ],
        },
    )
    assert response.status_code == 200
    assert "returned within 30 days" in _prompt(fake_llm)


def test_a_file_without_a_known_extension_is_recognised_by_its_bytes(
    run_task, fake_llm
):
    client, task = _task(run_task)
    fake_llm.answer(GOOD)
    response = _run(client, task, "scan", [("scan", _pdf("Scanned 7"))])
    assert response.status_code == 200
    assert "Scanned 7" in _prompt(fake_llm)


def test_the_text_is_clipped_to_max_length(run_task, fake_llm):
    client, task = _task(run_task, max_length=12)
    fake_llm.answer(GOOD)
    assert _run(client, task, "a.txt", [("a.txt", b"x" * 100)]).status_code == 200
    assert _prompt(fake_llm) == "Read: " + "x" * 12


def test_an_unreferenced_filename_is_a_422_naming_the_variable(run_task, fake_llm):
    client, task = _task(run_task)
    response = _run(client, task, "missing.pdf", [("other.pdf", _pdf("x"))])
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "task_input", "doc"]
    assert "missing.pdf" in detail["msg"]
    assert "other.pdf" in detail["msg"]
    assert not TaskRun.objects.exists()
    assert not RunFile.objects.exists()
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("broken.pdf", b"%PDF-1.4 this is not a PDF", "could not be read as PDF"),
        ("empty.txt", b"   \n", "no text"),
    ],
)
def test_an_unreadable_document_is_a_422_saying_why(
    run_task, fake_llm, filename, data, message
):
    client, task = _task(run_task)
    response = _run(client, task, filename, [(filename, data)])
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "task_input", "doc"]
    assert detail["msg"].startswith("document_content_extractor (doc): ")
    assert message in detail["msg"]
    assert not TaskRun.objects.exists()
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("broken.docx", b"PK\x03\x04 not a zip", "not a readable DOCX file"),
        ("broken.xlsx", b"\x00\x01\x02", "not a readable XLSX file"),
        ("slides.ppt", b"\xd0\xcf\x11\xe0 old", "old binary format"),
        ("latin1.txt", "Café".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_a_file_that_is_no_readable_document_is_refused_as_it_is_sent(
    run_task, fake_llm, filename, data, message
):
    """What the bytes show is no document is a 415 before any processor runs."""
    client, task = _task(run_task)
    response = _run(client, task, filename, [(filename, data)])
    assert response.status_code == 415
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "task_files"]
    assert message in detail["msg"]
    assert not TaskRun.objects.exists()
    assert not RunFile.objects.exists()
    assert fake_llm.requests == []


def test_an_office_file_that_unpacks_too_large_is_refused(run_task, fake_llm, settings):
    settings.RB_DOCUMENT_MAX_UNPACKED_BYTES = 10_000
    client, task = _task(run_task)
    response = _run(client, task, "policy.docx", [("policy.docx", _docx())])
    assert response.status_code == 422
    assert "unpacks to" in response.json()["detail"][0]["msg"]
    assert not TaskRun.objects.exists()


def test_an_image_named_by_the_variable_is_not_a_document(run_task, fake_llm):
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    client, task = _task(run_task)
    response = _run(client, task, "photo.png", [("photo.png", png.getvalue())])
    assert response.status_code == 422
    assert "is an image" in response.json()["detail"][0]["msg"]
