from django.contrib import admin
from django.urls import include, path

from govreq.api.docs import api_docs
from govreq.api.main import api
from govreq.console.auth import admin_has_permission, admin_sign_in, staff_page
from govreq.web import views

admin.site.site_header = "govreq administration"
# The admin has no sign-in of its own: staff sign in at the console with both factors.
admin.site.login = admin_sign_in  # type: ignore[method-assign]
admin.site.has_permission = admin_has_permission  # type: ignore[method-assign]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/docs", staff_page()(api_docs), name="api-docs"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("transparency/", include("govreq.transparency.urls")),
    path("portal/", include("govreq.portal.urls")),
    path("console/", include("govreq.console.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
