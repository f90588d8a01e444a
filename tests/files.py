"""Real files for upload tests, written into a folder (usually ``tmp_path``).

Good files: CSV in each encoding and delimiter, XLSX written by openpyxl, and a minimal valid
ODS written by hand (a zip with ``mimetype``, ``META-INF/manifest.xml`` and ``content.xml``).
Bad files: each kind of thing councils (or attackers) might upload instead.
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

# ---------------------------------------------------------------------------------------------
# CSV


def write_bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def csv_text(rows: Iterable[Sequence[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    """Rows as Excel writes them: fields quoted only when they must be."""
    lines = []
    for row in rows:
        cells = []
        for cell in row:
            if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        lines.append(delimiter.join(cells))
    return newline.join(lines) + newline


def csv_file(
    folder: Path,
    text: str,
    *,
    name: str = "upload.csv",
    encoding: str = "utf-8",
    bom: bool = False,
) -> Path:
    """``text`` encoded as ``encoding`` (utf-8, cp1252, utf-16-le, utf-16-be), with the
    encoding's byte-order mark in front when ``bom``."""
    data = text.encode(encoding)
    if bom:
        data = {
            "utf-8": b"\xef\xbb\xbf",
            "utf-16-le": b"\xff\xfe",
            "utf-16-be": b"\xfe\xff",
        }[encoding] + data
    return write_bytes(folder, name, data)


def excel_unicode_text(folder: Path, rows: Iterable[Sequence[str]], name: str = "u.txt") -> Path:
    """What Excel's "Unicode Text" writes: UTF-16 LE with a BOM, tab-delimited, CRLF."""
    return csv_file(folder, csv_text(rows, "\t"), name=name, encoding="utf-16-le", bom=True)


# ---------------------------------------------------------------------------------------------
# XLSX with openpyxl


def xlsx_file(
    folder: Path,
    sheets: Mapping[str, Any],
    *,
    name: str = "upload.xlsx",
    hidden: Sequence[str] = (),
    first_row: int = 1,
    first_column: int = 1,
) -> Path:
    """A workbook with one sheet per entry, rows written from ``first_row``/``first_column``
    (1-based). ``None`` leaves a cell empty; numbers, dates and booleans stay typed."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.cell(row=first_row + r, column=first_column + c, value=value)
        if title in hidden:
            sheet.sheet_state = "hidden"
    path = folder / name
    workbook.save(path)
    return path


def xlsx_all_sheets_hidden(folder: Path) -> Path:
    """A workbook whose every sheet is hidden (Excel will not save one; scripts do)."""
    path = xlsx_file(folder, {"A": [["id"], [1]], "B": [["id"], [2]]}, name="hidden.xlsx")
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b'state="visible"', b'state="hidden"'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in parts.items():
            zf.writestr(member, data)
    return path


# ---------------------------------------------------------------------------------------------
# XLSX written by hand: for files no well-behaved writer produces

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def sheet_xml(rows_xml: str, prolog: str = XML_DECLARATION) -> str:
    return (
        prolog + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>" + rows_xml + "</sheetData></worksheet>"
    )


def shared_strings_xml(
    strings: Sequence[str], prolog: str = XML_DECLARATION, unique_count: int | None = None
) -> str:
    count = len(strings) if unique_count is None else unique_count
    return (
        prolog + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{count}">'
        + "".join(f"<si><t>{s}</t></si>" for s in strings)
        + "</sst>"
    )


def inline(ref: str, text: str) -> str:
    """A cell holding text, written inline."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def raw_xlsx(
    folder: Path,
    sheet: str,
    *,
    shared_strings: str | None = None,
    name: str = "raw.xlsx",
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A minimal one-sheet workbook with exactly the sheet XML given."""
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        zf.writestr("xl/sharedStrings.xml", shared_strings or shared_strings_xml([]))
        for member, data in (extra or {}).items():
            zf.writestr(member, data)
    return path


def billion_laughs_prolog(levels: int = 10) -> str:
    """The classic entity bomb: each level ten times the one below, 10**levels in all."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)
    ]
    return '<?xml version="1.0"?>\n<!DOCTYPE lolz [' + "".join(entities) + "]>\n"


def billion_laughs_xlsx(folder: Path, part: str = "sharedStrings") -> Path:
    bomb = billion_laughs_prolog()
    if part == "sharedStrings":
        sst = (
            bomb + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
        )
        sheet = sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
        return raw_xlsx(folder, sheet, shared_strings=sst, name="laughs-sst.xlsx")
    sheet = sheet_xml(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>', prolog=bomb
    )
    return raw_xlsx(folder, sheet, name="laughs-sheet.xlsx")


def zip_bomb_xlsx(folder: Path, megabytes: int = 64) -> Path:
    """A workbook whose sheet is ``megabytes`` of one repeated cell: it compresses about
    1000:1, far past the 200:1 any real sheet reaches."""
    row = '<row r="1"><c r="A1"><v>0</v></c></row>'
    padding = " " * (megabytes * 1024 * 1024)
    return raw_xlsx(folder, sheet_xml(row + padding), name="bomb.xlsx")


