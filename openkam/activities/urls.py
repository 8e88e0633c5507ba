from django.urls import path

from openkam.activities import views

app_name = "activities"

urlpatterns = [
    path("", views.interaction_list, name="list"),
    path("new/", views.interaction_create, name="create"),
    path("form/pickers/", views.interaction_form_pickers, name="form_pickers"),
    path("form/people/", views.interaction_stakeholder_search, name="stakeholder_search"),
    path("<int:pk>/", views.interaction_detail, name="detail"),
    path("<int:pk>/edit/", views.interaction_edit, name="edit"),
    path("<int:pk>/delete/", views.interaction_delete, name="delete"),
]
