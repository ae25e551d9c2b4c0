"""`python -m meeting backup`: an online SQLite copy taken while phones vote."""

import json
import sqlite3
import threading

import pytest

from tests.conftest import make_app
from tests.live import LiveServer, VotingFloor, stored_choices


def integrity(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]


def tallies_from(votes: dict) -> dict:
    counts: dict = {}
    for (_, idea_id), value in votes.items():
        counts.setdefault(idea_id, {"agree": 0, "disagree": 0, "pass": 0})[value] += 1
    return counts


@pytest.mark.live
@pytest.mark.faults
def test_backup_while_phones_vote_is_whole_and_reproduces_the_tallies(tmp_path):
    server = LiveServer(tmp_path).start()
    floor = None
    try:
        floor = VotingFloor([server], participants=8, tables=2)
        stop = threading.Event()
        threads, errors = floor.vote(stop=stop, pause=(0.0, 0.02))
        copies = []
        for n in range(2):  # under a steady stream of committed votes
            before = floor.acks
            out = tmp_path / f"during-{n}.sqlite3"
            report = json.loads(server.cli("backup", "--out", str(out), "--json"))
            assert report["integrity"] == "ok" and floor.acks > before
            copies.append(out)
        stop.set()
        for thread in threads:
            thread.join(60)
        assert errors == [] and floor.refused == []
        for copy in copies:
            assert integrity(copy) == ["ok"]
            votes, ballots = stored_choices(f"sqlite:///{copy}")
            assert votes and ballots
        final = tmp_path / "after.sqlite3"
        assert "integrity ok" in server.cli("backup", "--out", str(final))
        assert integrity(final) == ["ok"]
        live_votes, live_ballots = stored_choices(server.env["DATABASE_URL"])
        votes, ballots = stored_choices(f"sqlite:///{final}")
        assert (votes, ballots) == (live_votes, live_ballots)
        expected_tallies, expected_options = floor.expected_counts()
        assert tallies_from(votes) == {i: t for i, t in expected_tallies.items() if sum(t.values())}
        counted = {}
        for data in ballots.values():
            counted[data["option"]] = counted.get(data["option"], 0) + 1
        assert counted == {o: n for o, n in expected_options.items() if n}
    finally:
        if floor:
            floor.close()
        server.stop()


def test_backup_on_postgresql_says_to_use_pg_dump(tmp_path, migrated_db):
    app = make_app(tmp_path, migrated_db, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:5432/kurumaza")
    result = app.test_cli_runner().invoke(args=["backup", "--out", str(tmp_path / "copy")])
    assert result.exit_code == 2
    assert "pg_dump" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "copy").exists()


def test_backup_keeps_an_existing_file_unless_forced(app, tmp_path):
    out = tmp_path / "copy.sqlite3"
    out.write_text("an older backup")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["backup", "--out", str(out)])
    assert refused.exit_code == 2 and "--force" in refused.output
    assert out.read_text() == "an older backup"
    done = runner.invoke(args=["backup", "--out", str(out), "--force"])
    assert done.exit_code == 0, done.output
    assert integrity(out) == ["ok"]
    assert not out.with_name(out.name + ".partial").exists()
