"""What the stack itself costs: the least a page or an API read can cost with Flask, Flask-Login,
SQLAlchemy 2 and Jinja, served by benchmarks/run.py exactly as hello-world and the portal are.

None of it is the portal: each route is the bare minimum of one of issue 14's scenarios, written
the cheapest way these libraries allow, so that run.py's table shows how far the stack lets a
real page go (an upper bound for its ratio to hello-world):

    /orm-row      one ORM SELECT by primary key, answered as a JSON object (the API member read)
    /core-row     the same SELECT through SQLAlchemy Core (a row, no ORM object)
    /orm-25       one ORM SELECT of 25 rows, answered as JSON (the API list, without its count)
    /signed-in    a signed session cookie, Flask-Login loading its user with one SELECT, a
                  three-line page (what every signed-in page pays before its own work)
    /table-25     /signed-in plus one SELECT of 25 rows rendered by a plain Jinja loop of six
                  cells per row, no macros (the team page's table, without its features)

`prepare(url)` creates and fills the table (`bench_floor_rows`) in the benchmark's database;
FLOOR_DATABASE_URL tells the app where it is. The session cookie comes from `GET /login`."""
from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from flask import Flask, jsonify, render_template
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Row(Base, UserMixin):
    __tablename__ = "bench_floor_rows"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column()


def prepare(url: str, rows: int = 25) -> None:
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(Row(id=str(uuid.uuid4()), email=f"floor-{i}@bench.example",
                            name=f"Floor Member {i}", role="member",
                            created_at=datetime.now(UTC)) for i in range(rows))
        session.commit()
    engine.dispose()


TABLE = """<!doctype html><html lang="en"><head><title>Floor</title></head><body>
<h1>Hello {{ current_user.name }}</h1><table><tbody>
{% for r in rows %}<tr id="member-{{ r.id }}"><td>{{ r.name }}<span>{{ r.email }}</span></td>
<td>{{ r.role }}</td><td>No seat</td><td></td><td>{{ r.created_at.strftime("%d %b %Y") }}</td>
<td><a href="/rows/{{ r.id }}/edit">Edit</a></td></tr>
{% endfor %}</tbody></table></body></html>"""


def row_dict(r: Row) -> dict:
    return {"id": r.id, "email": r.email, "name": r.name, "role": r.role,
            "created_at": r.created_at.isoformat()}


db = SQLAlchemy(model_class=Base)
app = Flask(__name__)
app.jinja_loader = DictLoader({"table.html": TABLE})  # compiled once, cached, as a file would be
app.config.update(SQLALCHEMY_DATABASE_URI=os.environ.get("FLOOR_DATABASE_URL", "sqlite://"),
                  SECRET_KEY=os.environ.get("SECRET_KEY", "floor-" + "x" * 32))
db.init_app(app)
login = LoginManager(app)


@login.user_loader
def load_user(user_id: str):
    return db.session.get(Row, user_id)


@app.get("/login")
def sign_in():
    login_user(db.session.scalars(select(Row).order_by(Row.email).limit(1)).one())
    return "signed in"


@app.get("/orm-row")
def orm_row():
    if "FLOOR_FIRST_ID" not in app.config:
        app.config["FLOOR_FIRST_ID"] = db.session.scalars(
            select(Row.id).order_by(Row.email).limit(1)).one()
    return jsonify(row_dict(db.session.get(Row, app.config["FLOOR_FIRST_ID"])))


CORE_ROW = select(Row.__table__).where(Row.__table__.c.id == db.bindparam("id"))


@app.get("/core-row")
def core_row():
    if "FLOOR_FIRST_ID" not in app.config:
        orm_row()
    row = db.session.execute(CORE_ROW, {"id": app.config["FLOOR_FIRST_ID"]}).mappings().one()
    return jsonify({**row, "created_at": row["created_at"].isoformat()})


@app.get("/orm-25")
def orm_25():
    rows = db.session.scalars(select(Row).order_by(Row.email).limit(25)).all()
    return jsonify({"items": [row_dict(r) for r in rows]})


@app.get("/signed-in")
@login_required
def signed_in():
    return f"<!doctype html><title>Floor</title><h1>Hello {current_user.name}</h1>"


@app.get("/table-25")
@login_required
def table_25():
    rows = db.session.scalars(select(Row).order_by(Row.email).limit(25)).all()
    return render_template("table.html", rows=rows)
