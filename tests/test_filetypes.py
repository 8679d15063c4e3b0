"""What an attachment is: sniffed from its bytes (bff/core/filetypes.py), named for a download,
and told an image by its decoded name (the mini program's previewImage vs openDocument)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from PIL import Image

from bff.core import filetypes
from bff.erp.mapping import attachments_of
from bff.erp.models import DeliveryRecord
from bff.sim.erp.data import file_payload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MINIPROGRAM_IMAGE = re.compile(r"\.(png|jpe?g|gif|webp)$", re.IGNORECASE)  # miniprogram/src/pages/order/order.ts


def picture(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, kind)
    return out.getvalue()


def archive(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return out.getvalue()


PDF = file_payload("35/a/b", "x.pdf")[0]
PNG = picture("PNG")
JPEG = picture("JPEG")


@pytest.mark.parametrize("content, name, expected", [
    (PDF, "", "application/pdf"),
    (PNG, "", "image/png"),
    (JPEG, "", "image/jpeg"),
    (picture("GIF"), "", "image/gif"),
    (picture("WEBP"), "", "image/webp"),
    (file_payload("35/a/b", "x.xlsx")[0], "", XLSX),  # told by its contents
    (archive("[Content_Types].xml", "word/document.xml"), "", DOCX),
    (archive("a.txt"), "对账单.xlsx", XLSX),  # a ZIP archive: the name's extension tells the office type
    (archive("a.txt"), "", "application/zip"),
    ("发货通知：明天到货\n".encode(), "", "text/plain; charset=utf-8"),
    ("发货".encode()[:-1], "", "text/plain; charset=utf-8"),  # a character cut at the end of the head
    (b"\x00\x01\x02garbage", "", None),
    (b"", "", None),
])
def test_sniff(content: bytes, name: str, expected: str | None) -> None:
    assert filetypes.sniff(content, name) == expected


@pytest.mark.parametrize("declared, content, name, expected", [
    ("application/octet-stream", PDF, "", "application/pdf"),  # generic: the bytes tell
    (None, PNG, "", "image/png"),  # missing
    ("", JPEG, "", "image/jpeg"),
    ("binary/octet-stream", archive("a"), "单.xlsx", XLSX),
    ("image/png", JPEG, "a.png", "image/jpeg"),  # contradicted by the bytes
    ("text/plain", PDF, "", "application/pdf"),
    ("application/pdf; charset=binary", PDF, "", "application/pdf; charset=binary"),  # agrees: kept
    ("image/jpg", JPEG, "", "image/jpg"),  # another spelling, no contradiction
    (XLSX, archive("a"), "", XLSX),  # a ZIP the sniffer cannot place: the ERP's office type stands
    ("text/csv; charset=utf-8", b"a,b\n1,2\n", "", "text/csv; charset=utf-8"),  # text has no magic
    ("application/pdf", b"\x00\x01garbage", "", "application/pdf"),  # the bytes show nothing
    ("application/octet-stream", b"\x00\x01garbage", "", "application/octet-stream"),
    ("text/html", b"<script>alert(1)</script>", "", "text/plain; charset=utf-8"),  # never sent as active
    ("image/svg+xml", b"\x00\x01", "", "application/octet-stream"),
])
def test_content_type_follows_the_bytes(declared: str | None, content: bytes, name: str, expected: str) -> None:
    assert filetypes.content_type(declared, content, name) == expected


@pytest.mark.parametrize("name, content_type, expected", [
    ("附件1", "application/pdf", "附件1.pdf"),
    ("附件2", "image/jpeg", "附件2.jpg"),
    ("附件3", XLSX, "附件3.xlsx"),
    ("附件4", "application/octet-stream", "附件4"),  # unknown: no made-up extension
    ("装箱单.pdf", "image/png", "装箱单.pdf"),  # a name with an extension keeps it
])
def test_a_name_without_extension_gets_its_type(name: str, content_type: str, expected: str) -> None:
    assert filetypes.named(name, content_type) == expected


def test_images_are_told_by_the_decoded_name() -> None:
    """The evidenced entry with the name first: the old reader's name ended in "&size=…", no image."""
    path = "35/693ce2cba75b1057af4975bb/f8a9cb6bdeef473b9e14fd0538349154"
    record = DeliveryRecord.model_validate({"id": "9", "customerOrSupplierId": "36", "attachments": [
        f"{path}#name=%E7%AD%BE%E6%94%B6%E7%85%A7%E7%89%87%201.JPG&size=2048",
        f"{path}#size=4096&name=%E8%A3%85%E7%AE%B1%E5%8D%95.pdf",
        f"{path}#size=77",
    ]})
    photo, document, unnamed = attachments_of(record)
    assert (photo.name, photo.size) == ("签收照片 1.JPG", 2048)
    assert filetypes.is_image_name(photo.name) and MINIPROGRAM_IMAGE.search(photo.name)
    assert (document.name, document.size) == ("装箱单.pdf", 4096) and not filetypes.is_image_name(document.name)
    assert (unnamed.name, unnamed.size) == ("附件3", 77) and not MINIPROGRAM_IMAGE.search(unnamed.name)
    assert photo.url == "/api/files/9/0/%E7%AD%BE%E6%94%B6%E7%85%A7%E7%89%87%201.JPG"
