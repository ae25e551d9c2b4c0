"""The opinion map for facilitators: groups, what they stand for, and what unites the tables."""

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user

from meeting.broadcast import emit_events
from meeting.services import opinion
from meeting.web.access import meeting_role

bp = Blueprint("opinion", __name__, url_prefix="/staff")

SIZE = 400  # the SVG's viewBox is SIZE x SIZE
MARGIN = 28
LETTERS = "ABCDEFGHIJ"
SHAPES = ("circle", "square", "triangle", "diamond", "cross")
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#6A3D9A")  # Okabe-Ito-like, tell apart in grey too
# The same hues darkened for the group labels on the map: text needs 4.5:1 on white (WCAG 1.4.3), the
# dots and legend marks only 3:1 (1.4.11), which COLOURS meet.
INKS = ("#0072B2", "#A04000", "#00704F", "#9B4D7C", "#6A3D9A")


def _shape_points(shape: str, x: float, y: float, r: float = 6.0) -> str:
    if shape == "triangle":
        pts = [(x, y - r * 1.2), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)]
    elif shape == "diamond":
        pts = [(x, y - r * 1.2), (x + r * 1.2, y), (x, y + r * 1.2), (x - r * 1.2, y)]
    else:  # cross
        a, b = r * 0.4, r * 1.1
        pts = [(x - a, y - b), (x + a, y - b), (x + a, y - a), (x + b, y - a), (x + b, y + a), (x + a, y + a),
               (x + a, y + b), (x - a, y + b), (x - a, y + a), (x - b, y + a), (x - b, y - a), (x - a, y - a)]
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)


def _pct(n: int, d: int) -> int | None:
    return round(100 * n / d) if d else None


def map_view(data: dict) -> dict:
    """Turn a stored map into what the template draws: SVG coordinates, texts, percentages."""
    texts = {s["id"]: s["text"] for s in data.get("statements", [])}
    people = [p for p in data.get("participants", []) if p.get("in_conv") and p.get("x") is not None]
    xs = [p["x"] for p in people] or [0.0]
    ys = [p["y"] for p in people] or [0.0]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    scale = (SIZE - 2 * MARGIN) / span

    def to_svg(x, y):
        # SVG's y grows downwards; flip so the map reads like a chart.
        return SIZE / 2 + (x - cx) * scale, SIZE / 2 - (y - cy) * scale

    groups = []
    style = {}
    for n, g in enumerate(data.get("groups", [])):
        style[g["id"]] = (LETTERS[n % len(LETTERS)], SHAPES[n % len(SHAPES)], COLOURS[n % len(COLOURS)], n % len(SHAPES))
        letter, shape, colour, idx = style[g["id"]]
        gx, gy = to_svg(*(g["center"] if None not in g["center"] else (0.0, 0.0)))
        groups.append({"id": g["id"], "letter": letter, "shape": shape, "colour": colour, "index": idx,
                       "ink": INKS[n % len(INKS)],
                       "legend_points": _shape_points(shape, 10, 10, 6) if shape not in ("circle", "square") else "",
                       "size": g["size"], "x": gx, "y": gy,
                       "repness": [{"idea_id": r["statement"], "text": texts.get(r["statement"], ""),
                                    "direction": r["direction"], "pct": _pct(r["n_success"], r["n_trials"]),
                                    "n_success": r["n_success"], "n_trials": r["n_trials"]}
                                   for r in g["repness"]]})
    dots = []
    for p in people:
        x, y = to_svg(p["x"], p["y"])
        letter, shape, colour, idx = style.get(p["group"], ("", "circle", "#777777", "none"))
        dot = {"x": x, "y": y, "shape": shape, "colour": colour, "index": idx, "letter": letter, "pid": p["pid"]}
        if shape not in ("circle", "square"):
            dot["points"] = _shape_points(shape, x, y)
        dots.append(dot)
    consensus = {k: [{"idea_id": c["statement"], "text": texts.get(c["statement"], ""),
                      "pct": _pct(c["n_success"], c["n_trials"]), "n_trials": c["n_trials"]} for c in v]
                 for k, v in data.get("consensus", {}).items()}
    tables = data.get("tables", {"names": {}, "agreement": [], "bridging": []})
    table_ids = sorted({a["table_id"] for a in tables["agreement"]})
    cells: dict[int, dict[int, dict]] = {}
    for a in tables["agreement"]:
        cells.setdefault(a["idea_id"], {})[a["table_id"]] = a
    agreement = [{"idea_id": i, "text": texts.get(i, ""), "cells": [cells[i].get(t) for t in table_ids]}
                 for i in sorted(cells) if i in texts]
    bridging = [{**b, "text": texts.get(b["idea_id"], ""), "pct": round(100 * b["share_of_tables"])}
                for b in tables["bridging"]]
    by_category: dict[str, list] = {}
    for b in data.get("breakdown", []):
        by_category.setdefault(b["category"], []).append({**b, "text": texts.get(b["idea_id"], "")})
    return {"size": SIZE, "dots": dots, "groups": groups, "consensus": consensus,
            "table_names": [tables["names"].get(str(t), str(t)) for t in table_ids], "agreement": agreement,
            "bridging": bridging, "breakdown": by_category, "n_statements": len(texts)}


def _context(meeting):
    snap = opinion.staff_snapshot(current_user, meeting.id)
    return {"meeting": meeting, "snap": snap, "view": map_view(snap.data) if snap else None}


@bp.route("/meetings/<int:meeting_id>/map")
@meeting_role("organizer", "facilitator")
def page(meeting):
    """Show the opinion map: groups, their representative ideas, consensus and bridging ideas."""
    return render_template("opinion/map.html", **_context(meeting))


@bp.route("/meetings/<int:meeting_id>/map/fragment")
@meeting_role("organizer", "facilitator")
def fragment(meeting):
    """Return the map's SVG and tables alone, for the live refresh."""
    return render_template("opinion/_map.html", **_context(meeting))


@bp.route("/meetings/<int:meeting_id>/map.json")
@meeting_role("organizer", "facilitator")
def as_json(meeting):
    """Return the last computed map as JSON (pseudonymous participant labels only)."""
    return jsonify(opinion.map_json(meeting.id, opinion.staff_snapshot(current_user, meeting.id)))


@bp.route("/meetings/<int:meeting_id>/map/recompute", methods=["POST"])
@meeting_role("organizer", "facilitator")
def recompute(meeting):
    """Compute the map now (e.g. before the first vote batch was counted, or after a restart)."""
    emit_events(opinion.recompute_now(current_user, meeting.id))
    return redirect(url_for("opinion.page", meeting_id=meeting.id))
