"""The upload reader over real files: every encoding, layout and kind of bad file councils send."""

from __future__ import annotations

import datetime as dt
import time
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from accord.submissions.exceptions import UnusableFile
from accord.submissions.reading import ROW, Limits, Table, open_table
from tests import files

KNOWN = {"id", "name", "date", "amount", "note", "when", "code", "flag", "count", "a", "b"}


def score(cells: list[str]) -> int:
    """How many cells are headers we expect, as a standard's header_score would say."""
    return sum(cell.casefold() in KNOWN for cell in cells)


def read(path: Path, **kwargs) -> tuple[Table, pl.DataFrame]:
    """The table's facts and all its rows in one frame."""
    batch_rows = kwargs.pop("batch_rows", 1_000_000)
    with open_table(path, header_score=kwargs.pop("header_score", score), **kwargs) as table:
        batches = list(table.batches(batch_rows))
    frame = pl.concat(batches) if batches else pl.DataFrame()
    return table, frame


def rows(frame: pl.DataFrame) -> list[tuple]:
    return frame.rows()


def refused(path: Path, **kwargs) -> UnusableFile:
    with pytest.raises(UnusableFile) as excinfo:
        read(path, **kwargs)
    error = excinfo.value
    assert error.message
    assert error.code
    assert "Traceback" not in error.message
    return error


PEOPLE = [["id", "name", "amount"], ["1", "Ann", "12.5"], ["2", "Bob", ""], ["3", "Cy", "7"]]


# ---------------------------------------------------------------------------------------------
# CSV: encodings and delimiters


@pytest.mark.parametrize(
    ("encoding", "bom", "reported"),
    [
        ("utf-8", False, "utf-8"),
        ("utf-8", True, "utf-8-sig"),
        ("utf-16-le", True, "utf-16"),
        ("utf-16-be", True, "utf-16"),
        ("utf-16-le", False, "utf-16"),
    ],
)
def test_csv_in_each_unicode_encoding(tmp_path, encoding, bom, reported):
    text = files.csv_text([["id", "name", "note"], ["1", "Siân", "café · “ok”"], ["2", "Zoë", ""]])
    path = files.csv_file(tmp_path, text, encoding=encoding, bom=bom)
    table, frame = read(path)
    assert table.kind == "csv"
    assert table.encoding == reported
    assert table.headers == ["id", "name", "note"]
    assert rows(frame) == [(2, "1", "Siân", "café · “ok”"), (3, "2", "Zoë", None)]


def test_windows_1252_is_the_fallback_when_bytes_are_not_utf8(tmp_path):
    text = files.csv_text([["id", "name", "amount"], ["1", "Siân", "£12"], ["2", "“Bob”", "€3"]])
    table, frame = read(files.csv_file(tmp_path, text, encoding="cp1252"))
    assert table.encoding == "cp1252"
    assert rows(frame) == [(2, "1", "Siân", "£12"), (3, "2", "“Bob”", "€3")]


def test_utf8_validity_is_checked_over_the_whole_file_not_a_sample(tmp_path):
    """Five megabytes of ASCII, then one Windows-1252 byte on the last line."""
    body = "".join(f"{i},name {i},x\r\n" for i in range(1, 400_000))
    data = ("id,name,note\r\n" + body).encode() + "last,Ren\xe9e,y\r\n".encode("cp1252")
    assert len(data) > 5 * 1024 * 1024
    path = files.write_bytes(tmp_path, "late.csv", data)
    table, frame = read(path)
    assert table.encoding == "cp1252"
    assert frame.row(-1) == (400_001, "last", "Renée", "y")


