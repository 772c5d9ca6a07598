from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter

from rightbrain.orgs.services import personal_organization_create


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            # Everyone starts with an organisation of their own and a project in
            # it, so the dashboard has somewhere to land after sign-up.
            personal_organization_create(user=user)
        return user
