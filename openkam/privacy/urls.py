from django.urls import path

from openkam.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.home, name="home"),
    path("stakeholders/<int:pk>/", views.person, name="person"),
    path("stakeholders/<int:pk>/export.json", views.export_json, name="export_json"),
    path("stakeholders/<int:pk>/export-pdf/", views.export_pdf, name="export_pdf"),
    path("stakeholders/<int:pk>/erase/", views.erase, name="erase"),
    path("retention/", views.retention, name="retention"),
    path("retention/purge/", views.retention_purge, name="retention_purge"),
]