@pytest.mark.parametrize("shift", [0, 1, 2, 3])
def test_a_character_split_by_a_read_chunk_is_still_utf8(tmp_path, shift):
    """The UTF-8 check reads 4 MiB at a time; a 2-, 3- or 4-byte character across a chunk
    boundary must not look like Windows-1252."""
    from accord.submissions.reading import CHUNK

    head = b"id,name\n"
    room = CHUNK - len(head) - shift - 6  # so the multi-byte text starts just before the cut
    lines = b"1,filler\n" * (room // 9)
    last = b"9," + b"x" * (room - len(lines)) + b"\n"
    data = head + lines + last + b"0," + "é€𝄞".encode() + b"\n2,ok\n"
    assert len(head + lines + last) + 2 == CHUNK - 1 - shift
    table, frame = read(files.write_bytes(tmp_path, "split.csv", data))
    assert table.encoding == "utf-8"
    assert frame.row(-2)[1:] == ("0", "é€𝄞")


def test_undefined_windows_1252_bytes_do_not_crash(tmp_path):
    path = files.write_bytes(tmp_path, "odd.csv", b"id,name\r\n1,a\x81b\x8dc\r\n")
    table, frame = read(path)
    assert table.encoding == "cp1252"
    assert rows(frame) == [(2, "1", "a\x81b\x8dc")]


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_each_delimiter_is_sniffed(tmp_path, delimiter, name):
    data = [["id", "name", "note"], ["1", "Smith, J", "a;b"], ["2", "Ann", "tab\there"]]
    path = files.csv_file(tmp_path, files.csv_text(data, delimiter), name=f"{name}.csv")
    table, frame = read(path)
    assert table.delimiter == delimiter
    assert rows(frame) == [(2, "1", "Smith, J", "a;b"), (3, "2", "Ann", "tab\there")]


def test_semicolons_with_decimal_commas(tmp_path):
    text = "id;amount;count\r\n1;12,5;3\r\n2;0,75;4\r\n"
    table, frame = read(files.csv_file(tmp_path, text))
    assert table.delimiter == ";"
    assert rows(frame) == [(2, "1", "12,5", "3"), (3, "2", "0,75", "4")]


def test_utf16_tab_file_as_excel_unicode_text_writes_it(tmp_path):
    path = files.excel_unicode_text(tmp_path, [["id", "name"], ["1", "Ann"], ["2", "Bob"]])
    assert path.read_bytes()[:4] == b"\xff\xfei\x00"
    table, frame = read(path)
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert rows(frame) == [(2, "1", "Ann"), (3, "2", "Bob")]


def test_old_mac_line_endings(tmp_path):
    path = files.csv_file(tmp_path, "id,name\r1,Ann\r2,Bob\r")
    _, frame = read(path)
    assert rows(frame) == [(2, "1", "Ann"), (3, "2", "Bob")]


# ---------------------------------------------------------------------------------------------
# CSV: layout


def test_title_row_and_blank_row_above_the_header(tmp_path):
    text = "Quarterly return: Cardiff,,\r\n,,\r\nid,name,amount\r\n1,Ann,12.5\r\n"
    table, frame = read(files.csv_file(tmp_path, text))
    assert table.header_row == 3
    assert rows(frame) == [(4, "1", "Ann", "12.5")]


def test_blank_rows_in_the_middle_keep_later_row_numbers_right(tmp_path):
    text = "id,name\r\n1,Ann\r\n\r\n,\r\n  ,\t\r\n2,Bob\r\n\r\n3,Cy\r\n"
    _, frame = read(files.csv_file(tmp_path, text))
    assert rows(frame) == [(2, "1", "Ann"), (6, "2", "Bob"), (8, "3", "Cy")]


def test_blank_first_column_puts_letters_from_b(tmp_path):
    text = ",,\r\n,id,name\r\n,1,Ann\r\n"
    table, frame = read(files.csv_file(tmp_path, text))
    assert (table.header_row, table.headers, table.letters) == (2, ["id", "name"], ["B", "C"])
    assert rows(frame) == [(3, "1", "Ann")]


def test_blank_header_columns_are_dropped(tmp_path):
    text = "id,,name,  \r\n1,x,Ann,y\r\n"
    table, frame = read(files.csv_file(tmp_path, text))
    assert (table.headers, table.letters) == (["id", "name"], ["A", "C"])
    assert frame.columns == [ROW, "c0", "c1"]
    assert rows(frame) == [(2, "1", "Ann")]


def test_quoted_fields_with_newlines_and_delimiters_count_as_one_row(tmp_path):
    data = [
        ["id", "name", "note"],
        ["1", "Smith, J", "line one\nline two"],
        ["2", 'Say "hi"', "a,b\r\nc"],
        ["3", "Cy", "x"],
    ]
    _, frame = read(files.csv_file(tmp_path, files.csv_text(data)))
    assert rows(frame) == [
        (2, "1", "Smith, J", "line one\nline two"),
        (3, "2", 'Say "hi"', "a,b\r\nc"),
        (4, "3", "Cy", "x"),
    ]


def test_multiline_title_cell_above_the_header_counts_as_one_row(tmp_path):
    text = '"Return\nfor Q1",\r\nid,name\r\n1,Ann\r\n'
    table, frame = read(files.csv_file(tmp_path, text))
    assert table.header_row == 2
    assert rows(frame) == [(3, "1", "Ann")]


def test_values_are_text_exactly_as_written(tmp_path):
    text = 'id,name,amount\r\n007, Ann ,"1,000"\r\n2,"",1e3\r\n'
    _, frame = read(files.csv_file(tmp_path, text))
    assert frame.schema == pl.Schema({ROW: pl.Int64, "c0": pl.Utf8, "c1": pl.Utf8, "c2": pl.Utf8})
    assert rows(frame) == [(2, "007", " Ann ", "1,000"), (3, "2", None, "1e3")]


def test_ragged_rows_fill_missing_cells_and_ignore_extra_ones(tmp_path):
    text = "id,name,amount\r\n1\r\n2,Bob\r\n3,Cy,7,extra,more\r\n"
    _, frame = read(files.csv_file(tmp_path, text))
    assert rows(frame) == [(2, "1", None, None), (3, "2", "Bob", None), (4, "3", "Cy", "7")]


def test_stray_quote_inside_a_field_is_read_literally_as_excel_does(tmp_path):
    text = 'id,name,note\r\n1,5" pipe,ok\r\n2,Bob",x\r\n3,"Cy, C",y\r\n'
    _, frame = read(files.csv_file(tmp_path, text))
    assert rows(frame) == [
        (2, "1", '5" pipe', "ok"),
        (3, "2", 'Bob"', "x"),
        (4, "3", "Cy, C", "y"),
    ]


def test_stray_quote_late_in_a_big_file_after_batches_were_handed_out(tmp_path):
    lines = ["id,name"] + [f"{i},n{i}" for i in range(1, 5001)]
    lines[4000] = '4000,5" pipe'
    path = files.csv_file(tmp_path, "\r\n".join(lines) + "\r\n")
    _, frame = read(path, batch_rows=1000)
    assert frame.height == 5000
    assert frame[ROW].to_list() == list(range(2, 5002))
    assert frame.row(3999) == (4001, "4000", '5" pipe')


def test_header_is_the_best_scoring_of_the_first_rows(tmp_path):
    text = "Note: name and id below\r\nid,x\r\nid,name\r\n1,Ann\r\n"
    table, frame = read(files.csv_file(tmp_path, text))
    assert table.header_row == 3
    assert rows(frame) == [(4, "1", "Ann")]


def test_ties_go_to_the_earliest_and_all_zero_means_the_first_nonblank_row(tmp_path):
    path = files.csv_file(tmp_path, "\r\nid,name\r\nname,id\r\n1,2\r\n")
    assert read(path)[0].header_row == 2
    table, frame = read(path, header_score=lambda cells: 0)
    assert (table.header_row, table.headers) == (2, ["id", "name"])
    assert rows(frame)[0] == (3, "name", "id")


def test_header_search_looks_only_at_the_first_non_blank_rows(tmp_path):
    text = "".join(f"title {i}\r\n\r\n" for i in range(5)) + "id,name\r\n1,Ann\r\n"
    path = files.csv_file(tmp_path, text)
    assert read(path)[0].header_row == 11
    table, _ = read(path, limits=Limits(header_search_rows=3))
    assert table.header_row == 1  # nothing scored in the first three: the first is the header


def test_batches_split_a_file_with_contiguous_row_numbers(tmp_path):
    lines = ["Return", "", "id,name"]
    expected = []
    for i in range(1, 2501):
        lines.append(f"{i},n{i}")
        expected.append(len(lines))
        if i % 700 == 0:
            lines.append("")
    path = files.csv_file(tmp_path, "\r\n".join(lines) + "\r\n")
    with open_table(path, header_score=score) as table:
        assert table.estimated_rows == 2500
        batches = list(table.batches(1000))
    assert len(batches) >= 3
    assert all(b.height <= 1000 for b in batches)
    numbers = pl.concat(batches)[ROW].to_list()
    assert numbers == expected
    assert pl.concat(batches)["c0"].to_list() == [str(i) for i in range(1, 2501)]


def test_estimated_rows_for_a_file_bigger_than_the_sample(tmp_path):
    body = "".join(f"{i},name number {i}\r\n" for i in range(1, 100_001))
    path = files.csv_file(tmp_path, "id,name\r\n" + body)
    with open_table(path, header_score=score) as table:
        assert table.estimated_rows is not None
        assert 80_000 < table.estimated_rows < 120_000
        assert sum(b.height for b in table.batches()) == 100_000


def test_transcoded_copy_is_removed_on_close(tmp_path):
    path = files.csv_file(tmp_path, "id,name\r\n1,Ren\xe9e\r\n", encoding="cp1252")
    table = open_table(path, header_score=score)
    temps = list(table._temps)
    assert temps
    assert all(t.exists() for t in temps)
    with table:
        assert rows(pl.concat(list(table.batches()))) == [(2, "1", "Renée")]
    assert not any(t.exists() for t in temps)
    table.close()  # twice is fine


# ---------------------------------------------------------------------------------------------
# XLSX


def test_xlsx_title_row_typed_numbers_and_dates(tmp_path):
    data = [
        ["Quarterly return", None, None, None, None],
        [None, None, None, None, None],
        ["id", "date", "amount", "flag", "code"],
        [12, dt.datetime(2024, 3, 1), 12.5, True, "0123"],
        [13, dt.datetime(2024, 3, 1, 10, 0), 7.0, False, None],
        [None, None, None, None, None],
        [1e20, dt.date(2024, 3, 2), -0.25, None, "x"],
    ]
    path = files.xlsx_file(tmp_path, {"Data": data})
    table, frame = read(path)
    assert (table.kind, table.sheet_name, table.header_row) == ("xlsx", "Data", 3)
    assert table.headers == ["id", "date", "amount", "flag", "code"]
    assert table.letters == ["A", "B", "C", "D", "E"]
    assert (table.encoding, table.delimiter) == (None, None)
    assert table.estimated_rows == 3
    assert rows(frame) == [
        (4, "12", "2024-03-01", "12.5", "true", "0123"),
        (5, "13", "2024-03-01T10:00:00", "7", "false", None),
        (7, "100000000000000000000", "2024-03-02", "-0.25", None, "x"),
    ]


def test_xlsx_data_starting_in_b3_with_blank_column_a(tmp_path):
    data = [["id", None, "name"], [1, "stray", "Ann"], [None, None, "   "], [2, None, "Bob"]]
    path = files.xlsx_file(tmp_path, {"Sheet1": data}, first_row=3, first_column=2)
    table, frame = read(path)
    assert (table.header_row, table.headers, table.letters) == (3, ["id", "name"], ["B", "D"])
    assert rows(frame) == [(4, "1", "Ann"), (6, "2", "Bob")]


def test_xlsx_instructions_sheet_first_prefers_the_data_sheet(tmp_path):
    sheets = {
        "Instructions": [["Fill in the Data sheet"]],
        "Lookups": [["code"], ["A"]],
        "Data": [["id", "name"], [1, "Ann"]],
    }
    table, frame = read(files.xlsx_file(tmp_path, sheets))
    assert table.sheet_name == "Data"
    assert rows(frame) == [(2, "1", "Ann")]


def test_xlsx_read_me_sheet_first_falls_to_the_next_visible_sheet(tmp_path):
    sheets = {
        "READ ME first": [["Notes"]],
        "Hidden": [["id"], [99]],
        "Return": [["id", "name"], [1, "Ann"]],
    }
    table, _ = read(files.xlsx_file(tmp_path, sheets, hidden=["Hidden"]))
    assert table.sheet_name == "Return"


def test_xlsx_hidden_first_sheet_is_skipped(tmp_path):
    sheets = {"Old": [["id"], [1]], "Current": [["id"], [2]]}
    table, frame = read(files.xlsx_file(tmp_path, sheets, hidden=["Old"]))
    assert table.sheet_name == "Current"
    assert rows(frame) == [(2, "2")]


def test_xlsx_sheet_chosen_by_name_or_index(tmp_path):
    path = files.xlsx_file(tmp_path, {"One": [["id"], [1]], "Two": [["id"], [2]]})
    assert read(path, sheet="Two")[0].sheet_name == "Two"
    assert read(path, sheet=" two ")[0].sheet_name == "Two"
    assert read(path, sheet=0)[0].sheet_name == "One"
    error = refused(path, sheet="Three")
    assert error.code == "no_sheet"
    assert "“One”, “Two”" in error.message
    assert refused(path, sheet=5).code == "no_sheet"


def test_xlsx_with_every_sheet_hidden(tmp_path):
    error = refused(files.xlsx_all_sheets_hidden(tmp_path))
    assert error.code == "no_sheet"
    assert "Unhide" in error.message


def test_xlsx_batches_slice_the_sheet(tmp_path):
    data: list[Any] = [["id", "name"]] + [[i, f"n{i}"] for i in range(1, 251)]
    data.insert(100, [None, None])
    _, frame = read(files.xlsx_file(tmp_path, {"Data": data}), batch_rows=60)
    expected = [r for r in range(2, 253) if r != 101]
    assert frame[ROW].to_list() == expected


def test_xlsx_cells_written_without_references(tmp_path):
    """Some writers leave out r="A1": cells then follow one another, as calamine reads them."""
    sheet = files.sheet_xml(
        '<row r="2"><c t="inlineStr"><is><t>id</t></is></c>'
        '<c t="inlineStr"><is><t>name</t></is></c></row>'
        '<row r="3"><c><v>1</v></c><c t="inlineStr"><is><t>Ann</t></is></c></row>'
    )
    table, frame = read(files.raw_xlsx(tmp_path, sheet))
    assert (table.header_row, table.headers) == (2, ["id", "name"])
    assert rows(frame) == [(3, "1", "Ann")]


def test_xlsx_shared_strings_and_escaped_text(tmp_path):
    sheet = files.sheet_xml(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2"><v>1</v></c>' + files.inline("B2", "Fish & chips <b>") + "</row>"
    )
    path = files.raw_xlsx(tmp_path, sheet, shared_strings=files.shared_strings_xml(["id", "name"]))
    _, frame = read(path)
    assert rows(frame) == [(2, "1", "Fish & chips <b>")]


def test_xlsx_empty_sheet(tmp_path):
    path = files.xlsx_file(tmp_path, {"Data": [], "Other": [["id"], [1]]})
    error = refused(path)
    assert error.code == "empty"
    assert "“Data”" in error.message
    assert "“Other”" in error.message


# ---------------------------------------------------------------------------------------------
# ODS


def test_ods_title_row_numbers_and_dates(tmp_path):
    data = [
        ["Return for Q1"],
        [None],
        [None, "id", "when", "amount"],
        [None, ("float", "12"), ("date", "2024-03-01"), ("float", "12.5")],
        [None, None, None, None],
        [None, ("float", "13"), ("date", "2024-03-01T10:00:00"), "n/a"],
    ]
    table, frame = read(files.ods_file(tmp_path, {"Data": data}))
    assert (table.kind, table.sheet_name, table.header_row) == ("ods", "Data", 3)
    assert (table.headers, table.letters) == (["id", "when", "amount"], ["B", "C", "D"])
    assert rows(frame) == [
        (4, "12", "2024-03-01", "12.5"),
        (6, "13", "2024-03-01T10:00:00", "n/a"),
    ]


def test_ods_repeated_cells_and_rows_as_libreoffice_compresses_them(tmp_path):
    """Identical neighbours are written once with a repeat count; calamine expands them."""
    zero = '<table:table-cell office:value-type="float" office:value="0"><text:p>0</text:p>'
    table = (
        '<table:table table:name="S">'
        "<table:table-row>"
        + "".join(files.ods_cell(h) for h in ["id", "a", "b", "count"])
        + "</table:table-row>"
        '<table:table-row table:number-rows-repeated="2">'
        + files.ods_cell("x")
        + zero.replace("<table:table-cell ", '<table:table-cell table:number-columns-repeated="3" ')
        + "</table:table-cell>"
        '<table:table-cell table:number-columns-repeated="20"/></table:table-row>'
        "<table:table-row>" + files.ods_cell("y") + "</table:table-row></table:table>"
    )
    path = files.ods_file(tmp_path, content=files.ods_content(table))
    table_, frame = read(path)
    assert table_.headers == ["id", "a", "b", "count"]
    assert rows(frame) == [
        (2, "x", "0", "0", "0"),
        (3, "x", "0", "0", "0"),
        (4, "y", None, None, None),
    ]


def test_ods_instructions_sheet_first(tmp_path):
    tables = {"Instructions": [["Read this"]], "Data": [["id"], [("float", "1")]]}
    table, frame = read(files.ods_file(tmp_path, tables))
    assert table.sheet_name == "Data"
    assert rows(frame) == [(2, "1")]


def test_ods_is_found_by_content_not_name(tmp_path):
    path = files.ods_file(tmp_path, {"S": [["id"], ["x"]]}, name="upload.csv")
    assert read(path)[0].kind == "ods"


def test_encrypted_ods(tmp_path):
    manifest = (
        '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml">'
        "<manifest:encryption-data/></manifest:file-entry></manifest:manifest>"
    )
    path = files.ods_file(tmp_path, {"S": [["id"]]}, manifest=manifest)
    assert refused(path).code == "encrypted"


# ---------------------------------------------------------------------------------------------
# Files that are not spreadsheets, or not usable


def test_kind_comes_from_content_not_the_name(tmp_path):
    path = files.xlsx_file(tmp_path, {"Data": [["id"], [1]]}, name="actually.csv")
    assert read(path)[0].kind == "xlsx"
    csv_named_xlsx = files.csv_file(tmp_path, "id\r\n1\r\n", name="actually.xlsx")
    assert read(csv_named_xlsx)[0].kind == "csv"


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (files.pdf_file, "PDF"),
        (files.png_file, "PNG image"),
        (files.docx_file, "Word document"),
        (files.random_binary, "binary"),
    ],
)
def test_not_a_spreadsheet_names_what_it_seems_to_be(tmp_path, build, words):
    error = refused(build(tmp_path))
    assert error.code == "not_a_spreadsheet"
    assert words in error.message


