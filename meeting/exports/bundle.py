"""One dataset in one format, and the open-data folder (every dataset as CSV, JSON and XLSX,
the Polis-format files and a README describing the licence and every column)."""
from __future__ import annotations

from meeting.exports.datasets import Dataset, OpenData
from meeting.exports.polis import polis_files
from meeting.exports.tabular import CSV_TYPE, JSON_TYPE, XLSX_TYPE, write_csv, write_json, write_xlsx

FORMATS = {"csv": CSV_TYPE, "json": JSON_TYPE, "xlsx": XLSX_TYPE}

LICENCES = {
    "CC-BY-4.0": ("クリエイティブ・コモンズ 表示 4.0 国際", "Creative Commons Attribution 4.0 International",
                  "https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-SA-4.0": ("クリエイティブ・コモンズ 表示-継承 4.0 国際", "Creative Commons Attribution-ShareAlike 4.0 International",
                     "https://creativecommons.org/licenses/by-sa/4.0/"),
    "CC0-1.0": ("CC0 1.0 全世界（パブリック・ドメイン）", "CC0 1.0 Universal (public domain dedication)",
                "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODbL-1.0": ("オープンデータベースライセンス 1.0", "Open Database License 1.0",
                 "https://opendatacommons.org/licenses/odbl/1-0/"),
}


def licence_text(spdx: str, language: str) -> tuple[str, str]:
    ja, en, url = LICENCES.get(spdx, LICENCES["CC-BY-4.0"])
    return (ja if language == "ja" else en), url


def meeting_json(data: OpenData) -> dict:
    """Every dataset as a list of records, keyed by dataset name."""
    meeting = {"id": data.meeting.id, **data.get("meeting").records()[0]}
    return {"meeting": meeting, "exported_at": data.exported_at.isoformat(),
            "licence": data.meeting.licence, **{d.name: d.records() for d in data.datasets if d.name != "meeting"}}


def dataset_file(data: OpenData, name: str, fmt: str) -> bytes:
    d = data.get(name)
    if fmt == "csv":
        return write_csv(d.header, d.rows)
    if fmt == "json":
        return write_json({"dataset": d.name, "meeting_id": data.meeting.id, "exported_at": data.exported_at.isoformat(),
                           "licence": data.meeting.licence, "rows": d.records()})
    return write_xlsx([(d.name, d.header, d.rows)])


def workbook(data: OpenData) -> bytes:
    return write_xlsx([(d.name, d.header, d.rows) for d in data.datasets])


def readme(data: OpenData, language: str, *, with_report: bool = False) -> str:
    m = data.meeting
    name, url = licence_text(m.licence, language)
    ja = language == "ja"
    lines = [f"# {m.title}", ""]
    if ja:
        lines += ["この ZIP は車座（Kurumaza）が書き出した会議の記録と公開データです。",
                  "個人を特定する情報（名簿の氏名・住所・連絡先、招待のリンクとコード、ニックネーム）は含みません。",
                  "参加者は書き出しごとに無作為に振り直した仮名（P001 など）で示します。",
                  "非表示にされた意見の文は含まず、理由を区分で示します。",
                  "属性ごとの集計では 5 人未満の欄（とそこから逆算できる欄）を空欄にしています。", "",
                  "## ライセンス", "", f"{name}（{m.licence}） {url}", "",
                  f"出典の表示例: 「{m.title}」の記録（車座で作成）、{m.licence}", ""]
    else:
        lines += ["This ZIP holds the record and open data of a meeting, written by Kurumaza.",
                  "It holds no personal data (no roster names, addresses or contacts, no invitation links or codes, "
                  "no nicknames). Participants appear as labels drawn at random for every export (P001...).",
                  "The text of hidden ideas is left out; the reason is given as a category.",
                  "Breakdowns by category leave cells under 5 people (and the cells that would reveal them) empty.", "",
                  "## Licence", "", f"{name} ({m.licence}) {url}", "",
                  f"Attribution: \"{m.title}\", record made with Kurumaza, {m.licence}", ""]
    lines += ["## " + ("ファイル" if ja else "Files"), ""]
    if with_report:
        lines += ["- report.html, report.pdf: " + ("報告書（同じ内容）" if ja else "the report (the same content)")]
    lines += ["- open-data/*.csv: " + ("UTF-8（BOM付き）、RFC 4180。= + - @ で始まる欄は先頭に ' を付けています"
                                       if ja else "UTF-8 with BOM, RFC 4180; a cell starting with = + - @ gets a leading '"),
              "- open-data/meeting.json, open-data/meeting.xlsx: " + ("同じ表を JSON と Excel で" if ja
                                                                     else "the same tables as JSON and Excel"),
              "- polis/: " + ("Polis のオープンデータと同じ形式（comments.csv, votes.csv, participants-votes.csv, "
                              "summary.csv。賛成 = +1、反対 = -1、パス = 0）" if ja else
                              "the format of Polis's open data (comments.csv, votes.csv, participants-votes.csv, "
                              "summary.csv; agree = +1, disagree = -1, pass = 0)"), ""]
    lines += ["## " + ("列の説明" if ja else "Columns"), ""]
    for d in data.datasets:
        lines += [f"### open-data/{d.name}.csv — {d.title(language)}", ""]
        lines += [f"- `{f.name}`: {f.describe(language)}" for f in d.fields]
        lines.append("")
    lines += ["### polis/", "", *("- " + line for line in POLIS_COLUMNS[language if language in POLIS_COLUMNS else "en"]), ""]
    lines += ["" if ja else "", ("時刻は UTC の ISO 8601 です（報告書の中は " + m.timezone + " で表示）。") if ja
              else f"Times are ISO 8601 in UTC (the report shows them in {m.timezone}).", ""]
    return "\n".join(lines)


POLIS_COLUMNS = {
    "ja": ["comments.csv: timestamp（ミリ秒）, datetime, comment-id（意見の番号）, author-id（書いた人の番号）, agrees, "
           "disagrees, moderated（-1 は非表示）, comment-body（非表示の意見は空）",
           "votes.csv: timestamp, datetime, comment-id, voter-id（仮名の番号: P017 は 17）, vote（+1 / -1 / 0）",
           "participants-votes.csv: participant, group-id（意見の地図のグループ）, n-comments, n-votes, n-agree, "
           "n-disagree, 意見の番号ごとの票",
           "summary.csv: topic, url, views, voters, voters-in-conv, commenters, comments, groups, conversation-description"],
    "en": ["comments.csv: timestamp (ms), datetime, comment-id (idea id), author-id, agrees, disagrees, "
           "moderated (-1: hidden), comment-body (empty when hidden)",
           "votes.csv: timestamp, datetime, comment-id, voter-id (the label's number: P017 is 17), vote (+1 / -1 / 0)",
           "participants-votes.csv: participant, group-id (the opinion map's group), n-comments, n-votes, n-agree, "
           "n-disagree, then one column per idea id",
           "summary.csv: topic, url, views, voters, voters-in-conv, commenters, comments, groups, conversation-description"],
}


def open_data_files(data: OpenData, *, base_url: str = "") -> dict[str, bytes]:
    """The open-data folder: path inside the ZIP -> bytes."""
    files = {f"open-data/{d.name}.csv": write_csv(d.header, d.rows) for d in data.datasets}
    files["open-data/meeting.json"] = write_json(meeting_json(data))
    files["open-data/meeting.xlsx"] = workbook(data)
    files.update({f"polis/{name}": body for name, body in polis_files(data, base_url).items()})
    return files


def dataset_names(data: OpenData) -> list[str]:
    return [d.name for d in data.datasets]


__all__ = ["Dataset", "FORMATS", "dataset_file", "meeting_json", "open_data_files", "readme", "workbook"]
