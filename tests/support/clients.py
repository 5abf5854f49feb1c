"""A test client whose requests each get their own application context.

The `app` fixture keeps an application context pushed for the whole test. Flask reuses a pushed
context for requests of the same app, so without this every request of a test would share one
`g` (Flask-WTF's CSRF token, Flask-Login's cached user, `g.member`) and one database session,
which no real browser ever does. Each request here runs as it does in production: a fresh
context, `g` and database session, torn down at its end."""
from __future__ import annotations

import contextvars

from flask.globals import _cv_app
from flask.testing import FlaskClient


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        def run():
            _cv_app.set(None)  # only inside this copy of the context: the request pushes its own
            return FlaskClient.open(self, *args, **kwargs)

        return contextvars.copy_context().run(run)
