"""A deterministic tenant: N assigned Entra users with the awkward cases real directories have, the enterprise
app's service principal with roles named after Salesforce profiles, and a sandbox with some matching users."""

from __future__ import annotations

import random
import unicodedata
from typing import Any

from emulators.entra.state import DEFAULT_ACCESS, EXTENSION_ATTRIBUTES, Client, EntraState, SignInApplication
from emulators.ids import guid
from emulators.salesforce.state import PROFILES, SalesforceState

DOMAIN = "contoso.onmicrosoft.com"
SANDBOX_SUFFIX = "uat"
FIRST = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Mia", "Elijah", "Sophia", "James", "Isabella", "Mateo",
    "Amelia", "Henry", "Harper", "Theodore", "Evelyn", "Jack", "Aisha", "Mohammed", "Priya", "Arjun", "Mei", "Hiroshi",
    "José", "Zoë", "Björn", "Renée", "François", "Søren", "Łukasz", "Chloé", "Siobhán", "Ingrid", "Kwame", "Fatima",
    "Dmitri", "Ana", "Lars", "Nadia", "Omar", "Yuki", "Carlos", "Grace", "Ethan", "Lena", "Marco", "Sara",
)  # fmt: skip
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson",
    "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker",
    "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Müller",
    "García", "Núñez", "O'Brien", "D'Souza", "O'Neil", "Nakamura", "Kowalski", "Johansson", "van der Berg",
    "Ødegård", "Dubois", "Rossi", "Okafor", "Haddad", "Patel", "Chen",
)  # fmt: skip
DEPARTMENTS = ("Sales", "Marketing", "Support", "Finance", "Engineering", "Operations", "Legal", "HR")
TITLES = {
    "Sales": ("Account Executive", "Sales Manager", "Sales Development Rep"),
    "Marketing": ("Marketing Specialist", "Campaign Manager"), "Support": ("Support Engineer", "Support Lead"),
    "Finance": ("Accountant", "Controller"), "Engineering": ("Software Engineer", "Engineering Manager"),
    "Operations": ("Operations Analyst",), "Legal": ("Counsel",), "HR": ("HR Partner", "Recruiter"),
}  # fmt: skip
PLACES = (("London", "United Kingdom", "GB", "en-GB"), ("Seattle", "United States", "US", "en-US"),
          ("Berlin", "Germany", "DE", "de-DE"), ("Paris", "France", "FR", "fr-FR"), ("Madrid", "Spain", "ES", "es-ES"),
          ("Amsterdam", "Netherlands", "NL", "nl-NL"), ("São Paulo", "Brazil", "BR", "pt-BR"),
          ("Tokyo", "Japan", "JP", "ja-JP"), ("New York", "United States", "US", "en-US"))  # fmt: skip
DIRECT_ROLES = (("Standard User", 50), ("Chatter Free User", 15), ("Sales Representative", 10), ("Read Only", 5),
                ("Marketing User", 5), ("System Administrator", 2), (None, 8))  # fmt: skip


def ascii_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in folded if not unicodedata.combining(c))


def _person(rng: random.Random, i: int, used: set[str]) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = ascii_fold(f"{first}.{last}").lower().replace(" ", "")
    base, n = local, 1
    while local in used:
        n += 1
        local = f"{base}{n}"
    used.add(local)
    dept = DEPARTMENTS[i % len(DEPARTMENTS)]
    city, country, usage, language = PLACES[rng.randrange(len(PLACES))]
    upn = f"{local}@{DOMAIN}"
    return {
        "id": guid("user", f"{i}"), "userPrincipalName": upn, "mail": upn.replace(DOMAIN, "contoso.com"),
        "givenName": first, "surname": last, "displayName": f"{first} {last}", "department": dept,
        "jobTitle": rng.choice(TITLES[dept]), "city": city, "country": country, "usageLocation": usage,
        "preferredLanguage": language, "employeeId": f"E{100000 + i}", "mailNickname": local.replace("'", ""),
        "companyName": "Contoso", "businessPhones": [f"+1 425 555 {1000 + i % 9000:04d}"] if i % 3 else [],
        "mobilePhone": f"+1 206 555 {2000 + i % 7000:04d}" if i % 4 == 0 else None, "officeLocation": f"{city} HQ",
        "employeeOrgData": {"costCenter": f"CC-{100 + i % 7}", "division": dept},
        "onPremisesExtensionAttributes": {**dict.fromkeys(EXTENSION_ATTRIBUTES),
                                          "extensionAttribute1": "Contractor" if i % 5 == 0 else "Employee"},
    }  # fmt: skip


