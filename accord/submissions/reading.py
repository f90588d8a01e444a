"""Read an uploaded spreadsheet (CSV, XLSX or ODS) as batches of text, whatever councils send.

:func:`open_table` looks at the file's bytes (never its name), refuses anything unsafe or
unreadable with an :class:`~accord.submissions.exceptions.UnusableFile` that says what is
wrong and how to fix it, finds the header row, and returns a :class:`Table` whose
:meth:`Table.batches` yields Polars frames: ``__row__`` (the row number the user sees in their
spreadsheet) and one Utf8 column per header, ``c0``, ``c1``, ... Values are the text as typed,
never typed or trimmed; empty cells are null; blank rows are dropped but still counted.

Defences, each checked before the expensive step it protects:

* file size, before anything is read;
* for zip packages (XLSX, ODS): the end-of-central-directory record (number of parts), the
  central directory's sizes and per-part compression ratios, encrypted parts, and while
  decompressing, that no part inflates past the size it declares: all before any XML is parsed;
* a ``<!DOCTYPE`` or ``<!ENTITY`` in any XML part (entity-expansion bombs);
* a shared-string table that claims more entries than it could hold (calamine reserves memory
  for the claim and aborts the process when it cannot);
* the extent of the chosen sheet's cells, scanned from the XML before calamine sees it:
  calamine allocates a dense rows x columns grid, so two cells far apart in a 5 KB file would
  otherwise ask for a hundred gigabytes and abort the process;
* cells longer than Excel's own limit, and too many columns.

CSV is read by Polars, which splits records on line feeds only and is strict about quotes.
Excel also ends a record at a lone carriage return and reads a stray quote (5" pipe)
literally; on such files Polars can silently merge or drop rows. So a CSV holding either is
first normalised through Python's csv module (which reads them as Excel does) into a clean
temporary copy; clean files, the usual case, go straight to Polars.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import os
import re
import struct
import tempfile
import weakref
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal
from xml.etree import ElementTree

import polars as pl

from accord.submissions.exceptions import UnusableFile

ROW = "__row__"

MB = 1024 * 1024
CHUNK = 4 * MB  # bytes per read when streaming through a file
SAMPLE_BYTES = 1 * MB  # text read for delimiter sniffing and header detection
HEAD_BYTES = 64 * 1024  # decompressed bytes of each XML part checked for a DOCTYPE
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
MAX_ZIP_PARTS = 10_000  # an XLSX or ODS has a few dozen parts; a zip of millions is an attack
MAX_CENTRAL_DIRECTORY = 16 * MB
MAX_SMALL_PART = 64 * MB  # workbook.xml and its relationships, parsed in Python
INSTRUCTION_WORDS = ("instruction", "read me", "readme")

Kind = Literal["csv", "xlsx", "ods"]
HeaderScore = Callable[[list[str]], int]


@dataclass(frozen=True)
class Limits:
    """What Accord will read. Defaults suit council returns on a shared two-core machine."""

    max_bytes: int = 2 * 1024**3  # file size
    max_uncompressed_bytes: int = 4 * 1024**3  # sum of zip members (xlsx/ods)
    max_compression_ratio: int = 200  # per member, beyond which (and over 10 MB): zip bomb
    max_columns: int = 1000
    max_cell_chars: int = 32_767  # Excel's own cell limit
    header_search_rows: int = 50
    # Rows x columns of a workbook sheet's used range: calamine holds the whole grid in memory
    # (about 32 bytes a cell), so this bounds a workbook's memory whatever its file size.
    max_cells: int = 50_000_000


# --------------------------------------------------------------------------------------------
# The table


@dataclass
class _CsvPlan:
    path: Path  # UTF-8 text Polars reads: the upload itself or a transcoded copy
    separator: str
    positions: list[int]  # 0-based field position of each kept header
    header: list[str]  # the header record's fields at those positions, as in the file
    width: int  # fields in the header record
    rewritten: bool = False  # already normalised through Python's csv module


@dataclass
class Table:
    """An opened upload. Iterate :meth:`batches`; call :meth:`close` (or use ``with``)."""

    kind: Kind
    encoding: str | None  # "utf-8", "utf-8-sig", "cp1252", "utf-16" (csv only)
    delimiter: str | None  # ",", ";", "\t" (csv only)
    sheet_name: str | None
    header_row: int  # spreadsheet row number (1-based) of the header
    headers: list[str]  # as in the file, stripped; blank-header columns excluded
    letters: list[str]  # spreadsheet column letter of each header
    size_bytes: int
    estimated_rows: int | None  # for progress bars
    limits: Limits = field(default_factory=Limits, repr=False)
    _csv: _CsvPlan | None = field(default=None, repr=False)
    _frame: pl.DataFrame | None = field(default=None, repr=False)
    _temps: list[Path] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        # Temporary files go even if the caller forgets close().
        self._finalizer = weakref.finalize(self, _remove_files, self._temps)

    @property
    def columns(self) -> list[str]:
        """The value columns' names in each batch: ``c0``, ``c1``, ..."""
        return [f"c{i}" for i in range(len(self.headers))]

    def batches(self, batch_rows: int = 250_000) -> Iterator[pl.DataFrame]:
        """Frames of at most ``batch_rows`` rows: ``__row__`` (Int64) then ``c0``, ``c1``, ...
        (Utf8). May raise :class:`UnusableFile` part-way (a cell too long, a malformed CSV)."""
        if batch_rows < 1:
            raise ValueError("batch_rows must be at least 1")
        if self._frame is not None:
            yield from self._workbook_batches(self._frame, batch_rows)
        elif self._csv is not None:
            yield from self._csv_batches(self._csv, batch_rows)

    def close(self) -> None:
        """Remove any temporary file. Safe to call more than once."""
        self._frame = None
        self._finalizer()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- workbooks ---------------------------------------------------------------------------

    def _workbook_batches(self, frame: pl.DataFrame, batch_rows: int) -> Iterator[pl.DataFrame]:
        for start in range(0, frame.height, batch_rows):
            batch = frame.slice(start, batch_rows)
            _check_cell_lengths(batch, self)
            yield batch

    # -- CSV ---------------------------------------------------------------------------------

    def _csv_batches(self, plan: _CsvPlan, batch_rows: int) -> Iterator[pl.DataFrame]:
        last = self.header_row
        try:
            for batch in _scan_csv(plan, self, after=last, batch_rows=batch_rows):
                _check_cell_lengths(batch, self)
                if batch.height:
                    last = int(batch[ROW][-1])
                yield batch
            return
        except pl.exceptions.PolarsError as exc:
            if plan.rewritten:
                raise _malformed_csv(exc) from None
            failure: Exception = exc
        # A safety net: files with stray quotes or lone carriage returns were normalised when
        # opened, so Polars should not fail here. If it does, normalise through the csv module
        # now and carry on after the last row already handed out.
        rewritten = _CsvPlan(
            path=_rewrite_csv(plan.path, plan.separator, self.limits, self._temps),
            separator=",",
            positions=plan.positions,
            header=plan.header,
            width=plan.width,
            rewritten=True,
        )
        self._csv = rewritten
        try:
            for batch in _scan_csv(rewritten, self, after=last, batch_rows=batch_rows):
                _check_cell_lengths(batch, self)
                yield batch
        except pl.exceptions.PolarsError as exc:
            raise _malformed_csv(exc) from failure


