from django.urls import path

from openkam.handover import views

app_name = "handover"

urlpatterns = [
    path("", views.home, name="home"),
    path("<int:pk>/", views.detail, name="detail"),
    path("jobs/<int:job_id>/", views.job, name="job"),
    path("<int:pk>/report/", views.report, name="report"),
]
