"""Core writes: API tokens, users, teams, territories, jobs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.core import jobs, selectors
from openkam.core.access import require_admin
from openkam.core.audit import audit_action
from openkam.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from openkam.core.models import ApiToken, Job, JobStatus, Role, Team, Territory, User

logger = logging.getLogger(__name__)
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


# --- administration: users, teams, territories (admin only) ---------------------------------------
USER_EDITABLE_FIELDS = frozenset({"first_name", "last_name", "email", "title", "role", "team_id", "manager_id"})
_USER_TEXT_FIELDS = frozenset({"first_name", "last_name", "email", "title"})
TEAM_EDITABLE_FIELDS = frozenset({"name", "territory_ids"})
TERRITORY_EDITABLE_FIELDS = frozenset({"code", "name", "country", "description"})
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


def _unknown_fields(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationFailed(
            _("Unknown field: %(f)s") % {"f": ", ".join(unknown)}, field=unknown[0], code="unknown_field"
        )


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)


def _admin_user(user_id: int) -> User:
    user = User.objects.select_related("team", "manager").filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No such user."), code="user_not_found")
    return user


def _validate_password(password: str, user: User, errors: list[FieldError]) -> None:
    if not password:
        errors.append(FieldError("password", "required", _("Enter an initial password.")))
        return
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        errors.extend(FieldError("password", "password_weak", str(m)) for m in exc.messages)


def _check_user(user: User, errors: list[FieldError], *, original: User | None = None) -> None:
    """Field rules for a user about to be saved (collects every problem, writes nothing)."""
    username = user.username
    if not username:
        errors.append(FieldError("username", "required", _("Enter a username.")))
    else:
        try:
            UnicodeUsernameValidator()(username)
        except DjangoValidationError:
            errors.append(
                FieldError(
                    "username",
                    "username_format",
                    _("A username may contain only letters, digits and the characters @ . + - _"),
                )
            )
        if len(username) > 150:
            errors.append(FieldError("username", "max_length", _("A username has at most 150 characters.")))
        elif User.objects.filter(username__iexact=username).exclude(pk=user.pk).exists():
            errors.append(FieldError("username", "username_taken", _("This username is already taken.")))
    for field, limit in (("first_name", 150), ("last_name", 150), ("title", 200)):
        if len(getattr(user, field) or "") > limit:
            errors.append(FieldError(field, "max_length", _("At most %(n)d characters.") % {"n": limit}))
    if user.email:
        try:
            validate_email(user.email)
        except DjangoValidationError:
            errors.append(FieldError("email", "email_format", _("Enter a valid email address, e.g. name@example.com.")))
        else:
            if User.objects.filter(email__iexact=user.email).exclude(pk=user.pk).exists():
                errors.append(FieldError("email", "email_taken", _("Another user already has this email address.")))
    if user.role not in Role.values:
        errors.append(
            FieldError(
                "role",
                "invalid_choice",
                _("Unknown role “%(r)s”; choose one of: %(c)s.") % {"r": user.role, "c": ", ".join(Role.values)},
            )
        )
    if user.team_id is not None and not Team.objects.filter(pk=user.team_id).exists():
        errors.append(FieldError("team_id", "team_not_found", _("No such team.")))
    if user.manager_id is not None:
        manager = User.objects.filter(pk=user.manager_id).first()
        if manager is None:
            errors.append(FieldError("manager_id", "manager_not_found", _("No such user.")))
        elif user.pk is not None and manager.pk == user.pk:
            errors.append(FieldError("manager_id", "manager_self", _("A user cannot be their own manager.")))
        elif not manager.is_active and (original is None or original.manager_id != manager.pk):
            errors.append(
                FieldError(
                    "manager_id",
                    "manager_inactive",
                    _("%(m)s is deactivated and cannot manage anyone.") % {"m": manager},
                )
            )


def _check_manager_cycle(user: User) -> None:
    """Refuse a reporting line that loops back to the user (A manages B manages A)."""
    if user.pk is None or user.manager_id is None:
        return
    chain = [user.get_full_name() or user.username]
    seen: set[int] = {user.pk}
    current_id: int | None = user.manager_id
    while current_id is not None:
        if current_id in seen:
            names = " → ".join([*chain, str(user)])
            raise RuleViolation(
                _("This would make a management cycle: %(chain)s. Choose a manager outside %(u)s's reporting line.")
                % {"chain": names, "u": user},
                field="manager_id",
                code="manager_cycle",
            )
        seen.add(current_id)
        row = (
            User.objects.filter(pk=current_id).values_list("manager_id", "first_name", "last_name", "username").first()
        )
        if row is None:
            return
        chain.append(f"{row[1]} {row[2]}".strip() or row[3])
        current_id = row[0]


def user_create(
    *,
    actor: User,
    username: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    title: str = "",
    role: str = Role.KAM,
    team_id: int | None = None,
    manager_id: int | None = None,
    reason: str = "",
) -> User:
    """Create a user who can sign in at once with ``password`` (an administrator hands it over)."""
    require_admin(actor)
    user = User(
        username=(username or "").strip(),
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
        email=User.objects.normalize_email((email or "").strip()),
        title=(title or "").strip(),
        role=role,
        team_id=team_id,
        manager_id=manager_id,
        is_active=True,
    )
    errors: list[FieldError] = []
    _check_user(user, errors)
    _validate_password(password, user, errors)
    _raise_if(errors)
    user.set_password(password)
    with audit_action(actor=actor, action="core.user.create", reason=reason):
        user.save()
    return user


def user_update(*, actor: User, user_id: int, reason: str = "", **fields: Any) -> User:
    """Change a user's name, email, title, role, team or manager (not username, password or status)."""
    require_admin(actor)
    _unknown_fields(fields, USER_EDITABLE_FIELDS)
    user = _admin_user(user_id)
    original = _admin_user(user_id)
    for key, value in fields.items():
        if key in _USER_TEXT_FIELDS:
            value = (value or "").strip()  # an explicit null clears a text field
        setattr(user, key, value)
    if "email" in fields:
        user.email = User.objects.normalize_email(user.email or "")
    if user.pk == actor.pk and original.role == Role.ADMIN and user.role != Role.ADMIN:
        raise RuleViolation(
            _("You cannot remove your own administrator role; ask another administrator."),
            field="role",
            code="admin_self_demotion",
        )
    errors: list[FieldError] = []
    _check_user(user, errors, original=original)
    _raise_if(errors)
    _check_manager_cycle(user)
    with audit_action(actor=actor, action="core.user.update", reason=reason):
        user.save()
    return user


