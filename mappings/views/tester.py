"""Test expression: the result (or the error with its column) for a live Entra user or a typed sample."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from console.permissions import is_administrator, reader_required
from mappings.forms import ExpressionTestForm
from mappings.models import AttributeMapping
from mappings.tester import ExpressionTest, evaluate_for_user, evaluate_sample, parse_sample
from mappings.views.base import blade_context, get_application, get_object_mapping, is_htmx


@require_http_methods(["GET", "POST"])
@reader_required
def expression_test(request: HttpRequest, slug: str) -> HttpResponse:
    """GET shows the tester (prefilled from ?row=<id>); POST evaluates (administrators: it reads live users)."""
    application = get_application(slug)
    object_mapping = get_object_mapping(application)
    outcome: ExpressionTest | None = None
    if request.method == "POST":
        if not is_administrator(request.user):
            raise PermissionDenied("Only an Application Administrator can test expressions against users.")
        form = ExpressionTestForm(request.POST)
        if form.is_valid():
            expression = form.cleaned_data["expression"]
            target = form.cleaned_data["target_attribute"].strip()
            if form.cleaned_data["user"].strip():
                outcome = evaluate_for_user(application, expression, form.cleaned_data["user"], target)
            else:
                try:
                    sample = parse_sample(form.cleaned_data["sample"])
                    outcome = evaluate_sample(application, expression, sample, target)
                except ValueError as exc:
                    outcome = ExpressionTest(ok=False, error=str(exc))
        status = 200 if form.is_valid() else 400
        if is_htmx(request):
            return render(
                request, "mappings/partials/test_result.html", {"form": form, "outcome": outcome}, status=status
            )
    else:
        initial = {}
        row = AttributeMapping.objects.filter(object_mapping=object_mapping, pk=request.GET.get("row") or 0).first()
        if row is not None:
            initial["expression"] = row.expression or (f"[{row.source_attribute}]" if row.source_attribute else "")
            initial["target_attribute"] = row.target_attribute
        form = ExpressionTestForm(initial=initial)
        status = 200
    context = blade_context(
        application, "provisioning", "Test expression", object_mapping=object_mapping, form=form, outcome=outcome
    )
    return render(request, "mappings/tester.html", context, status=status)
