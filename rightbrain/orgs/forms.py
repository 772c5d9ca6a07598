from __future__ import annotations

from django import forms

from rightbrain.orgs.permissions import Role


class NameForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True)


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
