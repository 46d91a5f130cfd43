"""The config file: defaults, checked keys and values, and no URLs or credentials."""

from __future__ import annotations

import pytest

from j1gitops.config import Config, load_config
from j1gitops.errors import ConfigError


def write_config(tmp_path, text):
    (tmp_path / "j1gitops.yaml").write_text(text)
    return str(tmp_path)


def test_missing_file_gives_defaults(tmp_path):
    config = load_config(root=str(tmp_path))
    assert config.scope == Config().scope == "j1gitops"
    assert config.inventory == ["inventory"]
    assert config.target == "local"
    assert config.local_path == ".j1gitops/local.db"
    assert config.path is None


def test_full_file(tmp_path):
    root = write_config(
        tmp_path,
        "scope: acme\ninventory: [a, b]\ntarget: jupiterone\nlocal: {path: x.db}\n"
        "validation: {strict: true, data_model: warning, classes: {Device: error}}\n"
        "deletes: {max_count: 5, max_percent: 10}\nvars: {env: prod}\ndata: {hosts: h.csv}\n",
    )
    config = load_config(root=root)
    assert (config.scope, config.inventory, config.target) == (
        "acme",
        ["a", "b"],
        "jupiterone",
    )
    assert config.local_path == "x.db"
    assert config.validation.strict is True
    assert config.validation.data_model == "warning"
    assert config.validation.classes == {"Device": "error"}
    assert (config.deletes.max_count, config.deletes.max_percent) == (5, 10)
    assert config.vars == {"env": "prod"}
    assert config.data == {"hosts": "h.csv"}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("scope: a\nscop: b\n", 2, "unknown key 'scop'"),
        ("target: aws\n", 1, "'target' must be one of local, jupiterone"),
        ("scope: ''\n", 1, "'scope' must be a non-empty string"),
        ("scope: [a]\n", 1, "'scope' must be a non-empty string"),
        ("inventory: 5\n", 1, "'inventory' must be a path or a list"),
        ("validation:\n  strict: maybe\n", 2, "'strict' must be true or false"),
        ("validation:\n  data_model: fatal\n", 2, "must be one of error, warning"),
        ("validation:\n  classes: {Device: fatal}\n", 2, "level for class Device"),
        ("validation:\n  level: x\n", 2, "unknown key 'validation.level'"),
        ("deletes:\n  max_percent: 150\n", 2, "must be at most 100"),
        ("deletes:\n  max_count: -1\n", 2, "at least 0"),
        ("deletes:\n  max_count: .nan\n", 2, "must be a whole number"),
        ("deletes:\n  max_count: 1.5\n", 2, "must be a whole number"),
        ("deletes:\n  max_percent: .nan\n", 2, "must be a number of at least 0"),
        ("validation:\n  classes: {Devcie: warning}\n", 2, "did you mean 'Device'?"),
        ("scope: a\nscope: b\n", 2, "duplicate key 'scope'"),
        ("- a\n", 1, "must be a mapping"),
    ],
)
def test_invalid_config(tmp_path, text, line, message):
    root = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(root=root)
    assert message in str(raised.value)
    assert f"j1gitops.yaml:{line}:" in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [
        "url: https://attacker.example\n",
        "api_base_url: http://attacker.example\n",
        "local:\n  graphql_url: http://attacker.example\n",
        "syncEndpoint: http://attacker.example\n",
        "J1_API_HOST: attacker.example\n",
        "api_key: stolen\n",
        "region: eu\n",
    ],
)
def test_config_cannot_set_urls_or_credentials(tmp_path, text):
    root = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match="come only from the environment"):
        load_config(root=root)


def test_explicit_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "nope.yaml"))


@pytest.mark.parametrize("path", ["/etc", "../elsewhere", "inventory/../../x"])
def test_inventory_path_outside_repository(tmp_path, path):
    root = write_config(tmp_path, f"inventory: [{path!r}]\n")
    with pytest.raises(ConfigError, match="is outside the repository"):
        load_config(root=root)
