"""Which model columns may leave in a public export, and which never may.

Every exported entity is built from an explicit list of public columns of its model (the
``PUBLIC`` table below: add a new column there, with its description in both languages, and
every export, the README and the API pick it up). Models the agenda work keeps growing
(rounds, tables) are marked ``grow=True``: a column that is in neither list is exported too,
unless its name is on the deny-list, so a new ``Round.question`` appears in rounds.csv
without touching this file. Identity, secrets and free text that may name a person are on
the deny-list and never leave, whatever list a column is added to.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from meeting.models import Meeting, Round, Table

# Names that never appear in a public file: identity, tokens, hashes, session keys,
# nicknames, moderation free text. Matched against column names of every model.
DENY = re.compile(
    r"(^|_)(nickname|name_sealed|identity|sealed|token|code_hash|token_hash|hash|session|secret_key|"
    r"password|email|address|contact_person|phone|household|external_id|receipt|hidden_reason|reason|"
    r"pid|seq|staff_id|user_id|created_by|host)($|_)")
# Column names allowed although the pattern matches (public by nature).
ALLOW = {"contact"}  # the organizer's public contact line printed on every letter


@dataclass(frozen=True)
class Field:
    """One exported column: its name, what it means in Japanese and English."""

    name: str
    ja: str
    en: str
    attr: str | None = None  # the model attribute it reads, when it is a plain column

    def describe(self, language: str) -> str:
        return self.ja if language == "ja" else self.en


def denied(name: str) -> bool:
    return name not in ALLOW and DENY.search(name) is not None


# ------------------------------------------------------------------ per model

MEETING = [
    Field("meeting_id", "会議の番号", "Meeting number", "id"),
    Field("title", "会議の名前", "Title of the meeting", "title"),
    Field("language", "会議の言語（ja / en）", "Language of the meeting (ja / en)", "language"),
    Field("purpose", "参加者に示した目的", "Purpose notice shown to participants", "purpose"),
    Field("held_on", "開催日（現地の日付）", "Date of the meeting (local date)", "held_on"),
    Field("starts_at", "開始時刻（現地時刻）", "Start time (local time)", "starts_at"),
    Field("ends_at", "終了時刻（現地時刻）", "End time (local time)", "ends_at"),
    Field("timezone", "時刻の時間帯（IANA名）", "Time zone of the local times (IANA name)", "timezone"),
    Field("venue", "会場", "Venue", "venue"),
    Field("contact", "問い合わせ先（主催者）", "Contact line (the organizer)", "contact"),
    Field("licence", "公開データのライセンス（SPDX）", "Licence of the open data (SPDX id)", "licence"),
    Field("published_at", "公開した日時（UTC）", "When the meeting was published (UTC)", "published_at"),
]

ROUND = [
    Field("round_id", "ラウンドの番号（内部）", "Round id", "id"),
    Field("number", "ラウンドの順番", "Position of the round in the agenda", "number"),
    Field("title", "ラウンドの名前", "Title of the round", "title"),
]

TABLE = [
    Field("table_id", "テーブルの番号（内部）", "Table id", "id"),
    Field("name", "テーブルの名前", "Name of the table", "name"),
    Field("position", "テーブルの並び順", "Position of the table", "position"),
]


@dataclass(frozen=True)
class ModelFields:
    model: type
    fields: list[Field]
    grow: bool = False  # also export columns added later that are not denied

    def resolved(self) -> list[Field]:
        """The explicit fields, then (when growing) every further column not on the deny-list."""
        out = [f for f in self.fields if not denied(f.attr or f.name)]
        known = {f.attr for f in self.fields} | {f.name for f in self.fields} | {"meeting_id"}
        if self.grow:
            for column in sa.inspect(self.model).columns:
                if column.key in known or denied(column.key) or column.foreign_keys and column.key.endswith("_id") \
                        and column.key not in ("round_id", "table_id"):
                    continue
                text = column.comment or column.doc or column.key.replace("_", " ")
                out.append(Field(column.key, text, text, column.key))
        return out


PUBLIC = {
    Meeting: ModelFields(Meeting, MEETING, grow=False),
    Round: ModelFields(Round, ROUND, grow=True),
    Table: ModelFields(Table, TABLE, grow=True),
}


def model_fields(model: type) -> list[Field]:
    return PUBLIC[model].resolved()


def model_row(obj, fields: list[Field]) -> list:
    return [getattr(obj, f.attr or f.name, None) for f in fields]
