"""Authorization codes are good once (RFC 6749 §4.1.2, api.md §12.3).

DOT refuses a code it has already exchanged, but it forgets the code at once,
so it cannot do what the RFC asks next: revoke the tokens that code bought. A
second exchange means the code leaked (or was stolen and raced), and the
tokens may be in the wrong hands. So each exchange is recorded here as an
OAuthCodeRedemption (the code's digest, the access token's checksum, the
refresh token's family), and presenting the code again revokes them all,
refreshed descendants included. Two exchanges that race are caught by the
record's unique code: the second revokes both.

The validator (rightbrain/orgs/oauth.py) calls these at DOT's documented
extension points; `code_redemptions_forget` runs after `cleartokens`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from oauth2_provider.models import (
    get_access_token_model,
    get_refresh_token_model,
    revoke_access_token,
)

from rightbrain.orgs.models import OAuthClient, OAuthCodeRedemption
from rightbrain.orgs.tokens import hash_token

logger = logging.getLogger(__name__)


def code_redemption_record(
    *, code: str, client: OAuthClient, token: Mapping[str, Any]
) -> bool:
    """Record that `code` bought `token` (the token endpoint's answer). False
    when the code had been redeemed already, by a racing request: then the
    tokens of both are revoked and the caller must refuse the exchange."""
    access_token_checksum = hash_token(token["access_token"])
    refresh_token_family = _family_of(token.get("refresh_token"))
    try:
        with transaction.atomic():
            OAuthCodeRedemption.objects.create(
                code=code,
                application=client,
                access_token_checksum=access_token_checksum,
                refresh_token_family=refresh_token_family,
            )
    except IntegrityError:
        _tokens_revoke(access_token_checksum, refresh_token_family)
        code_replay_revoke(code=code)
        return False
    return True


def code_replay_revoke(*, code: str) -> bool:
    """Revoke what `code` bought, if it was redeemed; whether it was."""
    redemption = OAuthCodeRedemption.objects.filter(code=code).first()
    if redemption is None:
        return False
    _tokens_revoke(redemption.access_token_checksum, redemption.refresh_token_family)
    # Worth an operator's attention: the code leaked, or a client misbehaves.
    logger.warning(
        "An authorization code of OAuth client %s was presented again; the "
        "tokens it was exchanged for are revoked.",
        redemption.application_id,
    )
    return True


def code_redemptions_forget() -> int:
    """Forget redemptions none of whose tokens is left: nothing to revoke."""
    access_tokens = get_access_token_model().objects.filter(
        token_checksum=OuterRef("access_token_checksum")
    )
    live_refresh_tokens = get_refresh_token_model().objects.filter(
        token_family=OuterRef("refresh_token_family"), revoked__isnull=True
    )
    deleted, _ = (
        OAuthCodeRedemption.objects.filter(~Exists(access_tokens))
        .filter(~Exists(live_refresh_tokens))
        .delete()
    )
    return deleted


def _family_of(refresh_token: str | None) -> uuid.UUID | None:
    if not refresh_token:
        return None
    return (
        get_refresh_token_model()
        .objects.filter(token_checksum=hash_token(refresh_token))
        .values_list("token_family", flat=True)
        .first()
    )


@transaction.atomic
def _tokens_revoke(
    access_token_checksum: str, refresh_token_family: uuid.UUID | None
) -> None:
    for access_token in get_access_token_model().objects.filter(
        token_checksum=access_token_checksum
    ):
        # With its refresh token, the way DOT's revocation endpoint does.
        revoke_access_token(access_token)
    # Every refresh token rotated from the first, and their access tokens.
    get_refresh_token_model().revoke_family(refresh_token_family)
