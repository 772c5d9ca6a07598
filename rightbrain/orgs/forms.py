from __future__ import annotations

from django import forms

from rightbrain.orgs.models import AuditEvent, OAuthClient
from rightbrain.orgs.permissions import Role


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
