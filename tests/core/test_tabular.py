"""Reading organizers' tables (CSV in three encodings, XLSX) and writing safe CSV."""
import openpyxl
import pytest

from meeting.imports.quotas import ImportProblem, parse_people, parse_quotas
from meeting.imports.tabular import TabularError, read_table, safe_cell, write_csv

JP = "id,性別,年代,住所\n1,女性,70代以上,世田谷区1-1\n2,男性,20代,世田谷区2-2\n"


@pytest.mark.parametrize("encoding,prefix", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"),
                                             ("cp932", b""), ("shift_jis", b"")])
def test_csv_encodings_are_detected(tmp_path, encoding, prefix):
    path = tmp_path / "roster.csv"
    path.write_bytes(prefix + JP.encode(encoding))
    t = read_table(path)
    assert t.header == ["id", "性別", "年代", "住所"]
    assert t.rows[0] == {"id": "1", "性別": "女性", "年代": "70代以上", "住所": "世田谷区1-1"}
    assert t.rows[1]["年代"] == "20代"
    assert t.line_numbers == [2, 3]


def test_xlsx_is_read_as_strings(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "性別", "age"])
    ws.append([1, "女性", 70])
    ws.append([None, None, None])
    ws.append(["p2", "男性", 25.0])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    t = read_table(path)
    assert t.header == ["id", "性別", "age"]
    assert t.rows == [{"id": "1", "性別": "女性", "age": "70"}, {"id": "p2", "性別": "男性", "age": "25"}]
    assert t.line_numbers == [2, 4]


def test_semicolon_csv_and_blank_lines(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("category;name;min;max\n\ngender;female;1;2\n", encoding="utf-8")
    t = read_table(path)
    assert t.rows == [{"category": "gender", "name": "female", "min": "1", "max": "2"}]
    assert t.line_numbers == [3]


@pytest.mark.parametrize("content,needle", [
    (b"", "empty"),
    (b"a,b\n1,2,3\n", "row 2"),
    (b"a,a\n1,2\n", "twice"),
    (b"PK\x03\x04garbage", "Excel"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", ".xls"),
])
def test_unreadable_files_give_one_line_errors(tmp_path, content, needle):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(TabularError) as exc:
        read_table(path)
    message = str(exc.value)
    assert needle in message and "bad.csv" in message and "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(TabularError, match="nope.csv: cannot open"):
        read_table(tmp_path / "nope.csv")


def test_write_csv_has_bom_and_defuses_formulas(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, ["name", "note"], [["=HYPERLINK(\"x\")", "+1"], ["@SUM(A1)", "-2"],
                                       ["\tx", "plain 田中"]])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1" in text and "'@SUM" in text and "'-2" in text
    assert "'\tx" in text and "plain 田中" in text
    assert safe_cell("ok") == "ok" and safe_cell(None) == ""


def _table(tmp_path, text, name="q.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_table(path)


def test_quota_headers_in_all_three_spellings(tmp_path):
    for head in ("category,name,min,max", "feature,value,min,max", "category,feature,min,max"):
        quotas = parse_quotas(_table(tmp_path, f"{head},notes\nage,70+,2,5,older\n"))
        assert [(q.category, q.value, q.min, q.max) for q in quotas] == [("age", "70+", 2, 5)]
    q = parse_quotas(_table(tmp_path, "feature,value,min,max,min_flex,max_flex\nage,70+,2,5,0,9\n"))[0]
    assert (q.min_flex, q.max_flex) == (0, 9)


@pytest.mark.parametrize("body,needle", [
    ("age,70+,two,5\n", "row 2: the min 'two' is not a number"),
    ("age,70+,2,5\nage,70+,1,3\n", "row 3: age=70+ is already listed in row 2"),
    ("age,,2,5\n", "row 2: the value is empty"),
    ("age,70+,2.5,5\n", "whole number"),
])
def test_quota_rows_are_checked(tmp_path, body, needle):
    with pytest.raises(ImportProblem) as exc:
        parse_quotas(_table(tmp_path, "category,name,min,max\n" + body))
    assert needle in str(exc.value)


def test_quota_file_without_min_column(tmp_path):
    with pytest.raises(ImportProblem, match="missing column"):
        parse_quotas(_table(tmp_path, "category,name,max\nage,70+,5\n"))


def test_people_ids_categories_and_households(tmp_path):
    t = _table(tmp_path, "ID,Age,Street,Town\na,70+, 1 Main St ,Setagaya\nb,20s,1 main st,SETAGAYA\n"
                         "c,20s,,\n", "people.csv")
    people = parse_people(t, ["age"], household_columns=["street", "town"])
    assert people.pool.ids == ["a", "b", "c"]
    assert people.pool.features["age"] == ["70+", "20s", "20s"]
    hh = people.pool.households
    assert hh[0] == hh[1] and hh[2] is None
    rows = parse_people(_table(tmp_path, "Age\n70+\n20s\n", "p2.csv"), ["age"])
    assert rows.pool.ids == ["1", "2"] and rows.id_column is None


@pytest.mark.parametrize("text,kwargs,needle", [
    ("id,age\na,70+\na,20s\n", {}, "row 3: the id 'a' is already used in row 2"),
    ("id,age\na,\n", {}, "row 2: the value for 'age' is empty"),
    ("id,sex\na,f\n", {}, "no column for the quota category 'age'"),
    ("id,age\na,1\n", {"id_column": "member"}, "no id column 'member'"),
])
def test_people_rows_are_checked(tmp_path, text, kwargs, needle):
    with pytest.raises(ImportProblem) as exc:
        parse_people(_table(tmp_path, text, "people.csv"), ["age"], **kwargs)
    assert needle in str(exc.value) and "people.csv" in str(exc.value)
