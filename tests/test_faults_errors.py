"""Which database failures a client is asked to resend ("retry"), and which are bugs ("server")."""

import sqlite3

import psycopg
import sqlalchemy.exc as sa_exc

from meeting.services.errors import ServiceError, retryable


def failed(orig, kind=sa_exc.OperationalError):
    return kind("SELECT 1", {}, orig)


def test_database_outages_are_retryable():
    assert retryable(failed(psycopg.OperationalError("server closed the connection unexpectedly")))
    assert retryable(failed(psycopg.errors.AdminShutdown("terminating connection due to administrator command")))
    assert retryable(failed(psycopg.errors.CannotConnectNow("the database system is starting up")))
    assert retryable(failed(sqlite3.OperationalError("database is locked")))
    assert retryable(sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"))


def test_bugs_and_bad_data_are_not_retried():
    assert not retryable(failed(sqlite3.OperationalError("no such table: votes")))
    assert not retryable(failed(sqlite3.IntegrityError("UNIQUE constraint failed"), sa_exc.IntegrityError))
    assert not retryable(failed(psycopg.errors.UndefinedTable("relation does not exist"), sa_exc.ProgrammingError))
    assert not retryable(ValueError("a bug"))


def test_retry_answer_is_in_the_users_language(app):
    with app.test_request_context("/?lang=ja"):
        ack = ServiceError("retry").as_ack()
    assert ack["ok"] is False and ack["error"] == "retry" and "自動" in ack["message"]
    with app.test_request_context("/?lang=en"):
        assert "sent again automatically" in ServiceError("retry").as_ack()["message"]
