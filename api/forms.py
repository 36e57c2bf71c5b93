"""The form that creates a personal API token."""

from __future__ import annotations

from django import forms

from api.models import TokenScope
from api.tokens import DEFAULT_DAYS, MAX_DAYS


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What the token is for, such as “nightly log export”: the list and the audit log show it.",
    )
    scope = forms.ChoiceField(
        label="Scope",
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
        help_text="Read: applications, jobs, schema and logs. Administer: also start, pause, restart, provision on "
        "demand and replace the mapping; it works only while you are an Application Administrator.",
    )
    days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=MAX_DAYS,
        initial=DEFAULT_DAYS,
        help_text=f"From 1 to {MAX_DAYS} days. Create a new token before it expires; revoke one you no longer use.",
    )

    def __init__(self, *args, may_administer: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_administer:
            self.fields["scope"].choices = [(TokenScope.READ.value, TokenScope.READ.label)]
