from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.urls import path

from govreq.api.main import api
from govreq.core import views

admin.site.site_header = "govreq administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/docs", staff_member_required(views.api_docs), name="api-docs"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
