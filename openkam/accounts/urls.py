from django.urls import path

from openkam.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("options/", views.account_options, name="options"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/history/", views.account_history, name="history"),
    path("<int:pk>/positions/", views.account_positions_more, name="positions"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/move/", views.account_move, name="move"),
    path("<int:pk>/team/add/", views.team_member_add, name="team_add"),
    path("<int:pk>/team/<int:member_id>/end/", views.team_member_end, name="team_end"),
    path("<int:pk>/affiliations/add/", views.affiliation_add, name="affiliation_add"),
    path("<int:pk>/affiliations/<int:affiliation_id>/end/", views.affiliation_end, name="affiliation_end"),
]
