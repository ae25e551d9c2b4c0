"""Kurumaza: deliberative town meetings, online and hybrid."""


def __getattr__(name: str):
    # Lazy, so that `python -m meeting.serve` can monkey-patch before Flask and its
    # dependencies are imported, and `meeting.core` stays importable without them.
    if name == "create_app":
        from meeting.app import create_app

        return create_app
    raise AttributeError(name)
