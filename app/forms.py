"""The base of every form: text fields refuse the characters app.text refuses, with an inline
error, before any rule or query sees them."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.fields import StringField

from . import text


class Form(FlaskForm):
    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field, StringField) and text.unsafe(field.data):
                # `errors` may be a tuple when the field had no validator errors yet
                field.errors = [*field.errors, text.MESSAGE]
                ok = False
        return ok