def test_plain_zip_archive(tmp_path):
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("returns.csv", "id\r\n1\r\n")
    error = refused(path)
    assert error.code == "not_a_spreadsheet"
    assert "upload the spreadsheet inside it" in error.message


def test_html_saved_as_xls(tmp_path):
    path = files.write_bytes(tmp_path, "report.xls", b"<html><body><table><tr><td>1")
    error = refused(path)
    assert (error.code, "web page" in error.message) == ("not_a_spreadsheet", True)


def test_macro_enabled_workbook(tmp_path):
    error = refused(files.macro_workbook(tmp_path))
    assert error.code == "macros"
    assert "Excel Workbook (.xlsx)" in error.message


def test_password_protected_workbook(tmp_path):
    error = refused(files.encrypted_xlsx(tmp_path))
    assert error.code == "encrypted"
    assert "password" in error.message


def test_old_xls_workbook(tmp_path):
    error = refused(files.old_xls(tmp_path))
    assert error.code == "old_excel"
    assert ".xlsx" in error.message
    assert "CSV" in error.message


def test_corrupt_zip(tmp_path):
    error = refused(files.truncated_xlsx(tmp_path))
    assert error.code == "corrupt"


def test_workbook_calamine_cannot_open(tmp_path):
    sheet = files.sheet_xml('<row r="1"><c r="A1" t="s"><v>7</v></c>')  # unclosed, bad index
    assert refused(files.raw_xlsx(tmp_path, sheet)).code == "corrupt"


