"""API tokens page: a signed-in person creates, lists and revokes their own tokens; an Application Administrator
sees and can revoke everyone's. A new token is shown once, in the answer to its creation, and never again."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import ApiTokenForm
from api.models import ApiToken
from api.tokens import create_token, describe, revoke_token
from console.permissions import is_administrator, reader_required


def _page(request: HttpRequest, form: ApiTokenForm, *, new_token: str = "", status: int = 200) -> HttpResponse:
    administrator = is_administrator(request.user)
    tokens = ApiToken.objects.select_related("user")
    if not administrator:
        tokens = tokens.filter(user=request.user)
    context = {
        "form": form,
        "tokens": tokens[:500],
        "show_owner": administrator,
        "new_token": new_token,
        "api_base": request.build_absolute_uri("/api/v1.0/"),
    }
    return render(request, "api/tokens.html", context, status=status)


@require_http_methods(["GET", "POST"])
@reader_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    may_administer = is_administrator(request.user)
    if request.method == "GET":
        return _page(request, ApiTokenForm(may_administer=may_administer))
    form = ApiTokenForm(request.POST, may_administer=may_administer)
    if not form.is_valid():
        messages.error(request, "No token was created: correct the fields marked below.")
        return _page(request, form, status=400)
    try:
        created = create_token(
            request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            days=form.cleaned_data["days"],
        )
    except ValueError as exc:
        form.add_error(None, str(exc))
        return _page(request, form, status=400)
    messages.success(request, f"Created {describe(created.token)}. Copy it now: it is not shown again.")
    # The answer to the POST itself shows the token (not a redirect): nothing keeps it for a later page.
    return _page(request, ApiTokenForm(may_administer=may_administer), new_token=created.raw)


@require_POST
@reader_required
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.select_related("user").filter(pk=pk).first()
    if token is None:
        raise Http404("No such token")
    if token.user_id != request.user.pk and not is_administrator(request.user):
        raise PermissionDenied("Only an Application Administrator can revoke another person's token.")
    if revoke_token(token, actor=request.user):
        messages.success(request, f"Revoked {describe(token)}: it stops working at once.")
    else:
        messages.info(request, f"{describe(token)} was already revoked.")
    return redirect("api_tokens")
