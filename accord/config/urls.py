from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from accord.api.main import api

# Platform staff manage organisations in Django admin, behind two-factor sign-in.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "Accord administration"
admin.site.site_title = "Accord administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("accord.web.urls")),
]

handler400 = "accord.web.views.errors.bad_request"
handler403 = "accord.web.views.errors.permission_denied"
handler404 = "accord.web.views.errors.page_not_found"
handler500 = "accord.web.views.errors.server_error"
