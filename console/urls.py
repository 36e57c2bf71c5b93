from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from console import health, metrics, signin_views, views

# /api/ paths get Microsoft Graph's error body from these, other paths the console's pages (api/refusals.py).
handler400 = "api.refusals.bad_request"
handler403 = "api.refusals.permission_denied"
handler404 = "api.refusals.page_not_found"
handler500 = "api.refusals.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", signin_views.ConsoleLoginView.as_view(), name="login"),
    path("login/entra/", signin_views.entra_start, name="entra_signin"),
    path("login/entra/callback/", signin_views.entra_callback, name="entra_callback"),
    path("settings/sign-in/", signin_views.signin_settings, name="signin_settings"),
    path("settings/sign-in/save/", signin_views.save_signin_settings, name="save_signin_settings"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("api.page_urls")),
    path("", include("mappings.urls")),
    path("", include("provisioning.urls")),
]
