"""The report speaks the meeting's language and shows times in the meeting's time zone."""

from datetime import datetime

from meeting.exports import report
from meeting.exports.datasets import collect
from meeting.extensions import db
from meeting.models import Meeting
from tests.conftest import build_meeting


def test_an_english_meeting_gets_an_english_report(app):
    meeting_id, _ = build_meeting(app, participants=3, tables=1, language="en")
    with app.app_context():
        m = db.session.get(Meeting, meeting_id)
        html = report.render_html(m, collect(m))
        assert '<html lang="en">' in html and "The meeting in numbers" in html and "Minutes of each table" in html
        assert "数字で見る会議" not in html


def test_times_are_written_in_tokyo_time_the_japanese_way(app):
    meeting_id, _ = build_meeting(app, participants=1, tables=1)
    with app.app_context():
        m = db.session.get(Meeting, meeting_id)
        # 2026-12-05 04:30 UTC is 13:30 in Tokyo.
        assert report.local_datetime(datetime(2026, 12, 5, 4, 30), m) == "2026年12月5日(土) 13:30"
        m.language = "en"
        assert report.local_datetime(datetime(2026, 12, 5, 4, 30), m) == "5 Dec 2026, 13:30 +0900"


def test_the_report_command_refuses_an_unknown_meeting(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["report", "9999", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "meeting 9999 not found" in result.output
    assert not (tmp_path / "out").exists()
