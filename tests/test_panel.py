"""Panel selection in the app: roster and quotas uploads, background draw, confirm, letters,
check-in with replacements, and the purge of personal data."""

import io
import re
import time

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import AuditEvent, Invitation, Participant, RosterPerson
from tests.conftest import build_meeting, csrf_token, staff_socket

FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
GIVEN = ["花子", "太郎", "恵子", "健一", "陽子", "誠", "由美", "翔", "明美", "大輔"]
AGES = ["若年", "中年", "高齢"]
QUOTAS = "category,value,min,max\n性別,男性,4,6\n性別,女性,4,6\n年代,若年,2,5\n年代,中年,2,5\n年代,高齢,2,5\n"


def roster_csv(n=80, *, encoding="cp932", rows=None) -> bytes:
    """n residents; every fifth one shares an address with the one before (a household of two)."""
    lines = ["id,氏名,住所,電話,性別,年代"]
    for i in range(n):
        home = i - 1 if i % 5 == 4 else i
        name = f"{FAMILY[i % 10]}{GIVEN[(i // 10) % 10]}{i:03d}"
        lines.append(f"R{i:03d},{name},世田谷区太子堂{home}-1,03-0000-{i:04d},"
                     f"{'女性' if i % 2 else '男性'},{AGES[i % 3]}")
    lines += rows or []
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def organizer(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=0, tables=2)
    client = app.test_client()
    staff_auth.login(client)
    return meeting_id, client


def upload(client, url, form_url, filename, body, **fields):
    data = {"file": (io.BytesIO(body), filename), "csrf_token": csrf_token(client, form_url), **fields}
    return client.post(url, data=data, content_type="multipart/form-data")


def setup_pool(app, client, meeting_id, n=80):
    page = f"/staff/meetings/{meeting_id}/panel"
    quotas = upload(client, f"{page}/quotas", page, "quotas.csv", b"\xef\xbb\xbf" + QUOTAS.encode())
    assert quotas.status_code == 302
    roster = upload(client, f"{page}/roster", page, "名簿.csv", roster_csv(n), id_column="id",
                    household_columns="住所")
    assert roster.status_code == 302, roster.get_data(as_text=True)
    return page


def wait_done(client, page, location, timeout=180):
    selection_id = int(re.search(r"/selections/(\d+)", location).group(1))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"{page}/selections/{selection_id}.json").get_json()
        if status["status"] in ("done", "failed"):
            return selection_id, status
        time.sleep(0.3)
    raise AssertionError("the draw did not finish")


def start_draw(client, page, **fields):
    data = {"k": "10", "method": "leximin", "alternates": "10", "csrf_token": csrf_token(client, page)}
    data.update(fields)
    response = client.post(f"{page}/draw", data=data)
    assert response.status_code == 302 and "/selections/" in response.headers["Location"], response.headers
    return wait_done(client, page, response.headers["Location"])


def test_uploads_seal_identity_and_keep_categories(app, staff_auth, tmp_path):
    meeting_id, client = organizer(app, staff_auth)
    page = setup_pool(app, client, meeting_id)
    html = client.get(page).get_data(as_text=True)
    assert "80" in html and "名簿.csv" in html
    with app.app_context():
        people = db.session.scalars(sa.select(RosterPerson).order_by(RosterPerson.position)).all()
        assert len(people) == 80
        assert people[1].categories == {"性別": "女性", "年代": "中年"}
        assert people[4].household_key == people[3].household_key != people[2].household_key
        assert people[0].identity_sealed and "佐藤" not in people[0].identity_sealed
        db.session.remove()
        db.engine.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("kurumaza.sqlite3*"))
    for text in ("佐藤花子000", "世田谷区太子堂", "03-0000-0001"):
        for enc in ("utf-8", "cp932"):
            assert text.encode(enc) not in raw


def test_bad_roster_lists_rows_and_saves_nothing(app, staff_auth):
    meeting_id, client = organizer(app, staff_auth)
    page = setup_pool(app, client, meeting_id, n=20)
    bad = roster_csv(30, rows=[",名無し,住所X,,男性,若年",            # row 32: no id
                               "R001,重複,住所Y,,女性,中年",          # row 33: duplicate id
                               "R900,未知,住所Z,,女性,子ども"])       # row 34: unknown value
    response = upload(client, f"{page}/roster", page, "bad.csv", bad, id_column="id")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "名簿は保存されていません" in html
    assert re.search(r"<td>32</td><td>id</td><td>[^<]*IDが空", html)
    assert re.search(r"<td>33</td><td>id</td><td>[^<]*3行目", html)
    assert re.search(r"<td>34</td><td>年代</td><td>[^<]*子ども", html)
    with app.app_context():  # the earlier pool of 20 is untouched
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RosterPerson)) == 20


