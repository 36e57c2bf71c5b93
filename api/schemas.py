"""The shapes of the API's requests and answers, named and structured after Microsoft Graph's synchronization
resources (synchronizationJob, synchronizationStatus, synchronizationTaskExecution, synchronizationQuarantine,
synchronizationJobApplicationParameters, provisioningObjectSummary) where they fit. They are the OpenAPI
description too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class Application(Schema):
    id: str = Field(description="The application's object id (a GUID); the slug works in paths as well.")
    slug: str
    displayName: str
    description: str
    provisioningMode: str = Field(description="automatic or manual.")
    synchronizationJobId: str


class ApplicationCollection(Schema):
    value: list[Application]


class SynchronizationError(Schema):
    code: str
    message: str
    tenantActionable: bool


class SynchronizationTaskExecution(Schema):
    activityIdentifier: str = Field(description="The cycle id (cycleId of the provisioning log).")
    countEntitled: int
    countEntitledForProvisioning: int
    countEscrowed: int
    countEscrowedRaw: int
    countExported: int
    countExports: int
    countImported: int
    countImportedDeltas: int
    countImportedReferenceDeltas: int
    error: SynchronizationError | None = None
    state: str = Field(description="Succeeded, Failed or EntryLevelErrors.")
    timeBegan: datetime | None = None
    timeEnded: datetime | None = None


class SynchronizationQuarantine(Schema):
    currentBegan: datetime | None = None
    nextAttempt: datetime | None = None
    reason: str
    seriesBegan: datetime | None = None
    seriesCount: int
    error: SynchronizationError | None = None


class SynchronizationProgress(Schema):
    completedUnits: int
    progressObservationDateTime: datetime
    totalUnits: int
    units: str


class KeyValue(Schema):
    key: str
    value: int


class SynchronizationStatus(Schema):
    code: str = Field(description="NotConfigured, NotRun, Active, Paused or Quarantine (as the Overview shows it).")
    countSuccessiveCompleteFailures: int
    escrowsPruned: bool
    lastExecution: SynchronizationTaskExecution | None = None
    lastSuccessfulExecution: SynchronizationTaskExecution | None = None
    lastSuccessfulExecutionWithExports: SynchronizationTaskExecution | None = None
    progress: list[SynchronizationProgress]
    quarantine: SynchronizationQuarantine | None = None
    steadyStateFirstAchievedTime: datetime | None = None
    steadyStateLastAchievedTime: datetime | None = None
    synchronizedEntryCountByType: list[KeyValue]
    troubleshootingUrl: str | None = None


class SynchronizationSchedule(Schema):
    expiration: datetime | None = None
    interval: str = Field(description="ISO 8601 duration between incremental cycles, e.g. PT40M.")
    state: str = Field(description="Active, Disabled or Paused.")


class SynchronizationJob(Schema):
    id: str
    templateId: str
    schedule: SynchronizationSchedule
    status: SynchronizationStatus


class SynchronizationJobCollection(Schema):
    value: list[SynchronizationJob]


class RestartCriteria(Schema):
    resetScope: str | None = Field(
        None,
        description="Empty, or Watermark, Escrows and QuarantineState together (comma-separated): what the "
        "Overview's Restart provisioning clears. Links are kept.",
    )


class RestartRequest(Schema):
    criteria: RestartCriteria | None = None


class SynchronizationJobSubject(Schema):
    objectId: str = Field(description="The Entra object id of the user.")
    objectTypeName: str = Field("User", description="User (groups are provisioned through their members).")


class SynchronizationJobApplicationParameters(Schema):
    ruleId: str | None = Field(None, description="Accepted for Graph's shape; the application has one rule.")
    subjects: list[SynchronizationJobSubject]


class ProvisionOnDemandRequest(Schema):
    parameters: list[SynchronizationJobApplicationParameters]


class StringKeyStringValuePair(Schema):
    key: str
    value: str = Field(description="JSON text: the provisioning steps, status and identities of the run.")


class ProvisioningObjectSummary(Schema):
    """Graph's provisioningObjectSummary (auditLogs/provisioning), as the JSON download of the log writes it."""

    model_config = {"extra": "allow"}

    id: str
    activityDateTime: str
    jobId: str
    cycleId: str
    changeId: str
    durationInMilliseconds: int | None = None
    provisioningAction: str
    initiatedBy: dict[str, Any]
    servicePrincipal: dict[str, Any]
    sourceSystem: dict[str, Any]
    targetSystem: dict[str, Any]
    sourceIdentity: dict[str, Any]
    targetIdentity: dict[str, Any]
    modifiedProperties: list[dict[str, Any]]
    provisioningSteps: list[dict[str, Any]]
    provisioningStatusInfo: dict[str, Any]
    tenantId: str


class ProvisioningObjectSummaryCollection(Schema):
    value: list[ProvisioningObjectSummary]
    nextLink: str | None = Field(
        None,
        alias="@odata.nextLink",
        description="The next page (it carries $skiptoken); absent on the last page.",
    )

    model_config = {"populate_by_name": True}