def user_deactivate(*, actor: User, user_id: int, reason: str = "") -> User:
    """Stop a user from signing in or using the API (their tokens are revoked). History stays; never deleted."""
    require_admin(actor)
    user = _admin_user(user_id)
    if user.pk == actor.pk:
        raise RuleViolation(_("You cannot deactivate yourself; ask another administrator."), code="deactivate_self")
    if user.is_active:
        with audit_action(actor=actor, action="core.user.deactivate", reason=reason):
            user.is_active = False
            user.save(update_fields=["is_active"])
            # their API tokens die with the access: a later reactivation does not bring old keys back
            ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
                revoked_at=timezone.now(), updated_at=timezone.now()
            )
    return user


def user_reactivate(*, actor: User, user_id: int, reason: str = "") -> User:
    require_admin(actor)
    user = _admin_user(user_id)
    if not user.is_active:
        with audit_action(actor=actor, action="core.user.reactivate", reason=reason):
            user.is_active = True
            user.save(update_fields=["is_active"])
    return user


def user_set_password(*, actor: User, user_id: int, password: str, reason: str = "") -> User:
    """Give a user a new password (the administrator tells them; their other sessions end)."""
    require_admin(actor)
    user = _admin_user(user_id)
    errors: list[FieldError] = []
    _validate_password(password, user, errors)
    _raise_if(errors)
    with audit_action(actor=actor, action="core.user.set_password", reason=reason):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _territories(ids: Iterable[int] | None, errors: list[FieldError]) -> list[Territory]:
    wanted = sorted({int(i) for i in ids or []})
    found = list(Territory.objects.filter(pk__in=wanted))
    missing = sorted(set(wanted) - {t.pk for t in found})
    if missing:
        errors.append(
            FieldError(
                "territory_ids",
                "territory_not_found",
                _("No such territory: %(ids)s") % {"ids": ", ".join(str(i) for i in missing)},
            )
        )
    return found


def _check_team(team: Team, errors: list[FieldError]) -> None:
    if not team.name:
        errors.append(FieldError("name", "required", _("Enter the team's name.")))
    elif len(team.name) > 200:
        errors.append(FieldError("name", "max_length", _("At most %(n)d characters.") % {"n": 200}))
    elif Team.objects.filter(name__iexact=team.name).exclude(pk=team.pk).exists():
        errors.append(FieldError("name", "team_name_taken", _("A team with this name already exists.")))


def team_create(*, actor: User, name: str, territory_ids: Iterable[int] | None = None, reason: str = "") -> Team:
    require_admin(actor)
    team = Team(name=(name or "").strip())
    errors: list[FieldError] = []
    _check_team(team, errors)
    territories = _territories(territory_ids, errors)
    _raise_if(errors)
    with audit_action(actor=actor, action="core.team.create", reason=reason):
        team.save()
        team.territories.set(territories)
    return team


