"""The base of every form: text fields refuse the characters app.text refuses, with an inline
error, before any rule or query sees them."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.fields import StringField

from . import text


def stripped(value):
    """A filter for one-line fields: a pasted address often carries a space or a newline at an
    end, which the email check would call invalid (a `type="text"` input keeps them)."""
    return value.strip() if isinstance(value, str) else value


class Form(FlaskForm):
    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field, StringField) and text.unsafe(field.data):
                # `errors` may be a tuple when the field had no validator errors yet
                field.errors = [*field.errors, text.MESSAGE]
                ok = False
        return ok
