"""The `select` command: files in, panel and report out, one-line errors."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from meeting.commands.select import select
from meeting.core.sortition.synthetic import town_instance

ROOT = Path(__file__).resolve().parents[1]


def write_files(tmp_path, n=120, k=12, quotas=None, encoding="utf-8"):
    inst = town_instance(n, k, seed=4)
    people = tmp_path / "people.csv"
    with open(people, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "gender", "age", "district", "tenure", "address"])
        for i, pid in enumerate(inst.pool.ids):
            name = "=cmd|' /C calc'!A0" if i == 0 else f"住民{i}"
            w.writerow([pid, name] + [inst.pool.features[c][i] for c in
                                      ("gender", "age", "district", "tenure")]
                       + [inst.pool.households[i]])
    qpath = tmp_path / "quotas.csv"
    with open(qpath, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["category", "name", "min", "max"])
        for q in quotas or inst.quotas:
            w.writerow([q.category, q.value, q.min, q.max])
    return inst, people, qpath


def run(args):
    return CliRunner().invoke(select, [str(a) for a in args])


def read_out(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} lacks the BOM"
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def test_select_writes_panel_alternates_probabilities_and_report(tmp_path):
    inst, people, quotas = write_files(tmp_path)
    out = tmp_path / "out"
    res = run(["--people", people, "--quotas", quotas, "--size", 12, "--seed", 5,
               "--alternates", 4, "--household-columns", "address", "--out", out, "--json"])
    assert res.exit_code == 0, res.output
    panel = read_out(out / "panel.csv")
    assert len(panel) == 12
    assert len({p["address"] for p in panel}) == 12
    for q in inst.quotas:
        count = sum(p[q.category] == q.value for p in panel)
        assert q.min <= count <= q.max, q
    alternates = read_out(out / "alternates.csv")
    assert [a["rank"] for a in alternates] == ["1", "2", "3", "4"]
    assert not {a["id"] for a in alternates} & {p["id"] for p in panel}
    probs = read_out(out / "probabilities.csv")
    assert len(probs) == 120 and list(probs[0]) == ["id", "probability"]
    assert sum(float(p["probability"]) for p in probs) == pytest.approx(12, abs=1e-3)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["method"] == "leximin" and report["n"] == 120 and report["k"] == 12
    assert report["seed"] == 5 and report["panels"] >= 1
    assert report["min_probability"] == pytest.approx(min(float(p["probability"]) for p in probs), abs=1e-5)
    assert 0 <= report["gini"] < 1
    female = next(c for c in report["categories"] if c["value"] == "female")
    assert female["pool"] == inst.pool.features["gender"].count("female")
    assert female["panel"] == sum(p["gender"] == "female" for p in panel)
    assert json.loads(res.stdout[res.stdout.index("{"):])["seed"] == 5
    everyone = read_out(out / "probabilities.csv")
    assert everyone[0]["id"] == inst.pool.ids[0]


def test_formula_cells_are_defused_in_the_organizer_copy(tmp_path):
    _, people, quotas = write_files(tmp_path)
    out = tmp_path / "out"
    found = False
    for seed in range(40):
        res = run(["--people", people, "--quotas", quotas, "--size", 12, "--seed", seed,
                   "--alternates", 30, "--out", out])
        assert res.exit_code == 0, res.output
        text = (out / "panel.csv").read_text(encoding="utf-8-sig") + \
            (out / "alternates.csv").read_text(encoding="utf-8-sig")
        if "cmd|" in text:
            assert "'=cmd|" in text
            found = True
            break
    assert found


def test_same_seed_same_panel(tmp_path):
    _, people, quotas = write_files(tmp_path)
    outs = []
    for name in ("a", "b"):
        res = run(["--people", people, "--quotas", quotas, "--size", 12, "--seed", 99,
                   "--method", "maximin", "--out", tmp_path / name])
        assert res.exit_code == 0, res.output
        outs.append((tmp_path / name / "panel.csv").read_bytes())
    assert outs[0] == outs[1]


def test_cp932_people_file_and_legacy(tmp_path):
    _, people, quotas = write_files(tmp_path, encoding="cp932")
    res = run(["--people", people, "--quotas", quotas, "--size", 12, "--method", "legacy",
               "--seed", 1, "--out", tmp_path / "o"])
    assert res.exit_code == 0, res.output
    panel = read_out(tmp_path / "o" / "panel.csv")
    assert all(p["name"].startswith(("住民", "'=")) for p in panel)


def test_infeasible_quotas_exit_2_with_the_relaxation(tmp_path):
    inst = town_instance(120, 12, seed=4)
    from meeting.core.sortition import Quota
    quotas = [Quota(q.category, q.value, q.min, 1 if q.value == "70+" else q.max)
              for q in inst.quotas]
    quotas = [Quota(q.category, q.value, 3 if q.value == "70+" else q.min, q.max) for q in quotas]
    _, people, qpath = write_files(tmp_path, quotas=quotas)
    res = run(["--people", people, "--quotas", qpath, "--size", 12, "--out", tmp_path / "o"])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines[-1:]) == 1 and "Traceback" not in res.output
    message = [ln for ln in lines if ln.startswith("Error:")]
    assert len(message) == 1
    assert "age=70+" in message[0]
    assert "Raise the maximum for age=70+ from 1 to 3" in message[0] or \
        "Lower the minimum for age=70+ from 3 to 1" in message[0]
    assert not (tmp_path / "o" / "panel.csv").exists()


@pytest.mark.parametrize("mutate,needle", [
    (lambda p, q: p.write_bytes(b"PK\x03\x04junk"), "not a readable Excel"),
    (lambda p, q: q.write_text("category,name,min\nage,70+,1\n"), "missing column"),
    (lambda p, q: p.write_text("id,gender\n1,female\n"), "no column for the quota category"),
])
def test_bad_files_exit_2_with_one_line(tmp_path, mutate, needle):
    _, people, quotas = write_files(tmp_path)
    mutate(people, quotas)
    res = run(["--people", people, "--quotas", quotas, "--size", 12, "--out", tmp_path / "o"])
    assert res.exit_code == 2
    assert needle in res.output and "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if ln.startswith("Error:")]) == 1


def test_unknown_value_in_people_file_exits_2(tmp_path):
    _, people, quotas = write_files(tmp_path)
    text = people.read_text(encoding="utf-8").replace(",female,", ",femme,", 1)
    people.write_text(text, encoding="utf-8")
    res = run(["--people", people, "--quotas", quotas, "--size", 12, "--out", tmp_path / "o"])
    assert res.exit_code == 2 and "femme" in res.output and "Traceback" not in res.output


def test_runs_as_a_subprocess(tmp_path):
    _, people, quotas = write_files(tmp_path, n=60, k=6)
    cmd = [sys.executable, "-c", "from meeting.commands.select import select; select()",
           "--people", str(people), "--quotas", str(quotas), "--size", "6", "--seed", "3",
           "--out", str(tmp_path / "o")]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(read_out(tmp_path / "o" / "panel.csv")) == 6
    bad = subprocess.run(cmd[:3] + ["--people", str(tmp_path / "missing.csv")] + cmd[5:],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "missing.csv" in bad.stderr
