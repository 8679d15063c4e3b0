"""What a file is, from its magic bytes (``filetype``) and its name, and what to call it.

The ERP stores attachments under paths without an extension, and its file download may
declare ``application/octet-stream`` or a type its bytes contradict: the bytes decide
(:func:`content_type`). ZIP-based office files are told apart by their contents, or by the
name's extension when the sniffer only sees a ZIP archive. Plain text has no magic: UTF-8
without control characters is taken as text.
"""

from __future__ import annotations

import mimetypes
import re

import filetype

GENERIC = "application/octet-stream"
# Declared types that say nothing about the bytes.
UNINFORMATIVE = frozenset({
    "", GENERIC, "binary/octet-stream", "application/binary", "application/unknown", "application/x-download",
    "application/force-download", "application/download", "unknown/unknown",
})
TEXT = "text/plain; charset=utf-8"
ZIP = "application/zip"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OFFICE_BY_EXTENSION = {".xlsx": XLSX, ".docx": DOCX, ".pptx": PPTX}
# Spellings of one type that are not contradictions.
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf",
           "image/x-png": "image/png", "application/x-zip-compressed": ZIP}
# Types a browser would run (the BFF serves from the same origin as its pages): never sent as declared.
ACTIVE = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                    "text/javascript", "application/javascript", "application/x-javascript"})
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
              "application/pdf": ".pdf", XLSX: ".xlsx", DOCX: ".docx", PPTX: ".pptx", ZIP: ".zip",
              "text/plain": ".txt", "application/msword": ".doc", "application/vnd.ms-excel": ".xls"}
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"})
HEAD = 8192  # enough bytes for every signature used here
_EXTENSION = re.compile(r"\.[0-9A-Za-z]{1,8}$")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def base(content_type: str | None) -> str:
    """``"Image/JPG; q=1"`` → ``"image/jpeg"``."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return ALIASES.get(kind, kind)


def extension(name: str) -> str:
    """The name's extension, lower case with its dot (``""`` when it has none)."""
    found = _EXTENSION.search(name.rsplit("/", 1)[-1])
    return found.group(0).lower() if found else ""


def is_image_name(name: str) -> bool:
    """What the mini program previews as an image (``wx.previewImage``) rather than opens."""
    return extension(name) in IMAGE_EXTENSIONS


def _is_text(head: bytes) -> bool:
    if not head or _CONTROL.search(head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:  # a character cut at the end of the head is still text
        return error.start >= len(head) - 3 and error.reason == "unexpected end of data"
    return True


def sniff(content: bytes, name: str = "") -> str | None:
    """The type the bytes show (a ZIP archive named ``.xlsx``/``.docx``/``.pptx`` is that office
    type), ``text/plain; charset=utf-8`` for UTF-8 text, or None when the bytes show nothing."""
    head = content[:HEAD]
    kind = filetype.guess_mime(head)
    if kind == ZIP:
        return OFFICE_BY_EXTENSION.get(extension(name), ZIP)
    if isinstance(kind, str) and kind:
        return kind
    return TEXT if _is_text(head) else None


def _agrees(declared: str, sniffed: str) -> bool:
    if declared == sniffed:
        return True
    if sniffed == ZIP:  # a ZIP-based format the sniffer does not know (odt, apk...): the ERP knows better
        return declared.startswith("application/") and declared not in ACTIVE
    if base(sniffed) == "text/plain":  # text has no magic: csv, json... are all text
        return declared.startswith("text/") or declared in ("application/json", "application/csv")
    return False


def content_type(declared: str | None, content: bytes, name: str = "") -> str:
    """The Content-Type to answer with: the ERP's, unless it is missing, uninformative or
    contradicted by the bytes; then the sniffed one (``application/octet-stream`` when the
    bytes show nothing). An active type (HTML, SVG, script) is never passed on as such."""
    kind = base(declared)
    sniffed = sniff(content, name)
    if sniffed is not None and (kind in UNINFORMATIVE or not _agrees(kind, base(sniffed))):
        return sniffed
    if kind in UNINFORMATIVE:
        return GENERIC
    if kind in ACTIVE:
        return TEXT if sniffed == TEXT else GENERIC
    return declared.strip() if declared else GENERIC


def extension_for(content_type: str) -> str:
    kind = base(content_type)
    return EXTENSIONS.get(kind) or mimetypes.guess_extension(kind) or ""


def named(name: str, content_type: str) -> str:
    """``name`` with the extension of ``content_type`` when it has none (``附件1`` → ``附件1.pdf``)."""
    if extension(name) or base(content_type) in UNINFORMATIVE:
        return name
    return name + extension_for(content_type)
