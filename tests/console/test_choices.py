"""Choices carry value, label and badge colour together; one template tag renders any of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template

from console.choices import COLOURS, ChoiceSet, choice_set
from provisioning.models import CycleStatus, LogAction, LogStatus
from provisioning.views.badges import ProvisioningModeBadge, TestOutcomeBadge

CSS = Path(__file__).resolve().parents[2] / "static" / "console.css"


def render(text: str, **context) -> str:
    return Template("{% load console_ui %}" + text).render(Context(context))


def test_a_member_without_a_colour_is_refused_when_declared():
    with pytest.raises(TypeError, match="value, label, colour"):

        class Plain(ChoiceSet):
            ONE = "one", "One"


def test_a_colour_the_stylesheet_lacks_is_refused_when_declared():
    with pytest.raises(ValueError, match="purple"):

        class Loud(ChoiceSet):
            ONE = "one", "One", "purple"


def test_every_colour_has_a_badge_style():
    styled = set(re.findall(r"\.badge-([a-z]+)\s*\{", CSS.read_text()))
    assert set(COLOURS) <= styled


def test_a_choice_set_is_still_a_django_choices_class():
    assert LogStatus.choices[:2] == [("success", "Success"), ("failure", "Failure")]
    assert LogStatus("failure") == "failure" and LogStatus.FAILURE.label == "Failure"
    assert LogAction.STAGED_DELETE.colour == "amber"
    assert choice_set("CycleStatus") is CycleStatus


@pytest.mark.parametrize(
    ("value", "choices", "html"),
    [
        ("completed_with_errors", "CycleStatus", '<span class="badge badge-amber">Completed with errors</span>'),
        ("create", "LogAction", '<span class="badge badge-green">Create</span>'),
        ("failure", "TestOutcomeBadge", '<span class="badge badge-red">Failed</span>'),
        ("automatic", "ProvisioningModeBadge", '<span class="badge badge-blue">Automatic</span>'),
        ("off", "ProvisioningStatus", '<span class="badge badge-grey">Off</span>'),
        ("unreadable", "SecretState", '<span class="badge badge-red">Unreadable</span>'),
    ],
)
def test_the_badge_tag_renders_any_choice_set(value, choices, html):
    assert render("{% badge value choices %}", value=value, choices=choices) == html


def test_a_blank_value_has_no_badge_and_a_retired_one_a_grey_badge_of_its_value():
    assert render('{% badge value "LogStatus" %}', value="") == ""
    assert render('{% badge value "LogStatus" %}', value=None) == ""
    retired = render('{% badge value "LogStatus" %}', value="<gone>")
    assert retired == '<span class="badge badge-grey">&lt;gone&gt;</span>'


def test_a_misspelt_choice_set_name_fails_loudly():
    with pytest.raises(LookupError, match="LogStatuses"):
        render('{% badge "success" "LogStatuses" %}')


def test_the_connection_badges_follow_the_connection_choices():
    from connections.models import ProvisioningMode, TestOutcome

    assert TestOutcomeBadge.choices == TestOutcome.choices
    assert sorted(ProvisioningModeBadge.choices) == sorted(ProvisioningMode.choices)
