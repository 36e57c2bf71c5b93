"""Choices that carry their badge colour: each member is declared as (value, label, colour), in one place.

A ChoiceSet is a Django TextChoices (model fields, forms and ``.choices`` take it unchanged) whose members also
know their colour. Pages render any of them with ``{% badge value "ClassName" %}`` (provisioning.templatetags.
console_ui), which finds the class by its name: declaring a ChoiceSet is all a new coloured status needs.
"""

from __future__ import annotations

from django.db import models
from django.db.models.enums import ChoicesType
from django.utils.html import format_html
from django.utils.safestring import SafeString

# The colours the stylesheet knows (static/console.css: .badge-<colour>).
COLOURS = ("green", "red", "amber", "blue", "grey")

_BY_NAME: dict[str, type[ChoiceSet]] = {}


class ChoiceSetType(ChoicesType):
    """Takes the colour off each (value, label, colour) member before Django reads (value, label)."""

    def __new__(metacls, classname, bases, classdict, **kwds):
        colours = {}
        for key in classdict._member_names:
            declared = classdict[key]
            if not (isinstance(declared, tuple) and len(declared) == 3):
                raise TypeError(f"{classname}.{key} must be declared as (value, label, colour)")
            value, label, colour = declared
            if colour not in COLOURS:
                raise ValueError(f"{classname}.{key}: unknown badge colour {colour!r}; use one of {', '.join(COLOURS)}")
            colours[key] = colour
            dict.__setitem__(classdict, key, (value, label))
        cls = super().__new__(metacls, classname, bases, classdict, **kwds)
        for key, colour in colours.items():
            cls[key]._colour_ = colour
        if colours:
            known = _BY_NAME.get(classname)
            if known is not None and known.__module__ != cls.__module__:
                raise TypeError(f"Two ChoiceSets are named {classname}; badges find them by name")
            _BY_NAME[classname] = cls
        return cls


class ChoiceSet(models.TextChoices, metaclass=ChoiceSetType):
    """Members are declared ``NAME = "value", "Label", "colour"``."""

    @property
    def colour(self) -> str:
        return self._colour_

    @classmethod
    def colours(cls) -> dict[str, str]:
        return {member.value: member.colour for member in cls}


def choice_set(name: str) -> type[ChoiceSet]:
    """The ChoiceSet class of that name (templates name the class, as they cannot import it)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise LookupError(f"No ChoiceSet is named {name!r}; known: {', '.join(sorted(_BY_NAME))}") from None


def badge_html(value: object, choices: type[ChoiceSet] | str) -> SafeString | str:
    """The coloured label of a stored value; "" for a blank one, a grey badge of the raw value for one the
    choices no longer hold (an old row after a choice was retired)."""
    if value is None or value == "":
        return ""
    cls = choice_set(choices) if isinstance(choices, str) else choices
    try:
        member = cls(value)
    except ValueError:
        return format_html('<span class="badge badge-grey">{}</span>', value)
    return format_html('<span class="badge badge-{}">{}</span>', member.colour, member.label)
