"""Matching against the index of the org's users that an initial cycle over many new users reads once."""

from __future__ import annotations

from provisioning.engine.items import WorkItem
from provisioning.engine.matcher import Matcher


class Org:
    """A Salesforce org of a few users that counts the queries made of it."""

    def __init__(self, users: list[dict]) -> None:
        self.users = users
        self.queries: list[str] = []

    def query(self, soql: str):
        self.queries.append(soql)
        fields = [name.strip() for name in soql.split("SELECT", 1)[1].split("FROM", 1)[0].split(",")]
        return [{name: user.get(name) for name in fields} for user in self.users]

    def find_users(self, field, values, fields):
        self.queries.append(f"find {field}")
        wanted = {str(v).lower() for v in values}
        return [{n: u.get(n) for n in fields} for u in self.users if str(u.get(field, "")).lower() in wanted]


class Profiles:
    def name_of(self, profile_id):
        return {"00e1": "Standard User"}.get(profile_id)


USERS = [
    {
        "Id": "0051",
        "Username": "ada@contoso.com.uat",
        "Email": "ada@contoso.com",
        "IsActive": True,
        "ProfileId": "00e1",
    },
    {"Id": "0052", "Username": "bo@contoso.com.uat", "Email": "bo@x.com", "IsActive": False, "ProfileId": "00e1"},
    {"Id": "0053", "Username": "dup@contoso.com.uat", "Email": "d@x.com", "IsActive": True, "ProfileId": "00e1"},
    {"Id": "0054", "Username": "DUP@contoso.com.uat", "Email": "d2@x.com", "IsActive": True, "ProfileId": "00e1"},
]
FIELDS = ["Id", "IsActive", "ProfileId", "Username", "Email"]


def _match(matcher: Matcher, usernames: dict[str, str]) -> dict[str, WorkItem]:
    items = {source: WorkItem(source_id=source, user={}) for source in usernames}
    matcher.match(list(items.values()), {s: [("Username", name)] for s, name in usernames.items()})
    return items


def test_users_matched_through_the_index_cost_no_query_and_carry_what_a_lookup_would_give():
    wanted = {"a": "Ada@contoso.com.uat", "b": "bo@contoso.com.uat", "n": "new@contoso.com.uat"}
    looked_up = _match(Matcher(Org(USERS), FIELDS, Profiles()), wanted)
    org = Org(USERS)
    indexed = Matcher(org, FIELDS, Profiles())
    indexed.build_index(["Username"])
    read = len(org.queries)
    found = _match(indexed, wanted)
    assert len(org.queries) == read == 1
    for source in wanted:
        assert (found[source].target_id, found[source].target, found[source].match_note) == (
            looked_up[source].target_id,
            looked_up[source].target,
            looked_up[source].match_note,
        )
    assert found["a"].target.values == {"Username": "ada@contoso.com.uat", "Email": "ada@contoso.com",
                                        "ProfileName": "Standard User"}  # fmt: skip
    assert found["b"].target.active is False and found["n"].target is None


def test_two_org_users_with_the_same_value_in_the_index_fail_the_match():
    org = Org(USERS)
    matcher = Matcher(org, FIELDS, Profiles())
    matcher.build_index(["Username"])
    item = _match(matcher, {"d": "dup@contoso.com.uat"})["d"]
    assert item.error is not None and item.error.code == "DuplicateTargetEntries" and item.target is None
