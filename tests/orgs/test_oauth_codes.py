"""Used authorization codes: a racing second exchange, and the hourly clean-up
that forgets codes with nothing left to revoke."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import AccessToken, get_grant_model

from rightbrain.celery import app as celery_app
from rightbrain.orgs.models import OAuthCodeRedemption
from rightbrain.orgs.oauth_codes import code_redemption_record
from rightbrain.orgs.tasks import oauth_tokens_clear
from rightbrain.orgs.tokens import hash_token
from tests.helpers import ApiClient
from tests.orgs.oauth_helpers import (
    client_credentials,
    code_client,
    consent,
    exchange_code,
    redirect_params,
)


def _code(client, email, **params) -> str:
    return redirect_params(consent(client, email, **params))["code"]


def test_the_loser_of_two_racing_exchanges_revokes_both_and_is_refused(
    personas, project_base
):
    client, secret = code_client(
        personas.project,
        personas.editor,
        grant_types=["authorization_code", "client_credentials"],
    )
    code = _code(client, personas.editor.email)
    winner = exchange_code(client, secret, code).json()["access_token"]
    # The other request passed the same checks before the winner was done and
    # has its token already; recording the exchange is where they collide.
    loser = client_credentials(client, secret)

    recorded = code_redemption_record(
        code=code, client=client, token={"access_token": loser}
    )

    assert recorded is False
    assert ApiClient(winner, project_base).get("/task").status_code == 401
    assert ApiClient(loser, project_base).get("/task").status_code == 401
    assert OAuthCodeRedemption.objects.count() == 1


def test_the_cleanup_deletes_expired_tokens_and_codes_and_forgets_spent_codes(
    personas,
):
    client, secret = code_client(personas.project, personas.editor)
    email = personas.editor.email
    short = exchange_code(client, secret, _code(client, email)).json()
    lasting = exchange_code(
        client, secret, _code(client, email, scope="offline_access")
    ).json()
    _code(client, email)  # issued, never exchanged
    past = timezone.now() - timedelta(seconds=1)
    get_grant_model().objects.update(expires=past)
    AccessToken.objects.update(expires=past)

    forgotten = oauth_tokens_clear.apply().get()

    assert not get_grant_model().objects.exists()  # expired codes, used or not
    # The token that cannot be refreshed expired and went, and with it the
    # last trace of its code; the other can still be refreshed, so its code is
    # remembered (a replay would revoke it).
    [remaining] = AccessToken.objects.all()
    assert remaining.token_checksum == hash_token(lasting["access_token"])
    assert "refresh_token" not in short
    assert forgotten == 1
    [kept] = OAuthCodeRedemption.objects.all()
    assert kept.access_token_checksum == remaining.token_checksum


def test_celery_beat_runs_the_cleanup_hourly():
    [entry] = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "rightbrain.oauth_tokens_clear"
    ]
    assert entry["schedule"] == 3600
    assert "rightbrain.oauth_tokens_clear" in celery_app.tasks
