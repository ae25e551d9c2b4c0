"""Read a table that an organizer brings: CSV (UTF-8, UTF-8 with BOM, CP932) or XLSX.

Everything comes back as strings: a header and one dict per data row. Problems
raise TabularError with one line naming the file (and row) that is wrong.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from typing import IO, Union

Source = Union[str, os.PathLike, bytes, IO[bytes]]

MAX_BYTES = 50 * 1024 * 1024


class TabularError(ValueError):
    """A file that cannot be read as a table.

    The message is one English line (the command line prints it); `code` and `params` let a
    page say the same in the user's language.
    """

    def __init__(self, message: str, code: str = "unreadable", **params):
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass
class Table:
    header: list[str]
    rows: list[dict[str, str]]
    name: str = "file"
    encoding: str = ""
    line_numbers: list[int] = field(default_factory=list)  # file row of each data row

    def column(self, name: str) -> list[str]:
        return [r.get(name, "") for r in self.rows]

    def find_column(self, name: str) -> str | None:
        """The header matching `name` ignoring case and surrounding spaces."""
        want = name.strip().casefold()
        for h in self.header:
            if h.strip().casefold() == want:
                return h
        return None


def _read_bytes(source: Source, name: str) -> bytes:
    try:
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
        elif hasattr(source, "read"):
            data = source.read()  # type: ignore[union-attr]
        else:
            with open(source, "rb") as fh:
                data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise TabularError(f"{name}: cannot open the file ({exc.strerror or exc}).", code="cannot_open") from None
    if len(data) > MAX_BYTES:
        raise TabularError(
            f"{name}: the file is larger than {MAX_BYTES // (1024 * 1024)} MB.", code="too_large", mb=MAX_BYTES // (1024 * 1024)
        )
    return data


def decode_text(data: bytes, name: str = "file") -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM) first, then CP932, then a guess."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:  # odd length, or a lone surrogate
            raise TabularError(f"{name}: the UTF-16 text is broken; save it as CSV UTF-8.", code="encoding") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception:  # noqa: BLE001 - detection is best effort
        best = None
    if best is not None and best.encoding:
        text = str(best)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # the guess kept lone surrogates
            best = None
        else:
            return text, best.encoding
    raise TabularError(f"{name}: the text encoding is not UTF-8 or Shift_JIS (CP932); save it as CSV UTF-8.", code="encoding")


def _rows_to_table(raw: list[list[str]], name: str, encoding: str, first_line: int = 1) -> Table:
    # drop fully empty lines but remember file row numbers for messages
    numbered = [(first_line + i, [c.strip() if c is not None else "" for c in r]) for i, r in enumerate(raw)]
    numbered = [(ln, r) for ln, r in numbered if any(c for c in r)]
    if not numbered:
        raise TabularError(f"{name}: the file is empty.", code="empty")
    header_line, header = numbered[0]
    while header and header[-1] == "":
        header.pop()
    if not header:
        raise TabularError(f"{name}: row {header_line} (the header) is empty.", code="header_empty", row=header_line)
    seen: set[str] = set()
    for h in header:
        if h == "":
            raise TabularError(f"{name}: row {header_line} has an empty column name.", code="column_unnamed", row=header_line)
        if h.casefold() in seen:
            raise TabularError(
                f"{name}: row {header_line} names the column '{h}' twice.", code="column_twice", row=header_line, column=h
            )
        seen.add(h.casefold())
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    for ln, r in numbered[1:]:
        extra = [c for c in r[len(header) :] if c]
        if extra:
            raise TabularError(
                f"{name}: row {ln} has {len(r)} cells but the header has {len(header)} columns.", code="cell_count", row=ln
            )
        r = r + [""] * (len(header) - len(r))
        rows.append(dict(zip(header, r[: len(header)])))
        lines.append(ln)
    return Table(header=header, rows=rows, name=name, encoding=encoding, line_numbers=lines)


def read_csv(source: Source, name: str | None = None) -> Table:
    name = name or _name(source)
    data = _read_bytes(source, name)
    text, encoding = decode_text(data, name)
    if "\x00" in text:
        raise TabularError(f"{name}: this is not a text CSV file.", code="not_csv")
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    try:
        raw = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise TabularError(f"{name}: not a readable CSV file ({exc}).", code="not_csv") from None
    return _rows_to_table(raw, name, encoding)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    return str(value)


def read_xlsx(source: Source, name: str | None = None, sheet: str | None = None) -> Table:
    name = name or _name(source)
    data = _read_bytes(source, name)
    try:
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any parse failure means "not a workbook"
        raise TabularError(f"{name}: not a readable Excel (.xlsx) file.", code="not_xlsx") from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise TabularError(f"{name}: there is no sheet named '{sheet}'.", code="no_sheet", sheet=sheet)
        try:
            ws = wb[sheet] if sheet else wb.worksheets[0]
            raw = [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
        except Exception:  # noqa: BLE001 - broken parts (e.g. missing shared strings) show only here
            raise TabularError(f"{name}: not a readable Excel (.xlsx) file.", code="not_xlsx") from None
    finally:
        wb.close()
    return _rows_to_table(raw, name, "xlsx")


def read_table(source: Source, name: str | None = None) -> Table:
    """Read CSV or XLSX, choosing by content (XLSX files are ZIP archives)."""
    name = name or _name(source)
    data = _read_bytes(source, name)
    if data[:4] == b"PK\x03\x04":
        return read_xlsx(data, name)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TabularError(f"{name}: old Excel (.xls) files are not supported; save as .xlsx or CSV.")
    return read_csv(data, name)


def _name(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.path.basename(os.fspath(source))
    return getattr(source, "name", None) or "file"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Text for a spreadsheet cell that Excel will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def write_csv(path: str | os.PathLike, header: list[str], rows: list[list[object]]) -> None:
    """Write CSV for people: UTF-8 with BOM (opens in Excel), formula-injection safe."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([safe_cell(h) for h in header])
        for r in rows:
            w.writerow([safe_cell(c) for c in r])
