from __future__ import annotations

import dataclasses

from django import forms

from rightbrain.orgs.models import ApiKey, AuditEvent, OAuthClient, Project
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.services import (
    MAX_MONTHLY_CREDIT_BUDGET,
    MAX_PER_MINUTE,
    LimitSettings,
    limits_of,
)


class NameForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True)


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", "All actions"), *AuditEvent.Action.choices],
        required=False,
        label="Action",
    )
    after = forms.UUIDField(required=False)


class ProfileForm(forms.Form):
    name = forms.CharField(
        max_length=150, required=False, strip=True, label="Display name"
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)

    def __init__(self, *args, assignable: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = [
            (v, label) for v, label in Role.choices if v in assignable
        ]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args, assignable: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = [
            (v, label) for v, label in Role.choices if v in assignable
        ]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        strip=True,
        label="Key name",
        help_text="Say where it is used, such as “Nightly import script”.",
    )

    def __init__(self, *args, **kwargs):
        # Shares a page with the OAuth client form: keep element ids apart.
        kwargs.setdefault("auto_id", "key_%s")
        super().__init__(*args, **kwargs)


_GRANT_CHOICES = [
    (OAuthClient.GrantType.CLIENT_CREDENTIALS, "Client credentials (server to server)"),
    (
        OAuthClient.GrantType.AUTHORIZATION_CODE,
        "Authorization code (usually with PKCE)",
    ),
    (OAuthClient.GrantType.REFRESH_TOKEN, "Refresh token (with authorization code)"),
]


class OAuthClientEditForm(forms.Form):
    """What can change on a client: everything but its id, secret and type."""

    name = forms.CharField(max_length=100, strip=True, label="Client name")
    description = forms.CharField(
        required=False, strip=True, widget=forms.Textarea(attrs={"rows": 2})
    )
    grant_types = forms.MultipleChoiceField(
        choices=_GRANT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=[OAuthClient.GrantType.CLIENT_CREDENTIALS],
        label="Grant types",
    )
    redirect_uris = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        label="Redirect URIs",
        help_text=(
            "One per line; required for authorization code. https://, "
            "http://localhost for development, or an app scheme like "
            "myapp://oauth/callback."
        ),
    )

    def __init__(self, *args, legacy_implicit: bool = False, **kwargs):
        kwargs.setdefault("auto_id", "client_%s")
        super().__init__(*args, **kwargs)
        if legacy_implicit:
            # Only the API registers the implicit grant; keep it editable here.
            grants = self.fields["grant_types"]
            assert isinstance(grants, forms.MultipleChoiceField)
            grants.choices = [
                *_GRANT_CHOICES,
                (OAuthClient.GrantType.IMPLICIT, "Implicit (legacy)"),
            ]

    def clean_redirect_uris(self) -> list[str]:
        text = self.cleaned_data["redirect_uris"]
        return [line.strip() for line in text.splitlines() if line.strip()]


class OAuthClientForm(OAuthClientEditForm):
    client_type = forms.ChoiceField(
        choices=OAuthClient.ActsAs.choices,
        initial=OAuthClient.ActsAs.USER,
        widget=forms.RadioSelect,
        label="Client type",
        help_text="Cannot be changed later.",
    )
    public_client = forms.BooleanField(
        required=False,
        label="Public client (PKCE, no secret)",
        help_text="For browser, mobile and desktop apps, which cannot keep a secret.",
    )


class LimitsForm(forms.Form):
    """A project's or an API key's own rate limits and monthly budget; an empty
    field means the default (`defaults`: the per-minute figures in force)."""

    requests_per_minute = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PER_MINUTE
    )
    runs_per_minute = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PER_MINUTE
    )
    monthly_credit_budget = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=MAX_MONTHLY_CREDIT_BUDGET,
        max_digits=12,
        decimal_places=2,
        label="Monthly credit budget",
        help_text="Credits per calendar month (UTC); runs are refused once it is "
        "spent. Empty: no budget.",
    )

    def __init__(
        self,
        *args,
        owner: Project | ApiKey,
        defaults: tuple[int, int],
        **kwargs,
    ):
        self.owner_pk = owner.pk
        kwargs.setdefault("auto_id", f"limits-{owner.pk}-%s")
        kwargs.setdefault("initial", dataclasses.asdict(limits_of(owner)))
        super().__init__(*args, **kwargs)
        for name, default in zip(
            ("requests_per_minute", "runs_per_minute"), defaults, strict=True
        ):
            field = self.fields[name]
            field.label = name.replace("_", " ").capitalize()
            field.help_text = (
                f"Empty: the default, {default:,}." if default else "Empty: no limit."
            )

    def limits(self) -> LimitSettings:
        return LimitSettings(**self.cleaned_data)

    def summary(self) -> str:
        """The saved figures in a few words, for the closed disclosure."""
        saved = LimitSettings(**self.initial)
        parts = [
            f"{value:,} {what} a minute"
            for value, what in (
                (saved.requests_per_minute, "requests"),
                (saved.runs_per_minute, "runs"),
            )
            if value is not None
        ]
        if saved.monthly_credit_budget is not None:
            parts.append(f"budget {saved.monthly_credit_budget} credits a month")
        return ", ".join(parts) or "the defaults, no budget"
