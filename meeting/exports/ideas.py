"""The meeting's ideas and votes (the first downloads; now two of the public datasets)."""

from meeting.exports import datasets
from meeting.exports.bundle import dataset_file, meeting_json
from meeting.models import Meeting


def collect(meeting: Meeting) -> dict:
    return meeting_json(datasets.collect(meeting))


def ideas_csv(meeting: Meeting) -> bytes:
    return dataset_file(datasets.collect(meeting, with_opinion=False), "ideas", "csv")


def votes_csv(meeting: Meeting) -> bytes:
    return dataset_file(datasets.collect(meeting, with_opinion=False), "votes", "csv")