def test_missing_file_or_a_folder(tmp_path):
    assert refused(tmp_path / "gone.csv").code == "not_found"
    assert refused(tmp_path).code == "not_found"


@pytest.mark.parametrize("content", [b"", b"   \r\n\t\r\n  ", b"\xef\xbb\xbf\r\n"])
def test_empty_files(tmp_path, content):
    assert refused(files.write_bytes(tmp_path, "e.csv", content)).code == "empty"


def test_csv_of_only_delimiters_is_empty(tmp_path):
    assert refused(files.csv_file(tmp_path, ",,,\r\n,,\r\n \t,\r\n")).code == "empty"


def test_no_header_in_a_sample_of_blank_lines(tmp_path):
    path = files.csv_file(tmp_path, ",\r\n" * 700_000 + "id\r\n1\r\n")
    assert refused(path).code == "no_header"


def test_nul_bytes(tmp_path):
    path = files.write_bytes(tmp_path, "n.csv", b"id,name\r\n1,Ann\r\n2,B\x00ob\r\n")
    error = refused(path)
    assert error.code == "nul_bytes"
    assert "line 3" in error.message


def test_nul_bytes_in_utf16_text(tmp_path):
    path = files.csv_file(tmp_path, "id\tname\r\n1\tA\x00n\r\n", encoding="utf-16-le", bom=True)
    assert refused(path).code == "nul_bytes"


