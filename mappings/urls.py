"""URLs of the Mappings section of the Provisioning tab and of Users and groups (each takes the app's slug)."""

from django.urls import path

from mappings.views import access, assignments, attribute_lists, attributes, editor, scope, tester, transfer

MAPPINGS = "apps/<slug:slug>/provisioning/mappings/"
ACCESS = "apps/<slug:slug>/salesforce-access/"
USERS = "apps/<slug:slug>/users-and-groups/"

urlpatterns = [
    path(MAPPINGS, editor.mapping_editor, name="mapping_editor"),
    path(MAPPINGS + "save/", editor.mapping_save, name="mapping_save"),
    path(MAPPINGS + "restore/", editor.mapping_restore, name="mapping_restore"),
    path(MAPPINGS + "refresh-target-attributes/", editor.refresh_targets, name="mapping_refresh_targets"),
    path(MAPPINGS + "source-attributes/", attribute_lists.source_attribute_list, name="source_attribute_list"),
    path(
        MAPPINGS + "source-attributes/discover/",
        attribute_lists.source_attribute_discover,
        name="source_attribute_discover",
    ),
    path(
        MAPPINGS + "source-attributes/remove/", attribute_lists.source_attribute_remove, name="source_attribute_remove"
    ),
    path(MAPPINGS + "target-attributes/", attribute_lists.target_attribute_list, name="target_attribute_list"),
    path(
        MAPPINGS + "target-attributes/remove/", attribute_lists.target_attribute_remove, name="target_attribute_remove"
    ),
    path(MAPPINGS + "attributes/new/", attributes.attribute_add, name="attribute_mapping_add"),
    path(MAPPINGS + "attributes/<int:pk>/", attributes.attribute_edit, name="attribute_mapping_edit"),
    path(MAPPINGS + "attributes/<int:pk>/delete/", attributes.attribute_delete, name="attribute_mapping_delete"),
    path(MAPPINGS + "scope/new/", scope.scope_add, name="scoping_filter_add"),
    path(MAPPINGS + "scope/<int:pk>/", scope.scope_edit, name="scoping_filter_edit"),
    path(MAPPINGS + "scope/<int:pk>/delete/", scope.scope_delete, name="scoping_filter_delete"),
    path(MAPPINGS + "test-expression/", tester.expression_test, name="expression_test"),
    path(MAPPINGS + "export/", transfer.mapping_export, name="mapping_export"),
    path(MAPPINGS + "import/", transfer.mapping_import, name="mapping_import"),
    path(USERS, assignments.users_and_groups, name="users_and_groups"),
    path(USERS + "status/", assignments.snapshot_status, name="assignments_status"),
    path(USERS + "refresh/", assignments.assignments_refresh, name="assignments_refresh"),
    path(
        USERS + "assignments/<str:assignment_id>/members/",
        assignments.assignment_members,
        name="assignment_members",
    ),
    path(USERS + "assign/", assignments.assignment_add, name="assignment_add"),
    path(USERS + "unassign/", assignments.assignment_remove, name="assignment_remove"),
    path(USERS + "import-roles/", assignments.roles_import, name="import_roles"),
    path(ACCESS, access.salesforce_access, name="salesforce_access"),
    path(ACCESS + "role/", access.access_role_edit, name="access_role_edit"),
    path(ACCESS + "refresh/", access.access_refresh, name="access_refresh"),
    path(ACCESS + "settings/", access.access_settings_save, name="access_settings_save"),
    path(ACCESS + "items/<int:pk>/outside/", access.access_item_outside, name="access_item_outside"),
]
