"""The read-only API: published meetings only, pagination, ETags, CORS, and an OpenAPI document
that schemathesis holds the responses to."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from meeting.extensions import db
from tests.conftest import Staff, csrf_token, make_app
from tests.test_exports_session import scripted_session


@pytest.fixture(scope="module")
def world(tmp_path_factory, migrated_db):
    app = make_app(tmp_path_factory.mktemp("api"), migrated_db)
    Staff(app).create()
    session = scripted_session(app)
    yield {"app": app, "session": session, "meeting_id": session["meeting_id"]}
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def publish(app, meeting_id, on=True):
    client = app.test_client()
    Staff(app).login(client)
    token = csrf_token(client, f"/staff/meetings/{meeting_id}")
    response = client.post(f"/staff/meetings/{meeting_id}/publish", data={"csrf_token": token, "publish": "1" if on else "0"})
    assert response.status_code == 302


def test_nothing_unpublished_is_reachable(world):
    app, mid = world["app"], world["meeting_id"]
    publish(app, mid, on=False)
    api = app.test_client()
    for path in ("", "/tables", "/ideas", "/polls", "/opinion", "/report"):
        response = api.get(f"/api/v1/meetings/{mid}{path}")
        assert response.status_code == 404 and response.get_json()["error"] == "not_found", path
    assert api.get("/api/v1/meetings").get_json()["meetings"] == []


def test_a_published_meeting_with_pagination_etag_and_cors(world):
    app, mid = world["app"], world["meeting_id"]
    publish(app, mid)
    api = app.test_client()
    listed = api.get("/api/v1/meetings").get_json()["meetings"]
    assert [m["meeting_id"] for m in listed] == [mid]
    first = api.get(f"/api/v1/meetings/{mid}/ideas?per_page=3")
    body = first.get_json()
    assert body["pagination"] == {"page": 1, "per_page": 3, "total": 9, "pages": 3}  # 6 + 2 hidden + 1 merged
    assert [i["idea_id"] for i in body["ideas"]] == world["session"]["ideas"][:3]
    last = api.get(f"/api/v1/meetings/{mid}/ideas?per_page=3&page=3").get_json()["ideas"]
    *hidden, merged = last
    assert [i["idea_id"] for i in hidden] == world["session"]["hidden_ideas"]
    assert all(i["hidden"] and i["text"] == "" and i["moderation"] for i in hidden)
    assert {merged["idea_id"]: merged["merged_into"]} == world["session"]["merged"] and not merged["hidden"]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    etag = first.headers["ETag"]
    again = api.get(f"/api/v1/meetings/{mid}/ideas?per_page=3", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert api.get(f"/api/v1/meetings/{mid}/ideas?per_page=0").status_code == 422
    polls = api.get(f"/api/v1/meetings/{mid}/polls?per_page=50").get_json()["polls"]
    kinds = {p["kind"] for p in polls}
    assert kinds == {"agree", "single", "approval", "dots", "ranking", "score", "survey"}
    ranking = next(p for p in polls if p["kind"] == "ranking")
    assert [r["rank"] for r in ranking["results"]] == [1, 2, 3]
    report = api.get(f"/api/v1/meetings/{mid}/report").get_json()
    assert report["ideas"] == 9 and report["hidden"] == 2 and report["polls"] == 10
    opinion = api.get(f"/api/v1/meetings/{mid}/opinion").get_json()
    assert opinion["computed_at"] is not None and opinion["min_votes"] == 5  # publishing computed the final map
    options = api.options(f"/api/v1/meetings/{mid}")
    assert options.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"


def test_the_openapi_document(world):
    doc = world["app"].test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/meetings", "/api/v1/meetings/{meeting_id}", "/api/v1/meetings/{meeting_id}/ideas",
            "/api/v1/meetings/{meeting_id}/polls", "/api/v1/meetings/{meeting_id}/opinion",
            "/api/v1/meetings/{meeting_id}/tables", "/api/v1/meetings/{meeting_id}/report"} <= set(doc["paths"])


@pytest.fixture(scope="module")
def api_schema(world):
    publish(world["app"], world["meeting_id"])
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world["app"])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_finds_no_server_error_and_no_schema_violation(case):
    case.call_and_validate()


def test_a_path_no_route_matches_still_answers_in_json(client):
    """A line break in the path escapes the API's catch-all route; the answer is still JSON."""
    response = client.get("/api/v1/meetings/%0A/tables")
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"] == "not_found"
