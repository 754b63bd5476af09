"""Every setting the app reads must be documented in the README (a Datasette habit)."""
import re
import tomllib

from tests.apptest_helpers import ROOT

README = (ROOT / "README.md").read_text()
SOURCES = [p for d in ("analytics", "ui", "pages", "scripts", "tests") for p in (ROOT / d).rglob("*")
           if p.suffix in (".py", ".sh")] + [ROOT / "streamlit_app.py"]


def _environment_variables() -> set[str]:
    names = set()
    for path in SOURCES:
        text = path.read_text()
        names |= set(re.findall(r"environ(?:\.get)?\(\s*[\"']([A-Z_]+)[\"']", text))
        names |= set(re.findall(r"environ\[\s*[\"']([A-Z_]+)[\"']\s*\]", text))
        if path.suffix != ".py":  # shell parameter expansion; in Python ${X} is a string.Template field
            names |= set(re.findall(r"\$\{([A-Z_]+)(?::-[^}]*)?\}", text))
        names |= set(re.findall(r"_ENV\s*=\s*[\"']([A-Z_]+)[\"']", text))
    return names


def test_every_environment_variable_is_documented():
    names = _environment_variables()
    assert "BALL_COHORT_DB" in names  # the scan itself works
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert not missing, f"undocumented environment variables: {missing}"


def test_every_streamlit_config_option_is_documented():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    options = [f"{section}.{key}" for section, values in config.items() for key in values]
    missing = [o for o in options if f"`{o}`" not in README]
    assert not missing, f"undocumented .streamlit/config.toml options: {missing}"