def team_update(*, actor: User, team_id: int, reason: str = "", **fields: Any) -> Team:
    """Rename a team and/or replace the territories it covers (``territory_ids``)."""
    require_admin(actor)
    _unknown_fields(fields, TEAM_EDITABLE_FIELDS)
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("No such team."), code="team_not_found")
    if "name" in fields:
        team.name = (fields["name"] or "").strip()
    errors: list[FieldError] = []
    _check_team(team, errors)
    territories = _territories(fields["territory_ids"], errors) if "territory_ids" in fields else None
    _raise_if(errors)
    with audit_action(actor=actor, action="core.team.update", reason=reason):
        team.save()
        if territories is not None:
            team.territories.set(territories)
    return team


def _check_territory(territory: Territory, errors: list[FieldError]) -> None:
    if not territory.code:
        errors.append(FieldError("code", "required", _("Enter a short code, e.g. us-northeast.")))
    elif not re.fullmatch(r"[-a-zA-Z0-9_]{1,40}", territory.code):
        errors.append(
            FieldError("code", "code_format", _("A code has up to 40 letters, digits, hyphens or underscores."))
        )
    elif Territory.objects.filter(code__iexact=territory.code).exclude(pk=territory.pk).exists():
        errors.append(FieldError("code", "territory_code_taken", _("Another territory already uses this code.")))
    if not territory.name:
        errors.append(FieldError("name", "required", _("Enter the territory's name.")))
    elif len(territory.name) > 200:
        errors.append(FieldError("name", "max_length", _("At most %(n)d characters.") % {"n": 200}))
    elif Territory.objects.filter(name__iexact=territory.name).exclude(pk=territory.pk).exists():
        errors.append(FieldError("name", "territory_name_taken", _("A territory with this name already exists.")))
    if not _COUNTRY_RE.match(territory.country or ""):
        errors.append(FieldError("country", "country_format", _("Use the two-letter ISO country code, e.g. US or DE.")))


def territory_create(
    *, actor: User, code: str, name: str, country: str = "US", description: str = "", reason: str = ""
) -> Territory:
    require_admin(actor)
    territory = Territory(
        code=(code or "").strip(),
        name=(name or "").strip(),
        country=(country or "").strip().upper(),
        description=(description or "").strip(),
    )
    errors: list[FieldError] = []
    _check_territory(territory, errors)
    _raise_if(errors)
    with audit_action(actor=actor, action="core.territory.create", reason=reason):
        territory.save()
    return territory


def territory_update(*, actor: User, territory_id: int, reason: str = "", **fields: Any) -> Territory:
    require_admin(actor)
    _unknown_fields(fields, TERRITORY_EDITABLE_FIELDS)
    territory = Territory.objects.filter(pk=territory_id).first()
    if territory is None:
        raise NotFound(_("No such territory."), code="territory_not_found")
    for key, value in fields.items():
        value = (value or "").strip()
        setattr(territory, key, value.upper() if key == "country" else value)
    errors: list[FieldError] = []
    _check_territory(territory, errors)
    _raise_if(errors)
    with audit_action(actor=actor, action="core.territory.update", reason=reason):
        territory.save()
    return territory


# --- jobs (long work: exports, imports, recalculations) ----------------------------------------------
JOB_RESULT_MAX_BYTES = 200 * 1024 * 1024


def job_start(*, actor: User, kind: str, label: str, params: dict[str, Any] | None = None) -> Job:
    """Queue long work of a registered ``kind`` for ``actor``; the task worker runs it after this commits.

    The caller (a domain service or interface) checks first that the actor may ask for it (e.g. may read the
    plan); the handler runs as the actor again, so what it produces respects the actor's access.
    """
    if jobs.handler_for(kind) is None:
        raise ValidationFailed(_("Unknown kind of job: %(kind)s.") % {"kind": kind}, field="kind", code="unknown")
    if not actor.is_active:
        raise PermissionDenied(_("Inactive users cannot start work."), code="inactive")
    with audit_action(actor=actor, action="core.job.start"):
        job = Job.objects.create(kind=kind, label=str(label)[:200], requested_by=actor, params=params or {})
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from procrastinate.contrib.django import app

    app.configure_task(name="core.run_job", queue="default").defer(job_id=job_id)


