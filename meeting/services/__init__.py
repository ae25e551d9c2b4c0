"""Use cases: one function per action a user takes.

A service owns its transaction, checks permissions and returns what changed (events to
broadcast); it never emits. Callers broadcast the events after the commit.
"""