def test_infeasible_quotas_show_the_conflict_and_the_fix_in_japanese(app, staff_auth):
    meeting_id, client = organizer(app, staff_auth)
    page = setup_pool(app, client, meeting_id, n=40)
    edit = {"category": ["性別", "性別", "年代", "年代", "年代"], "value": ["男性", "女性", "若年", "中年", "高齢"],
            "min": ["4", "4", "2", "2", "8"], "max": ["6", "6", "5", "5", "8"],
            "csrf_token": csrf_token(client, page)}
    assert client.post(f"{page}/quotas/edit", data=edit).status_code == 302
    data = {"k": "10", "method": "leximin", "csrf_token": csrf_token(client, page), "check": "1"}
    response = client.post(f"{page}/draw", data=data)
    selection_id, status = wait_done(client, page, response.headers["Location"])
    assert status["status"] == "failed" and status["error"] == "infeasible"
    html = client.get(f"{page}/selections/{selection_id}").get_data(as_text=True)
    assert "この割当では抽選できません" in html
    assert "年代 = 高齢 の最低人数を 8 人から" in html
    assert "Lower the minimum" not in html and "cannot" not in html


def test_draw_confirm_letters_checkin_replacements_purge(app, staff_auth):
    meeting_id, client = organizer(app, staff_auth)
    page = setup_pool(app, client, meeting_id)
    selection_id, status = start_draw(client, page)
    assert status["status"] == "done", status
    report = client.get(f"{page}/selections/{selection_id}").get_data(as_text=True)
    min_probability = float(re.search(r'class="min-probability">([\d.]+)<', report).group(1))
    assert abs(min_probability - 10 / 80) < 0.005
    assert "<svg" in report and "style=" not in report

    with app.app_context():
        drawn = db.session.scalars(sa.select(RosterPerson).where(RosterPerson.status == "selected")).all()
        assert len(drawn) == 10
        assert len({p.household_key for p in drawn if p.household_key}) == len([p for p in drawn if p.household_key])
        counts = {}
        for p in drawn:
            for value in p.categories.values():
                counts[value] = counts.get(value, 0) + 1
        assert 4 <= counts.get("男性", 0) <= 6 and 4 <= counts.get("女性", 0) <= 6
        assert all(2 <= counts.get(a, 0) <= 5 for a in AGES)
        alternates = db.session.scalars(sa.select(RosterPerson).where(RosterPerson.status == "alternate")
                                        .order_by(RosterPerson.alternate_rank)).all()
        assert [p.alternate_rank for p in alternates] == list(range(1, 11))

    control = staff_socket(app, staff_auth, meeting_id)
    control.get_received()
    confirm = client.post(f"{page}/selections/{selection_id}/confirm",
                          data={"csrf_token": csrf_token(client, f"{page}/selections/{selection_id}")})
    assert confirm.status_code == 302
    # The control room hears of the new participants' seats like of every other seating change.
    assert [e["name"] for e in control.get_received()] == ["seating_changed"]
    tables = control.emit("snapshot", {"op_id": "snapshot-after-confirm"}, callback=True)["snapshot"]["tables"]
    assert sorted(t["seated"] for t in tables) == [5, 5]
    with app.app_context():
        participants = db.session.scalars(sa.select(Participant).where(Participant.meeting_id == meeting_id)).all()
        assert len(participants) == 10
        assert all(set(p.categories) == {"性別", "年代"} for p in participants)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 10
        names = {}
        for p in db.session.scalars(sa.select(RosterPerson).where(RosterPerson.status == "confirmed")):
            names[p.participant_id] = f"{FAMILY[int(p.external_id[1:]) % 10]}"

    letters = client.get(f"{page}/letters").get_data(as_text=True)
    assert len(re.findall(r'class="letter"', letters)) == 10
    assert len(set(re.findall(r'class="code">([2-9A-Z]{4}-[2-9A-Z]{4})<', letters))) == 10
    assert "世田谷区太子堂" in letters and " 様" in letters
    assert re.search(r"(佐藤|鈴木|高橋|田中|伊藤|渡辺|山本|中村|小林|加藤)\w+\d{3} 様", letters)

    client.post(f"/staff/meetings/{meeting_id}/facilitators",
                data={"email": "fac@example.org", "password": "facilitator-pass",
                      "csrf_token": csrf_token(client, f"/staff/meetings/{meeting_id}")})
    fac = app.test_client()
    staff_auth.login(fac, email="fac@example.org", password="facilitator-pass")
    for path in ("/letters", "/checkin", "", f"/selections/{selection_id}"):
        assert fac.get(f"{page}{path}").status_code == 403

    # On the day: women who came fall short of the minimum; replacements restore the quotas.
    with app.app_context():
        panel_people = db.session.scalars(sa.select(RosterPerson).where(RosterPerson.status == "confirmed")).all()
        women = [p.id for p in panel_people if p.categories["性別"] == "女性"]
        absent = set(women[3:])
        present = [p.id for p in panel_people if p.id not in absent]
    checkin = f"{page}/checkin"
    for pid in present:
        assert client.post(f"{checkin}/{pid}", data={"arrived": "1",
                                                     "csrf_token": csrf_token(client, checkin)}).status_code == 302
    html = client.get(checkin).get_data(as_text=True)
    assert "最低人数まであと" in html
    assert f"空席: {len(absent)}" in html
    drawn_again = client.post(f"{page}/replacements", data={"csrf_token": csrf_token(client, checkin)})
    assert drawn_again.status_code == 302
    with app.app_context():
        from meeting.models import Selection

        replacement_id = db.session.scalar(sa.select(Selection.id).where(Selection.kind == "replacement"))
    _, status = wait_done(client, page, f"/selections/{replacement_id}")
    assert status["status"] == "done", status
    seen = [e["name"] for e in control.get_received()]
    assert seen.count("seating_changed") == 1  # the replacements' seats, announced once
    with app.app_context():
        new = db.session.scalars(sa.select(RosterPerson).where(RosterPerson.status == "replacement")).all()
        assert len(new) == len(absent) and all(p.participant_id for p in new)
        declined = db.session.scalars(sa.select(RosterPerson.id).where(RosterPerson.status == "declined")).all()
        assert set(declined) == absent
        new_ids = [p.id for p in new]
    # Replacements on their way fill their seats: no second draw, nobody dropped.
    html = client.get(checkin).get_data(as_text=True)
    assert "空席: 0" in html and f'action="{page}/replacements"' not in html
    client.post(f"{page}/replacements", data={"csrf_token": csrf_token(client, checkin)})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Selection)
                                 .where(Selection.kind == "replacement")) == 1
        assert {p.id for p in db.session.scalars(sa.select(RosterPerson).where(RosterPerson.status == "replacement"))} \
            == set(new_ids)
    cards = client.get(f"{page}/letters?only=replacements").get_data(as_text=True)
    assert len(re.findall(r'class="letter"', cards)) == len(absent)
    # Only a replacement marked as not coming opens a seat again.
    client.post(f"{checkin}/{new_ids[0]}", data={"arrived": "absent", "csrf_token": csrf_token(client, checkin)})
    html = client.get(checkin).get_data(as_text=True)
    assert "空席: 1" in html and f'action="{page}/replacements"' in html
    for pid in new_ids:
        client.post(f"{checkin}/{pid}", data={"arrived": "1", "csrf_token": csrf_token(client, checkin)})
    html = client.get(checkin).get_data(as_text=True)
    assert "最低人数まであと" not in html and "空席: 0" in html
    late = sorted(absent)[0]  # someone counted as not coming turns up after all
    assert f'id="person-{late}"' in html
    client.post(f"{checkin}/{late}", data={"arrived": "1", "csrf_token": csrf_token(client, checkin)})
    with app.app_context():
        assert db.session.get(RosterPerson, late).status == "arrived"

    # Exports never carry roster names or addresses.
    for name in ("ideas.csv", "votes.csv", "meeting.json"):
        body = client.get(f"/staff/meetings/{meeting_id}/export/{name}").data.decode("utf-8-sig")
        assert "世田谷区" not in body and not re.search(r"(佐藤|鈴木|高橋)(花子|太郎)", body)

    # After the meeting: purge the identity; categories and statuses stay.
    runner = app.test_cli_runner()
    result = runner.invoke(args=["purge-identity", "--meeting", str(meeting_id), "--yes"])
    assert result.exit_code == 0, result.output
    letters = client.get(f"{page}/letters").get_data(as_text=True)
    assert "世田谷区" not in letters and " 様" not in letters and "個人情報は削除済み" in letters
    with app.app_context():
        people = db.session.scalars(sa.select(RosterPerson)).all()
        assert all(p.identity_sealed is None and p.household_key is None for p in people)
        assert all(p.categories for p in people)
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"roster.upload", "panel.panel.start", "panel.panel.done", "panel.confirm", "roster.identity.view",
            "panel.checkin", "panel.replacement.done", "roster.identity.purge"} <= actions


