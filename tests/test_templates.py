"""Jinja2 templates in the inventory: data files, error locations, the sandbox."""

from __future__ import annotations

import os
import threading
import time

import pytest

from j1gitops.config import load_config
from j1gitops.templates import make_renderer
from j1gitops.templates.sandbox import DEFAULT_TIME_LIMIT, time_limit

CONFIG = """\
scope: templated
local:
  path: local.db
vars:
  company: acme
data:
  devices: data/devices.csv
  people: data/people.yaml
"""
DEVICES_CSV = """\
serial,hostname,owner
SER0000001,web-01,ada
SER0000002,web-02,alan
SER0000003,db-01,ada
"""
PEOPLE_YAML = """\
- id: ada
  first: Ada
  last: Lovelace
- id: alan
  first: Alan
  last: Turing
"""
TEMPLATE = """\
{# One Device per row of devices.csv, one Person per record of people.yaml,
   and the Person OWNS Device relationships. #}
entities:
{% for person in data.people %}
  - _key: "{{ company }}-person:{{ person.id }}"
    _type: {{ company }}_person
    _class: Person
    name: {{ person.first }} {{ person.last }}
    displayName: {{ person.first }}
    firstName: {{ person.first }}
    lastName: {{ person.last }}
    email:
      - {{ person.id }}@example.com
{% endfor %}
{% for row in data.devices %}
  - _key: "{{ company }}-device:{{ row.serial }}"
    _type: {{ company }}_device
    _class: Device
    name: {{ row.hostname }}
    displayName: {{ row.hostname }}
    hostname: {{ row.hostname }}
{% endfor %}
relationships:
{% for row in data.devices %}
  - _class: OWNS
    _fromEntityKey: "{{ company }}-person:{{ row.owner }}"
    _toEntityKey: "{{ company }}-device:{{ row.serial }}"
{% endfor %}
"""


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "inventory").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "j1gitops.yaml").write_text(CONFIG)
    (tmp_path / "data/devices.csv").write_text(DEVICES_CSV)
    (tmp_path / "data/people.yaml").write_text(PEOPLE_YAML)
    return tmp_path


def write_template(repo, text, name="inventory/assets.yaml.j2"):
    (repo / name).write_text(text)


def errors(result):
    return [line for line in result.stdout.splitlines() if ": error: " in line]


def test_template_with_data_files_plans_and_applies(cli, repo):
    write_template(repo, TEMPLATE)
    validated = cli("validate", cwd=repo)
    assert validated.exit_code == 0, validated.stdout
    assert "5 entities, 3 relationships: 0 error(s)" in validated.stderr
    assert cli("apply", "--auto-approve", cwd=repo).exit_code == 0
    planned = cli("plan", cwd=repo)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert planned.stdout.rstrip().endswith("No changes.")


def test_rendering_is_deterministic(repo):
    write_template(repo, TEMPLATE)
    path = str(repo / "inventory/assets.yaml.j2")
    first = make_renderer(load_config(root=str(repo)))(path, "assets.yaml.j2")
    second = make_renderer(load_config(root=str(repo)))(path, "assets.yaml.j2")
    assert first.documents == second.documents
    assert not first.diagnostics
    assert first.documents[0]["entities"][0]["_key"] == "acme-person:ada"


def test_undefined_variable_points_at_the_template_line(cli, repo):
    write_template(
        repo,
        TEMPLATE.replace(
            "row.hostname }}\n    hostname", "row.hostnam }}\n    hostname"
        ),
    )
    result = cli("validate", cwd=repo)
    assert result.exit_code == 1
    assert errors(result) == [
        "inventory/assets.yaml.j2:20:1: error: undefined value in template: 'dict "
        "object' has no attribute 'hostnam' (data record data/devices.csv:2); "
        "variables come from 'vars' and data files from 'data' in j1gitops.yaml; "
        "check the name [template]"
    ]


def test_syntax_error_points_at_the_template_line(cli, repo):
    write_template(repo, "entities:\n{% for row in data.devices %}\n  - x\n")
    result = cli("validate", cwd=repo)
    assert result.exit_code == 1
    (line,) = errors(result)
    assert line.startswith(
        "inventory/assets.yaml.j2:3:1: error: invalid template syntax"
    )


def test_yaml_error_names_template_and_record(cli, repo):
    (repo / "data/devices.csv").write_text(
        "serial,hostname,owner\nSER0000001,web-01,ada\nSER0000002,web: 02,alan\n"
    )
    write_template(repo, TEMPLATE)
    result = cli("validate", cwd=repo)
    assert result.exit_code == 1
    (line,) = errors(result)
    assert line.startswith("inventory/assets.yaml.j2:19:14: error: invalid YAML")
    assert "data record data/devices.csv:3" in line


def test_schema_error_points_at_the_template_line(cli, repo):
    write_template(
        repo,
        TEMPLATE.replace("    hostname: {{", "    criticality: 11\n    hostname: {{"),
    )
    result = cli("validate", cwd=repo)
    assert result.exit_code == 1
    assert all(
        line.startswith("inventory/assets.yaml.j2:21:5: error:")
        for line in errors(result)
    )