class _JobProgress:
    """The ``progress`` a handler gets: committed as it goes, also from inside the handler's own transaction.

    All-or-nothing work (imports, the handover) reports progress inside its transaction, where a write on the
    same connection would only be seen at the commit (and rolled back with a failure). There it is written
    through a connection of its own, in autocommit; should anything hold the job's row, that write is skipped
    rather than waited for (``SKIP LOCKED``: progress is never worth a lock wait, nor a failed job)."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.base_depth = len(transaction.get_connection().atomic_blocks)  # a caller's (test's) own transaction
        self._side: Any = None

    def __call__(self, done: int, total: int | None = None, message: str = "") -> None:
        fields: dict[str, Any] = {"done": max(0, int(done)), "message": str(message)[:300]}
        if total is not None:
            fields["total"] = max(0, int(total))
        for key, value in fields.items():
            setattr(self.job, key, value)
        if len(transaction.get_connection().atomic_blocks) <= self.base_depth:
            Job.objects.filter(pk=self.job.pk).update(**fields)
            return
        try:
            if self._side is None:
                self._side = connections.create_connection(DEFAULT_DB_ALIAS)
            table = Job._meta.db_table
            with self._side.cursor() as cur:
                cur.execute(
                    f"UPDATE {table} SET done = %s, total = %s, message = %s, updated_at = now() "
                    f"WHERE id = (SELECT id FROM {table} WHERE id = %s FOR UPDATE SKIP LOCKED)",
                    [self.job.done, self.job.total, self.job.message, self.job.pk],
                )
        except Exception:  # progress is a courtesy: it never fails the work
            logger.warning("job %s: progress not written", self.job.pk, exc_info=True)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def job_cancel(*, actor: User, job_id: int) -> Job:
    """Cancel one of the actor's own jobs while it waits for the worker (nothing of it has run yet).

    A job that has started is not cancelled: imports and the handover run all-or-nothing and finish (or fail)
    as a whole. Refused with :class:`Conflict` (409) once the worker has taken it; someone else's job is
    :class:`NotFound` (jobs are private to whoever asked for them)."""
    job = selectors.job_get(actor=actor, job_id=job_id)
    now = timezone.now()
    with audit_action(actor=actor, action="core.job.cancel"):
        taken = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, finished_at=now, updated_at=now, message=""
        )
    job.refresh_from_db(fields=["status", "started_at", "finished_at", "updated_at", "message"])
    if not taken:
        raise Conflict(_job_not_cancelled(job.status), code="job_not_queued")
    return job


def _job_not_cancelled(status: str) -> str:
    if status == JobStatus.CANCELLED:
        return _("This work was already cancelled.")
    if status == JobStatus.DONE:
        return _("This work can no longer be cancelled: it has finished.")
    if status == JobStatus.FAILED:
        return _("This work can no longer be cancelled: it has failed, and nothing of it was kept.")
    return _(
        "This work can no longer be cancelled: the task worker has started it, and it finishes or fails as a whole."
    )


def job_execute(*, job_id: int) -> Job:
    """Run a queued job (what the worker does): progress is committed as it goes (also from inside the
    handler's own transaction, see :class:`_JobProgress`), the result at the end. A job that is no longer queued
    (cancelled, or taken by another run) is left as it is."""
    job = Job.objects.select_related("requested_by").get(pk=job_id)
    if job.status != JobStatus.QUEUED:
        return job
    handler = jobs.handler_for(job.kind)
    now = timezone.now()
    if not Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, updated_at=now
    ):  # cancelled (or taken) since it was read
        job.refresh_from_db()
        return job
    job.status, job.started_at = JobStatus.RUNNING, now
    progress = _JobProgress(job)

    try:
        if handler is None:
            raise RuleViolation(_("This kind of job is no longer available."), code="unknown_kind")
        result = handler(job, progress) or jobs.JobResult()
        data = result.data
        if data is not None and len(data) > JOB_RESULT_MAX_BYTES:
            raise RuleViolation(_("The result is too large to keep."), code="too_large")
        fields = {
            "status": JobStatus.DONE,
            "finished_at": timezone.now(),
            "summary": result.summary,
            "result": data,
            "result_name": result.filename[:200] if data is not None else "",
            "result_type": result.content_type[:120] if data is not None else "",
            "result_size": len(data) if data is not None else 0,
            "done": max(job.done, job.total),
        }
    except DomainError as exc:
        fields = {"status": JobStatus.FAILED, "finished_at": timezone.now(), "error": exc.message}
    except Exception:  # a bug: the user gets a plain message, the log gets the trace
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        fields = {
            "status": JobStatus.FAILED,
            "finished_at": timezone.now(),
            "error": _("Something went wrong while doing this work; it has been logged. Please try again."),
        }
    finally:
        progress.close()
    if fields["status"] == JobStatus.FAILED:  # how far it got, as last reported
        fields.update(done=job.done, total=job.total, message=job.message)
    with audit_action(actor=job.requested_by, action=f"core.job.{fields['status']}"):
        Job.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job
