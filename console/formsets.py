"""Formsets that refuse an oversized post before building a single form.

A formset trusts the TOTAL_FORMS number of its management form, which the browser sends: Django caps it at
`absolute_max` but still builds and validates that many forms first. Here a post announcing more than `absolute_max`
forms builds none and is invalid at once, with `too_many_forms` as its error.
"""

from __future__ import annotations

from django.forms.formsets import TOTAL_FORM_COUNT


class BoundedFormSetMixin:
    """Mix in before Django's formset class; set max_num = absolute_max and a `too_many_forms` message."""

    @property
    def too_many_forms(self) -> bool:
        if not self.is_bound:
            return False
        announced = self.management_form.cleaned_data.get(TOTAL_FORM_COUNT) or 0
        return announced > self.absolute_max

    def total_form_count(self) -> int:
        # Django's full_clean() reports the excess as `too_many_forms` once it sees no form to build.
        return 0 if self.too_many_forms else super().total_form_count()
