"""dbt vars reach SQL only through checked macros: a var that carries SQL is refused."""

import json
import subprocess
from pathlib import Path

import pytest

from klant.settings import dbt_vars
from tests.conftest import dbt_compile


def compile_segment(tmp_path: Path, as_of: str) -> subprocess.CompletedProcess:
    return dbt_compile("cart_abandoners", tmp_path, "--vars", json.dumps({"klant__as_of": as_of}))


def test_a_well_formed_as_of_becomes_a_timestamp(tmp_path: Path):
    done = compile_segment(tmp_path, "2026-11-29 00:00:00")
    assert done.returncode == 0, done.stdout[-2000:]
    compiled = next(tmp_path.rglob("cart_abandoners.sql")).read_text()
    assert "cast('2026-11-29 00:00:00' as timestamp)" in compiled


@pytest.mark.parametrize(
    "as_of", ["2026-11-29'; drop table raw.crm_contacts;--", "now()", "2026-11-29 00:00:00 or 1=1"]
)
def test_an_as_of_carrying_sql_is_refused(tmp_path: Path, as_of: str):
    done = compile_segment(tmp_path, as_of)
    assert done.returncode != 0
    assert "klant__as_of must look like" in done.stdout
    assert not list(tmp_path.rglob("cart_abandoners.sql"))


def test_klant_as_of_in_the_environment_becomes_the_var(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KLANT_VISITOR_RETENTION_DAYS", raising=False)
    monkeypatch.setenv("KLANT_AS_OF", " 2026-12-01 ")
    assert dbt_vars() == {"klant__as_of": "2026-12-01", "klant__visitor_retention_days": 90}
    monkeypatch.setenv("KLANT_AS_OF", "")
    assert dbt_vars() == {"klant__visitor_retention_days": 90}


def test_the_visitor_retention_reaches_the_models(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KLANT_VISITOR_RETENTION_DAYS", "30")
    assert dbt_vars()["klant__visitor_retention_days"] == 30
    for bad in ("0", "2.5", "ninety"):
        monkeypatch.setenv("KLANT_VISITOR_RETENTION_DAYS", bad)
        with pytest.raises(ValueError, match="KLANT_VISITOR_RETENTION_DAYS"):
            dbt_vars()