def test_broken_utf16(tmp_path):
    data = b"\xff\xfe" + "id\tname\r\n".encode("utf-16-le") + b"\x00\xdc\x41"
    assert refused(files.write_bytes(tmp_path, "u.txt", data)).code == "bad_encoding"


def test_utf32(tmp_path):
    data = b"\xff\xfe\x00\x00" + "id\r\n".encode("utf-32-le")
    assert refused(files.write_bytes(tmp_path, "u.csv", data)).code == "bad_encoding"


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    path = files.csv_file(tmp_path, "id\r\n" + "1\r\n" * 1000)
    error = refused(path, limits=Limits(max_bytes=1024))
    assert error.code == "too_large"
    assert "1.0 MB" not in error.message
    assert "limit" in error.message


def test_size_limit_is_in_megabytes(tmp_path):
    path = files.csv_file(tmp_path, "id\r\n" + "1\r\n" * 1000)
    error = refused(path, limits=Limits(max_bytes=1000))
    assert "MB" in error.message


def test_too_many_columns_in_a_csv(tmp_path):
    header = ",".join(f"h{i}" for i in range(1001))
    error = refused(files.csv_file(tmp_path, header + "\r\n" + "1," * 1000 + "1\r\n"))
    assert error.code == "too_many_columns"
    assert "ALM" in error.message


