"""Every field an administrator can fill has a label and a help text that says what to enter."""

from __future__ import annotations

import importlib
import inspect

import pytest
from django import forms

FORM_MODULES = ["connections.forms", "provisioning.forms", "mappings.forms", "api.forms"]
# Constructor arguments the forms that need context take.
EXTRA_KWARGS = {"object_mapping": None, "target_names": ["Title"], "roles": [("r", "Standard User")]}


def _project_forms() -> list[type[forms.BaseForm]]:
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            abstract_model_form = issubclass(cls, forms.ModelForm) and getattr(cls._meta, "model", None) is None
            if issubclass(cls, forms.BaseForm) and cls.__module__ == name and not abstract_model_form:
                found.append(cls)
    return found


def _build(form_class: type[forms.BaseForm]) -> forms.BaseForm:
    parameters = inspect.signature(form_class.__init__).parameters
    return form_class(**{k: v for k, v in EXTRA_KWARGS.items() if k in parameters})


def test_the_project_forms_are_found():
    names = {cls.__name__ for cls in _project_forms()}
    assert {"SalesforceCredentialsForm", "EntraCredentialsForm", "AttributeMappingForm", "ScopingClauseForm"} <= names


@pytest.mark.parametrize("form_class", _project_forms(), ids=lambda cls: cls.__name__)
def test_every_visible_field_has_a_label_and_help_text(db, form_class):
    form = _build(form_class)
    missing = [
        f"{name} ({'label' if not form[name].label else 'help text'})"
        for name, field in form.fields.items()
        if not field.widget.is_hidden and not (form[name].label and field.help_text)
    ]
    assert not missing, f"{form_class.__name__}: {', '.join(missing)}"