def test_purge_button_needs_confirmation(app, staff_auth):
    meeting_id, client = organizer(app, staff_auth)
    page = setup_pool(app, client, meeting_id, n=20)
    purge = f"{page}/purge"
    client.post(purge, data={"csrf_token": csrf_token(client, purge)})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RosterPerson)
                                 .where(RosterPerson.identity_sealed.is_not(None))) == 20
    assert client.post(purge, data={"sure": "y", "csrf_token": csrf_token(client, purge)}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RosterPerson)
                                 .where(RosterPerson.identity_sealed.is_not(None))) == 0


def test_new_quotas_after_a_draw_need_a_new_draw_and_confirm_locks_the_roster(app, staff_auth):
    meeting_id, client = organizer(app, staff_auth)
    page = setup_pool(app, client, meeting_id, n=60)
    selection_id, status = start_draw(client, page, alternates="0")
    assert status["status"] == "done"
    quotas = upload(client, f"{page}/quotas", page, "quotas.csv",
                    ("\ufeff" + QUOTAS.replace("若年,2,5", "若年,3,5")).encode())
    assert quotas.status_code == 302
    selection_page = f"{page}/selections/{selection_id}"
    client.post(f"{selection_page}/confirm", data={"csrf_token": csrf_token(client, selection_page)})
    assert "もう一度抽選してください" in client.get(page).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)
                                 .where(Participant.meeting_id == meeting_id)) == 0
    selection_id, status = start_draw(client, page, alternates="0", seed="12345")
    report = client.get(f"{page}/selections/{selection_id}").get_data(as_text=True)
    assert 'class="seed">12345<' in report
    client.post(f"{page}/selections/{selection_id}/confirm",
                data={"csrf_token": csrf_token(client, f"{page}/selections/{selection_id}")})
    again = upload(client, f"{page}/roster", page, "名簿.csv", roster_csv(30), id_column="id")
    assert again.status_code == 400
    assert "パネルは確定済み" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RosterPerson)) == 60


