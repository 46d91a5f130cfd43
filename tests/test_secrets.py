"""The last-resort redaction of the API key in what the CLI prints."""

from __future__ import annotations

from j1gitops.secrets import redact

KEY = 'k3y-"with"\\odd/chars+'


def test_redacts_every_form():
    environ = {"J1_API_KEY": KEY}
    text = f'raw {KEY} json "k3y-\\"with\\"\\\\odd/chars+" url k3y-%22with%22%5Codd%2Fchars%2B'
    redacted = redact(text, environ)
    assert "k3y" not in redacted
    assert redacted.count("[redacted]") == 3


def test_short_or_missing_key_leaves_text():
    assert redact("abc abc", {"J1_API_KEY": "abc"}) == "abc abc"
    assert redact("nothing here", {}) == "nothing here"


def test_cli_error_never_shows_key(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("J1_API_KEY", "sekrit-value-123")
    (tmp_path / "j1gitops.yaml").write_text("sekrit-value-123: 1\n")
    result = cli("plan", cwd=tmp_path)
    assert result.exit_code == 1
    assert "unknown key '[redacted]'" in result.stderr
    assert "sekrit" not in result.stderr + result.stdout
