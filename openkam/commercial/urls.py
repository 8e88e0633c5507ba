from django.urls import path

from openkam.commercial import views

app_name = "commercial"

urlpatterns = [
    path("", views.pipeline, name="pipeline"),
    path("opportunities/new/", views.opportunity_new, name="opportunity_new"),
    path("opportunities/<int:opportunity_id>/", views.opportunity_edit, name="opportunity"),
    path("accounts/<int:account_id>/whitespace/", views.whitespace, name="whitespace"),
    path(
        "accounts/<int:account_id>/whitespace/<int:indication_id>/opportunity/",
        views.whitespace_convert,
        name="whitespace_convert",
    ),
    path("accounts/<int:account_id>/whitespace/<int:indication_id>/", views.cell_edit, name="cell_edit"),
    path("accounts/<int:account_id>/pnl/", views.account_pnl, name="account_pnl"),
    path("accounts/<int:account_id>/panel/", views.account_panel, name="account_panel"),
    path("plans/<int:plan_id>/panel/", views.plan_panel, name="plan_panel"),
    path("tenders/", views.tenders, name="tenders"),
    path("tenders/new/", views.tender_new, name="tender_new"),
    path("tenders/<int:tender_id>/", views.tender, name="tender"),
    path("tenders/<int:tender_id>/edit/", views.tender_edit, name="tender_edit"),
    path("tenders/<int:tender_id>/assess/", views.tender_assess, name="tender_assess"),
    path("tenders/<int:tender_id>/decide/", views.tender_decide, name="tender_decide"),
    path("tenders/<int:tender_id>/outcome/", views.tender_outcome, name="tender_outcome"),
    path("tenders/<int:tender_id>/documents/<int:index>/", views.tender_document, name="tender_document"),
    path("sales/import/", views.sales_import, name="sales_import"),
    path("sales/import/<int:import_id>/", views.sales_import_detail, name="sales_import_detail"),
]
