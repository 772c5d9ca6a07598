"""OAuth 2.0 on django-oauth-toolkit: the rules of api.md §12.3 that DOT leaves
to its users, plugged in through its documented extension points.

* `Validator` (OAUTH2_VALIDATOR_CLASS): the refresh grant needs `refresh_token`
  among the client's grant types; PKCE is required for public clients; an
  authorization code presented twice revokes what it bought (oauth_codes.py).
  Codes are stored as digests (models.OAuthGrant, OAUTH2_PROVIDER_GRANT_MODEL).
* `Server` (OAUTH2_SERVER_CLASS): oauthlib's server with custom validators that
  accept only the S256 PKCE method and well-formed code verifiers, and a token
  modifier that issues a refresh token only when `offline_access` was granted.
* Token generators: opaque random tokens with a prefix, so the API's bearer
  resolvers can tell an OAuth token from an API key without a query.
"""

from __future__ import annotations

import re
from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2 import Server as OAuthlibServer
from oauthlib.oauth2.rfc6749 import errors

from rightbrain.orgs import oauth_codes
from rightbrain.orgs.auth import OAUTH_ACCESS_TOKEN_PREFIX, OAUTH_REFRESH_TOKEN_PREFIX
from rightbrain.orgs.models import OAuthClient
from rightbrain.orgs.tokens import new_token

OFFLINE_ACCESS = "offline_access"
# RFC 7636 §4.1: 43 to 128 unreserved characters.
CODE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def access_token_generator(request: OAuthlibRequest) -> str:
    return new_token(OAUTH_ACCESS_TOKEN_PREFIX)


def refresh_token_generator(request: OAuthlibRequest) -> str:
    return new_token(OAUTH_REFRESH_TOKEN_PREFIX)


class Validator(OAuth2Validator):
    def validate_grant_type(
        self,
        client_id: str,
        grant_type: str,
        client: OAuthClient,
        request: OAuthlibRequest,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        # DOT lets any client with a refreshable grant refresh; ours must list it.
        if grant_type == "refresh_token":
            return OAuthClient.GrantType.REFRESH_TOKEN in request.client.grant_types
        return super().validate_grant_type(
            client_id, grant_type, client, request, *args, **kwargs
        )

    def validate_code(
        self,
        client_id: str,
        code: str,
        client: OAuthClient,
        request: OAuthlibRequest,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        # A code presented again: refused (invalid_grant), and what it bought
        # the first time is revoked. oauthlib asks only once the client has
        # authenticated, so nobody else can make us revoke.
        oauth_codes.code_replay_revoke(code=code)
        return False

    def save_bearer_token(
        self, token: dict, request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> None:
        super().save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type != "authorization_code":
            return
        if not oauth_codes.code_redemption_record(
            code=request.code, client=request.client, token=token
        ):
            raise errors.InvalidGrantError(request=request)

    def is_pkce_required(self, client_id: str, request: OAuthlibRequest) -> bool:
        # Confidential clients prove themselves with their secret and may add
        # PKCE; public clients have nothing else. oauthlib has loaded the client
        # by the time it asks, at both endpoints.
        client = request.client
        return client is None or client.public_client


def _only_s256(request: OAuthlibRequest) -> dict:
    """Refuse `plain` (and a challenge without a method, which means plain)."""
    if request.code_challenge is not None and request.code_challenge_method != "S256":
        raise errors.UnsupportedCodeChallengeMethodError(
            description="Only the S256 code_challenge_method is supported.",
            request=request,
        )
    return {}


def _well_formed_verifier(request: OAuthlibRequest) -> None:
    verifier = request.code_verifier
    if verifier is not None and not CODE_VERIFIER.match(verifier):
        raise errors.InvalidRequestError(
            description=(
                "code_verifier must be 43 to 128 characters from A-Z a-z 0-9 - . _ ~."
            ),
            request=request,
        )


def _refresh_only_for_offline_access(
    token: dict, token_handler: Any, request: OAuthlibRequest
) -> dict:
    refreshable = OAuthClient.GrantType.REFRESH_TOKEN in request.client.grant_types
    if not refreshable or OFFLINE_ACCESS not in (request.scopes or []):
        token.pop("refresh_token", None)
    return token


class Server(OAuthlibServer):
    def __init__(self, request_validator: OAuth2Validator, *args: Any, **kwargs: Any):
        super().__init__(request_validator, *args, **kwargs)
        validators = self.auth_grant.custom_validators
        validators.pre_auth.append(_only_s256)
        validators.pre_token.append(_well_formed_verifier)
        self.auth_grant.register_token_modifier(_refresh_only_for_offline_access)