def build_entra(users: int, domain: str = DOMAIN) -> EntraState:
    """`users` assigned users plus a few unassigned, nested-only and soft-deleted ones."""
    rng = random.Random(1729)
    state = EntraState(tenant_id=guid("tenant", domain), domain=domain)
    state.verified_domains, state.default_domain = [domain, "contoso.com"], "contoso.com"
    client = Client(guid("client", "provisioning-console"), "emu~Secret.8Q~vJ2kLmN0pQrStUvWxYz", "Provisioning console")
    state.clients[client.client_id] = client
    _add_console_signin(state)
    sp_id = guid("serviceprincipal", "salesforce-sandbox")
    state.service_principal = {
        "id": sp_id, "appId": guid("application", "salesforce-sandbox"), "displayName": "Salesforce Sandbox",
        "servicePrincipalType": "Application", "accountEnabled": True,
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
        "appRoles": [{"allowedMemberTypes": ["User"], "description": f"Salesforce profile {name}", "displayName": name,
                      "id": guid("approle", name), "isEnabled": True, "origin": "Application", "value": name}
                     for name, _, _ in PROFILES],
    }  # fmt: skip
    used: set[str] = set()
    extras = max(4, users // 25)
    people = [_person(rng, i, used) for i in range(users + extras)]
    # a directory extension that an HR synchronisation app registered and fills for most users
    badge = state.register_extension_property(guid("application", "hr-sync"), "badgeNumber", app_display_name="HR sync")
    for i, p in enumerate(people):
        if i % 6:
            p[badge["name"]] = f"B{70000 + i}"
    # awkward cases, at fixed positions so tests can rely on them
    for i, p in enumerate(people):
        if i % 17 == 5:
            p["mail"] = None
        if i % 23 == 7:
            p["accountEnabled"] = False
    for p in people:
        state.add_user(p)
    ids = [p["id"] for p in people]
    for i in range(1, len(ids)):
        if i % 10:
            state.managers[ids[i]] = ids[(i // 10) * 10]
    assigned, extra = ids[:users], ids[users:]
    sales_n, support_n = max(1, users // 10), max(1, users // 20)
    sales, support, direct = (
        assigned[:sales_n],
        assigned[sales_n : sales_n + support_n],
        assigned[sales_n + support_n :],
    )
    interns = state.add_group(guid("group", "sales-interns"), "Sales Interns", extra[:2])
    sales_team = state.add_group(guid("group", "sales-team"), "Sales Team", [*sales, interns["id"]])
    support_team = state.add_group(guid("group", "support-team"), "Support Team", list(support))
    state.add_group(guid("group", "all-staff"), "All Staff", [sales_team["id"], support_team["id"], *direct[:5]])
    state.assign(sales_team["id"], "Sales Representative")
    state.assign(support_team["id"], "Support Agent")
    weights = [w for _, w in DIRECT_ROLES]
    for n, uid in enumerate(direct):
        if n == 0:  # one user with two roles (SingleAppRoleAssignment must fail for them)
            state.assign(uid, "Standard User")
            state.assign(uid, "Marketing User")
        else:
            state.assign(uid, rng.choices(DIRECT_ROLES, weights)[0][0])
    # soft-deleted users that were assigned; unassigned users stay as they are
    for uid in extra[2:4]:
        state.assign(uid, "Standard User")
        state.soft_delete(uid)
    state.audit_log.clear()  # the seeded assignments are older than the audit log's retention
    return state


# The console's own app registration, which people sign in to; its app roles are the console's two roles.
SIGNIN_APP_ROLES = (("ApplicationAdministrator", "Application Administrator"), ("ReportsReader", "Reports Reader"))


def _add_console_signin(state: EntraState) -> None:
    secret = "emu~SignIn.3F~qW8eRt5yUi0oPaSdFgHjKl"
    client = Client(guid("client", "console-signin"), secret, "Provisioning console sign-in")
    state.clients[client.client_id] = client
    state.signin_applications[client.client_id] = SignInApplication(
        client_id=client.client_id,
        display_name="Provisioning console",
        app_roles=[{"allowedMemberTypes": ["User"], "description": f"{name} of the provisioning console",
                    "displayName": name, "id": guid("consolerole", value), "isEnabled": True, "value": value}
                   for value, name in SIGNIN_APP_ROLES],
    )  # fmt: skip


def build_salesforce(entra: EntraState | None = None, suffix: str = SANDBOX_SUFFIX) -> SalesforceState:
    """The sandbox org, with every 10th live assigned Entra user already present (some stale, some inactive) and one
    username taken in another org."""
    state = SalesforceState()
    if entra is None:
        return state
    profiles = {p["Name"]: pid for pid, p in state.profiles.items()}
    users = list(entra.users.values())
    for n, user in enumerate(users[::10]):
        username = f"{user['userPrincipalName']}.{suffix}"
        alias = ascii_fold(user["userPrincipalName"])[:8]
        state.insert_user({
            "Username": username, "FirstName": user["givenName"], "LastName": user["surname"],
            "Email": f"{user['mail'] or user['userPrincipalName']}.{suffix}", "Alias": alias,
            "TimeZoneSidKey": "Europe/London", "LocaleSidKey": "en_US", "EmailEncodingKey": "ISO-8859-1",
            "LanguageLocaleKey": "en_US", "ProfileId": profiles["Standard User"], "IsActive": n % 7 != 3,
            "Department": user["department"] if n % 2 else "Old department", "Title": user["jobTitle"],
            "FederationIdentifier": user["userPrincipalName"],
        })  # fmt: skip
    if len(users) > 3:
        state.taken_elsewhere.add(f"{users[3]['userPrincipalName']}.{suffix}".lower())
    return state


__all__ = ["DEFAULT_ACCESS", "build_entra", "build_salesforce"]
