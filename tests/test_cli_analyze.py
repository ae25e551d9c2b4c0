"""The analyze command on small export folders written by the tests themselves."""
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from meeting.commands.analyze import analyze

COMMENTS_HEADER = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
VOTES_HEADER = "timestamp,datetime,comment-id,voter-id,vote\n"


def write_export(folder: Path, n_per_camp=10, n_statements=10, moderated_out=(9,)):
    folder.mkdir()
    lines = [COMMENTS_HEADER]
    for c in range(n_statements):
        mod = -1 if c in moderated_out else 1
        lines.append(f'1000,Mon,{c},0,0,0,{mod},"statement {c}, with a comma"\n')
    (folder / "comments.csv").write_text("".join(lines), encoding="utf-8")
    votes = [VOTES_HEADER]
    ts = 2000
    for c in range(n_statements):
        for p in range(2 * n_per_camp):
            v = 1 if (c % 2 == 0) == (p < n_per_camp) else -1
            votes.append(f"{ts},Mon,{c},{p},{v}\n")
            ts += 1
    # Participant 0 changes their mind on comment 0 later; an early, superseded row too.
    votes.append(f"{ts + 5},Mon,0,0,-1\n")
    votes.append("1,Mon,1,0,1\n")
    (folder / "votes.csv").write_text("".join(votes), encoding="utf-8")
    return folder


def run(*args):
    return CliRunner().invoke(analyze, list(args))


def test_analyze_writes_groups(tmp_path):
    export = write_export(tmp_path / "conv")
    out = tmp_path / "out.json"
    result = run("--polis-dir", str(export), "--out", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert set(data) >= {"participants", "groups", "consensus", "seconds"}
    assert len(data["participants"]) == 20
    by_pid = {p["pid"]: p for p in data["participants"]}
    groups = {p["pid"]: p["group"] for p in data["participants"]}
    assert len({groups[p] for p in range(10)}) == 1
    assert len({groups[p] for p in range(10, 20)}) == 1
    assert groups[0] != groups[10]
    assert sorted(g["size"] for g in data["groups"]) == [10, 10]
    assert all(isinstance(by_pid[p]["x"], float) for p in by_pid)
    for g in data["groups"]:
        assert g["repness"], g
        assert all(r["statement"] != 9 for r in g["repness"])  # moderated out
        assert {"direction", "p_success", "repness", "repness_test"} <= set(g["repness"][0])
    assert data["consensus"] == {"agree": [], "disagree": []}
    assert data["seconds"] >= 0


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: None, "not a folder"),
        (lambda d: d.mkdir(), "comments.csv not found"),
        (lambda d: (d.mkdir(), (d / "comments.csv").write_text("a,b\n1,2\n")), "missing column"),
        (lambda d: (d.mkdir(), (d / "comments.csv").write_text(COMMENTS_HEADER),
                    (d / "votes.csv").write_text(VOTES_HEADER + "1,x,0,1,7\n")), "is not -1, 0 or 1"),
        (lambda d: (d.mkdir(), (d / "comments.csv").write_text(COMMENTS_HEADER),
                    (d / "votes.csv").write_text(VOTES_HEADER + "1,x,zero,1,1\n")), "not an integer"),
        (lambda d: (d.mkdir(), (d / "comments.csv").write_text(COMMENTS_HEADER),
                    (d / "votes.csv").write_text(VOTES_HEADER)), "no votes"),
        (lambda d: (d.mkdir(), (d / "comments.csv").write_bytes(b"\xff\xfe\x00bad")), "not UTF-8"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, setup, message):
    folder = tmp_path / "conv"
    setup(folder)
    result = run("--polis-dir", str(folder), "--out", str(tmp_path / "o.json"))
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.strip().count("\n") == 0
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.json").exists()


def test_missing_options_and_unwritable_out(tmp_path):
    result = run("--out", str(tmp_path / "o.json"))
    assert result.exit_code == 2 and "--polis-dir is required" in result.output
    export = write_export(tmp_path / "conv")
    result = run("--polis-dir", str(export), "--out", str(tmp_path / "no" / "such" / "o.json"))
    assert result.exit_code == 2 and "cannot write" in result.output


def shared_dir() -> Path:
    env = os.environ.get("MEETING_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


SEATTLE = shared_dir() / "polis-data" / "15-per-hour-seattle"


@pytest.mark.skipif(not SEATTLE.is_dir(), reason=f"Polis open data not found at {SEATTLE}")
def test_analyze_real_export(tmp_path):
    out = tmp_path / "seattle.json"
    result = run("--polis-dir", str(SEATTLE), "--out", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert len(data["participants"]) == 339
    assert sum(p["group"] is not None for p in data["participants"]) == 138
    assert sum(g["size"] for g in data["groups"]) == 138
