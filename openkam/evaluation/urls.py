from django.urls import path

from openkam.evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("", views.matrix, name="matrix"),
    path("analysis/", views.analysis, name="analysis"),
    path("analysis.xlsx", views.analysis_xlsx, name="analysis_xlsx"),
    path("accounts/<int:account_id>/", views.account, name="account"),
    path("accounts/<int:account_id>/assess/", views.assess, name="assess"),
    path("assessments/<int:assessment_id>/", views.assessment, name="assessment"),
    path("models/", views.models, name="models"),
    path("models/new/", views.model_create, name="model_create"),
    path("models/<int:model_id>/edit/", views.model_edit, name="model_edit"),
    path("models/<int:model_id>/<str:action>/", views.model_action, name="model_action"),
    path("analysis/refresh/", views.effort_refresh, name="effort_refresh"),
    path("rescore/", views.rescore, name="rescore"),
    path("rescore/<int:run_id>/", views.rescore_progress, name="rescore_progress"),
]
