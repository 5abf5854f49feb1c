"""Forms of the seats page and the claim page. They check input; the seats service checks rules."""
from ..forms import Form, stripped
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Email, Length


class AssignSeatForm(Form):
    email = StringField(
        "Invite by email", filters=[stripped],
        validators=[DataRequired("Enter the email address of the person to invite."),
                    Length(max=320, message="An email address is at most 320 characters."),
                    Email("Enter a valid email address.")],
    )


class ClaimForm(Form):
    """The claim link's token, carried from the GET page to the POST that uses it."""

    token = HiddenField(validators=[DataRequired()])
