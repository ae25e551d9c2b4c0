"""python -m meeting report MEETING_ID --out DIR: build the report package (HTML, PDF, open data)."""

import click
from flask.cli import with_appcontext

from meeting.exports import report


@click.command("report")
@click.argument("meeting_id", type=int)
@click.option("--out", "out", required=True, help="Folder to write the report ZIP into.")
@click.option("--status", "status_file", default=None, hidden=True,
              help="JSON file to write progress into (used by the web app's background build).")
@with_appcontext
def command(meeting_id: int, out: str, status_file: str | None) -> None:
    """Build a meeting's report package: report.html, report.pdf, open data and README in one ZIP."""
    from pathlib import Path

    meeting = report.meeting_by_id(meeting_id)
    if meeting is None:
        click.echo(f"Error: meeting {meeting_id} not found", err=True)
        raise SystemExit(2)
    path = Path(status_file) if status_file else None
    with click.progressbar(length=100, label="report", file=None if not path else click.get_text_stream("stderr"),
                           show_eta=False) as bar:
        done = [0]

        def progress(fraction: float, message: str) -> None:
            step = int(fraction * 100) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step
            if path:
                report.write_status(path, status="done" if fraction >= 1 else "running",
                                    progress=round(fraction, 3), message=message)

        try:
            zip_file = report.build(meeting, Path(out), progress)
        except Exception as exc:
            if path:
                report.write_status(path, status="failed", progress=done[0] / 100, message=type(exc).__name__)
            raise
    click.echo(str(zip_file))