def test_too_many_columns_in_a_workbook(tmp_path):
    sheet = files.sheet_xml(
        '<row r="1">' + files.inline("A1", "id") + files.inline("ALM1", "late") + "</row>"
    )
    error = refused(files.raw_xlsx(tmp_path, sheet))
    assert error.code == "too_many_columns"
    assert "ALM" in error.message


def test_giant_csv_field_names_row_and_column(tmp_path):
    text = "id,name,note\r\n1,Ann,ok\r\n2,Bob," + "x" * 40_000 + "\r\n3,Cy,ok\r\n"
    error = refused(files.csv_file(tmp_path, text))
    assert error.code == "cell_too_long"
    assert "row 3" in error.message
    assert "column C" in error.message
    assert "“note”" in error.message
    assert "40,000" in error.message


def test_giant_field_far_into_a_csv_is_found_in_its_batch(tmp_path):
    lines = ["id,note"] + [f"{i},ok" for i in range(1, 3001)]
    lines[2500] = "2500," + "y" * 33_000
    error = refused(files.csv_file(tmp_path, "\r\n".join(lines) + "\r\n"), batch_rows=1000)
    assert error.code == "cell_too_long"
    assert "row 2,501, column B" in error.message


def test_unclosed_quote_runs_into_one_giant_cell(tmp_path):
    lines = ["id,note", '1,"oops'] + [f"{i},fine" for i in range(2, 5000)]
    error = refused(files.csv_file(tmp_path, "\r\n".join(lines) + "\r\n"))
    assert error.code == "cell_too_long"
    assert "row 2" in error.message
    assert "never closed" in error.message


