from django.urls import path

from openkam.core import views

app_name = "core"

urlpatterns = [
    path("me/tokens/", views.tokens, name="tokens"),
    path("me/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("me/jobs/", views.job_list, name="jobs"),
    path("me/jobs/<int:job_id>/", views.job_status, name="job_status"),
    path("me/jobs/<int:job_id>/download/", views.job_download, name="job_download"),
    path("me/jobs/<int:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("people/options/", views.people_options, name="people_options"),
    path("audit/", views.audit, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    # administration (admin role only)
    path("admin-area/", views.admin_home, name="admin_home"),
    path("admin-area/users/", views.user_list, name="user_list"),
    path("admin-area/users/new/", views.user_create, name="user_create"),
    path("admin-area/users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("admin-area/users/<int:user_id>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("admin-area/users/<int:user_id>/reactivate/", views.user_reactivate, name="user_reactivate"),
    path("admin-area/users/<int:user_id>/password/", views.user_password, name="user_password"),
    path("admin-area/teams/", views.team_list, name="team_list"),
    path("admin-area/teams/new/", views.team_create, name="team_create"),
    path("admin-area/teams/<int:team_id>/", views.team_edit, name="team_edit"),
    path("admin-area/territories/", views.territory_list, name="territory_list"),
    path("admin-area/territories/new/", views.territory_create, name="territory_create"),
    path("admin-area/territories/<int:territory_id>/", views.territory_edit, name="territory_edit"),
]