def test_same_key_from_two_records_names_both(cli, repo):
    (repo / "data/devices.csv").write_text(
        "serial,hostname,owner\nSER0000001,web-01,ada\nSER0000001,web-02,alan\n"
    )
    write_template(repo, TEMPLATE)
    result = cli("validate", cwd=repo)
    assert result.exit_code == 1
    assert errors(result) == [
        "inventory/assets.yaml.j2:16:1: error: entity _key 'acme-device:SER0000001' "
        "comes from inventory/assets.yaml.j2:16 (data record data/devices.csv:3) and "
        "from inventory/assets.yaml.j2:16 (data record data/devices.csv:2); a _key "
        "must be unique within the scope, so change the data or the template's key "
        "[duplicate-entity-key]"
    ]


def test_same_key_in_template_and_file(cli, repo):
    write_template(repo, TEMPLATE)
    (repo / "inventory/extra.yaml").write_text(
        "entities:\n  - _key: acme-device:SER0000002\n    _type: acme_device\n"
        "    _class: Device\n    name: x\n    displayName: x\n"
    )
    result = cli("validate", cwd=repo)
    assert result.exit_code == 1
    (line,) = errors(result)
    assert "inventory/assets.yaml.j2:16:5" in line
    assert "inventory/extra.yaml:2:5" in line


def test_json_template(cli, repo):
    write_template(
        repo,
        '{"entities": [\n{% for row in data.devices %}'
        '{"_key": "json-{{ row.serial }}", "_type": "acme_device", "_class": "Device",'
        ' "name": "{{ row.hostname }}", "displayName": "{{ row.hostname }}"}'
        "{{ '' if loop.last else ',' }}\n{% endfor %}]}\n",
        name="inventory/devices.json.j2",
    )
    result = cli("validate", cwd=repo)
    assert result.exit_code == 0, result.stdout
    assert "3 entities" in result.stderr


INJECTIONS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ [].__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__.os }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ self._TemplateReference__context.cycler }}",
    "{{ range.__class__.__base__ }}",
    "{{ dict.__base__.__subclasses__() }}",
    "{{ config.__class__.__init__.__globals__ }}",
    "{{ config.items() }}",
    "{{ request.application.__globals__.__builtins__ }}",
    "{{ ''|attr('__class__')|attr('__mro__') }}",
    "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ '{0.__class__}'.format(company) }}",
    "{{ company.__class__.__mro__[1].__subclasses__() }}",
    "{{ data.devices.__class__ }}",
    "{{ data.devices[0].__init__.__globals__ }}",
    "{{ data.devices.append(1) }}",
    "{{ data.people[0].update({'id': 'x'}) }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ get_flashed_messages.__globals__.__builtins__ }}",
    "{{ url_for.__globals__.os.environ }}",
    "{{ environ }}",
    "{{ os.environ }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}{{ os }}",
    "{% extends 'base.yaml' %}",
    "{{ 'x' * 100000000 }}",
    "{{ 2 ** 100000 }}",
    "{{ range(1000000) | list }}",
    "{{ [1, 2] | random }}",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_payloads_are_rejected(cli, repo, monkeypatch, payload):
    monkeypatch.setenv("J1GITOPS_TEST_SECRET", "s3cr3t-value")
    write_template(repo, "# attack\n" + payload + "\n")
    result = cli("validate", cwd=repo)
    assert result.exit_code == 1
    (line,) = errors(result)
    assert line.startswith("inventory/assets.yaml.j2:2:1: error: ")
    assert line.endswith("[template]")
    assert "s3cr3t-value" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_removed_globals_are_gone(repo):
    renderer = make_renderer(load_config(root=str(repo)))
    for name in ("cycler", "joiner", "lipsum", "namespace"):
        assert name not in renderer.environment.globals
    assert "random" not in renderer.environment.filters


