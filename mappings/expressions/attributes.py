"""The Entra user attributes an expression may read, and the "did you mean" for the ones it may not."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Entra's own list of user attributes: Graph user properties commonly mapped (Graph names, plus the directory-schema
# names Entra's mapping editor shows, extensionAttribute1-15 among them), and the provisioning service's
# pseudo-attributes. An application's list adds directory extensions and typed names (mappings.directory.attributes).
ENTRA_USER_ATTRIBUTES: frozenset[str] = frozenset(
    """
    accountEnabled ageGroup appRoleAssignments businessPhones city companyName consentProvidedForMinor country
    createdDateTime creationType department displayName employeeHireDate employeeId employeeLeaveDateTime
    employeeOrgData.costCenter employeeOrgData.division employeeType externalUserState facsimileTelephoneNumber
    faxNumber givenName id immutableId IsSoftDeleted jobTitle lastPasswordChangeDateTime
    legalAgeGroupClassification mail mailNickname manager mobile mobilePhone objectId officeLocation
    onPremisesDistinguishedName onPremisesDomainName onPremisesImmutableId onPremisesSamAccountName
    onPremisesSecurityIdentifier onPremisesSyncEnabled onPremisesUserPrincipalName otherMails passwordPolicies
    physicalDeliveryOfficeName postalCode preferredDataLocation preferredLanguage proxyAddresses
    showInAddressList signInSessionsValidFromDateTime state streetAddress surname telephoneNumber
    usageLocation userPrincipalName userType
    """.split()
) | frozenset(f"extensionAttribute{n}" for n in range(1, 16))


# What to do about an attribute missing from the list (directory extensions must be added, as in Entra).
ADD_TO_LIST = "add it to the list first (Mappings > Show advanced options > Edit attribute list for Microsoft Entra ID)"


def is_known_attribute(name: str, known: Iterable[str] | None = None) -> bool:
    """Whether `name` is in the attribute list (`known`; Entra's own list when None). A directory extension is
    known only once added to the application's list, as in Entra."""
    return name in (ENTRA_USER_ATTRIBUTES if known is None else known)


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
