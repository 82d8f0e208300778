"""Local authorities: created by an administrator of the deployment (CLI), one per council."""

import re

from sqlmodel import Session, select

from ..reference import normalise_region
from ..refusals import Refused
from ..vocabulary import UnknownValue
from .models import LocalAuthority


class AuthorityError(Refused):
    """A local authority the rules refuse, or one that does not exist."""


def create_local_authority(db: Session, code: str, name: str, region: str, contact_email: str | None = None) -> LocalAuthority:
    code = code.strip()
    if not re.fullmatch(r"\d{3}", code):
        raise AuthorityError(f"LA code {code!r} must be the three-digit DfE code, e.g. 886 for Kent")
    if not name.strip():
        raise AuthorityError("Give the LA a name")
    try:
        region_code = normalise_region(region)
    except UnknownValue as error:
        raise AuthorityError(str(error)) from None
    if db.exec(select(LocalAuthority).where(LocalAuthority.code == code)).first():
        raise AuthorityError(f"An LA with code {code} already exists")
    la = LocalAuthority(code=code, name=name.strip(), region=region_code, contact_email=contact_email)
    db.add(la)
    db.flush()
    return la


def get_by_code(db: Session, code: str) -> LocalAuthority:
    la = db.exec(select(LocalAuthority).where(LocalAuthority.code == code.strip())).first()
    if la is None:
        raise AuthorityError(f"No LA with code {code!r}; create it with `audit-workflow la create`")
    return la
