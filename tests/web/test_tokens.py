"""The API token: from the settings or the data folder's hash file, never stored in clear."""

from __future__ import annotations

import stat
from pathlib import Path

from pydantic import SecretStr

from leadwire.web import ApiTokens, ensure_api_token, issue_api_token
from leadwire.web.tokens import token_file
from tests.conftest import make_settings


def test_a_data_folder_token_is_made_once_and_kept_only_as_a_hash(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert not ApiTokens.from_settings(settings).is_configured
    token = ensure_api_token(settings)
    assert token is not None
    assert token.startswith("lwapi_")
    assert ensure_api_token(settings) is None  # one is configured now
    path = token_file(settings)
    assert token not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = ApiTokens.from_settings(settings)
    assert tokens.accepts(token)
    assert not tokens.accepts(token + "x")
    assert not tokens.accepts("")


def test_issuing_again_replaces_the_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    old, new = issue_api_token(settings), issue_api_token(settings)
    tokens = ApiTokens.from_settings(settings)
    assert tokens.accepts(new)
    assert not tokens.accepts(old)


def test_the_settings_token_counts_and_needs_no_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_token=SecretStr("shared-by-every-serve-process"))
    assert ensure_api_token(settings) is None
    assert not token_file(settings).exists()
    assert ApiTokens.from_settings(settings).accepts("shared-by-every-serve-process")
    local = issue_api_token(settings)
    both = ApiTokens.from_settings(settings)
    assert both.accepts(local)
    assert both.accepts("shared-by-every-serve-process")
