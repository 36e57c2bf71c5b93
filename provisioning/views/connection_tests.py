"""Test Connection (both connections) and Send test email: synchronous real calls, results on the page.

With htmx the result panel is swapped in place; without JavaScript the form posts normally and the
browser is sent back to the Provisioning page, where the stored result is shown.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from connections import connection_test
from connections.models import CONNECTION_KEYS
from console.models import AuditActivity, record_audit
from console.permissions import administrator_required
from provisioning.operations.emails import NotificationError, send_test_email
from provisioning.views.base import get_application, is_htmx


@require_POST
@administrator_required
def test_connection(request: HttpRequest, slug: str, system: str) -> HttpResponse:
    if system not in CONNECTION_KEYS:
        raise Http404("No such connection")
    application = get_application(slug)
    connection = getattr(application, system)
    check = connection_test.test_connection(connection)
    record_audit(AuditActivity.TEST_CONNECTION, actor=request.user, application=application, detail=check.summary)
    if is_htmx(request):
        context = {"application": application, "connection": connection, "system": system, "steps": check.steps}
        return render(request, "partials/test_result.html", context)
    return redirect(reverse("provisioning", args=[application.slug]) + f"#test-{system}")


@require_POST
@administrator_required
def send_test_notification(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    try:
        recipients = send_test_email(application.job)
    except NotificationError as exc:
        ok, text = False, str(exc)
    else:
        ok, text = True, f"Test email sent to {', '.join(recipients)}."
    if is_htmx(request):
        return render(request, "partials/test_email_result.html", {"ok": ok, "text": text})
    (messages.success if ok else messages.error)(request, text)
    return redirect(reverse("provisioning", args=[application.slug]) + "#settings")
