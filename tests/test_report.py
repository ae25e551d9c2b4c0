"""The report package and the privacy of everything exported or published.

One scripted session (every poll kind, hidden ideas, a roster with names and addresses) is
built once for the module; the report is built once from the command line.
"""

import csv
import io
import json
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from meeting.exports.datasets import DATASET_NAMES
from meeting.extensions import db
from meeting.models import Meeting, Poll
from tests.conftest import Staff, csrf_token, make_app
from tests.test_exports_session import POLL_QUESTION, scripted_session


@pytest.fixture(scope="module")
def world(tmp_path_factory, migrated_db):
    folder = tmp_path_factory.mktemp("report")
    app = make_app(folder, migrated_db)
    Staff(app).create()
    session = scripted_session(app)
    with app.app_context():
        from datetime import date
        from datetime import time as clock

        m = db.session.get(Meeting, session["meeting_id"])
        m.held_on, m.starts_at, m.ends_at = date(2026, 12, 5), clock(13, 30), clock(16, 0)
        m.venue, m.contact = "世田谷区民会館 第1会議室", "世田谷区 政策企画課 03-5432-0000"
        db.session.commit()
    out = folder / "out"
    result = app.test_cli_runner().invoke(args=["report", str(session["meeting_id"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    zip_path = Path(result.output.strip().splitlines()[-1])
    unpacked = folder / "unpacked"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(unpacked)
    yield {"app": app, "session": session, "zip": zip_path, "root": unpacked / f"meeting-{session['meeting_id']}"}
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_package_holds_report_open_data_and_readme(world):
    root = world["root"]
    names = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert {"report.html", "report.pdf", "README.md", "open-data/meeting.json", "open-data/meeting.xlsx",
            "polis/comments.csv", "polis/votes.csv", "polis/participants-votes.csv", "polis/summary.csv"} <= names
    assert {f"open-data/{n}.csv" for n in DATASET_NAMES} <= names
    for name in DATASET_NAMES:
        assert (root / "open-data" / f"{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf"), name
    readme = (root / "README.md").read_text()
    assert "CC-BY-4.0" in readme and "https://creativecommons.org/licenses/by/4.0/" in readme
    for name in DATASET_NAMES:  # every column of every file is described
        header = next(csv.reader(io.StringIO((root / "open-data" / f"{name}.csv").read_text(encoding="utf-8-sig"))))
        for column in header:
            assert f"- `{column}`: " in readme, (name, column)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils missing: make browser installs it")
def test_the_pdf_renders_japanese(world, tmp_path):
    pdf = world["root"] / "report.pdf"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts and all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "区民会議" in text and POLL_QUESTION in text
    assert "2026年12月5日(土) 13:30〜16:00" in text and "世田谷区民会館" in text
    assert "数字で見る会議" in text  # the meeting's language, Japanese
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    from PIL import Image

    image = Image.open(png).convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > 0.005 * image.width * image.height  # not blank: text is drawn


def test_the_html_report_has_charts_with_text_tables(world):
    html = (world["root"] / "report.html").read_text()
    assert html.count("<svg") >= 9 and 'role="img"' in html and "<title>" in html
    assert "テーブルごとの記録" in html and "全体投票の結果" in html and "意見マップ" in html
    assert "シュルツ法" in html and "モデレーションの記録" in html and "割り当て・抽選結果・出席・繰り上げ" in html
    assert "票が 5 票に満たない意見" in html  # the threshold is stated
    assert "（モデレーターが非表示にしました: personal_data）" in html
    # The per-table minutes show the merged duplicate, and the moderation log names the merge.
    (duplicate, target), = world["session"]["merged"].items()
    assert f"似た意見として{target}番にまとめられました" in html
    assert "<td>まとめ</td>" in html


# ---------------------------------------------------------------- nothing personal leaves

def _texts_of(name: str, body: bytes) -> list[str]:
    """Every text a file holds: ZIP members and XLSX parts opened, PDF text extracted."""
    if name.endswith((".zip", ".xlsx")):
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return [t for member in z.namelist() for t in _texts_of(member, z.read(member))]
    if name.endswith(".pdf"):
        return [subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout.decode()]
    return [body.decode("utf-8", errors="replace")]


def _published(app, world):
    with app.app_context():
        from meeting.models._base import utcnow

        db.session.get(Meeting, world["session"]["meeting_id"]).published_at = utcnow()
        db.session.commit()


def test_no_exported_or_published_file_holds_personal_data_or_hidden_text(world):
    app, session = world["app"], world["session"]
    mid = session["meeting_id"]
    _published(app, world)
    client = app.test_client()
    Staff(app).login(client)
    files: dict[str, bytes] = {"report.zip": world["zip"].read_bytes()}
    for name in ("ideas.csv", "votes.csv", "meeting.json", "meeting.xlsx", "open-data.zip", "polis.zip"):
        files[name] = client.get(f"/staff/meetings/{mid}/export/{name}").data
    for name in DATASET_NAMES:
        for fmt in ("csv", "json", "xlsx"):
            files[f"{name}.{fmt}"] = client.get(f"/staff/meetings/{mid}/export/data/{name}.{fmt}").data
    public = app.test_client()
    for path in ("", "/tables", "/ideas?per_page=200", "/polls?per_page=200", "/opinion", "/report"):
        response = public.get(f"/api/v1/meetings/{mid}{path}")
        assert response.status_code == 200, path
        files[f"api{path}"] = response.data
    files["api/meetings"] = public.get("/api/v1/meetings").data
    assert len(files) > 60
    secrets = session["secrets"]
    assert len(secrets) > 60
    for name, body in files.items():
        for text in _texts_of(name, body):
            leaked = [s for s in secrets if s in text]
            assert not leaked, (name, leaked)
    # Sanity: the same search finds what is there.
    assert any("駐輪場を増やす" in t for t in _texts_of("report.zip", files["report.zip"]))


# ---------------------------------------------------------------- one click on the meeting page

def test_the_meeting_page_builds_the_package_with_visible_progress(world):
    app, mid = world["app"], world["session"]["meeting_id"]
    client = app.test_client()
    Staff(app).login(client)
    page = client.get(f"/staff/meetings/{mid}").get_data(as_text=True)
    assert "報告書一式をつくる" in page
    token = csrf_token(client, f"/staff/meetings/{mid}")
    started = client.post(f"/staff/meetings/{mid}/report", data={"csrf_token": token})
    assert started.status_code == 302
    progress_url = started.headers["Location"]
    page = client.get(progress_url).get_data(as_text=True)
    assert "data-status-url" in page or "報告書一式をダウンロード" in page
    seen = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status = client.get(progress_url + ".json").get_json()
        seen.append(status["progress"])
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert status["status"] == "done", status
    page = client.get(progress_url).get_data(as_text=True)
    assert "報告書一式をダウンロード（ZIP）" in page
    download = client.get(progress_url + ".zip")
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as z:
        assert f"meeting-{mid}/report.pdf" in z.namelist()
    assert client.get(progress_url.rsplit("/", 1)[0] + "/0123456789abcdef.json").status_code == 404


def test_only_the_organizer_gets_the_report(world):
    app, mid = world["app"], world["session"]["meeting_id"]
    other = app.test_client()
    Staff(app).create(email="other@example.org")
    Staff(app).login(other, email="other@example.org")
    token = csrf_token(other, "/staff/")
    assert other.post(f"/staff/meetings/{mid}/report", data={"csrf_token": token}).status_code == 404  # the same as no meeting
    assert other.get(f"/staff/meetings/{mid}/export/open-data.zip").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Poll).where(Poll.meeting_id == mid)) == 10
    assert json.loads(app.test_client().get("/api/v1/meetings/999999").data)["error"] == "not_found"
