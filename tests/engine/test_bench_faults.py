"""bench_faults' comparison: what counts as missing, extra, a wrong attribute and a wrong deactivation."""

from __future__ import annotations

from provisioning.management.commands.bench_faults import compare


def test_the_comparison_counts_each_kind_of_difference_once():
    reference = {
        "ada": {"FirstName": "Ada", "IsActive": True, "ManagerId": "user:grace"},
        "grace": {"FirstName": "Grace", "IsActive": True},
        "alan": {"FirstName": "Alan", "IsActive": False},
    }
    reached = {
        "ada": {"FirstName": "Ada", "IsActive": False, "ManagerId": "user:alan"},
        "alan": {"FirstName": "Alan", "IsActive": False},
        "edsger": {"FirstName": "Edsger", "IsActive": True},
    }

    found = compare(reference, reached)

    assert (found["missing"], found["extra"], found["wrong_attributes"], found["wrongly_deactivated"]) == (1, 1, 1, 1)
    assert found["examples"]["missing"] == ["grace"] and found["examples"]["extra"] == ["edsger"]
    assert found["examples"]["wrong_attributes"] == {"ada": ["IsActive", "ManagerId"]}
    assert compare(reference, dict(reference))["wrong_attributes"] == 0