def test_xlsx_roster_without_households(app, staff_auth):
    import openpyxl

    meeting_id, client = organizer(app, staff_auth)
    page = f"/staff/meetings/{meeting_id}/panel"
    upload(client, f"{page}/quotas", page, "quotas.csv", b"\xef\xbb\xbf" + QUOTAS.encode())
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["番号", "氏名", "性別", "年代"])
    for i in range(30):
        sheet.append([i + 1, f"住民{i}", "女性" if i % 2 else "男性", AGES[i % 3]])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, f"{page}/roster", page, "名簿.xlsx", buffer.getvalue(), id_column="番号")
    assert response.status_code == 302
    with app.app_context():
        people = db.session.scalars(sa.select(RosterPerson).order_by(RosterPerson.position)).all()
        assert [p.external_id for p in people[:3]] == ["1", "2", "3"]
        assert all(p.household_key is None for p in people)


def test_unreadable_files_are_explained_in_japanese(app, staff_auth):
    meeting_id, client = organizer(app, staff_auth)
    page = f"/staff/meetings/{meeting_id}/panel"
    cases = [
        ("quotas", "quotas.csv", "category,value,min\n性別,男性,4\n".encode(), "列が足りません"),
        ("quotas", "quotas.csv", "category,value,min,max\n性別,男性,四,6\n".encode(), "2行目"),
        ("roster", "名簿.csv", b"", "ファイルが空です"),
        ("roster", "名簿.xlsx", b"not really a spreadsheet", "Excel"),
    ]
    for kind, name, body, expected in cases:
        response = upload(client, f"{page}/{kind}", page, name, body, id_column="id")
        html = client.get(page).get_data(as_text=True) if response.status_code == 302 else response.get_data(as_text=True)
        assert expected in html, (kind, name)
        assert "could not be read" not in html and "is not a number" not in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RosterPerson)) == 0


def test_a_draw_whose_process_dies_fails_instead_of_hanging(app, staff_auth):
    import os
    import signal

    from meeting.models import Selection

    meeting_id, client = organizer(app, staff_auth)
    page = setup_pool(app, client, meeting_id, n=40)
    data = {"k": "10", "method": "leximin", "alternates": "5", "csrf_token": csrf_token(client, page)}
    response = client.post(f"{page}/draw", data=data)
    selection_id = int(re.search(r"/selections/(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        pid = db.session.get(Selection, selection_id).pid
    os.kill(pid, signal.SIGKILL)  # before it could finish: it is still importing the app
    deadline = time.monotonic() + 10  # the kernel may take a moment to end it on a busy machine
    status = client.get(f"{page}/selections/{selection_id}.json").get_json()
    while status["status"] != "failed" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = client.get(f"{page}/selections/{selection_id}.json").get_json()
    assert status["status"] == "failed" and status["error"] == "crash"
    # and a new draw may start at once
    selection_id, status = start_draw(client, page)
    assert status["status"] == "done"