def test_data_file_outside_the_repository_is_rejected(cli, repo, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secrets.csv"
    outside.write_text("name\nroot\n")
    write_template(repo, "entities: []\n")
    for path in (str(outside), f"../{outside.parent.name}/secrets.csv"):
        (repo / "j1gitops.yaml").write_text(f"scope: s\ndata:\n  leak: {path}\n")
        result = cli("validate", cwd=repo)
        assert result.exit_code == 1
        (line,) = errors(result)
        assert "is outside the repository" in line
    os.symlink(outside, repo / "data/link.csv")
    (repo / "j1gitops.yaml").write_text("scope: s\ndata:\n  leak: data/link.csv\n")
    result = cli("validate", cwd=repo)
    assert "is outside the repository" in errors(result)[0]


def test_bad_data_file_points_at_its_line(cli, repo):
    (repo / "data/devices.csv").write_text(
        "serial,hostname,owner\nSER1,web,ada,extra\n"
    )
    write_template(repo, TEMPLATE)
    result = cli("validate", cwd=repo)
    assert result.exit_code == 1
    (line,) = errors(result)
    assert line.startswith(
        "data/devices.csv:2:1: error: data file 'devices': the row has 4"
    )


def test_vars_may_not_shadow_data(cli, repo):
    (repo / "j1gitops.yaml").write_text(CONFIG.replace("company: acme", "data: 1"))
    write_template(repo, "entities: []\n")
    result = cli("validate", cwd=repo)
    assert result.exit_code == 1
    assert "'vars' may not define 'data'" in errors(result)[0]


EXHAUSTING = [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ (((10**1024)**1024)**1024) > 1 }}",
    "{{ (('a'*1000000)|list)|join('a'*1000000) }}",
    "{{ 'a'.center(10**9) }}",
    "{{ 'a'.ljust(10**9) }}",
    "{{ 'x'.join(('a'*9000000)|list) | length }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '{:>{}}'.format(1, 999999999) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '%*d' % (999999999, 1) }}",
    "{{ '%999999999d' | format(1) }}",
    "{{ ('a'*1000000) | replace('a', 'aaaaaaaaaaaaaaaaaaaa') }}",
    "{{ 'a' | center(999999999) }}",
    "{{ ('a\\n'*100) | indent(999999999) }}",
    "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('a') }}",
    "{% macro f() %}{% for i in range(100000) %}{{ 'a'*1000000 }}{% endfor %}"
    "{% endmacro %}{{ f() }}",
    "{% set x %}{% for i in range(100000) %}{{ 'a'*1000000 }}{% endfor %}"
    "{% endset %}{{ x | length }}",
    "{{ ('a'*9000000) + ('a'*9000000) }}",
    "{{ (2**90000) * (2**90000) }}",
    "{{ (1).to_bytes(10**9, 'big') | length }}",
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
]


@pytest.mark.parametrize("payload", EXHAUSTING)
def test_exhausting_payloads_fail_fast(cli, repo, monkeypatch, payload):
    monkeypatch.setenv("J1GITOPS_TEMPLATE_TIME_LIMIT", "1")
    write_template(repo, "# attack\n" + payload + "\n")
    started = time.monotonic()
    result = cli("validate", cwd=repo)
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    (line,) = errors(result)
    assert line.startswith("inventory/assets.yaml.j2:2:1: error: template ")
    assert line.endswith("[template]")
    assert "Traceback" not in result.stdout + result.stderr


def test_render_time_limit_names_it(cli, repo, monkeypatch):
    monkeypatch.setenv("J1GITOPS_TEMPLATE_TIME_LIMIT", "0.5")
    write_template(
        repo,
        "entities: []\n# loop\n"
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
        "{% endfor %}\n",
    )
    result = cli("validate", cwd=repo)
    (line,) = errors(result)
    assert line.startswith("inventory/assets.yaml.j2:3:1: error: ")
    assert "rendering timed out after 0.5 seconds" in line


def test_time_limit_variable_only_lowers(monkeypatch):
    monkeypatch.setenv("J1GITOPS_TEMPLATE_TIME_LIMIT", "1000")
    assert time_limit() == DEFAULT_TIME_LIMIT
    monkeypatch.setenv("J1GITOPS_TEMPLATE_TIME_LIMIT", "2.5")
    assert time_limit() == 2.5


def test_time_limit_off_the_main_thread(repo, monkeypatch):
    monkeypatch.setenv("J1GITOPS_TEMPLATE_TIME_LIMIT", "0.5")
    path = repo / "inventory/assets.yaml.j2"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# loop\n{% for i in range(100000) %}{% for j in range(1000) %}"
        "{{ j.real }}{% endfor %}{% endfor %}\n"
    )
    renderer = make_renderer(load_config(root=str(repo)))
    loaded = []
    worker = threading.Thread(
        target=lambda: loaded.append(renderer(str(path), "inventory/assets.yaml.j2"))
    )
    started = time.monotonic()
    worker.start()
    worker.join(timeout=30)
    assert time.monotonic() - started < 10
    (diagnostic,) = loaded[0].diagnostics
    assert "rendering timed out after 0.5 seconds" in diagnostic.message
    assert diagnostic.location.line == 2


def test_ordinary_string_methods_still_work(cli, repo):
    write_template(
        repo,
        "entities:\n"
        "  - _key: \"{{ 'a'.ljust(12, 'x') }}\"\n"
        "    _type: {{ '%s_%s' % ('acme', 'thing') }}\n"
        "    _class: {{ ', '.join(['Resource']) }}\n"
        "    name: {{ '{:>6}'.format('n') | trim }}{{ 'x' ~ 1 }}\n"
        "    displayName: {{ 'ab' | center(6) | trim }}\n",
    )
    result = cli("validate", cwd=repo)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_deeply_nested_data_file_names_it(cli, repo):
    (repo / "data/deep.json").write_text("[" * 100000 + "]" * 100000)
    (repo / "j1gitops.yaml").write_text("scope: s\ndata:\n  deep: data/deep.json\n")
    write_template(repo, "entities: []\n")
    result = cli("validate", cwd=repo)
    assert result.exit_code == 1
    (line,) = errors(result)
    assert "data file 'deep': data/deep.json: the JSON is nested too deeply" in line