def test_giant_workbook_cell(tmp_path):
    sheet = files.sheet_xml(
        '<row r="1">'
        + files.inline("A1", "id")
        + files.inline("B1", "note")
        + '</row><row r="2"><c r="A2"><v>1</v></c>'
        + files.inline("B2", "z" * 33_000)
        + "</row>"
    )
    error = refused(files.raw_xlsx(tmp_path, sheet))
    assert error.code == "cell_too_long"
    assert "row 2, column B" in error.message


# ---------------------------------------------------------------------------------------------
# Attacks: each refused quickly, before the expensive step


def test_zip_bomb_refused_from_the_central_directory_in_under_two_seconds(tmp_path):
    path = files.zip_bomb_xlsx(tmp_path)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size / info.compress_size > 200
    started = time.perf_counter()
    error = refused(path)
    assert time.perf_counter() - started < 2
    assert error.code == "zip_bomb"


def test_total_uncompressed_size_limit(tmp_path):
    path = files.xlsx_file(tmp_path, {"Data": [["id"], *[[i] for i in range(2000)]]})
    error = refused(path, limits=Limits(max_uncompressed_bytes=20_000))
    assert error.code == "zip_bomb"


@pytest.mark.parametrize("part", ["sheet", "sharedStrings"])
def test_zip_part_that_inflates_past_its_declared_size(tmp_path, part):
    started = time.perf_counter()
    error = refused(files.lying_zip_xlsx(tmp_path, part))
    assert time.perf_counter() - started < 2
    assert error.code == "zip_bomb"


