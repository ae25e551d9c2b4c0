"""The results in plain words (static/js/results.js, shared by the phone, the control room and the
hall's screen) in Chromium: places and ties as a resident reads them."""

from pathlib import Path

import pytest

from tests.browser import chromium

pytestmark = pytest.mark.browser

JS = Path(__file__).resolve().parent.parent / "static" / "js"
WORDS = {"place": "No. {n}", "place_tied": "Tied No. {n}", "points_n": "{n} points",
         "people_of": "{n} of {m}", "ranking_note": "top {top}"}


@pytest.fixture(scope="module")
def lines():
    with chromium() as browser:
        page = browser.new_page()
        page.set_content("<!doctype html><title>results</title>")
        page.add_script_tag(path=str(JS / "realtime.js"))
        page.add_script_tag(path=str(JS / "results.js"))
        yield lambda res: page.evaluate(
            "([res, t]) => Kurumaza.resultLines(res, t).rows.map((r) => [r.id, r.place])", [res, WORDS])


def test_places_follow_the_ranking_and_ties_share_a_place(lines):
    res = {"kind": "ranking", "ballots": 2, "rows": [
        {"id": "o1", "value": 3, "rank": 1}, {"id": "o2", "value": 3, "rank": 1}, {"id": "o3", "value": 0, "rank": 3}]}
    assert lines(res) == [["o1", "Tied No. 1"], ["o2", "Tied No. 1"], ["o3", "No. 3"]]
    single = {"kind": "single", "ballots": 3, "rows": [{"id": "a", "value": 1}, {"id": "b", "value": 2}]}
    assert lines(single) == [["b", "No. 1"], ["a", "No. 2"]]


def test_before_the_first_ballot_nothing_is_placed(lines):
    # Three options "tied first" with no vote cast would tell a resident something false.
    res = {"kind": "ranking", "ballots": 0, "rows": [
        {"id": "o1", "value": 0, "rank": 1}, {"id": "o2", "value": 0, "rank": 1}, {"id": "o3", "value": 0, "rank": 1}]}
    assert lines(res) == [["o1", ""], ["o2", ""], ["o3", ""]]
    single = {"kind": "single", "ballots": 0, "rows": [{"id": "a", "value": 0}, {"id": "b", "value": 0}]}
    assert lines(single) == [["a", ""], ["b", ""]]
