"""``/api/v1/market_access``."""

from ninja import Router

router = Router(tags=["market_access"])
