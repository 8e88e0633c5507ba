"""Mounts every app's router on the one API object (``/api/v1/``)."""

from openkam.accounts.api import router as accounts_router
from openkam.activities.api import router as activities_router
from openkam.commercial.api import router as commercial_router
from openkam.core.api import api
from openkam.core.api_admin import me_router
from openkam.core.api_admin import router as admin_router
from openkam.evaluation.api import router as evaluation_router
from openkam.handover.api import router as handover_router
from openkam.market_access.api import router as market_access_router
from openkam.plans.api import router as plans_router
from openkam.plans.api_exports import router as plan_exports_router
from openkam.portfolio.api import router as portfolio_router
from openkam.privacy.api import router as privacy_router
from openkam.relationships.api import router as relationships_router
from openkam.stakeholders.api import router as stakeholders_router
from openkam.stakeholders.api_import import router as nppes_router

api.add_router("/accounts", accounts_router)
api.add_router("/stakeholders/nppes", nppes_router)
api.add_router("/stakeholders", stakeholders_router)
api.add_router("/portfolio", portfolio_router)
api.add_router("/plans", plans_router)
api.add_router("/plans", plan_exports_router)  # exports, customer version, Excel import
api.add_router("/interactions", activities_router)
api.add_router("/evaluation", evaluation_router)
api.add_router("/relationships", relationships_router)
api.add_router("/market-access", market_access_router)
api.add_router("/commercial", commercial_router)
api.add_router("/handover", handover_router)
api.add_router("/privacy", privacy_router)
api.add_router("/admin", admin_router)
api.add_router("/me", me_router)

__all__ = ["api"]
