"""CSV, JSON and XLSX for people: CSV is UTF-8 with BOM (Excel opens it), RFC 4180 (CRLF, quoted
fields), and every format is safe against formula injection."""

import csv
import io
import json

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
JSON_TYPE = "application/json"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value) -> str:
    """Neutralize a cell a spreadsheet would run as a formula, by a leading apostrophe."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)  # a number, negative or not, is data and never a formula
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def write_csv(header: list[str], rows, *, bom: bool = True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def write_json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _xlsx_value(value):
    # Numbers stay numbers; every text is set as a string, never a formula.
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return safe_cell(value)


def write_xlsx(sheets) -> bytes:
    """One worksheet per (title, header, rows); sheet titles cut to Excel's 31 characters."""
    from openpyxl import Workbook  # here: a tenth of a second to import, and only exports need it
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append([_xlsx_value(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_xlsx_value(v) for v in row])
            for cell in sheet[sheet.max_row]:
                if cell.data_type == "f":  # openpyxl reads a leading "=" as a formula
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