@pytest.mark.parametrize("part", ["sharedStrings", "sheet"])
def test_billion_laughs_refused_in_under_two_seconds(tmp_path, part):
    path = files.billion_laughs_xlsx(tmp_path, part)
    started = time.perf_counter()
    error = refused(path)
    assert time.perf_counter() - started < 2
    assert error.code == "xml_bomb"


def test_entity_bomb_in_an_ods(tmp_path):
    content = files.ods_content(files.ods_table("S", [["&lol9;"]]), files.billion_laughs_prolog())
    path = files.ods_file(tmp_path, content=content)
    assert refused(path).code == "xml_bomb"


def test_two_far_apart_cells_do_not_make_calamine_allocate_the_grid(tmp_path):
    """A1 and XFD1048576: a 1 KB file asking for 17 billion cells. calamine would abort the
    whole process trying to allocate them."""
    sheet = files.sheet_xml(
        '<row r="1">' + files.inline("A1", "id") + "</row>"
        '<row r="1048576">' + files.inline("XFD1048576", "x") + "</row>"
    )
    error = refused(files.raw_xlsx(tmp_path, sheet))
    assert error.code == "too_many_columns"


def test_far_down_cell_within_column_limit_exceeds_the_cell_budget(tmp_path):
    sheet = files.sheet_xml(
        '<row r="1">' + files.inline("A1", "id") + "</row>"
        '<row r="1048576">' + files.inline("ALL1048576", "x") + "</row>"
    )
    error = refused(files.raw_xlsx(tmp_path, sheet))
    assert error.code == "too_large"
    assert "1,048,576 rows" in error.message


@pytest.mark.parametrize("far", ["BZ900000", "B30000000", "bz9000000", "$BZ$9000000"])
def test_out_of_order_far_cell_is_caught(tmp_path, far):
    """The row says 2 but the cell says somewhere far down: calamine believes the cell."""
    sheet = files.sheet_xml(
        '<row r="1">' + files.inline("A1", "id") + files.inline("B1", "name") + "</row>"
        '<row r="2"><c r="A2"><v>1</v></c>' + files.inline(far, "x") + "</row>"
    )
    assert refused(files.raw_xlsx(tmp_path, sheet)).code == "too_large"


def test_cells_without_references_spreading_wide(tmp_path):
    sheet = files.sheet_xml('<row r="1">' + "<c><v>1</v></c>" * 2000 + "</row>")
    assert refused(files.raw_xlsx(tmp_path, sheet)).code == "too_many_columns"


def test_cell_budget_is_a_limit(tmp_path):
    data = [["id", "name"]] + [[i, "x"] for i in range(100)]
    path = files.xlsx_file(tmp_path, {"Data": data})
    assert refused(path, limits=Limits(max_cells=150)).code == "too_large"


def test_shared_string_count_that_cannot_be_true(tmp_path):
    """calamine reserves memory for uniqueCount strings; four billion aborts the process."""
    strings = files.shared_strings_xml(["id"], unique_count=4_000_000_000)
    sheet = files.sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    assert refused(files.raw_xlsx(tmp_path, sheet, shared_strings=strings)).code == "corrupt"


def test_ods_repeated_cell_bomb(tmp_path):
    started = time.perf_counter()
    error = refused(files.ods_repeat_bomb(tmp_path))
    assert time.perf_counter() - started < 2
    assert error.code == "too_large"


def test_ods_padding_as_libreoffice_writes_it_is_fine(tmp_path):
    """LibreOffice pads a sheet with a million empty repeated rows: they cost nothing."""
    _table, frame = read(files.ods_file(tmp_path, {"S": [["id"], [("float", "1")]]}))
    assert rows(frame) == [(2, "1")]
