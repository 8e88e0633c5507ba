"""Core writes: API tokens, users, teams, territories."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.core.access import require_admin
from openkam.core.audit import audit_action
from openkam.core.errors import NotFound, PermissionDenied, ValidationFailed
from openkam.core.models import ApiToken, User

_LAST_USED_RESOLUTION = timedelta(minutes=5)


def api_token_issue(*, username: str, password: str, name: str = "api") -> tuple[ApiToken, str]:
    """Exchange credentials for a new personal token. Returns the row and the clear key (shown once)."""
    if not username or not password:
        raise ValidationFailed(_("Username and password are required."), field="username", code="required")
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise PermissionDenied(_("Invalid username or password."), code="invalid_credentials")
    return api_token_create(actor=user, name=name)  # type: ignore[arg-type]


def api_token_create(*, actor: User, name: str = "api") -> tuple[ApiToken, str]:
    name = (name or "api").strip()[:100]
    key = ApiToken.new_key()
    with audit_action(actor=actor, action="core.apitoken.create"):
        token = ApiToken.objects.create(user=actor, name=name, prefix=key[5:13], key_hash=ApiToken.hash_key(key))
    return token, key


def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (an admin may revoke anyone's)."""
    try:
        token = ApiToken.objects.get(pk=token_id)
    except ApiToken.DoesNotExist:
        raise NotFound(_("No such token.")) from None
    if token.user_id != actor.pk:
        try:
            require_admin(actor)
        except PermissionDenied:
            raise NotFound(_("No such token.")) from None
    if token.revoked_at is None:
        with audit_action(actor=actor, action="core.apitoken.revoke"):
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at", "updated_at"])
    return token


def api_token_authenticate(*, key: str) -> User | None:
    """The active user behind a live token, or None. Records last use at most every few minutes."""
    if not key:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
