"""Warehouse credentials come only from environment variables, never from the repository."""

import re

import pytest
import yaml

from klant.settings import DBT_PROJECT_DIR, REPO_ROOT

# what a dbt profile field may hold: one env_var() call, with a local default, maybe a filter
ENV_VAR = re.compile(
    r"\{\{\s*env_var\('(?P<name>KLANT_[A-Z_]+)'(?:,\s*'(?P<default>[^']*)')?\)"
    r"(?:\s*\|\s*as_number)?\s*\}\}"
)
# the connection fields of each adapter we ship a profile for
CREDENTIAL_FIELDS = {
    "postgres": {"host", "port", "user", "password", "dbname"},
    "duckdb": {"path"},
}
# fields that are not connection settings (a constant is fine there)
PLAIN_FIELDS = {"type", "threads", "schema"}
# a password, secret or key written into a file: a quoted literal, an unquoted YAML or shell
# value (not a $VARIABLE, a {{ template }} or a Python type), or a URL with user:password@
SECRET_NAME = (
    r"(?i)(?<![a-z0-9])(?:(?:pg)?password|passwd|secret|api_?key|access_?key|auth_?token)"
    r"(?![a-z0-9_])"
)
HARD_CODED = [
    re.compile(SECRET_NAME + r"""["']?\s*[:=]\s*(?P<quote>["'])(?![{$])[^"']+(?P=quote)"""),
    re.compile(
        SECRET_NAME + r"""\s*(=|:\s)\s*(?![{$"'\s]|(str|int|bool|None)\s*$)[\w@#%^&*!+/.-]+\s*$"""
    ),
    re.compile(r"""(?i)\b[a-z][a-z0-9+.-]*://[^\s/:@"']+:[^\s/@"'{$]+@"""),
]
SCANNED = ["orchestration", "dbt_project", ".ci", "Makefile", "pyproject.toml", "expectations"]
SKIPPED_DIRS = {"target", "logs", "dbt_packages", "__pycache__"}


def profile_outputs() -> dict[str, dict]:
    profiles = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    return profiles["klant"]["outputs"]


def test_every_profile_credential_comes_from_an_environment_variable():
    outputs = profile_outputs()
    assert {output["type"] for output in outputs.values()} == set(CREDENTIAL_FIELDS)
    for name, output in outputs.items():
        for field in CREDENTIAL_FIELDS[output["type"]]:
            value = str(output.get(field, ""))
            assert ENV_VAR.fullmatch(value), f"{name}.{field} is not read from env_var: {value}"
        unexpected = set(output) - CREDENTIAL_FIELDS[output["type"]] - PLAIN_FIELDS
        for field in unexpected:  # a new field (a key file, a token) must come from env_var too
            values = output[field] if isinstance(output[field], dict) else {"": output[field]}
            for key, value in values.items():  # DuckDB `settings`: each one from env_var
                where = f"{name}.{field}" + (f".{key}" if key else "")
                assert ENV_VAR.fullmatch(str(value)), f"{where} is not read from env_var: {value}"


def test_the_postgres_profile_reads_klant_pg_variables_with_no_default_password():
    postgres = next(o for o in profile_outputs().values() if o["type"] == "postgres")
    names = {
        field: ENV_VAR.fullmatch(str(postgres[field])) for field in CREDENTIAL_FIELDS["postgres"]
    }
    assert {field: match["name"] for field, match in names.items()} == {
        "host": "KLANT_PG_HOST",
        "port": "KLANT_PG_PORT",
        "user": "KLANT_PG_USER",
        "password": "KLANT_PG_PASSWORD",
        "dbname": "KLANT_PG_DATABASE",
    }
    assert not names["password"]["default"], "the password's default must be empty"


@pytest.mark.parametrize(
    "line",
    [
        "password: hunter2",
        'PGPASSWORD="s3cret" psql',
        "dsn = 'postgresql://klant:s3cret@db:5432/klant'",
        "api_key = 'abc123'",
        "export KLANT_PG_PASSWORD=s3cret",
    ],
)
def test_the_scan_finds_a_hard_coded_credential(line: str):
    assert any(pattern.search(line) for pattern in HARD_CODED)


@pytest.mark.parametrize(
    "line",
    [
        "password: \"{{ env_var('KLANT_PG_PASSWORD', '') }}\"",
        'password = os.environ["KLANT_PG_PASSWORD"]',
        "PGPASSWORD=$KLANT_PG_PASSWORD psql",
        'token = f"{rng.getrandbits(96):024x}"',
        "    password: str",
        'password: ""',
    ],
)
def test_the_scan_passes_credentials_read_from_the_environment(line: str):
    assert not any(pattern.search(line) for pattern in HARD_CODED)


def test_no_credential_is_hard_coded_in_the_repository():
    found = []
    for entry in SCANNED:
        root = REPO_ROOT / entry
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in files:
            if not path.is_file() or SKIPPED_DIRS & set(path.relative_to(REPO_ROOT).parts):
                continue
            if path.suffix not in {"", ".py", ".sql", ".yml", ".yaml", ".toml", ".sh", ".cfg"}:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), 1):
                if any(pattern.search(line) for pattern in HARD_CODED):
                    found.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert not found, "hard-coded credentials:\n" + "\n".join(found)
