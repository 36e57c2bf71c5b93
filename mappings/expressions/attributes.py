"""The Entra user attributes an expression may read, and the "did you mean" for the ones it may not."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

# Graph user properties commonly mapped (Graph names, plus the directory-schema names Entra's mapping editor
# shows), and the provisioning service's pseudo-attributes.
ENTRA_USER_ATTRIBUTES: frozenset[str] = frozenset(
    """
    accountEnabled ageGroup appRoleAssignments businessPhones city companyName consentProvidedForMinor country
    createdDateTime creationType department displayName employeeHireDate employeeId employeeLeaveDateTime
    employeeOrgData.costCenter employeeOrgData.division employeeType externalUserState facsimileTelephoneNumber
    faxNumber givenName id immutableId IsSoftDeleted jobTitle lastPasswordChangeDateTime
    legalAgeGroupClassification mail mailNickname manager mobile mobilePhone netId objectId officeLocation
    onPremisesDistinguishedName onPremisesDomainName onPremisesImmutableId onPremisesSamAccountName
    onPremisesSecurityIdentifier onPremisesSyncEnabled onPremisesUserPrincipalName otherMails passwordPolicies
    physicalDeliveryOfficeName postalCode preferredDataLocation preferredLanguage proxyAddresses
    showInAddressList signInSessionsValidFromDateTime state streetAddress surname telephoneNumber
    usageLocation userPrincipalName userType
    """.split()
)

_EXTENSION = re.compile(r"extension_[0-9A-Fa-f]{32}_[A-Za-z0-9_]+|extensionAttribute(?:[1-9]|1[0-5])")


def is_extension_attribute(name: str) -> bool:
    """Directory extensions `extension_<appId without dashes>_<name>` and `extensionAttribute1`..`15`."""
    return _EXTENSION.fullmatch(name) is not None


def is_known_attribute(name: str, known: Iterable[str] | None = None) -> bool:
    return name in (ENTRA_USER_ATTRIBUTES if known is None else known) or is_extension_attribute(name)


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate the author most likely meant: same name in another case first, then the closest one."""
    pool = list(candidates)
    lowered = name.lower()
    for candidate in pool:
        if candidate.lower() == lowered:
            return candidate
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.75) or difflib.get_close_matches(
        lowered, [c.lower() for c in pool], n=1, cutoff=0.75
    )
    if not close:
        return None
    return next((c for c in pool if c == close[0] or c.lower() == close[0]), None)
