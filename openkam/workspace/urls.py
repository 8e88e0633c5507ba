from django.urls import path

from openkam.workspace import views

app_name = "workspace"

urlpatterns = [
    path("search/", views.search, name="search"),
]
