"""The life of a request, in one place above the areas it coordinates.

    received -> held or checked -> reviewed -> decided -> approved -> closed
    (with on hold, withdrawn and rejected)

- ``workflow``: the written transition table (which moves exist).
- ``guards``: what each move needs (a decision, the approvals, no hold in force).
- ``transitions``: ``request_transition``, the only function that changes a status.
- ``receiving``: a request arrives (recorded, held if a hold covers it, checked), documents are
  added, the agency withdraws.
- ``reviewing``: start review, ask the agency, escalate, decide, approve, close.
- ``holding``: what placing, lifting and the end of a jurisdiction hold do to requests.
- ``rechecking``: when a fact the checks read changes (an agency's standing, the policy), the
  open requests it touches are checked again.

The areas below (``intake``, ``holds``, ``review``, ``policy``, ``agencies``) record their own
facts and never call up here; the interfaces above (``api``, ``console``, ``portal``, ``cli``)
call these actions. The layer contract in ``pyproject.toml`` keeps it that way.
"""
