from django.urls import path

from openkam.relationships import views

app_name = "relationships"

urlpatterns = [
    path("accounts/<int:account_id>/", views.map_page, name="map"),
    path("accounts/<int:account_id>/data.json", views.map_data, name="map_data"),
    path("accounts/<int:account_id>/coverage/", views.coverage_fragment, name="coverage"),
    path("accounts/<int:account_id>/panel/", views.account_panel, name="account_panel"),
    path("accounts/<int:account_id>/people/<int:stakeholder_id>/", views.person, name="person"),
    path("accounts/<int:account_id>/people/<int:stakeholder_id>/strength/", views.strength, name="strength"),
    path("accounts/<int:account_id>/people/<int:stakeholder_id>/owners/", views.owners, name="owners"),
    path("accounts/<int:account_id>/people/<int:stakeholder_id>/links/", views.link_add, name="link_add"),
    path("accounts/<int:account_id>/people/<int:stakeholder_id>/links/people/", views.link_people, name="link_people"),
    path(
        "accounts/<int:account_id>/people/<int:stakeholder_id>/links/<int:link_id>/delete/",
        views.link_delete,
        name="link_delete",
    ),
    path("accounts/<int:account_id>/succeed/<int:position_id>/", views.succeed, name="succeed"),
    path("settings/", views.settings_page, name="settings"),
]