def lying_zip_xlsx(folder: Path, part: str = "sheet") -> Path:
    """A workbook with a part that declares 64 KB uncompressed but inflates to 20 MB: the
    sizes in both zip headers are patched, which passes any check that trusts them."""
    padding = " " * (20 * 1024 * 1024)
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(1, 4))
    if part == "sheet":
        member = "xl/worksheets/sheet1.xml"
        path = raw_xlsx(folder, sheet_xml(rows + padding), name="lying.xlsx")
    else:
        member = "xl/sharedStrings.xml"
        strings = shared_strings_xml(["id"]).replace("</sst>", padding + "</sst>")
        path = raw_xlsx(folder, sheet_xml(rows), shared_strings=strings, name="lying.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    declared = 64 * 1024
    # Local header: uncompressed size at offset 22. Central directory entry: at offset 24.
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_len]) == member.encode():
            struct.pack_into("<I", data, central + 24, declared)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path


def macro_workbook(folder: Path) -> Path:
    """An .xlsm as Excel saves it: a workbook with a VBA project part."""
    path = xlsx_file(folder, {"Data": [["id"], [1]]}, name="macros.xlsm")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    return path


def truncated_xlsx(folder: Path) -> Path:
    """A workbook cut off part-way, as an interrupted download leaves it."""
    path = xlsx_file(folder, {"Data": [["id"], *[[i] for i in range(200)]]}, name="whole.xlsx")
    data = path.read_bytes()
    return write_bytes(folder, "truncated.xlsx", data[: len(data) // 2])


# ---------------------------------------------------------------------------------------------
# ODS written by hand

_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
_ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"'
)


def ods_cell(value: Any) -> str:
    """``None`` is an empty cell; ``("float", "12")`` or ``("date", "2024-03-01")`` a typed
    one; anything else a text cell."""
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, tuple):
        kind, text = value
        attribute = {"float": "office:value", "date": "office:date-value"}[kind]
        return (
            f'<table:table-cell office:value-type="{kind}" {attribute}="{text}">'
            f"<text:p>{escape(text)}</text:p></table:table-cell>"
        )
    return (
        '<table:table-cell office:value-type="string">'
        f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
    )


def ods_table(name: str, rows: Sequence[Sequence[Any]], *, padded: bool = True) -> str:
    body = "".join(
        "<table:table-row>" + "".join(ods_cell(v) for v in row) + "</table:table-row>"
        for row in rows
    )
    if padded:  # as LibreOffice writes the rest of the sheet: empty, repeated
        body += (
            f'<table:table-row table:number-rows-repeated="{1_048_576 - len(rows)}">'
            '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
        )
    return f'<table:table table:name="{escape(name)}">{body}</table:table>'


def ods_content(tables_xml: str, prolog: str = XML_DECLARATION) -> str:
    return (
        prolog + f"<office:document-content {_ODS_NAMESPACES}><office:body>"
        f"<office:spreadsheet>{tables_xml}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )


def ods_file(
    folder: Path,
    tables: Mapping[str, Any] | None = None,
    *,
    content: str | None = None,
    name: str = "upload.ods",
    manifest: str = _ODS_MANIFEST,
) -> Path:
    """A minimal valid ODS: ``mimetype`` first and stored, then the manifest and content."""
    if content is None:
        content = ods_content("".join(ods_table(n, rows) for n, rows in (tables or {}).items()))
    path = folder / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def ods_repeat_bomb(folder: Path) -> Path:
    """A few hundred bytes that expand to 16 billion cells: one non-empty cell repeated 16,000
    times across, the row repeated a million times down."""
    table = (
        '<table:table table:name="B"><table:table-row table:number-rows-repeated="1000000">'
        '<table:table-cell table:number-columns-repeated="16000" office:value-type="string">'
        "<text:p>x</text:p></table:table-cell></table:table-row></table:table>"
    )
    return ods_file(folder, content=ods_content(table), name="repeat-bomb.ods")


# ---------------------------------------------------------------------------------------------
# Things that are not spreadsheets

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def ole2_file(folder: Path, name: str, streams: Sequence[str]) -> Path:
    """An OLE2 compound file's header and a directory naming ``streams`` (UTF-16 LE, as the
    format stores them): enough for anything that sniffs the format."""
    header = OLE2_MAGIC + b"\x00" * 16 + struct.pack("<HH", 0x3E, 0x3) + b"\xfe\xff"
    header += b"\x00" * (512 - len(header))
    directory = b""
    for stream in ["Root Entry", *streams]:
        encoded = (stream + "\x00").encode("utf-16-le")
        entry = encoded.ljust(64, b"\x00") + struct.pack("<H", len(encoded))
        directory += entry.ljust(128, b"\x00")
    return write_bytes(folder, name, header + directory.ljust(4096, b"\x00"))


def encrypted_xlsx(folder: Path) -> Path:
    """How Excel saves a password-protected .xlsx: an OLE2 file with EncryptionInfo."""
    return ole2_file(folder, "protected.xlsx", ["EncryptionInfo", "EncryptedPackage"])


def old_xls(folder: Path) -> Path:
    return ole2_file(folder, "old.xls", ["Workbook", "\x05SummaryInformation"])


def pdf_file(folder: Path) -> Path:
    return write_bytes(folder, "data.csv", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")


def png_file(folder: Path) -> Path:
    return write_bytes(folder, "data.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(64))


def docx_file(folder: Path) -> Path:
    path = folder / "data.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="urn:w"><w:body/></w:document>',
        )
    return path


def random_binary(folder: Path, size: int = 8192) -> Path:
    return write_bytes(folder, "data.csv", os.urandom(size))
