from django.urls import path

from openkam.market_access import views

app_name = "market_access"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/<int:account_id>/", views.account, name="account"),
    path("accounts/<int:account_id>/record/", views.record, name="record"),
    path("accounts/<int:account_id>/protocols/new/", views.protocol_create, name="protocol_create"),
    path("accounts/<int:account_id>/import/", views.fhir_import, name="import"),
    path("accounts/<int:account_id>/panel/", views.account_panel, name="account_panel"),
    path("imports/<int:import_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:import_id>/apply/", views.import_apply, name="import_apply"),
    path("protocols/<int:protocol_id>/", views.protocol, name="protocol"),
    path("protocols/<int:protocol_id>/edit/", views.protocol_edit, name="protocol_edit"),
    path("plans/<int:plan_id>/panel/", views.plan_panel, name="plan_panel"),
    path("plans/<int:plan_id>/targets/", views.target_set, name="target_set"),
]
