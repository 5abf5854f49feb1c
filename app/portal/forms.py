"""Portal forms: they check the shape of the input; the members service checks the rules."""
from ..forms import Form, stripped
from wtforms import EmailField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..services.groups import NAME_MAX as GROUP_NAME_MAX
from ..services.members import NAME_MAX

# The forms offer no "owner": ownership moves only by transfer (rule 3).
ROLE_CHOICES = [SelectChoice("member", "Member"), SelectChoice("billing_manager", "Billing manager")]
NAME_TOO_LONG = f"The name can be at most {NAME_MAX} characters."
GROUP_NAME_TOO_LONG = f"A group name can be at most {GROUP_NAME_MAX} characters."


class AddMemberForm(Form):
    email = EmailField(
        "Email", id="add-email", filters=[stripped],
        validators=[DataRequired("Enter an email address."),
                    Length(max=320, message="An email address is at most 320 characters."),
                    Email("Enter a valid email address, like name@example.com.")],
        render_kw={"autocomplete": "off", "inputmode": "email", "spellcheck": "false"},
    )
    name = StringField("Name (optional)", id="add-name", validators=[Optional(), Length(max=NAME_MAX, message=NAME_TOO_LONG)],
                       render_kw={"autocomplete": "off"})
    # Any value reaches the service, which refuses "owner" with its own message.
    role = SelectField("Role", id="add-role", choices=ROLE_CHOICES, default="member",
                       validate_choice=False)


class EditMemberForm(Form):
    name = StringField("Name", validators=[Optional(), Length(max=NAME_MAX, message=NAME_TOO_LONG)],
                       render_kw={"autocomplete": "off"})
    role = SelectField("Role", choices=ROLE_CHOICES, validate_choice=False)


class TransferForm(Form):
    """Transferring ownership is confirmed by typing the new owner's email."""

    confirm_email = StringField("Email", validators=[DataRequired("Type the email address to confirm.")])

    def __init__(self, *args, expected_email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected_email = expected_email

    def validate_confirm_email(self, field):
        if (field.data or "").strip().lower() != self.expected_email.lower():
            raise ValidationError(f"That is not {self.expected_email}. Type it exactly to confirm.")


class NameForm(Form):
    """Your own name, on your membership page."""

    name = StringField("Your name", id="my-name",
                       validators=[Optional(), Length(max=NAME_MAX, message=NAME_TOO_LONG)],
                       render_kw={"autocomplete": "name"})


class GroupForm(Form):
    """A group's name, to create or rename it; the groups service checks the rules (18)."""

    name = StringField("Group name", id="group-name",
                       validators=[DataRequired("Give the group a name."),
                                   Length(max=GROUP_NAME_MAX, message=GROUP_NAME_TOO_LONG)],
                       render_kw={"autocomplete": "off", "maxlength": GROUP_NAME_MAX})


class AddToGroupForm(Form):
    """The people ticked in the add-members picker."""

    member_id = SelectMultipleField("People to add", choices=[], validate_choice=False,
                                    validators=[DataRequired("Tick at least one person to add.")])

    def validate_member_id(self, field):
        # An empty value (a forged or hand-made form) is no one, not an id the service names.
        field.data = [value for value in field.data if value.strip()]
        if not field.data:
            raise ValidationError("Tick at least one person to add.")
