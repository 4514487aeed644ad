"""Paging by nextLink (page size 2 over 5 items) for every list operation, and concurrency."""

from __future__ import annotations

import threading
import uuid
from urllib.parse import parse_qs, urlsplit

from azure.mgmt.authorization.models import Permission, RoleAssignmentCreateParameters, RoleDefinition

from .conftest import make_client

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
PRINCIPAL = "3333aaaa-0000-4000-8000-000000000001"


def _pages(pager):
    return [list(p) for p in pager.by_page()]


def _custom_roles(client, sub, n=5):
    for i in range(n):
        client.role_definitions.create_or_update(sub, str(uuid.UUID(int=0x5B0C0000 + i)), RoleDefinition(
            role_name=f"paging-{i}", permissions=[Permission(actions=["Microsoft.Storage/storageAccounts/read"])],
            assignable_scopes=[sub]))


def test_role_definitions_paging_keeps_filter(client, sub, emulator):
    _custom_roles(client, sub)
    emulator.configure(page_size=2)
    pages = _pages(client.role_definitions.list(sub, filter="type eq 'CustomRole'"))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(r.role_name for p in pages for r in p) == [f"paging-{i}" for i in range(5)]
    gets = emulator.requests(method="GET", path_contains="roleDefinitions")
    follow = parse_qs(urlsplit(gets[-1]["path"] + "?" + gets[-1]["query"]).query)
    assert follow["$filter"] == ["type eq 'CustomRole'"] and follow["$skipToken"] == ["4"]


def test_role_assignments_paging(client, sub, emulator):
    for i in range(5):
        client.role_assignments.create(sub, str(uuid.UUID(int=0x44440000 + i)), RoleAssignmentCreateParameters(
            role_definition_id=f"/providers/Microsoft.Authorization/roleDefinitions/{READER}",
            principal_id=str(uuid.UUID(int=0x33330000 + i)), principal_type="User"))
    emulator.configure(page_size=2)
    assert [len(p) for p in _pages(client.role_assignments.list_for_subscription())] == [2, 2, 1]
    assert [len(p) for p in _pages(client.role_assignments.list_for_scope(sub, filter="atScope()"))] == [2, 2, 1]
    one = _pages(client.role_assignments.list_for_subscription(filter=f"principalId eq '{uuid.UUID(int=0x33330003)}'"))
    assert [len(p) for p in one] == [1]


def test_provider_operations_paging(client, emulator):
    everything = [p.name for p in client.provider_operations_metadata.list()]
    emulator.configure(page_size=100)
    pages = _pages(client.provider_operations_metadata.list())
    assert len(pages) > 1 and all(len(p) <= 100 for p in pages)
    assert [p.name for page in pages for p in page] == everything
    emulator.configure(page_size=2)
    first = next(iter(client.provider_operations_metadata.list().by_page()))
    assert len(list(first)) == 2


def test_permissions_paging(client, sub, emulator):
    caller = "00000000-0000-0000-0000-0000000000cc"
    roles = ["Reader", "Contributor", "Owner", "User Access Administrator", "Storage Blob Data Reader"]
    emulator.grant(caller, [(r, sub) for r in roles])
    emulator.configure(page_size=2)
    pages = _pages(client.permissions.list_for_resource_group("rg1"))
    assert [len(p) for p in pages] == [2, 2, 1]


def test_concurrent_puts_and_deletes(emulator, sub):
    threads, per_thread = 16, 50
    role_id = f"/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    errors: list[BaseException] = []

    def worker(t: int, delete: bool) -> None:
        c = make_client(emulator)
        try:
            for i in range(per_thread):
                name = str(uuid.UUID(int=(t << 32) + i + 1))
                if delete:
                    c.role_assignments.delete(sub, name)
                else:
                    c.role_assignments.create(sub, name, RoleAssignmentCreateParameters(
                        role_definition_id=role_id, principal_id=str(uuid.UUID(int=(t << 32) + i + 1)),
                        principal_type="User"))
        except BaseException as e:  # collected and asserted on below
            errors.append(e)
        finally:
            c.close()

    for delete in (False, True):
        pool = [threading.Thread(target=worker, args=(t, delete)) for t in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join(timeout=120)
        assert errors == []
        expected = 0 if delete else threads * per_thread
        c = make_client(emulator)
        assert sum(1 for _ in c.role_assignments.list_for_subscription()) == expected
        c.close()
