from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from articles.availability import readyz
from articles.forms import AdminLoginForm, LoginForm
from articles.sitemaps import sitemaps
from articles.views import SignupView, favicon, healthz, media

admin.site.site_header = "Lede administration"
admin.site.site_title = "Lede admin"
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # Asked for by browsers on pages that name no icon, and by other clients.
    path("favicon.ico", favicon, name="favicon"),
    path("readyz", readyz, name="readyz"),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("accounts/signup/", SignupView.as_view(), name="signup"),
    # Django's sign-in and sign-out pages name the site after the request's
    # host (no sites framework here): give them the site's own name.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, extra_context={"site_name": settings.SITE_NAME}
        ),
        name="login",
    ),
    path(
        "accounts/logout/",
        auth_views.LogoutView.as_view(extra_context={"site_name": settings.SITE_NAME}),
        name="logout",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("articles.urls")),
]
if not settings.MEDIA_S3_BUCKET:
    # Served by the site itself: whitenoise serves static files only.
    urlpatterns.insert(0, path("media/<path:path>", media, name="media"))

# An outage (the database gone) answers 503 with Retry-After, not 500.
handler500 = "articles.availability.server_error"