def _remove_files(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
    paths.clear()


# --------------------------------------------------------------------------------------------
# Opening


def open_table(
    source: str | Path,
    *,
    header_score: HeaderScore,
    limits: Limits | None = None,
    sheet: str | int | None = None,
) -> Table:
    """Open an upload, whatever its name says, and find its header.

    ``header_score(cells)`` rates a candidate row (its cells stripped): the highest-scoring of
    the first ``limits.header_search_rows`` non-blank rows is the header (ties: the earliest;
    all zero: the first non-blank row). ``sheet`` picks a workbook sheet by name or 0-based
    index; otherwise the first visible one, skipping a leading instructions sheet.

    Raises :class:`UnusableFile` for anything that cannot be read, with a message for the user.
    """
    limits = limits or Limits()
    path = Path(source)
    try:
        size = path.stat().st_size
        readable = path.is_file() and os.access(path, os.R_OK)
    except OSError:
        readable = False
    if not readable:
        raise UnusableFile("not_found", "The file could not be found or opened. Upload it again.")
    if size > limits.max_bytes:
        raise UnusableFile(
            "too_large",
            f"The file is {_mb(size)}, more than the {_mb(limits.max_bytes)} limit. Split it "
            "into smaller files, or remove columns and rows the standard does not need.",
        )
    if size == 0:
        raise _empty_file()
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _open_zip(path, size, header_score, limits, sheet)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise _ole2_problem(path)
    _refuse_other_formats(head)
    return _open_csv(path, size, head, header_score, limits)


def _mb(n: int) -> str:
    value = n / MB
    return f"{value:,.0f} MB" if value >= 10 else f"{value:,.1f} MB"


def _empty_file() -> UnusableFile:
    return UnusableFile(
        "empty", "The file is empty. Check you chose the right file, and that it was saved."
    )


def _not_a_spreadsheet(what: str) -> UnusableFile:
    return UnusableFile(
        "not_a_spreadsheet",
        f"This file is {what}, not a spreadsheet. Upload the data as an Excel workbook "
        "(.xlsx), an OpenDocument spreadsheet (.ods) or a CSV file.",
    )


_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a bitmap image"),
    (b"{\\rtf", "a Rich Text (RTF) document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"ARROW1", "an Arrow file"),
]


def _refuse_other_formats(head: bytes) -> None:
    """Recognisable non-spreadsheet formats get a message naming them."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise _not_a_spreadsheet(what)
    if head.startswith(b"\x00\x00\xfe\xff") or head.startswith(b"\xff\xfe\x00\x00"):
        raise UnusableFile(
            "bad_encoding",
            "The file is saved as UTF-32 text, which Accord does not read. Save it again as "
            '"CSV UTF-8 (Comma delimited)", or as an Excel workbook (.xlsx).',
        )
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    if text.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        raise UnusableFile(
            "not_a_spreadsheet",
            'This file is an "XML Spreadsheet 2003", which Accord does not read. Open it in '
            "Excel and save it as an Excel workbook (.xlsx) or as CSV UTF-8.",
        )
    if text.startswith((b"<!doctype html", b"<html", b"<table")) or (
        text.startswith(b"<?xml") and b"<html" in text
    ):
        raise UnusableFile(
            "not_a_spreadsheet",
            "This file is a web page (HTML), not a spreadsheet, even if it opens in Excel. "
            "Open it in Excel and save it as an Excel workbook (.xlsx) or as CSV UTF-8.",
        )


def _ole2_problem(path: Path) -> UnusableFile:
    """An OLE2 compound file: an encrypted modern workbook, or an old binary .xls."""
    needle = "EncryptionInfo".encode("utf-16-le")
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if needle in tail + chunk[: len(needle)] or needle in chunk:
                return UnusableFile(
                    "encrypted",
                    "The workbook is protected with a password, so Accord cannot read it. "
                    "Open it in Excel, remove the password (File > Info > Protect Workbook > "
                    "Encrypt with Password, then clear the box), save it and upload it again.",
                )
            tail = chunk[-len(needle) :]
    return UnusableFile(
        "old_excel",
        "This is an old-style Excel 97-2003 workbook (.xls), which Accord does not read. Open "
        'it in Excel and use "Save As" to save it as an Excel Workbook (.xlsx), or as CSV UTF-8.',
    )


# --------------------------------------------------------------------------------------------
# Zip packages: XLSX and ODS


def _open_zip(
    path: Path, size: int, header_score: HeaderScore, limits: Limits, sheet: str | int | None
) -> Table:
    _check_end_of_central_directory(path, size)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _corrupt_package() from None
    with zf:
        infos = zf.infolist()
        _check_zip_members(infos, limits)
        names = {info.filename: info for info in infos}
        lowered = {name.lower() for name in names}
        if any(name.endswith("vbaproject.bin") for name in lowered):
            raise UnusableFile(
                "macros",
                "The file contains macros (it is a macro-enabled workbook, .xlsm). Accord does "
                'not accept files with macros. In Excel use "Save As" and choose "Excel '
                'Workbook (.xlsx)", then upload that copy.',
            )
        if "xl/workbook.xml" in names:
            kind: Kind = "xlsx"
        elif "xl/workbook.bin" in names:
            raise UnusableFile(
                "binary_workbook",
                "This is an Excel Binary Workbook (.xlsb), which Accord does not read. In "
                'Excel use "Save As" and choose "Excel Workbook (.xlsx)".',
            )
        elif "mimetype" in names:
            mimetype = _read_member(zf, names["mimetype"], limit=1024).strip()
            if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                kind = "ods"
            else:
                raise _not_a_spreadsheet(_odf_kind(mimetype))
        else:
            raise _not_a_spreadsheet(_zip_kind(lowered))
        if kind == "ods":
            _check_ods_encryption(zf, names)
        _check_xml_parts(zf, infos)
        if kind == "ods":
            return _open_ods(path, zf, names, size, header_score, limits, sheet)
        return _open_xlsx(path, zf, names, size, header_score, limits, sheet)


def _corrupt_package() -> UnusableFile:
    return UnusableFile(
        "corrupt",
        "The file looks like an Excel or OpenDocument workbook, but it is damaged and cannot "
        "be opened. Open it in Excel (or LibreOffice), save it again as .xlsx, and upload "
        "that copy. If it will not open there either, export the data as CSV UTF-8.",
    )


def _zip_bomb(detail: str) -> UnusableFile:
    return UnusableFile(
        "zip_bomb",
        f"The file was refused for safety: {detail}. Real spreadsheets are not built like "
        "this. Open the data in Excel and save it as a new .xlsx or CSV file.",
    )


def _odf_kind(mimetype: bytes) -> str:
    if b"text" in mimetype:
        return "an OpenDocument text document"
    if b"presentation" in mimetype:
        return "an OpenDocument presentation"
    return "an OpenDocument file of another kind"


def _zip_kind(lowered: set[str]) -> str:
    if "word/document.xml" in lowered:
        return "a Word document"
    if "ppt/presentation.xml" in lowered:
        return "a PowerPoint presentation"
    if any(name.startswith("index/") and name.endswith(".iwa") for name in lowered):
        return "an Apple Numbers or Pages document"
    if any(name.endswith((".xlsx", ".csv", ".ods", ".xls")) for name in lowered):
        return "a zip archive holding files; upload the spreadsheet inside it on its own"
    return "a zip archive"


def _check_end_of_central_directory(path: Path, size: int) -> None:
    """Refuse zips whose central directory is huge before Python's zipfile reads it all."""
    with path.open("rb") as fh:
        fh.seek(max(0, size - (22 + 65_535)))
        tail = fh.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            raise _corrupt_package()
        (_, _, _, _, entries, cd_size, _, _) = struct.unpack("<4sHHHHIIH", tail[at : at + 22])
        if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and at >= 20:
            locator = tail[at - 20 : at]
            if locator[:4] == b"PK\x06\x07":
                (offset,) = struct.unpack("<Q", locator[8:16])
                fh.seek(offset)
                record = fh.read(56)
                if record[:4] == b"PK\x06\x06" and len(record) == 56:
                    entries, cd_size = struct.unpack("<QQ", record[32:48])
    if entries > MAX_ZIP_PARTS:
        raise _zip_bomb(f"it is a package of {entries:,} parts")
    if cd_size > MAX_CENTRAL_DIRECTORY:
        raise _zip_bomb(f"its table of contents alone is {_mb(cd_size)}")


def _check_zip_members(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    total = 0
    for info in infos:
        total += info.file_size
        if info.flag_bits & 0x1:
            raise UnusableFile(
                "encrypted",
                "The file is protected with a password, so Accord cannot read it. Remove the "
                "password, save it again and upload it.",
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _corrupt_package()
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 10 * MB and ratio > limits.max_compression_ratio:
            raise _zip_bomb(f"one part would expand {ratio:,.0f} times, to {_mb(info.file_size)}")
    if total > limits.max_uncompressed_bytes:
        raise _zip_bomb(
            f"its parts would expand to {_mb(total)}, more than the "
            f"{_mb(limits.max_uncompressed_bytes)} limit"
        )


def _member_chunks(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, *, limit: int | None = None
) -> Iterator[bytes]:
    """The decompressed bytes of one part, in chunks, refusing any that inflate beyond the
    size the central directory declares (a lying header is how zip bombs get past checks).
    Stops early, without error, once ``limit`` bytes have been produced."""
    fp = zf.fp
    if fp is None:  # pragma: no cover - the archive is open while this runs
        raise _corrupt_package()
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _corrupt_package()
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    remaining = info.compress_size
    produced = 0
    stored = info.compress_type == zipfile.ZIP_STORED
    inflater = None if stored else zlib.decompressobj(-15)
    while remaining > 0:
        raw = fp.read(min(1 * MB, remaining))
        if not raw:
            raise _corrupt_package()
        remaining -= len(raw)
        data = raw
        while data:
            if inflater is None:
                out, data = data, b""
            else:
                try:
                    out = inflater.decompress(data, CHUNK)
                except zlib.error:
                    raise _corrupt_package() from None
                data = inflater.unconsumed_tail
            produced += len(out)
            if produced > info.file_size:
                raise _zip_bomb(
                    f"the part {info.filename!r} holds more data than its header declares"
                )
            if out:
                yield out
            if limit is not None and produced >= limit:
                return
    if inflater is not None:
        rest = inflater.flush()
        produced += len(rest)
        if produced > info.file_size:
            raise _zip_bomb(f"the part {info.filename!r} holds more data than it declares")
        if rest:
            yield rest


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, *, limit: int) -> bytes:
    return b"".join(_member_chunks(zf, info, limit=limit))[:limit]


def _is_xml_part(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


_DOCTYPE = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _check_xml_parts(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """No part may declare a DTD: real workbooks never do, and entity declarations are how
    "billion laughs" files expand a few kilobytes into gigabytes.

    Parts calamine reads in full (shared strings, styles, the workbook) are also inflated
    here once, so that one inflating past its declared size is caught before calamine holds
    it in memory. Worksheets are inflated in full only when chosen (see ``_xlsx_extent``)."""
    for info in infos:
        if not _is_xml_part(info.filename) or info.file_size == 0:
            continue
        whole = not info.filename.lower().startswith("xl/worksheets/")
        head = b""
        for piece in _member_chunks(zf, info, limit=None if whole else HEAD_BYTES):
            if len(head) < HEAD_BYTES:
                head += piece[: HEAD_BYTES - len(head)]
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            head = head.decode("utf-16", "ignore").encode("utf-8")
        if _DOCTYPE.search(head):
            raise UnusableFile(
                "xml_bomb",
                "The file was refused for safety: part of it declares XML entities (a "
                "DOCTYPE), which real spreadsheets never do and which can be used to exhaust "
                "memory. Open the data in Excel and save it as a new .xlsx or CSV file.",
            )
        if not _root_starts_within(head) and len(head) >= HEAD_BYTES:
            raise _corrupt_package()


def _root_starts_within(head: bytes) -> bool:
    """Whether the root element starts in ``head`` (after the XML declaration, comments and
    processing instructions)."""
    at = 0
    text = head.lstrip(b"\xef\xbb\xbf")
    while True:
        at = text.find(b"<", at)
        if at < 0 or at + 1 >= len(text):
            return False
        nxt = text[at + 1 : at + 2]
        if nxt == b"?":
            end = text.find(b"?>", at)
            if end < 0:
                return False
            at = end + 2
        elif text.startswith(b"<!--", at):
            end = text.find(b"-->", at)
            if end < 0:
                return False
            at = end + 3
        else:
            return True


def _check_ods_encryption(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> None:
    manifest = names.get("META-INF/manifest.xml")
    if manifest is None:
        return
    text = _read_member(zf, manifest, limit=MAX_SMALL_PART)
    if b"encryption-data" in text:
        raise UnusableFile(
            "encrypted",
            "The spreadsheet is protected with a password, so Accord cannot read it. Open it, "
            "remove the password (File > Properties > Security in LibreOffice), save it and "
            "upload it again.",
        )


# -- XLSX -------------------------------------------------------------------------------------


@dataclass
class _SheetInfo:
    name: str
    visible: bool
    part: str | None  # zip member holding the sheet (xlsx); None for ods
    worksheet: bool = True


_REL_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)


def _parse_xml(data: bytes) -> ElementTree.Element:
    # Safe: every part was checked for a DOCTYPE first, so no entity can be declared.
    try:
        return ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError:
        raise _corrupt_package() from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xlsx_sheets(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> list[_SheetInfo]:
    """Sheets in workbook order, with visibility and the part each lives in, resolved the way
    calamine resolves them."""
    workbook = _parse_xml(_read_member(zf, names["xl/workbook.xml"], limit=MAX_SMALL_PART))
    targets: dict[str, str] = {}
    rels = names.get("xl/_rels/workbook.xml.rels")
    if rels is not None:
        for rel in _parse_xml(_read_member(zf, rels, limit=MAX_SMALL_PART)).iter():
            if _local(rel.tag) == "Relationship" and rel.get("Id") and rel.get("Target"):
                targets[rel.get("Id", "")] = rel.get("Target", "")
    sheets = []
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((element.get(f"{{{ns}}}id") for ns in _REL_NS if element.get(f"{{{ns}}}id")), "")
        target = targets.get(rid or "")
        part = None
        if target:
            part = target[1:] if target.startswith("/xl/") else target
            if not part.startswith("xl/"):
                part = "xl/" + part
        state = (element.get("state") or "visible").strip()
        sheets.append(
            _SheetInfo(
                name=element.get("name") or "",
                visible=state == "visible",
                part=part,
                worksheet=part is None or part.split("/")[1:2] == ["worksheets"],
            )
        )
    return sheets


def _choose_sheet(sheets: list[_SheetInfo], sheet: str | int | None) -> _SheetInfo:
    listing = ", ".join(f"“{s.name}”" for s in sheets) or "none"
    if isinstance(sheet, int):
        if 0 <= sheet < len(sheets) and sheets[sheet].worksheet:
            return sheets[sheet]
        raise UnusableFile(
            "no_sheet",
            f"The workbook has no sheet number {sheet + 1}. Its sheets are: {listing}.",
        )
    if isinstance(sheet, str):
        wanted = sheet.strip().casefold()
        exact = [s for s in sheets if s.name == sheet and s.worksheet]
        loose = [s for s in sheets if s.name.strip().casefold() == wanted and s.worksheet]
        if exact or loose:
            return (exact or loose)[0]
        raise UnusableFile(
            "no_sheet",
            f"The workbook has no sheet called “{sheet}”. Its sheets are: {listing}. Rename "
            "the sheet holding your data, or choose one of these.",
        )
    visible = [s for s in sheets if s.visible and s.worksheet]
    if not visible:
        raise UnusableFile(
            "no_sheet",
            "The workbook has no visible worksheet to read. Unhide the sheet holding your "
            "data (right-click a sheet tab > Unhide), save it and upload it again.",
        )
    first = visible[0]
    lowered = first.name.casefold()
    if len(visible) > 1 and any(word in lowered for word in INSTRUCTION_WORDS):
        data = [s for s in visible if s.name.strip().casefold() == "data"]
        return data[0] if data else visible[1]
    return first


_SST_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?sst\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_UNIQUE_COUNT = re.compile(rb"\suniqueCount\s*=\s*[\"'](\d+)[\"']")


def _check_shared_strings(zf: zipfile.ZipFile, infos: Iterable[zipfile.ZipInfo]) -> None:
    """calamine reserves memory for as many strings as ``uniqueCount`` claims: a 1 KB file
    claiming four billion aborts the whole process. Each entry takes at least 5 bytes."""
    for info in infos:
        if not info.filename.lower().endswith("sharedstrings.xml"):
            continue
        tag = _SST_TAG.search(_read_member(zf, info, limit=HEAD_BYTES))
        claim = _UNIQUE_COUNT.search(tag.group(1)) if tag else None
        if claim and int(claim.group(1)) > info.file_size // 5 + 16:
            raise _corrupt_package()


def _open_xlsx(
    path: Path,
    zf: zipfile.ZipFile,
    names: dict[str, zipfile.ZipInfo],
    size: int,
    header_score: HeaderScore,
    limits: Limits,
    sheet: str | int | None,
) -> Table:
    sheets = _xlsx_sheets(zf, names)
    chosen = _choose_sheet(sheets, sheet)
    _check_shared_strings(zf, names.values())
    info = names.get(chosen.part or "")
    if info is None:
        raise _corrupt_package()
    max_row, max_col = _xlsx_extent(zf, info)
    _check_extent(chosen.name, max_row, max_col, limits)
    return _read_workbook(path, "xlsx", chosen.name, sheets, size, header_score, limits)


# Fast path: every cell element is written <c r="A1" ...> (Excel, LibreOffice, openpyxl,
# xlsxwriter and the rest all do), so each cell's position is its reference, and one regex pass
# per chunk finds any cell that is not inside the extent known so far.
_CELL_REF = b'<c r="'
_REF_COLUMNS = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
_REF_ROWS = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')
_CANONICAL_REF = re.compile(rb'<c r="([A-Z]{1,3})([1-9][0-9]{0,6})"')
_PREFIXED_CELL = re.compile(rb"<[A-Za-z_][\w.\-]*:c[\s/>]")


class _SlowPath(Exception):
    """The sheet is written unusually: fall back to the exact, slower scan."""


def _xml_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """Decompressed chunks cut just before a ``<``, so no tag straddles two chunks."""
    tail = b""
    for piece in _member_chunks(zf, info):
        data = tail + piece
        cut = data.rfind(b"<")
        if cut <= 0:
            tail = data
            if len(tail) > 16 * MB:  # a single tag or text run this long: not a real sheet
                raise _corrupt_package()
            continue
        yield data[:cut]
        tail = data[cut:]
    if tail:
        yield tail


def _xlsx_extent(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """The last row and column (1-based) any cell of the sheet lands in, as calamine places
    them, without building anything in memory."""
    try:
        return _xlsx_extent_fast(zf, info)
    except _SlowPath:
        return _xlsx_extent_exact(zf, info)


def _xlsx_extent_fast(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    max_row = max_col = 0
    for chunk in _xml_chunks(zf, info):
        if b":c" in chunk and _PREFIXED_CELL.search(chunk):
            raise _SlowPath
        last = _CANONICAL_REF.match(chunk, max(chunk.rfind(_CELL_REF), 0))
        if last:  # rows come in order, so the last cell of a chunk bounds its rows
            max_row = max(max_row, int(last.group(2)))
        if not max_col and _CELL_REF in chunk:
            max_col = max(_column_number(c) for c in set(_REF_COLUMNS.findall(chunk)) or [b"A"])
        while True:
            # Any <c that is not a cell written <c r="..."> inside the extent: <c> or <c s=..>
            # (position implied), an odd reference, or a cell beyond the extent.
            outside = re.compile(
                rb"<c(?![a-zA-Z/]| r=\"(?:"
                + _letters_at_most(max(max_col, 1))
                + rb")(?:"
                + _number_at_most(max(max_row, 1))
                + rb')")'
            ).search(chunk)
            if outside is None:
                break
            ref = _CANONICAL_REF.match(chunk, outside.start())
            if ref is None:
                raise _SlowPath
            max_col = max(max_col, *(_column_number(c) for c in set(_REF_COLUMNS.findall(chunk))))
            max_row = max(max_row, *(int(r) for r in _REF_ROWS.findall(chunk)))
    return max_row, max_col


_TAG = re.compile(
    rb"<(/?)(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
)
_R_ATTR = re.compile(rb"(?:^|\s)r\s*=\s*[\"']([^\"']*)[\"']")
_REF = re.compile(rb"^\$?([A-Za-z]{1,4})\$?([0-9]{1,10})$")


def _xlsx_extent_exact(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Follows calamine's placement rules element by element: a row's ``r`` sets the row,
    ``</row>`` moves to the next, a cell without ``r`` takes the next column."""
    row = col = 0  # 0-based, as calamine counts
    max_row = max_col = 0
    for chunk in _xml_chunks(zf, info):
        for match in _TAG.finditer(chunk):
            closing, name, attrs = match.group(1), match.group(2), match.group(3)
            if attrs.endswith(b"/"):
                continue  # calamine ignores empty elements (<c/>, <row/>)
            if name == b"row":
                if closing:
                    row += 1
                    col = 0
                else:
                    found = _R_ATTR.search(attrs)
                    if found and found.group(1).isdigit():
                        row = max(int(found.group(1)) - 1, 0)
                continue
            if closing:
                continue
            found = _R_ATTR.search(attrs)
            ref = _REF.match(found.group(1)) if found else None
            if ref:
                cell_row, col = int(ref.group(2)) - 1, _column_number(ref.group(1).upper()) - 1
            else:
                cell_row = row
            max_row = max(max_row, cell_row + 1)
            max_col = max(max_col, col + 1)
            col += 1
    return max_row, max_col


def _check_extent(sheet_name: str, max_row: int, max_col: int, limits: Limits) -> None:
    if max_col > limits.max_columns:
        raise UnusableFile(
            "too_many_columns",
            f"The sheet “{sheet_name}” has something in column {_letters(max_col - 1)}, "
            f"beyond the {limits.max_columns:,} columns Accord reads. Delete everything to the "
            "right of your table (select those columns, right-click, Delete), save and upload "
            "again.",
        )
    if max_row * max_col > limits.max_cells:
        raise UnusableFile(
            "too_large",
            f"The sheet “{sheet_name}” spans {max_row:,} rows by {max_col:,} columns (to cell "
            f"{_letters(max(max_col, 1) - 1)}{max_row}), more than Accord reads from a "
            f"workbook ({limits.max_cells:,} cells). If something sits far below or to the "
            "right of your table, delete those rows or columns; otherwise save the data as "
            "CSV UTF-8 and upload that.",
        )


def _number_at_most(n: int) -> bytes:
    """A regex matching the decimal numbers (no leading zero) from 1 to ``n``."""
    digits = str(n)
    width = len(digits)
    alternatives = [f"[1-9][0-9]{{0,{width - 2}}}"] if width > 1 else []
    for i, ch in enumerate(digits):
        low, high = (1 if i == 0 else 0), int(ch) - 1
        if high >= low:
            rest = width - i - 1
            alternatives.append(
                digits[:i] + f"[{low}-{high}]" + (f"[0-9]{{{rest}}}" if rest else "")
            )
    alternatives.append(digits)
    return "|".join(alternatives).encode()


def _letters_at_most(n: int) -> bytes:
    """A regex matching the column letters of columns 1 to ``n`` (n at most 18,278: ZZZ)."""
    letters = _letters(n - 1)
    width = len(letters)
    alternatives = [f"[A-Z]{{1,{width - 1}}}"] if width > 1 else []
    for i, ch in enumerate(letters):
        if ch != "A":
            rest = width - i - 1
            alternatives.append(
                letters[:i] + f"[A-{chr(ord(ch) - 1)}]" + (f"[A-Z]{{{rest}}}" if rest else "")
            )
    alternatives.append(letters)
    return "|".join(alternatives).encode()


# -- ODS --------------------------------------------------------------------------------------

# calamine matches ODS elements by their literal names (``table:table-row``), and so do we.
_ODS_ROW_END = "</table:table-row>"
_ODS_TAG = re.compile(
    r"<(/?)table:(table-row|table-cell|covered-table-cell|table)"
    r"(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
)
_ROWS_REPEATED = re.compile(r"table:number-rows-repeated\s*=\s*[\"'](\d+)[\"']")
_COLUMNS_REPEATED = re.compile(r"table:number-columns-repeated\s*=\s*[\"'](\d+)[\"']")
_ODS_UNUSUAL = r"repeated|<table:table[\s/>]|</table:table>"


class _OdsExtents:
    """Walks an ODS content.xml the way calamine expands it, one table after another."""

    def __init__(self) -> None:
        self.extents: list[tuple[int, int]] = []  # (last non-empty row, last column) per table
        self.row = 0  # rows so far in the current table
        self.rows = self.cols = 0
        self.row_cols = 0
        self.row_repeat = 1
        self.col = 0

    def plain_rows(self, count: int, widest: int) -> None:
        """``count`` rows without repeats, none wider than ``widest`` cells: taken as
        non-empty, which can only overstate the extent."""
        if count:
            self.row += count
            self.rows = self.row
            self.cols = max(self.cols, widest)

    def elements(self, text: str) -> None:
        """Element by element, for the few rows with repeats or table boundaries."""
        for match in _ODS_TAG.finditer(text):
            closing, name, attrs = match.group(1), match.group(2), match.group(3)
            empty = attrs.endswith("/")
            if name == "table":
                if closing:
                    self.extents.append((self.rows, self.cols))
                elif not empty:
                    self.row = self.rows = self.cols = 0
            elif name == "table-row":
                if closing:
                    if self.row_cols:
                        self.cols = max(self.cols, self.row_cols)
                        self.rows = self.row + self.row_repeat
                    self.row += self.row_repeat
                    continue
                found = _ROWS_REPEATED.search(attrs)
                self.row_repeat = int(found.group(1)) if found else 1
                if empty:
                    self.row += self.row_repeat
                self.col = self.row_cols = 0
            elif not closing:
                found = _COLUMNS_REPEATED.search(attrs)
                repeat = int(found.group(1)) if found else 1
                if not empty or "value-type" in attrs:
                    self.row_cols = self.col + repeat
                self.col += repeat


def _ods_extents(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> list[tuple[int, int]]:
    """Each table's last non-empty row and column (1-based), counting repeated rows and cells
    as calamine expands them; empty repeats (how LibreOffice pads a sheet) do not count.

    Rows are split apart and measured with Polars; only rows with repeats or a table boundary
    are walked element by element."""
    walker = _OdsExtents()
    for text in _ods_row_chunks(zf, info):
        pieces = text.split(_ODS_ROW_END)
        measured = pl.DataFrame({"piece": pieces}).select(
            cells=pl.col("piece").str.count_matches("<table:table-cell", literal=True)
            + pl.col("piece").str.count_matches("<table:covered-table-cell", literal=True),
            rows=pl.col("piece").str.count_matches(r"<table:table-row[\s/>]"),
            unusual=pl.col("piece").str.contains(_ODS_UNUSUAL),
        )
        plain = measured.with_row_index("at").filter(~pl.col("unusual") & (pl.col("rows") == 1))
        widest = int(plain.select(pl.col("cells").max().fill_null(0)).item())
        plain_at = set(plain["at"].to_list()) if plain.height != len(pieces) else None
        if plain_at is None:  # every piece is a plain row, except perhaps the closing tail
            walker.plain_rows(len(pieces) - 1, widest)
            walker.elements(pieces[-1])
            continue
        run = 0
        for at, piece in enumerate(pieces):
            if at in plain_at:
                run += 1
                continue
            walker.plain_rows(run, widest)
            run = 0
            walker.elements(piece + (_ODS_ROW_END if at < len(pieces) - 1 else ""))
        walker.plain_rows(run, widest)
    return walker.extents


def _ods_row_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[str]:
    """Decompressed text cut just after a row's end tag, so no row straddles two chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    tail = ""
    for piece in _member_chunks(zf, info):
        text = tail + decoder.decode(piece)
        cut = text.rfind(_ODS_ROW_END)
        if cut < 0:
            tail = text
            if len(tail) > 64 * MB:  # one row this long: not a real sheet
                raise _corrupt_package()
            continue
        cut += len(_ODS_ROW_END)
        yield text[:cut]
        tail = text[cut:]
    tail += decoder.decode(b"", final=True)
    if tail:
        yield tail


def _open_ods(
    path: Path,
    zf: zipfile.ZipFile,
    names: dict[str, zipfile.ZipInfo],
    size: int,
    header_score: HeaderScore,
    limits: Limits,
    sheet: str | int | None,
) -> Table:
    content = names.get("content.xml")
    if content is None:
        raise _corrupt_package()
    extents = _ods_extents(zf, content)
    # calamine reads every sheet of an ODS when it opens it, so all of them must fit.
    total = sum(rows * cols for rows, cols in extents)
    if total > limits.max_cells:
        raise UnusableFile(
            "too_large",
            f"The spreadsheet's sheets hold {total:,} cells between them, more than Accord "
            f"reads from a workbook ({limits.max_cells:,}). Save the data as CSV UTF-8 and "
            "upload that.",
        )
    reader = _fastexcel_reader(path)
    sheets = []
    for index, name in enumerate(reader.sheet_names):
        try:
            visible = str(
                reader.load_sheet(index, header_row=None, n_rows=1, dtypes="string").visible
            )
        except Exception:  # a sheet calamine cannot describe is not chosen by default
            visible = "hidden"
        sheets.append(_SheetInfo(name=name, visible=visible == "visible", part=None))
    chosen = _choose_sheet(sheets, sheet)
    index = sheets.index(chosen)
    if index < len(extents):
        _check_extent(chosen.name, *extents[index], limits)
    return _read_workbook(
        path, "ods", chosen.name, sheets, size, header_score, limits, reader=reader
    )


# -- Reading a workbook sheet -------------------------------------------------------------------


def _fastexcel_reader(path: Path) -> Any:
    import fastexcel

    try:
        return fastexcel.read_excel(path)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise _corrupt_package() from None


# Calamine writes date cells as "2024-03-01 00:00:00" (ISO "d" cells and ODS dates with a "T"),
# and time-only cells on its zero date.
_TIME_ONLY = r"^(?:1899-12-3[01]|1904-01-01)[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)$"
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(?:\.0+)?$"
_DATE_TIME = r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$"


def _normalise_cell(expr: pl.Expr) -> pl.Expr:
    """Date cells to ISO dates (with a ``T`` time when not midnight); empty text to null."""
    looks_like_datetime = expr.str.len_bytes().is_between(19, 29) & expr.str.contains(
        r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:"
    )
    converted = (
        expr.str.replace(_TIME_ONLY, "${1}")
        .str.replace(_MIDNIGHT, "${1}")
        .str.replace(_DATE_TIME, "${1}T${2}")
    )
    return (
        pl.when(expr.str.len_bytes() == 0)
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(looks_like_datetime)
        .then(converted)
        .otherwise(expr)
    )


def _read_workbook(
    path: Path,
    kind: Kind,
    sheet_name: str,
    sheets: list[_SheetInfo],
    size: int,
    header_score: HeaderScore,
    limits: Limits,
    *,
    reader: Any = None,
) -> Table:
    reader = reader or _fastexcel_reader(path)
    try:
        loaded = reader.load_sheet(sheet_name, header_row=None, skip_rows=0, dtypes="string")
        absolute = [column.absolute_index for column in loaded.available_columns()]
        raw = loaded.to_polars()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise _corrupt_package() from None
    del loaded
    if not isinstance(raw, pl.DataFrame) or raw.width == 0 or raw.height == 0:
        raise _empty_sheet(sheet_name, sheets)
    names = [f"x{i}" for i in range(raw.width)]
    # Row i of the frame is spreadsheet row i + 1: fastexcel starts at row 1 when skip_rows=0.
    frame = (
        raw.rename(dict(zip(raw.columns, names, strict=True)))
        .with_row_index(ROW, offset=1)
        .select(pl.col(ROW).cast(pl.Int64), *[pl.col(n).cast(pl.Utf8) for n in names])
    )
    del raw
    candidates = _first_nonblank_rows(frame, limits.header_search_rows)
    if candidates.height == 0:
        raise _empty_sheet(sheet_name, sheets)
    rows = candidates.select(ROW, *[_normalise_cell(pl.col(n)).alias(n) for n in names]).rows()
    header = _pick_header([[cell or "" for cell in row[1:]] for row in rows], header_score)
    header_row = rows[header][0]
    keep = [
        (name, (cell or "").strip(), column)
        for name, cell, column in zip(names, rows[header][1:], absolute, strict=True)
        if (cell or "").strip()
    ]
    _check_header(
        [h for _, h, _ in keep], [c for _, _, c in keep], header_row, limits, kind, sheet_name
    )
    data = _drop_blank_rows(
        frame.filter(pl.col(ROW) > header_row).select(
            pl.col(ROW),
            *[_normalise_cell(pl.col(name)).alias(f"c{j}") for j, (name, _, _) in enumerate(keep)],
        )
    )
    del frame
    return Table(
        kind=kind,
        encoding=None,
        delimiter=None,
        sheet_name=sheet_name,
        header_row=header_row,
        headers=[h for _, h, _ in keep],
        letters=[_letters(c) for _, _, c in keep],
        size_bytes=size,
        estimated_rows=data.height,
        limits=limits,
        _frame=data,
    )


def _first_nonblank_rows(frame: pl.DataFrame, count: int) -> pl.DataFrame:
    """The first ``count`` rows with something in them, looking no further than needed."""
    look = max(4 * count, 200)
    while True:
        found = _drop_blank_rows(frame.head(look))
        if found.height >= count or look >= frame.height:
            return found.head(count)
        look *= 4


def _empty_sheet(sheet_name: str, sheets: list[_SheetInfo]) -> UnusableFile:
    others = [s.name for s in sheets if s.name != sheet_name and s.worksheet]
    hint = (
        " The workbook also has "
        + ", ".join(f"“{o}”" for o in others[:5])
        + ": put your data on the first sheet, or delete the empty one."
        if others
        else ""
    )
    return UnusableFile("empty", f"The sheet “{sheet_name}” has no data in it.{hint}")


# --------------------------------------------------------------------------------------------
# CSV


def _c1_controls(error: UnicodeError) -> tuple[str, int]:
    """cp1252 leaves five bytes undefined; Windows reads them as C1 controls, and so do we."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("accord-cp1252", _c1_controls)


@dataclass
class _TextFacts:
    encoding: str  # "utf-8", "utf-8-sig", "cp1252", "utf-16"
    codec: str  # Python codec that decodes the bytes
    bare_cr: bool = False  # a carriage return not followed by a line feed (old Mac endings)


def _guess_encoding(head: bytes) -> _TextFacts | None:
    if head.startswith(codecs.BOM_UTF8):
        return _TextFacts("utf-8-sig", "utf-8-sig")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _TextFacts("utf-16", "utf-16")
    sample = head[:4096]
    if len(sample) >= 8:
        odd_nuls = sample[1::2].count(0) / (len(sample) // 2)
        even_nuls = sample[0::2].count(0) / ((len(sample) + 1) // 2)
        if odd_nuls > 0.9 and even_nuls < 0.1:
            return _TextFacts("utf-16", "utf-16-le")
        if even_nuls > 0.9 and odd_nuls < 0.1:
            return _TextFacts("utf-16", "utf-16-be")
    return None


def _looks_binary(head: bytes) -> bool:
    controls = sum(head.count(bytes([b])) for b in (*range(0, 9), 11, 14, *range(16, 26), 27))
    return len(head) > 0 and controls / len(head) > 0.05


def _nul_bytes(line: int) -> UnusableFile:
    return UnusableFile(
        "nul_bytes",
        f"The file contains NUL characters (from line {line:,}), which text files never hold: "
        "it may be damaged, or be a different kind of file renamed to .csv. Open it in Excel "
        "and save it again as CSV UTF-8.",
    )


def _scan_bytes(path: Path, facts: _TextFacts | None) -> _TextFacts:
    """One pass over a UTF-8 or Windows-1252 file: is it all valid UTF-8, does it hold NUL
    bytes, does it hold anything but whitespace."""
    utf8 = True
    content = bare_cr = False
    carry = b""  # the last bytes of a chunk when they may be the start of a character
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            nul = chunk.find(b"\x00")
            if nul >= 0:
                raise _nul_bytes(_line_at(path, fh.tell() - len(chunk) + nul))
            if not content and not chunk.isspace() and chunk:
                content = True
            if not bare_cr:
                bare_cr = _has_bare_cr(chunk, fh)
            if utf8:
                data = carry + chunk
                cut = _whole_characters(data)
                utf8 = _is_utf8(data[:cut])
                carry = data[cut:]
        if utf8 and carry:
            utf8 = _is_utf8(carry)
    if not content:
        raise _empty_file()
    found = facts if utf8 else _TextFacts("cp1252", "cp1252")
    found = found or _TextFacts("utf-8", "utf-8")
    found.bare_cr = bare_cr
    return found


def _whole_characters(data: bytes) -> int:
    """Where to cut ``data`` so no UTF-8 character is split: before a trailing lead byte and
    its continuation bytes (at most 3 bytes are held back)."""
    cut = len(data)
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:  # ASCII: nothing is split
            return cut
        if byte >= 0xC0:  # a lead byte: hold it and what follows it back
            return len(data) - back
    return cut


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8 (Polars' SIMD check: several times Python's decoder)."""
    if data.isascii():
        return True
    try:
        pl.Series([data], dtype=pl.Binary).cast(pl.Utf8, strict=True)
    except pl.exceptions.ComputeError:
        return False
    return True


def _line_at(path: Path, offset: int) -> int:
    """The 1-based line number of a byte offset (for error messages only)."""
    lines = 1
    with path.open("rb") as fh:
        while offset > 0 and (chunk := fh.read(min(CHUNK, offset))):
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines


def _has_bare_cr(chunk: bytes, fh: IO[bytes]) -> bool:
    """Whether the chunk holds a carriage return with no line feed after it (peeking at the
    next byte of the file when the chunk ends with one)."""
    crs = chunk.count(b"\r")
    if not crs:
        return False
    paired = chunk.count(b"\r\n")
    if chunk.endswith(b"\r"):
        at = fh.tell()
        paired += fh.read(1) == b"\n"
        fh.seek(at)
    return crs != paired


def _transcode(path: Path, facts: _TextFacts, temps: list[Path]) -> Path:
    """A UTF-8 copy of the file, written chunk by chunk (never the whole file in memory)."""
    errors = "accord-cp1252" if facts.codec == "cp1252" else "strict"
    decoder = codecs.getincrementaldecoder(facts.codec)(errors=errors)
    handle, name = tempfile.mkstemp(prefix="accord-upload-", suffix=".csv")
    out_path = Path(name)
    temps.append(out_path)
    content = False
    lines = 1
    carried = ""  # a carriage return held back until we see whether a line feed follows
    try:
        with path.open("rb") as src, os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            while True:
                chunk = src.read(CHUNK)
                text = carried + decoder.decode(chunk, final=not chunk)
                carried = ""
                if "\x00" in text:
                    raise _nul_bytes(lines + text.count("\n", 0, text.index("\x00")))
                lines += text.count("\n")
                if not content and text.strip():
                    content = True
                if chunk and text.endswith("\r"):
                    text, carried = text[:-1], "\r"
                if not facts.bare_cr and text.count("\r") != text.count("\r\n"):
                    facts.bare_cr = True
                out.write(text)
                if not chunk:
                    break
    except UnicodeDecodeError:
        raise UnusableFile(
            "bad_encoding",
            "The text in the file is not valid "
            + ("UTF-16" if facts.encoding == "utf-16" else facts.encoding)
            + '. Open it in Excel and save it again as "CSV UTF-8 (Comma delimited)".',
        ) from None
    if not content:
        raise _empty_file()
    return out_path


def _read_sample(path: Path) -> tuple[str, bool]:
    """The start of a UTF-8 text file, and whether that is the whole file."""
    with path.open("rb") as fh:
        raw = fh.read(SAMPLE_BYTES + 1)
    whole = len(raw) <= SAMPLE_BYTES
    raw = raw[:SAMPLE_BYTES]
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(raw, final=whole)
    return text.removeprefix("\ufeff"), whole


DELIMITERS = (",", ";", "\t")


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits most of the first records into the same number (> 1) of
    fields, ignoring records of nothing but delimiters and spaces. A one-column file reads the
    same either way: comma."""
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        try:
            widths = [
                len(record)
                for record in itertools.islice(reader, 200)
                if any(cell.strip(" \t\r\n,;") for cell in record)
            ]
        except csv.Error:
            continue
        counts = Counter(w for w in widths if w > 1)
        if not counts:
            continue
        width, agreeing = max(counts.items(), key=lambda item: (item[1], item[0]))
        score = (agreeing, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _open_csv(
    path: Path, size: int, head: bytes, header_score: HeaderScore, limits: Limits
) -> Table:
    temps: list[Path] = []
    try:
        return _open_csv_inner(path, size, head, header_score, limits, temps)
    except BaseException:
        _remove_files(temps)
        raise


def _open_csv_inner(
    path: Path,
    size: int,
    head: bytes,
    header_score: HeaderScore,
    limits: Limits,
    temps: list[Path],
) -> Table:
    facts = _guess_encoding(head)
    if facts is None or facts.codec.startswith("utf-8"):
        if facts is None and _looks_binary(head):
            raise _not_a_spreadsheet("not text (it looks like a binary file)")
        facts = _scan_bytes(path, facts)
    read_path = path
    if facts.codec in ("cp1252", "utf-16", "utf-16-le", "utf-16-be"):
        read_path = _transcode(path, facts, temps)
    text, whole = _read_sample(read_path)
    delimiter = _sniff_delimiter(text)
    records = _sample_records(text, delimiter, whole, limits)
    nonblank = [(number, cells) for number, cells in records if any(c.strip() for c in cells)]
    if not nonblank:
        if whole:
            raise _empty_file()
        raise UnusableFile(
            "no_header",
            f"The first {len(records):,} rows of the file are blank, so Accord cannot find "
            "the header row. Delete the blank rows at the top and upload it again.",
        )
    candidates = nonblank[: limits.header_search_rows]
    chosen = _pick_header([cells for _, cells in candidates], header_score)
    header_row, header_cells = candidates[chosen]
    keep = [(i, cell.strip()) for i, cell in enumerate(header_cells) if cell.strip()]
    if len(header_cells) > EXCEL_MAX_COLUMNS:
        raise UnusableFile(
            "too_many_columns",
            f"The header row (row {header_row:,}) has {len(header_cells):,} fields, more "
            f"than the {EXCEL_MAX_COLUMNS:,} a spreadsheet can hold. Check the file was "
            "saved with the right delimiter, and delete empty columns to the right.",
        )
    _check_header([h for _, h in keep], [i for i, _ in keep], header_row, limits, "csv", None)
    names = dict(keep)
    for number, cells in records:
        for position, cell in enumerate(cells):
            if len(cell) > limits.max_cell_chars:
                raise _cell_too_long(
                    number, _letters(position), names.get(position), len(cell), limits
                )
    after = [cells for number, cells in nonblank if number > header_row]
    separator, rewritten = delimiter, False
    # Polars splits records on line feeds only and is strict about quotes; Excel (and Python's
    # csv module) also end a record at a lone carriage return and read stray quotes literally.
    if facts.bare_cr or not _quotes_are_clean(read_path, delimiter):
        read_path = _rewrite_csv(read_path, delimiter, limits, temps)
        separator, rewritten = ",", True
    if whole:
        estimated = len(after)
    else:
        per_record = max(len(text.encode("utf-8")) / max(len(records), 1), 1.0)
        estimated = max(int(size / per_record) - header_row, len(after))
    return Table(
        kind="csv",
        encoding=facts.encoding,
        delimiter=delimiter,
        sheet_name=None,
        header_row=header_row,
        headers=[h for _, h in keep],
        letters=[_letters(i) for i, _ in keep],
        size_bytes=size,
        estimated_rows=estimated,
        limits=limits,
        _csv=_CsvPlan(
            path=read_path,
            separator=separator,
            positions=[i for i, _ in keep],
            header=[header_cells[i] for i, _ in keep],
            width=len(header_cells),
            rewritten=rewritten,
        ),
        _temps=temps,
    )


def _sample_records(
    text: str, delimiter: str, whole: bool, limits: Limits
) -> list[tuple[int, list[str]]]:
    """Numbered records (1-based, as Excel numbers rows) in the sample (at most 1 MiB), read
    as Excel reads them: a record ends at a line feed, a carriage return, or both."""
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False
    )
    records: list[tuple[int, list[str]]] = []
    try:
        for number, cells in enumerate(reader, start=1):
            records.append((number, cells))
    except csv.Error as exc:
        raise _csv_module_error(exc, len(records) + 1, limits) from None
    if not whole and len(records) > 1:
        records = records[:-1]  # may be cut short by the end of the sample
    return records


def _scan_csv(
    plan: _CsvPlan, table: Table, *, after: int, batch_rows: int
) -> Iterator[pl.DataFrame]:
    names = [f"f{i}" for i in range(plan.width)]
    lazy = pl.scan_csv(
        plan.path,
        has_header=False,
        separator=plan.separator,
        quote_char='"',
        skip_rows=table.header_row - 1,
        infer_schema=False,
        truncate_ragged_lines=True,
        raise_if_empty=False,
        encoding="utf8",
        with_column_names=lambda found: [f"f{i}" for i in range(len(found))],
    )
    width = len(lazy.collect_schema().names())
    if width < plan.width:
        raise pl.exceptions.ComputeError(
            f"the header line splits into {width} fields, not {plan.width}"
        )
    # Row numbers are counted batch by batch (batches come in file order), which is cheaper in
    # the streaming engine than a row index; the first record read is the header itself.
    lazy = lazy.select([names[p] for p in plan.positions])
    columns = [f"c{j}" for j in range(len(plan.positions))]
    number = table.header_row  # row number of the next record to arrive
    for raw in _raw_batches(lazy, plan.path, batch_rows):
        if (
            number == table.header_row
            and raw.height
            and [cell or "" for cell in raw.row(0)] != plan.header
        ):
            raise pl.exceptions.ComputeError("the header record is not where it should be")
        first = number
        number += raw.height
        if number - 1 <= after:
            continue
        # Polars reads an unquoted empty field as null but a quoted one ("") as empty text:
        # make those null too, copying only the columns that have any (a cheap length test).
        selected = [names[p] for p in plan.positions]
        has_empty = raw.select(
            [(pl.col(name).str.len_bytes() == 0).any() for name in selected]
        ).row(0)
        batch = raw.select(
            [pl.int_range(first, number, dtype=pl.Int64).alias(ROW)]
            + [
                (
                    pl.when(pl.col(name).str.len_bytes() > 0).then(pl.col(name))
                    if empty
                    else pl.col(name)
                ).alias(c)
                for c, name, empty in zip(columns, selected, has_empty, strict=True)
            ]
        )
        if first <= after:
            batch = batch.slice(after - first + 1)
        batch = _drop_blank_rows(batch)
        if batch.height:
            yield batch


# Files up to this size are read whole (Polars' fastest reader, one contiguous buffer per column,
# which every later step reads faster) and then sliced into batches; larger ones stream.
WHOLE_READ_BYTES = 256 * MB


def _raw_batches(lazy: pl.LazyFrame, path: Path, batch_rows: int) -> Iterator[pl.DataFrame]:
    if path.stat().st_size > WHOLE_READ_BYTES:
        yield from lazy.collect_batches(chunk_size=batch_rows)
        return
    whole = lazy.collect()
    for offset in range(0, max(whole.height, 1), batch_rows):
        yield whole.slice(offset, batch_rows)


def _quotes_are_clean(path: Path, delimiter: str) -> bool:
    """Whether every double quote in the file belongs to a properly quoted field (one that
    starts a cell, doubles any quote inside it, and ends the cell). Polars reads such files
    exactly as Excel does; on anything else (5" pipe, a quote closed mid-cell) it can
    silently merge or drop rows, so those files go through Python's csv module first.

    One regex match per chunk (in C: no Python per row or per field) checks that the chunk is
    nothing but unquoted text and proper quoted fields. A quoted field cut by a chunk boundary
    reads as unclean, which only costs the slower, equally correct path."""
    d = re.escape(delimiter.encode())
    clean = re.compile(
        b'(?:[^"]++|"(?<=[' + d + b'\n]")[^"]*+(?:""[^"]*+)*+"(?=[' + d + b"\r\n]|\\Z))*+"
    )
    tail = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            data = tail + chunk
            if not chunk:
                cut = len(data)
            else:
                cut = data.rfind(b"\n") + 1
                if cut == 0 and len(data) < 64 * MB:
                    tail = data
                    continue
                cut = cut or len(data)
            piece, tail = data[:cut], data[cut:]
            if b'"' in piece and not clean.fullmatch(b"\n" + piece.removeprefix(codecs.BOM_UTF8)):
                return False
            if not chunk:
                return True


def _rewrite_csv(path: Path, separator: str, limits: Limits, temps: list[Path]) -> Path:
    """Normalise the file through Python's csv module, which reads stray quotes literally, as
    Excel does. One record in, one record out, so row numbers do not move; every field comes
    out quoted, comma-separated."""
    handle, name = tempfile.mkstemp(prefix="accord-upload-", suffix=".csv")
    out_path = Path(name)
    temps.append(out_path)
    if csv.field_size_limit() <= limits.max_cell_chars:
        csv.field_size_limit(limits.max_cell_chars + 1)
    number = 0
    with (
        path.open("r", encoding="utf-8", errors="replace", newline="") as src,
        os.fdopen(handle, "w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(src, delimiter=separator, quotechar='"', strict=False)
        writer = csv.writer(out, delimiter=",", quoting=csv.QUOTE_ALL, lineterminator="\n")
        try:
            for number, record in enumerate(reader, start=1):  # noqa: B007 - used after
                writer.writerow(record)
        except csv.Error as exc:
            raise _csv_module_error(exc, number + 1, limits) from None
    return out_path


def _csv_module_error(exc: csv.Error, row: int, limits: Limits) -> UnusableFile:
    """Python's csv module stops at a field over its own size limit (128 KiB): a cell too long
    for us too. Anything else it refuses is a malformed file."""
    if "field larger than field limit" in str(exc):
        return _cell_too_long(row, None, None, None, limits)
    return UnusableFile(
        "malformed_csv",
        f"The file could not be read as CSV at row {row:,}. Open it in Excel, check that "
        "row, and save it again as CSV UTF-8.",
    )


def _malformed_csv(exc: Exception) -> UnusableFile:
    detail = str(exc)
    found = re.search(r"Field `(.{0,80})", detail, re.DOTALL)
    where = f" near the text “{found.group(1).strip()}”" if found else ""
    return UnusableFile(
        "malformed_csv",
        f'The file could not be read as CSV{where}: its double quotes (") do not pair up, so '
        "Accord cannot tell where cells end. Open it in Excel, check that cell, and save it "
        "again as CSV UTF-8.",
    )


# --------------------------------------------------------------------------------------------
# Shared helpers


def _letters(index: int) -> str:
    """Spreadsheet column letters of a 0-based column index: 0 → A, 26 → AA."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _column_number(letters: bytes | str) -> int:
    """1-based column number of column letters: A → 1, AA → 27."""
    text = letters.decode() if isinstance(letters, bytes) else letters
    n = 0
    for ch in text:
        n = n * 26 + (ord(ch) - 64)
    return n


def _drop_blank_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows with something other than whitespace in at least one cell.

    Column by column, only over rows still in doubt: usually the first column settles almost
    every row, so this costs one vectorised pass over one column, not over all of them."""
    columns = [c for c in frame.columns if c != ROW]
    doubtful = frame.select(ROW, *columns)
    for column in columns:
        if doubtful.height == 0:
            return frame
        doubtful = doubtful.filter(~pl.col(column).str.contains(r"\S").fill_null(False))
    if doubtful.height == 0:
        return frame
    return frame.filter(~pl.col(ROW).is_in(doubtful[ROW].implode()))


def _pick_header(rows: list[list[str]], header_score: HeaderScore) -> int:
    """Index of the best-scoring row: ties go to the earliest; all zero means the first."""
    best, best_score = 0, 0
    for index, cells in enumerate(rows):
        score = header_score([cell.strip() for cell in cells])
        if score > best_score:
            best, best_score = index, score
    return best


def _check_header(
    headers: list[str],
    columns: list[int],
    header_row: int,
    limits: Limits,
    kind: str,
    sheet_name: str | None,
) -> None:
    if columns and columns[-1] + 1 > limits.max_columns:
        raise UnusableFile(
            "too_many_columns",
            f"The header row (row {header_row:,}) runs to column {_letters(columns[-1])}, "
            f"beyond the {limits.max_columns:,} columns Accord reads. Delete the columns the "
            "standard does not need, and any stray text to the right of your table.",
        )
    for header, column in zip(headers, columns, strict=True):
        if len(header) > limits.max_cell_chars:
            raise _cell_too_long(header_row, _letters(column), None, len(header), limits)


def _cell_too_long(
    row: int, letter: str | None, header: str | None, length: int | None, limits: Limits
) -> UnusableFile:
    where = f"row {row:,}" + (f", column {letter}" if letter else "")
    if header:
        where += f" (“{header[:60]}”)"
    size = f" holds {length:,} characters;" if length else " is too long;"
    return UnusableFile(
        "cell_too_long",
        f"The cell at {where}{size} a cell may hold at most {limits.max_cell_chars:,} "
        "(Excel's own limit). In a CSV this usually means a double quote (\") opened in that "
        "cell is never closed, so the rest of the file runs into it. Fix that cell and upload "
        "the file again.",
    )


def _check_cell_lengths(batch: pl.DataFrame, table: Table) -> None:
    """Vectorised: the longest cell of each column, then the first offending row if any."""
    limit = table.limits.max_cell_chars
    columns = [c for c in batch.columns if c != ROW]
    if not columns or batch.height == 0:
        return
    widest = batch.select([pl.col(c).str.len_bytes().max() for c in columns]).row(0)
    suspects = [c for c, n in zip(columns, widest, strict=True) if n is not None and n > limit]
    if not suspects:  # a cell has at least as many bytes as characters
        return
    longest = batch.select([pl.col(c).str.len_chars().max() for c in suspects]).row(0)
    over = [c for c, n in zip(suspects, longest, strict=True) if n is not None and n > limit]
    if not over:
        return
    firsts = []
    for c in over:
        hit = batch.filter(pl.col(c).str.len_chars() > limit).select(ROW, c).row(0)
        firsts.append((hit[0], c, len(hit[1])))
    row, column, length = min(firsts)
    position = int(column[1:])
    raise _cell_too_long(
        row, table.letters[position], table.headers[position], length, table.limits
    )


__all__ = ["ROW", "Limits", "Table", "UnusableFile", "open_table"]
