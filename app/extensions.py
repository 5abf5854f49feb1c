"""Extensions, created unbound; `create_app` binds them."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class PortalLimiter(Limiter):
    """Flask-Limiter, minus its before_request pass when that pass has nothing to check.

    A route's own limits (`limiter.limit`, `shared_limit`: ratelimits.client_limit) are checked
    by the decorator's wrapper as the view is called (`in_middleware=False`). The before_request
    pass (`in_middleware=True`) only ever applies application, default, meta and blueprint limits
    and the in-memory fallback; with none of those configured it resolves and evaluates an empty
    list on every request (~14 context look-ups). It is skipped then, and runs as before as soon
    as any of them is configured."""

    def _check_request_limit(self, callable_name=None, in_middleware=True):
        if in_middleware and not self._has_middleware_limits():
            return None
        return super()._check_request_limit(callable_name=callable_name,
                                            in_middleware=in_middleware)

    def _has_middleware_limits(self) -> bool:
        # Flask-Limiter's own attributes (4.x): should a release rename them, the pass runs
        # as before rather than failing every request.
        try:
            manager = self.limit_manager
            return bool(manager._application_limits or manager._default_limits
                        or manager._blueprint_limits or self._meta_limits
                        or self._in_memory_fallback_enabled)
        except AttributeError:
            return True


limiter = PortalLimiter(key_func=get_remote_address, default_limits=[])


def rollback_quietly() -> None:
    """Roll the request's transaction back; when the connection is already gone (a database
    outage), drop it instead, so an error handler never fails on its own cleanup."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is lost; the pool replaces it
        db.session.close()
