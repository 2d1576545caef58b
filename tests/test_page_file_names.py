"""Every process of a server names the page's script files alike.

The page's file URLs carry an opaque token in place of the libraries' versions
(``app.guards.hide_versions``). With a token salted per process, a browser whose
pages came from either of a server's two web processes fetched every script
under two names and compiled it twice. The salt now derives from the server's
signing key, which its processes share (the data folder's
``flask_secret_key``).
"""

from __future__ import annotations

import re

import pytest

from app import create_app
from app.guards import file_token_salt

#: A file token as the page writes it: ``.v<12 hex digits>m<mtime>.``.
TOKEN = re.compile(r"\.v([0-9a-f]{12})m\d+\.")


def page_scripts(app) -> list[str]:
    html = app.server.test_client().get("/").get_data(as_text=True)
    return re.findall(r'<script src="([^"]+)"', html)


def test_two_processes_on_one_folder_name_the_files_alike(tmp_path):
    first = page_scripts(create_app(tmp_path / "data", first_screen=False))
    second = page_scripts(create_app(tmp_path / "data", first_screen=False))
    tokens = [TOKEN.search(src) for src in first]
    assert sum(token is not None for token in tokens) >= 5  # Dash's own files
    assert first == second


def test_another_server_has_other_tokens(tmp_path):
    # another signing key: its tokens cannot be matched against this one's
    ours = page_scripts(create_app(tmp_path / "ours", first_screen=False))
    theirs = page_scripts(create_app(tmp_path / "theirs", first_screen=False))
    ours_tokens = {m.group(1) for m in map(TOKEN.search, ours) if m}
    theirs_tokens = {m.group(1) for m in map(TOKEN.search, theirs) if m}
    assert ours_tokens and theirs_tokens and not ours_tokens & theirs_tokens


@pytest.mark.parametrize("key", [b"k" * 32, "k" * 32])
def test_the_salt_is_a_function_of_the_key(key):
    assert file_token_salt(key) == file_token_salt(key)
    assert file_token_salt(key) != file_token_salt(b"j" * 32)
    assert len(file_token_salt(key)) == 32


@pytest.mark.parametrize("key", [None, b"", ""])
def test_no_key_is_refused(key):
    with pytest.raises(ValueError, match="no signing key"):
        file_token_salt(key)
