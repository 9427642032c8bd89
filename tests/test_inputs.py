"""Input readers: JSONL, CSV and folders, streamed, with errors that name file and line."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from structbatch import InputError
from structbatch._inputs import Problems, infer_format, read_rows, scan_folder

DATA = Path(__file__).resolve().parents[1] / "examples" / "data"


def test_jsonl_rows_carry_key_fields_and_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text('{"id": "a", "text": "x"}\n\n{"id": 7, "text": "y", "n": 1}\n', encoding="utf-8")
    rows = list(read_rows(f, "jsonl", "id"))
    assert [(r.key, r.line) for r in rows] == [("a", 1), ("7", 3)]  # blank line skipped, int key -> str
    assert rows[1].fields["n"] == 1
    assert rows[1].where == f"{f}:3"


def test_jsonl_is_streamed_and_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c",\n', encoding="utf-8")
    rows = read_rows(f, "jsonl", "id")
    assert isinstance(rows, types.GeneratorType)
    assert next(rows).key == "a"  # rows before the bad one come out first: nothing is loaded whole
    assert next(rows).key == "b"
    with pytest.raises(InputError, match=rf"{f}:3: not valid JSON"):
        next(rows)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('["a"]', "expected a JSON object per line, got list"),
        ('{"text": "no key"}', "key field 'id' is missing \\(fields: text\\)"),
        ('{"id": true}', "key field 'id' must be a non-empty string"),
        ('{"id": "  "}', "key field 'id' must be a non-empty string"),
    ],
)
def test_jsonl_bad_rows(tmp_path: Path, line: str, message: str) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text('{"id": "ok"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"in.jsonl:2: {message}"):
        list(read_rows(f, "jsonl", "id"))


def test_csv_multiline_records_report_their_first_line(tmp_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text('\ufeffid,text\na,"one\ntwo\nthree"\nb,plain\n', encoding="utf-8")
    rows = list(read_rows(f, "csv", "id"))
    assert [(r.key, r.line) for r in rows] == [("a", 2), ("b", 5)]  # BOM dropped from the header
    assert rows[0].fields["text"] == "one\ntwo\nthree"


def test_csv_missing_key_column_and_ragged_rows(tmp_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text("name,text\nx,y\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"in.csv:1: key column 'id' not in the header \(name, text\)"):
        list(read_rows(f, "csv", "id"))
    f.write_text("id,text\na,b\nc,d,e\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"in.csv:3: 3 fields, the header has 2 columns \(an unquoted comma\?\)"
    ):
        list(read_rows(f, "csv", "id"))
    f.write_text("id,text\na\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"in.csv:2: 1 fields, the header has 2 columns; column 'text' is missing"
    ):
        list(read_rows(f, "csv", "id"))


def test_csv_unterminated_quote_is_an_error_not_one_giant_field(tmp_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text('id,text\na,fine\nb,"never closed\nc,swallowed\nd,too\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"in.csv:3: unterminated quoted field"):
        list(read_rows(f, "csv", "id"))
    f.write_text('id,text\na,"x"y\nb,ok\n', encoding="utf-8")  # text after a closing quote
    problems = Problems()
    rows = list(read_rows(f, "csv", "id", problems=problems))
    assert [r.key for r in rows] == ["b"] and len(problems.messages) == 1
    assert "in.csv:2: malformed CSV record" in problems.messages[0]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id,id,text", r"in.csv:1: duplicate column name 'id' \(columns 1 and 2\)"),
        ("id,,text", r"in.csv:1: column 2 of the header has no name"),
        ("id, ,text", r"in.csv:1: column 2 of the header has no name"),
    ],
)
def test_csv_header_problems(tmp_path: Path, header: str, message: str) -> None:
    f = tmp_path / "in.csv"
    f.write_text(f"{header}\na,b,c\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        list(read_rows(f, "csv", "id"))


def test_a_utf8_bom_is_accepted_in_every_format(tmp_path: Path) -> None:
    bom = "\ufeff"
    (tmp_path / "in.jsonl").write_text(bom + '{"id": "a", "text": "x"}\n', encoding="utf-8")
    assert [r.key for r in read_rows(tmp_path / "in.jsonl", "jsonl", "id")] == ["a"]
    (tmp_path / "in.csv").write_text(bom + "id,text\na,x\n", encoding="utf-8")
    assert [r.key for r in read_rows(tmp_path / "in.csv", "csv", "id")] == ["a"]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(bom + "hello", encoding="utf-8")
    assert [r.fields["text"] for r in read_rows(folder, "folder", "")] == ["hello"]


def test_up_to_twenty_problems_are_collected_then_reading_stops(tmp_path: Path) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text("".join(f"not json {i}\n" for i in range(30)) + '{"id": "ok"}\n', encoding="utf-8")
    problems = Problems()
    assert list(read_rows(f, "jsonl", "id", problems=problems)) == []
    assert len(problems.messages) == 20 and problems.truncated
    assert "in.jsonl:1: not valid JSON" in problems.messages[0]
    message = str(problems.error(f))
    assert message.startswith(f"{f}: 20 problems (stopped at the first 20") and "in.jsonl:20:" in message


def test_folder_reads_txt_and_md_with_stems_as_keys(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# B", encoding="utf-8")
    (tmp_path / "a paper.txt").write_text("A", encoding="utf-8")
    (tmp_path / "skip.pdf").write_bytes(b"%PDF")
    rows = list(read_rows(tmp_path, "folder", ""))
    assert [(r.key, r.fields["text"], r.fields["name"]) for r in rows] == [
        ("a paper", "A", "a paper.txt"),
        ("b", "# B", "b.md"),
    ]


def test_folder_recursive_glob_and_the_skip_report(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A", encoding="utf-8")
    (tmp_path / "notes.rst").write_text("R", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("H", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("B", encoding="utf-8")
    scan = scan_folder(tmp_path)
    assert [p.name for p in scan.files] == ["a.txt"]
    assert {reason.split(" (")[0]: [p.name for p in paths] for reason, paths in scan.skipped.items()} == {
        "hidden": [".hidden.txt"],
        "name does not match *.txt or *.md": ["notes.rst"],
        "subfolder": ["sub"],
    }
    assert any("set recursive = true in [input], or pass --recursive" in r for r in scan.skipped)
    rows = list(read_rows(tmp_path, "folder", "", recursive=True, globs=["*.txt", "*.rst"]))
    assert [r.key for r in rows] == ["a", "notes", "sub/b"]  # keys below the folder: no clashes


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no files matching \*\.txt or \*\.md"):
        list(read_rows(tmp_path, "folder", ""))
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(InputError, match=r"empty.txt: empty file"):
        list(read_rows(tmp_path, "folder", ""))
    (tmp_path / "empty.txt").unlink()
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match=r"bad.txt: not UTF-8 text"):
        list(read_rows(tmp_path, "folder", ""))
    with pytest.raises(InputError, match="input not found"):
        list(read_rows(tmp_path / "nope", "folder", ""))


def test_the_example_data_reads_cleanly() -> None:
    assert len(list(read_rows(DATA / "recipes.jsonl", "jsonl", "id"))) == 89
    invoices = list(read_rows(DATA / "invoices.csv", "csv", "invoice_id"))
    assert len(invoices) == 55 and "00042" in {r.key for r in invoices}  # leading zeros kept
    assert len(list(read_rows(DATA / "papers", "folder", ""))) == 45
    assert len(list(read_rows(DATA / "job_postings.jsonl", "jsonl", "posting_id"))) == 45


def test_infer_format(tmp_path: Path) -> None:
    assert infer_format(tmp_path) == "folder"
    assert infer_format(tmp_path / "x.JSONL") == "jsonl"
    assert infer_format(tmp_path / "x.ndjson") == "jsonl"
    assert infer_format(tmp_path / "x.csv") == "csv"
    with pytest.raises(InputError, match="set format ="):
        infer_format(tmp_path / "x.xlsx")
