"""Deployment settings: optional sign-in gate (st.login, OIDC) with an e-mail/domain allow-list,
the public-deployment switch and small-cell suppression. All OFF by default (a laptop).

Settings come from `.streamlit/secrets.toml` (section `[access]`) and, for the two switches a
container is usually configured with, from environment variables (which win):

    [access]
    require_login = true                 # the gate; needs Streamlit's [auth] section too
    provider = "institution"             # optional: which [auth.<provider>] to use
    allowed_emails = ["ana@lab.org"]     # case-insensitive
    allowed_domains = ["hospital.org"]   # exact domain after the @ (no subdomains)
    public = false                       # or BALL_PUBLIC_DEPLOYMENT=1
    small_cell_k = 0                     # or BALL_SMALL_CELL_K=5: counts 1..k-1 shown as "<k"

A user is let in only when signed in, with a verified e-mail (when the identity provider says
so) that is on the list or in a listed domain: both lists empty means nobody (deny by default).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from ui.text import md_escape

PUBLIC_ENV = "BALL_PUBLIC_DEPLOYMENT"
SMALL_CELL_ENV = "BALL_SMALL_CELL_K"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessSettings:
    require_login: bool = False
    provider: str | None = None
    allowed_emails: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    public: bool = False
    small_cell_k: int = 0


def _secrets_section() -> dict:
    try:
        section = st.secrets.get("access", {})
    except StreamlitSecretNotFoundError:  # no secrets.toml at all: a laptop
        return {}
    return dict(section) if section else {}


def _as_int(value, name: str) -> int:
    try:
        k = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if k < 0:
        raise ValueError(f"{name} must be 0 (off) or more, not {k}")
    return k


def _as_public(value, name: str) -> bool:
    """A public-deployment switch that fails closed: only a recognised "off" value (0, false,
    no, off) means not public; any other value (`enabled`, `ture`, `2`) means public, logged.

    >>> [_as_public(v, "x") for v in ("1", "true", "On", "0", "false", "off", "enabled", False, True)]
    [True, True, True, False, False, False, True, False, True]
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    _LOGGER.warning("%s=%r is not one of %s (on) or %s (off): treated as public (patient-level "
                    "views hidden)", name, value, sorted(_TRUE), sorted(_FALSE))
    return True


def settings() -> AccessSettings:
    """The deployment's settings. Raises ValueError for a setting that cannot be honoured
    (`gate` then refuses to serve anything)."""
    section = _secrets_section()
    public = _as_public(section.get("public", False), "[access] public")
    if os.environ.get(PUBLIC_ENV, "").strip():
        public = _as_public(os.environ[PUBLIC_ENV], PUBLIC_ENV)
    k = _as_int(section.get("small_cell_k", 0), "[access] small_cell_k")
    if os.environ.get(SMALL_CELL_ENV):
        k = _as_int(os.environ[SMALL_CELL_ENV], SMALL_CELL_ENV)
    return AccessSettings(
        require_login=bool(section.get("require_login", False)),
        provider=section.get("provider") or None,
        allowed_emails=tuple(str(e).strip().lower() for e in section.get("allowed_emails", ())),
        allowed_domains=tuple(str(d).strip().lower().lstrip("@") for d in section.get("allowed_domains", ())),
        public=public, small_cell_k=k)


def is_allowed(email: str | None, config: AccessSettings, email_verified: bool | None = None) -> bool:
    """Pure allow-list check.

    >>> s = AccessSettings(True, None, ("ana@lab.org",), ("hospital.org",))
    >>> [is_allowed(e, s) for e in ("Ana@Lab.org", "bo@hospital.org", "bo@evil-hospital.org",
    ...                             "bo@sub.hospital.org", None, "")]
    [True, True, False, False, False, False]
    >>> is_allowed("ana@lab.org", s, email_verified=False)
    False
    """
    if not email or "@" not in email or email_verified is False:
        return False
    email = email.strip().lower()
    return email in config.allowed_emails or email.rsplit("@", 1)[1] in config.allowed_domains


def public_mode() -> bool:
    """Patient-level tables and row downloads are hidden (checked by the pages)."""
    return settings().public


def small_cell_k() -> int:
    return settings().small_cell_k


def gate() -> None:
    """Stop the script before any data is read unless the user may see it (when the gate is on),
    or when the deployment's settings are invalid (nothing is served until they are fixed)."""
    try:
        config = settings()
    except ValueError as error:
        st.title("Lenalidomide-associated B-ALL cohort")
        st.error(f"This deployment's settings are invalid: {md_escape(error)}. Nothing is shown "
                 "until they are fixed (README, Settings).", icon=":material/settings_alert:")
        st.stop()
    if not config.require_login:
        return
    user = st.user
    if not user.is_logged_in:
        st.title("Lenalidomide-associated B-ALL cohort")
        st.info("This deployment is restricted to invited collaborators. Sign in with your "
                "institutional account.", icon=":material/lock:")
        st.button("Sign in", icon=":material/login:", type="primary", key="access_login",
                  on_click=st.login, args=(config.provider,) if config.provider else ())
        st.stop()
    email = user.get("email")
    if not is_allowed(email, config, user.get("email_verified")):
        st.title("Lenalidomide-associated B-ALL cohort")
        st.error(f"The account {md_escape(email) if email else '(no e-mail address)'} is not on this deployment's "
                 "allow-list. Ask the cohort's owner to add your e-mail address or domain.",
                 icon=":material/block:")
        st.button("Sign out", icon=":material/logout:", key="access_logout_denied", on_click=st.logout)
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as {md_escape(email)}")
        st.button("Sign out", icon=":material/logout:", key="access_logout", on_click=st.logout)
