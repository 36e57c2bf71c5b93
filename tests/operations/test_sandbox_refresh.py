"""A refreshed sandbox is a new org: the cycle stops at sign-in before writing, the administrator is told on the
Overview and by mail, and Re-match after refresh starts again in the new org, matching every user by the matching
attribute (optionally removing the ".invalid" the refresh appended to e-mails). Real cycles, the real clients, the
emulators' refresh, a real SMTP server."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from connections.connection_test import test_connection
from connections.models import SalesforceConnection
from console.models import AuditActivity, AuditEntry
from mappings.models import AttributeMapping, FlowType
from provisioning.engine.organization import ORG_CHANGED
from provisioning.models import CycleStatus, Escrow, ProvisionedLink, ProvisioningCycle

from .conftest import RECIPIENT, run

pytestmark = pytest.mark.django_db(transaction=True)


def org_mails(mailbox):
    return [m for m in mailbox.messages if "Salesforce org changed" in m.message["Subject"]]


def connection_of(application) -> SalesforceConnection:
    return SalesforceConnection.objects.get(application=application)


def overview(client, application) -> str:
    return client.get(reverse("application_overview", args=[application.slug])).content.decode()


def test_a_refreshed_sandbox_stops_before_writing_tells_the_administrator_and_re_match_starts_again(
    notifying_app, emu, smtp_server, admin_client, reader_user
):
    reader_client = Client()
    reader_client.force_login(reader_user)
    application, job = notifying_app, notifying_app.job
    # E-mails are written only when a user is created, so that only the repair can remove ".invalid" later.
    AttributeMapping.objects.filter(object_mapping__application=application, target_attribute="Email").update(
        flow_type=FlowType.OBJECT_ADD_ONLY
    )
    first = run(job)
    assert first.created > 0
    old_org = emu.control.info()["salesforce"].get("organization_id") or connection_of(application).organization_id
    assert connection_of(application).organization_id.startswith("00D")
    links_before = dict(
        ProvisionedLink.objects.filter(job=job).exclude(target_id="").values_list("source_id", "target_id")
    )
    some_source = next(iter(links_before))
    upn = emu.control.get_entra_user(some_source)["userPrincipalName"]
    gone_upn = emu.control.get_entra_user(list(links_before)[1])["userPrincipalName"]
    emu.control.update_entra_user(some_source, givenName="Refreshed")

    refreshed = emu.control.refresh_sandbox("uat", only_in_sandbox=[f"{gone_upn}.uat"])
    new_org = refreshed["organization_id"]
    assert new_org != old_org
    copied = emu.control.get_salesforce_user(username=f"{upn}.uat")
    assert copied["Id"] != links_before[some_source] and copied["Email"].endswith(".invalid")

    emu.control.reset_counters()
    stopped = run(job)
    assert stopped.status == CycleStatus.FAILED and stopped.error_code == ORG_CHANGED
    assert new_org in stopped.error_message and "Nothing was written" in stopped.error_message
    assert emu.control.counters()["writes"]["salesforce"] == 0
    connection = connection_of(application)
    assert connection.organization_id == old_org and connection.new_organization_id == new_org
    job.refresh_from_db()
    assert not job.is_quarantined  # nothing to retry: the administrator decides

    [mail] = org_mails(smtp_server)
    assert mail.rcpt_tos == [RECIPIENT]
    text, html = mail.part("text/plain"), mail.part("text/html")
    for part in (text, html):
        assert new_org in part and old_org in part and "Re-match after refresh" in part
    secrets = (emu.info["salesforce"]["password"], emu.info["salesforce"]["security_token"])
    assert not any(secret in text or secret in html for secret in secrets)

    again = run(job)
    assert again.error_code == ORG_CHANGED and len(org_mails(smtp_server)) == 1  # told once
    assert emu.control.counters()["writes"]["salesforce"] == 0

    page = overview(admin_client, application)
    assert "The Salesforce org changed" in page and new_org in page
    assert "rematch-repair/" in page and "rematch/" in page
    seen_by_reader = overview(reader_client, application)
    assert "The Salesforce org changed" in seen_by_reader and "rematch/" not in seen_by_reader
    refused = reader_client.post(reverse("overview_action", args=[application.slug, "rematch"]))
    assert refused.status_code == 403

    escrowed = Escrow.objects.filter(job=job).count()
    assert escrowed  # the seed's awkward users failed in the old org
    emu.control.reset_counters()
    response = admin_client.post(reverse("overview_action", args=[application.slug, "rematch-repair"]))
    assert response.status_code == 302
    connection = connection_of(application)
    assert connection.organization_id == new_org and not connection.new_organization_id
    audit = AuditEntry.objects.get(application=application, activity=AuditActivity.REMATCH)
    assert audit.actor_name == "alice.admin" and "repair_invalid_emails" in audit.changed_fields
    assert "The Salesforce org changed" not in overview(admin_client, application)
    # The queued initial cycle (run at once: the tests' task queue is synchronous) matched everyone again.
    rematched = ProvisioningCycle.objects.filter(job=job).order_by("-id").first()
    rematched.refresh_from_db()
    assert rematched.pk != again.pk and rematched.trigger == "restart"
    assert Escrow.objects.filter(job=job).count() <= escrowed  # only this cycle's own failures
    assert rematched.kind == "initial" and rematched.status in (
        CycleStatus.SUCCEEDED,
        CycleStatus.COMPLETED_WITH_ERRORS,
    )
    assert rematched.disabled == 0
    record = emu.control.get_salesforce_user(username=f"{upn}.uat")
    assert record["FirstName"] == "Refreshed" and not record["Email"].endswith(".invalid")
    link = ProvisionedLink.objects.get(job=job, source_id=some_source)
    assert link.target_id == record["Id"]  # linked to the user of the new org, found by its username
    # Every link now names a user of the new org; the user created in the sandbox only was created again.
    for target_id in ProvisionedLink.objects.filter(job=job).exclude(target_id="").values_list("target_id", flat=True):
        assert emu.control.get_salesforce_user(id=target_id) is not None
    assert emu.control.get_salesforce_user(username=f"{gone_upn}.uat") is not None
    invalid = [u for u in emu.control.salesforce_users() if u["Id"] in set(links_before.values()) | {record["Id"]}]
    assert all(not (u.get("Email") or "").endswith(".invalid") for u in invalid)
    assert not connection_of(application).repair_invalid_emails  # done once
    assert len(org_mails(smtp_server)) == 1


def test_test_connection_records_the_org_and_says_when_it_changed(configured_app, emu):
    result = test_connection(configured_app.salesforce)
    connection = connection_of(configured_app)
    assert result.ok and connection.organization_id.startswith("00D") and not connection.new_organization_id
    new_org = emu.control.refresh_sandbox("uat")["organization_id"]
    result = test_connection(connection_of(configured_app))
    assert result.ok and new_org in result.message and "Re-match after refresh" in result.message
    assert connection_of(configured_app).new_organization_id == new_org


def test_a_connection_pointed_back_at_the_recorded_org_needs_no_re_match(configured_app, emu, admin_client):
    run(configured_app.job)
    recorded = connection_of(configured_app).organization_id
    SalesforceConnection.objects.filter(pk=configured_app.salesforce.pk).update(
        new_organization_id="00D000000000999AAA", organization_changed_at=timezone.now()
    )
    assert "The Salesforce org changed" in overview(admin_client, configured_app)
    cycle = run(configured_app.job)
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS)
    connection = connection_of(configured_app)
    assert connection.organization_id == recorded and not connection.new_organization_id
    assert "The Salesforce org changed" not in overview(admin_client, configured_app)


def test_re_match_is_refused_when_the_org_did_not_change(configured_app, emu, admin_client):
    run(configured_app.job)
    links = ProvisionedLink.objects.filter(job=configured_app.job).count()
    response = admin_client.post(reverse("overview_action", args=[configured_app.slug, "rematch"]), follow=True)
    assert "has not changed: nothing to re-match" in response.content.decode()
    assert ProvisionedLink.objects.filter(job=configured_app.job).count() == links
    assert not AuditEntry.objects.filter(activity=AuditActivity.REMATCH).exists()
