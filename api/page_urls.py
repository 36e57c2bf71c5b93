"""The API tokens page (the API's own URLs are api/urls.py, under /api/)."""

from django.urls import path

from api import views

urlpatterns = [
    path("settings/api-tokens/", views.api_tokens, name="api_tokens"),
    path("settings/api-tokens/<int:pk>/revoke/", views.revoke, name="api_token_revoke"),
]
