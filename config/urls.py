from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.api import api
from openkam.workspace import views as workspace_views

urlpatterns = [
    path("", workspace_views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="core/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", api.urls),
    path("", include("openkam.core.urls")),
    path("", include("openkam.workspace.urls")),
    path("accounts/", include("openkam.accounts.urls")),
    path("stakeholders/", include("openkam.stakeholders.urls")),
    path("portfolio/", include("openkam.portfolio.urls")),
    path("plans/", include("openkam.plans.urls")),
    path("interactions/", include("openkam.activities.urls")),
    path("evaluation/", include("openkam.evaluation.urls")),
    path("relationships/", include("openkam.relationships.urls")),
    path("market-access/", include("openkam.market_access.urls")),
    path("commercial/", include("openkam.commercial.urls")),
    path("handover/", include("openkam.handover.urls")),
    path("privacy/", include("openkam.privacy.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "openkam.core.views_errors.bad_request"
handler404 = "openkam.core.views_errors.not_found"
handler403 = "openkam.core.views_errors.forbidden"
handler500 = "openkam.core.views_errors.server_error"
