"""The sign-in page (local accounts and Microsoft Entra ID), the OpenID Connect redirect back, the refusal page
for people without a console role, and the console-wide Sign-in settings (local sign-in on or off)."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from console import entra_signin
from console.concurrency import EditConflict, VersionedFormMixin
from console.entra_signin import EntraIdentity, SignInError
from console.models import AuditActivity, EntraAccount, SignInPolicy, record_audit
from console.permissions import ROLES, administrator_required, disable_forms_for_readers, reader_required

logger = logging.getLogger(__name__)
NEXT_SESSION_KEY = "entra_signin_next"
ENTRA_BACKEND = "console.signin_views.EntraSignInBackend"


class LocalAccountBackend(ModelBackend):
    """Username and password of a local account, refused while local sign-in is off."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not SignInPolicy.current().local_sign_in:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class EntraSignInBackend(ModelBackend):
    """Keeps people signed in after an Entra ID sign-in (the session names it); it checks no password."""

    def authenticate(self, request, **kwargs):
        return None


def local_sign_in_allowed() -> bool:
    return SignInPolicy.current().local_sign_in


class ConsoleLoginView(LoginView):
    """Django's sign-in form, the "Sign in with Microsoft" button beside it, and a clear refusal of passwords
    while local sign-in is off."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(entra_enabled=entra_signin.is_enabled(), local_enabled=local_sign_in_allowed())
        return context

    def post(self, request, *args, **kwargs):
        if not local_sign_in_allowed():
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, "Local accounts cannot sign in on this console: sign in with Microsoft.")
            return self.render_to_response(self.get_context_data(form=form), status=403)
        return super().post(request, *args, **kwargs)


def _login_page_error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The sign-in page again, saying why the Entra ID sign-in did not succeed."""
    context = {
        "form": AuthenticationForm(request),
        "signin_error": message,
        "entra_enabled": entra_signin.is_enabled(),
        "local_enabled": local_sign_in_allowed(),
    }
    return render(request, "registration/login.html", context, status=status)


@login_not_required
@require_GET
def entra_start(request: HttpRequest) -> HttpResponse:
    """Send the browser to Microsoft Entra ID's sign-in page."""
    next_url = request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=False)
    request.session[NEXT_SESSION_KEY] = next_url if safe else ""
    try:
        target = entra_signin.begin(request, request.build_absolute_uri(reverse("entra_callback")))
    except SignInError as exc:
        return _login_page_error(request, str(exc), 503)
    return redirect(target)


@login_not_required
@require_GET
def entra_callback(request: HttpRequest) -> HttpResponse:
    """Microsoft Entra ID sends the browser back here with a code (or an error)."""
    try:
        identity = entra_signin.complete(request)
    except SignInError as exc:
        logger.info("Entra sign-in refused: %s", exc)
        return _login_page_error(request, str(exc), 400)
    user = _user_for(identity)
    if user is None:
        logger.info("Entra sign-in of %s refused: no console role in the token", identity.username)
        context = {"identity": identity, "ask_for": entra_signin.role_names(entra_signin.config())}
        return render(request, "registration/refused.html", context, status=403)
    next_url = request.session.pop(NEXT_SESSION_KEY, "")
    login(request, user, backend=ENTRA_BACKEND)
    return redirect(next_url or "applications")


@transaction.atomic
def _user_for(identity: EntraIdentity) -> AbstractBaseUser | None:
    """The console user of this Entra person, created at the first sign-in; its roles follow the token's (a role
    removed in Entra is gone at the next sign-in). None when the token grants no role: the person is refused,
    and an account they had keeps no role (its API tokens stop working with it)."""
    account = EntraAccount.objects.select_related("user").filter(
        tenant_id=identity.tenant_id, object_id=identity.object_id
    )
    account = account.first()
    if account is None and not identity.roles:
        return None  # refused, and never signed in before: nothing to keep
    if account is None:
        user_model = get_user_model()
        username = identity.username[:150]
        if user_model.objects.filter(username__iexact=username).exists():  # a local account of that name stays its own
            username = f"{identity.username[:140]}#{identity.object_id[:8]}"
        user = user_model(username=username, email=identity.email[:254])
        user.set_unusable_password()
        user.save()
        account = EntraAccount.objects.create(user=user, tenant_id=identity.tenant_id, object_id=identity.object_id)
    user = account.user
    user.email = identity.email[:254] or user.email
    user.first_name = identity.name[:150]
    user.save(update_fields=["email", "first_name"])
    account.last_sign_in = timezone.now()
    account.save(update_fields=["last_sign_in"])
    held = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    wanted = set(identity.roles)
    if held - wanted:
        user.groups.remove(*Group.objects.filter(name__in=held - wanted))
    if wanted - held:
        user.groups.add(*Group.objects.filter(name__in=wanted - held))
    return user if wanted else None


class SignInPolicyForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = SignInPolicy
        fields = ["local_sign_in"]

    def clean_local_sign_in(self) -> bool:
        value = self.cleaned_data["local_sign_in"]
        if not value and not entra_signin.is_enabled():
            raise forms.ValidationError(
                "Sign-in with Microsoft Entra ID is not configured (ENTRA_SIGNIN_* variables): turning local sign-in "
                "off would leave nobody able to sign in."
            )
        return value


def _settings_page(request: HttpRequest, form: SignInPolicyForm, status: int = 200) -> HttpResponse:
    disable_forms_for_readers(request.user, form)
    cfg = entra_signin.config()
    context = {"form": form, "entra": cfg, "callback_url": request.build_absolute_uri(reverse("entra_callback"))}
    return render(request, "console/signin_settings.html", context, status=status)


@require_GET
@reader_required
def signin_settings(request: HttpRequest) -> HttpResponse:
    return _settings_page(request, SignInPolicyForm(instance=SignInPolicy.current()))


@require_POST
@administrator_required
def save_signin_settings(request: HttpRequest) -> HttpResponse:
    policy = SignInPolicy.current()
    form = SignInPolicyForm(request.POST, instance=policy)
    if not form.is_valid():
        messages.error(request, "Nothing was saved: correct the field marked below.")
        return _settings_page(request, form, status=400)
    try:
        with transaction.atomic():
            if changes := form.save_versioned(actor=request.user):
                record_audit(
                    AuditActivity.UPDATE_SIGN_IN,
                    actor=request.user,
                    changed_fields=[item["field"] for item in changes],
                    detail=f"Local sign-in {'on' if form.instance.local_sign_in else 'off'}",
                )
    except EditConflict as refused:
        form.keep_for_conflict(refused.conflict)
        messages.error(request, str(refused))
        return _settings_page(request, form, status=409)
    messages.success(request, "Saved." if changes else "No changes to save.")
    return redirect("signin_settings")
