"""NPPES import page: upload an NPI Registry answer, see the dry run, import it all or nothing (a job).

The uploaded answer is kept in the user's session between the preview and the import (under a random token),
so the import carries out exactly the file that was previewed. A new preview without a new file (e.g. after
choosing the account for new people) uses the kept file: the form sends the token, never a path or the data.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openkam.accounts.selectors import account_scope
from openkam.core.errors import DomainError, ValidationFailed
from openkam.core.forms import BootstrapFormMixin, apply_domain_error
from openkam.core.models import User
from openkam.interop.nppes import MAX_BYTES
from openkam.stakeholders import importers
from openkam.stakeholders.forms import PickerSelect, account_label, limit_choices

_SESSION_KEY = "nppes_import"


class NppesUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("NPI Registry answer (JSON)"),
        required=False,
        help_text=gettext_lazy(
            "The JSON the NPI Registry API v2.1 returned for a search (npiregistry.cms.hhs.gov/api/?version=2.1&…), "
            "or a JSON list of several such answers. At most 10 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )
    account: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=gettext_lazy("Account for new people"),
        queryset=None,  # type: ignore[arg-type]
        required=False,
        empty_label=gettext_lazy("— none: skip new people —"),
        help_text=gettext_lazy("New people get their primary position here (title: their primary taxonomy)."),
        widget=PickerSelect("account", gettext_lazy("Search your accounts…")),
    )
    parent: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=gettext_lazy("Parent for new organisations"),
        queryset=None,  # type: ignore[arg-type]
        required=False,
        empty_label=gettext_lazy("— none: top-level accounts —"),
        help_text=gettext_lazy("New organisation accounts are created below this account."),
        widget=PickerSelect("account", gettext_lazy("Search your accounts…")),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Kept in the audit trail, e.g. “Q3 refresh of oncology prescribers”."),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = account_scope(actor=actor)
        for name in ("account", "parent"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = scope
            selected = self.data.get(self.add_prefix(name)) if self.is_bound else None
            limit_choices(field, scope.order_by("ancestors", "name")[:0], selected, account_label)


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not importers.nppes_can_import(user):
        raise DjangoPermissionDenied(
            _("Only key account managers, KAM leads, market access and administrators can import from NPPES.")
        )
    return user


@login_required
def nppes_import(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST ``step=preview``: the dry run of the uploaded file. POST ``step=apply``: start
    the import of the previewed file (a job whose progress card the page shows)."""
    actor = _actor(request)
    form = NppesUploadForm(request.POST or None, request.FILES or None, actor=actor)
    context: dict[str, Any] = {"form": form, "max_mb": MAX_BYTES // (1024 * 1024)}
    if request.method == "POST" and form.is_valid():
        step = request.POST.get("step", "preview")
        account, parent = form.cleaned_data["account"], form.cleaned_data["parent"]
        ids = {"account_id": account.pk if account else None, "parent_id": parent.pk if parent else None}
        try:
            if step == "apply":
                stored = request.session.get(_SESSION_KEY) or {}
                if not stored or stored.get("token") != request.POST.get("token"):
                    raise ValidationFailed(
                        _("The previewed file is no longer available; upload it again."),
                        field="file",
                        code="preview_expired",
                    )
                job = importers.nppes_import_start(
                    actor=actor,
                    payload=stored["document"],
                    filename=stored.get("filename", ""),
                    reason=form.cleaned_data["reason"],
                    **ids,
                )
                request.session.pop(_SESSION_KEY, None)
                context.update(job=job, filename=stored.get("filename", ""))
            else:
                upload = form.cleaned_data["file"]
                stored = request.session.get(_SESSION_KEY) or {}
                if upload is None:
                    token = request.POST.get("token") or ""
                    if not token or not stored or not secrets.compare_digest(str(stored.get("token")), token):
                        raise ValidationFailed(_("Choose the JSON file to import."), field="file", code="required")
                    # a new preview of the kept file (other account or parent): no need to upload it again
                    filename = stored.get("filename", "")
                    context.update(token=token, filename=filename, kept=True)
                    plan = importers.nppes_import_preview(actor=actor, payload=stored["document"], **ids)
                    context.update(plan=plan)
                else:
                    if upload.size > MAX_BYTES:
                        raise ValidationFailed(
                            _("The file is larger than %(n)d MB.") % {"n": MAX_BYTES // (1024 * 1024)},
                            field="file",
                            code="nppes_too_large",
                        )
                    data = upload.read()
                    plan = importers.nppes_import_preview(actor=actor, payload=data, **ids)
                    token = secrets.token_urlsafe(16)
                    request.session[_SESSION_KEY] = {
                        "token": token,
                        "document": importers.nppes_document(data),
                        "filename": upload.name[:200],
                    }
                    context.update(plan=plan, token=token, filename=upload.name)
        except DomainError as exc:
            apply_domain_error(form, exc)
    return render(request, "stakeholders/nppes_import.html", context)
