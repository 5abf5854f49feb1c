from ..forms import Form, stripped
from wtforms import HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, Email, Length


class EmailForm(Form):
    email = StringField(
        "Email address", filters=[stripped],
        validators=[DataRequired("Enter your email address."),
                    Length(max=320, message="An email address is at most 320 characters."),
                    Email("Enter a valid email address.")],
        render_kw={"autocomplete": "email", "inputmode": "email", "autofocus": True},
    )


class CodeForm(Form):
    code = StringField(
        "Code from the email",
        validators=[DataRequired("Enter the code from the email."),
                    Length(max=16, message="That code is not right. Check the email and try again.")],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"},
    )


class ConfirmLinkForm(Form):
    token = HiddenField(validators=[DataRequired()])


class ChooseTeamForm(Form):
    # Any value reaches the sign-in service, which names the choice it wants.
    member_id = RadioField("Team", validators=[DataRequired("Choose a team.")], choices=[],
                           validate_choice=False)


class EmptyForm(Form):
    """A CSRF-protected form for button-only actions."""
