from django.urls import path

from openkam.stakeholders import views, views_import

app_name = "stakeholders"

urlpatterns = [
    path("", views.stakeholder_list, name="list"),
    path("add/", views.stakeholder_create, name="create"),
    path("<int:pk>/", views.stakeholder_detail, name="detail"),
    path("<int:pk>/edit/", views.stakeholder_edit, name="edit"),
    path("positions/add/", views.position_add, name="position_add"),
    path("positions/<int:pk>/edit/", views.position_edit, name="position_edit"),
    path("positions/<int:pk>/end/", views.position_end, name="position_end"),
    path("committees/add/", views.committee_create, name="committee_create"),
    path("committees/<int:pk>/", views.committee_detail, name="committee_detail"),
    path("committees/<int:pk>/edit/", views.committee_edit, name="committee_edit"),
    path("options/<slug:kind>/", views.options, name="options"),
    path("import/nppes/", views_import.nppes_import, name="nppes_import"),
]
