"""URLs of the Applications list and of each application's blade (pages take the application's slug)."""

from django.urls import path

from provisioning.views import (
    applications,
    audit,
    configuration,
    connection_tests,
    downloads,
    on_demand,
    overview,
    overview_actions,
    provisioning_logs,
)

urlpatterns = [
    path("apps/", applications.application_list, name="applications"),
    path("apps/new/", applications.application_create, name="application_create"),
    path("apps/<slug:slug>/", overview.application_overview, name="application_overview"),
    path("apps/<slug:slug>/overview/progress/", overview.overview_progress, name="overview_progress"),
    path("apps/<slug:slug>/overview/<slug:action>/", overview_actions.overview_action, name="overview_action"),
    path("apps/<slug:slug>/delete/", applications.application_delete, name="application_delete"),
    path("apps/<slug:slug>/provisioning/", configuration.provisioning_page, name="provisioning"),
    path("apps/<slug:slug>/provisioning/mode/", configuration.save_mode, name="save_mode"),
    path(
        "apps/<slug:slug>/provisioning/salesforce/",
        configuration.save_salesforce_credentials,
        name="save_salesforce_credentials",
    ),
    path("apps/<slug:slug>/provisioning/entra/", configuration.save_entra_credentials, name="save_entra_credentials"),
    path("apps/<slug:slug>/provisioning/settings/", configuration.save_settings, name="save_settings"),
    path("apps/<slug:slug>/provisioning/status/", configuration.save_status, name="save_status"),
    path("apps/<slug:slug>/provisioning/test/<str:system>/", connection_tests.test_connection, name="test_connection"),
    path(
        "apps/<slug:slug>/provisioning/test-email/",
        connection_tests.send_test_notification,
        name="send_test_email",
    ),
    path("apps/<slug:slug>/provision-on-demand/", on_demand.provision_on_demand, name="provision_on_demand"),
    path("apps/<slug:slug>/provisioning-logs/", provisioning_logs.provisioning_logs, name="provisioning_logs"),
    path(
        "apps/<slug:slug>/provisioning-logs/download.json",
        downloads.download_json,
        name="provisioning_logs_download_json",
    ),
    path(
        "apps/<slug:slug>/provisioning-logs/download-csv.zip",
        downloads.download_csv,
        name="provisioning_logs_download_csv",
    ),
    path(
        "apps/<slug:slug>/provisioning-logs/<str:change_id>/",
        provisioning_logs.log_detail,
        name="provisioning_log_detail",
    ),
    path("apps/<slug:slug>/audit-logs/", audit.audit_logs, name="audit_logs"),
]
