"""Diff of two versions of every built-in role, in one process.

Target (issue 5): 928 pairs (the real set against a copy with a change injected into every role)
<= 1.5 s wall, including the validator run on both sides ("new findings"). Prints figures;
asserts nothing. A fresh interpreter is used so no expansion is cached beforehand.
"""

from __future__ import annotations

import subprocess
import sys

CODE = r"""
import resource, time
t0 = time.perf_counter()
from dataclasses import replace
from rbactool.builtins import load_builtin_roles
from rbactool.catalog import load_catalog
from rbactool.diff import diff_role_sets
catalog = load_catalog()
old = load_builtin_roles().all()
t1 = time.perf_counter()

def inject(i, role):
    p = role.permissions[0]
    kind = i % 7
    if kind == 0 and p.actions:          # widen: a wildcard over the first action's resource type
        first = p.actions[0].rsplit("/", 1)[0]
        p = replace(p, actions=p.actions + (first + "/*",))
    elif kind == 1 and p.actions:        # narrow: drop the last action
        p = replace(p, actions=p.actions[:-1])
    elif kind == 2 and p.actions:        # subtract: a NotAction over deletes
        p = replace(p, not_actions=p.not_actions + (p.actions[0].split("/", 1)[0] + "/*/delete",))
    elif kind == 3:                      # cosmetic: case change
        p = replace(p, actions=tuple(a.lower() for a in p.actions))
    elif kind == 4:                      # reorder
        p = replace(p, actions=tuple(reversed(p.actions)), data_actions=tuple(reversed(p.data_actions)))
    elif kind == 5:                      # a new data action
        p = replace(p, data_actions=p.data_actions + ("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",))
    else:                                # scope and description
        return replace(role, description=role.description + " (edited)",
                       assignable_scopes=role.assignable_scopes + ("/providers/Microsoft.Management/managementGroups/mg1",))
    return replace(role, permissions=(p, *role.permissions[1:]))

new = tuple(inject(i, r) for i, r in enumerate(old))
t2 = time.perf_counter()
report = diff_role_sets(old, new, catalog)
t3 = time.perf_counter()
fast = diff_role_sets(old, new, catalog, findings=False)
t4 = time.perf_counter()
c = report.counts()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
eff = report.effective
print(f"diff of {len(old)} built-in role pairs: {1000*(t3-t2):.0f} ms wall with findings (target <= 1500 ms), "
      f"{1000*(t4-t3):.0f} ms without (--no-findings, expansions warm); load {1000*(t1-t0):.0f} ms")
print(f"  {c['changed']} changed, {c['unchanged']} unchanged; +{len(eff.added)} / -{len(eff.removed)} operations; "
      f"verdict: {report.verdict}; peak RSS {peak/2**20:.1f} MiB")
"""

if __name__ == "__main__":
    sys.exit(subprocess.run([sys.executable, "-c", CODE]).returncode)
