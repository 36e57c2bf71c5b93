"""Salesforce access on a real qcluster process (ORM broker, and Redis when CI_REDIS_URL is set): the worker's cycles
grant each role's access, revoke what the console granted when the role stops giving it, and leave the rest."""

from __future__ import annotations

import pytest

from provisioning.models import AccessGrant, CycleStatus, ProvisioningLogEntry
from tests.access.helpers import give, refresh
from tests.access.test_reconcile import sales_users
from tests.engine.test_integration import cluster, next_cycle  # noqa: F401 - the real qcluster fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_grants_and_revokes_salesforce_access(configured_app, emu, cluster):  # noqa: F811
    refresh(configured_app)
    give(configured_app, "Sales Representative", "Sales_Console", "EMEA_Sales", user_role="Sales_Rep")
    job = configured_app.job
    first = next_cycle(job, 0, cluster=cluster)
    assert first.status == CycleStatus.SUCCEEDED or first.status == CycleStatus.COMPLETED_WITH_ERRORS, (
        first.error_message
    )
    assert first.granted >= 2
    (source_id, target_id), *_ = sales_users(emu)
    assert emu.control.access_of(target_id)["permission_sets"] == ["Sales_Console"]
    emu.control.grant_outside(target_id, "Reports_Builder")
    give(configured_app, "Sales Representative", "EMEA_Sales", user_role="Sales_Rep")  # Sales Console no longer
    second = next_cycle(job, first.pk, cluster=cluster)
    assert second.kind == "initial"  # a change of access reads every user again
    assert emu.control.access_of(target_id)["permission_sets"] == ["Reports_Builder"]  # only the console's went
    assert not AccessGrant.objects.filter(source_id=source_id, item_name="Sales Console").exists()
    entry = ProvisioningLogEntry.objects.get(cycle=second, source_id=source_id)
    assert {"displayName": "Permission set", "oldValue": "Sales Console", "newValue": ""} in entry.modified_properties
