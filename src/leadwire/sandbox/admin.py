"""Administration of the sandbox: apps, users, ad accounts, the demo world, tokens.

Used by the CLI (`leadwire sandbox ...`), by `leadwire up`, and by the tests. Every function
leaves committing to the caller.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.connectors.pinterest.leads import FieldType, QuestionType
from leadwire.sandbox import oauth
from leadwire.sandbox.ids import new_id
from leadwire.sandbox.keys import hash_secret
from leadwire.sandbox.models import Ad, AdAccount, AdGroup, App, Campaign, LeadForm, UserAccount
from leadwire.sandbox.oauth import GrantType, IssuedToken
from leadwire.settings import Settings

DEMO_USERNAME = "leadwire-demo"
DEMO_APP_NAME = "leadwire demo app"
DEMO_ACCOUNT_NAME = "leadwire demo ad account"
LEAD_SCOPES = ("ads:read", "ads:write")
# `leadwire up` and `sandbox demo` hand out a token that outlives any session of work.
LONG_LIVED_S = 365 * 86_400


@dataclass(frozen=True)
class IssuedApp:
    """An app as shown once: its client id and secret."""

    id: str
    secret: str


@dataclass(frozen=True)
class DemoAd:
    """A demo lead ad and the form it collects with."""

    ad_id: str
    lead_form_id: str
    name: str


@dataclass(frozen=True)
class DemoHierarchy:
    """The ids of a demo campaign → ad group → lead ads → lead forms."""

    campaign_id: str
    ad_group_id: str
    ads: tuple[DemoAd, ...]


@dataclass(frozen=True)
class DemoWorld:
    """Everything `sandbox demo` creates or finds, and a fresh token."""

    app: IssuedApp
    user_id: str
    ad_account_id: str
    hierarchy: DemoHierarchy
    token: IssuedToken


def _new_secret() -> str:
    return secrets.token_hex(20)


def create_user(session: Session, username: str) -> UserAccount:
    """Create a sandbox user."""
    user = UserAccount(id=new_id(), username=username)
    session.add(user)
    session.flush()
    return user


def create_app(
    session: Session,
    name: str,
    *,
    owner_id: str | None = None,
    redirect_uris: tuple[str, ...] = (),
) -> IssuedApp:
    """Create an app; its secret is returned once and stored only as a hash."""
    for uri in redirect_uris:
        if not uri.startswith(("http://", "https://")):
            raise ValueError(f"redirect URI {uri!r} is not an http(s) URL")
    if owner_id is not None and session.get(UserAccount, owner_id) is None:
        raise ValueError(f"no sandbox user with id {owner_id}")
    secret = _new_secret()
    app = App(
        id=new_id(),
        name=name,
        owner_id=owner_id,
        secret_hash=hash_secret(secret),
        redirect_uris=list(redirect_uris),
    )
    session.add(app)
    session.flush()
    return IssuedApp(app.id, secret)


def rotate_app_secret(session: Session, app_id: str) -> IssuedApp:
    """Give an app a new secret (the old one stops working)."""
    app = session.get(App, app_id)
    if app is None:
        raise ValueError(f"no sandbox app with id {app_id}")
    secret = _new_secret()
    app.secret_hash = hash_secret(secret)
    return IssuedApp(app.id, secret)


def create_ad_account(
    session: Session, owner_id: str, name: str, *, country: str = "US", currency: str = "USD"
) -> AdAccount:
    """Create an ad account owned by a user."""
    account = AdAccount(
        id=new_id(), owner_id=owner_id, name=name, country=country, currency=currency
    )
    session.add(account)
    session.flush()
    return account


def _custom(field: FieldType, label: str, options: list[str] | None) -> dict[str, Any]:
    return {
        "question_type": QuestionType.CUSTOM.value,
        "custom_question_field_type": field.value,
        "custom_question_label": label,
        "custom_question_options": options,
    }


def demo_forms() -> list[tuple[str, list[dict[str, Any]]]]:
    """Return two forms that together ask every question type and every custom field type.

    Two, because the spec caps a form at 10 questions and there are 13 standard types plus
    4 custom field types.
    """
    contact = [
        QuestionType.FIRST_NAME,
        QuestionType.LAST_NAME,
        QuestionType.EMAIL,
        QuestionType.PHONE_NUMBER,
        QuestionType.ZIP_CODE,
        QuestionType.CITY,
        QuestionType.STATE_PROVINCE,
        QuestionType.COUNTRY,
        QuestionType.GENDER,
        QuestionType.AGE,
    ]
    project = [
        QuestionType.FULL_NAME,
        QuestionType.EMAIL,
        QuestionType.PHONE_NUMBER,
        QuestionType.ADDRESS,
        QuestionType.DATE_OF_BIRTH,
    ]
    return [
        ("Demo contact form", [{"question_type": t.value} for t in contact]),
        (
            "Demo project request form",
            [{"question_type": t.value} for t in project]
            + [
                _custom(FieldType.TEXT_FIELD, "Company name", None),
                _custom(FieldType.TEXT_AREA, "What are you looking for?", None),
                _custom(
                    FieldType.RADIO_LIST,
                    "Budget",
                    ["Under $1,000", "$1,000 to $5,000", "Over $5,000"],
                ),
                _custom(
                    FieldType.CHECKBOX,
                    "Interests",
                    ["Kitchens", "Bathrooms", "Gardens", "Lighting"],
                ),
            ],
        ),
    ]


def create_demo_hierarchy(session: Session, ad_account_id: str) -> DemoHierarchy:
    """Create a campaign → ad group → two lead ads, each collecting with its own lead form."""
    campaign = Campaign(id=new_id(), ad_account_id=ad_account_id, name="Demo lead campaign")
    session.add(campaign)
    session.flush()
    group = AdGroup(
        id=new_id(), ad_account_id=ad_account_id, campaign_id=campaign.id, name="Demo ad group"
    )
    session.add(group)
    session.flush()
    ads: list[DemoAd] = []
    for name, questions in demo_forms():
        form = LeadForm(
            id=new_id(),
            ad_account_id=ad_account_id,
            name=name,
            status="ACTIVE",
            privacy_policy_link="https://example.com/privacy",
            has_accepted_terms=True,
            completion_message="Thanks! We will be in touch within a day.",
            disclosure_language="By submitting you agree to be contacted about your request.",
            questions=questions,
            policy_links=[{"label": "Terms", "link": "https://example.com/terms"}],
        )
        session.add(form)
        session.flush()
        ad = Ad(
            id=new_id(),
            ad_account_id=ad_account_id,
            campaign_id=campaign.id,
            ad_group_id=group.id,
            lead_form_id=form.id,
            name=f"{name} ad",
            pin_id=new_id(),
        )
        session.add(ad)
        session.flush()
        ads.append(DemoAd(ad.id, form.id, ad.name))
    return DemoHierarchy(campaign.id, group.id, tuple(ads))


def issue_token(
    session: Session,
    settings: Settings,
    *,
    app_id: str,
    user_id: str,
    scopes: tuple[str, ...] = LEAD_SCOPES,
    ttl_s: int = LONG_LIVED_S,
) -> IssuedToken:
    """Issue a user token without the browser dance (for `leadwire up` and the demo)."""
    if session.get(App, app_id) is None:
        raise ValueError(f"no sandbox app with id {app_id}")
    if session.get(UserAccount, user_id) is None:
        raise ValueError(f"no sandbox user with id {user_id}")
    return oauth.issue_token(
        session,
        settings,
        app_id=app_id,
        user_id=user_id,
        scope=",".join(oauth.parse_scopes(",".join(scopes))),
        grant_type=GrantType.ADMIN,
        access_ttl_s=ttl_s,
    )


def demo_world(session: Session, settings: Settings) -> DemoWorld:
    """Find or create the demo user, app, ad account and hierarchy; rotate the app's secret
    (so it can be shown) and issue a fresh long-lived token."""
    user = session.scalar(select(UserAccount).where(UserAccount.username == DEMO_USERNAME))
    user = user or create_user(session, DEMO_USERNAME)
    app = session.scalar(select(App).where(App.name == DEMO_APP_NAME, App.owner_id == user.id))
    issued = (
        rotate_app_secret(session, app.id)
        if app is not None
        else create_app(session, DEMO_APP_NAME, owner_id=user.id)
    )
    account = session.scalar(
        select(AdAccount).where(AdAccount.owner_id == user.id, AdAccount.name == DEMO_ACCOUNT_NAME)
    )
    account = account or create_ad_account(session, user.id, DEMO_ACCOUNT_NAME)
    lead_ads = session.scalars(
        select(Ad)
        .where(Ad.ad_account_id == account.id, Ad.lead_form_id.is_not(None))
        .order_by(Ad.id)
    ).all()
    if lead_ads:
        first = lead_ads[0]
        hierarchy = DemoHierarchy(
            first.campaign_id,
            first.ad_group_id,
            tuple(DemoAd(a.id, a.lead_form_id or "", a.name) for a in lead_ads),
        )
    else:
        hierarchy = create_demo_hierarchy(session, account.id)
    token = issue_token(session, settings, app_id=issued.id, user_id=user.id)
    return DemoWorld(issued, user.id, account.id, hierarchy, token)
