"""Which label maps are training data: approved ones only, consensus first; the frozen split."""
from __future__ import annotations

from tests.helpers import add_study
from tests.integration.training_support import SHAPE, lung_labels


def test_approved_versions_and_frozen_split(app, admin_api):
    from lunglab.db.models import User
    from lunglab.db.models_collab import ReviewDecision
    from lunglab.db.session import session_scope
    from lunglab.services.labels.labelmaps import save_version
    from lunglab.services.training.data import approved_versions, frozen_split

    pid = admin_api.post("/api/projects", json={"name": "data"}).json()["id"]
    sids = [add_study(app, pid, uid=f"2.25.95{i}", shape=SHAPE) for i in range(5)]
    url, store = app.state.settings.resolved_database_url, app.state.store
    labels = lung_labels()

    def save(sid: int, kind: str, user=None) -> int:  # type: ignore[no-untyped-def]
        with session_scope(url) as db:
            u = db.get(User, user) if user else None
            return save_version(db, store, u, sid, labels, base_version_id=None, kind=kind,
                                check_base=False).id

    with session_scope(url) as db:
        admin_id = db.query(User).filter(User.username == "admin").one().id
    imported = save(sids[0], "imported")
    consensus = save(sids[0], "consensus")
    save(sids[0], "imported")  # newer import: the consensus still wins
    human = save(sids[1], "human", admin_id)
    save(sids[1], "consensus")  # not the approved one, but consensus wins over a review approval
    reviewed = save(sids[2], "human", admin_id)
    save(sids[2], "human", admin_id)  # a later draft is not approved
    save(sids[3], "human", admin_id)  # never approved
    save(sids[4], "ai")  # AI proposals never count
    with session_scope(url) as db:
        db.add(ReviewDecision(study_id=sids[1], version_id=human, reviewer_id=admin_id,
                              decision="approve"))
        db.add(ReviewDecision(study_id=sids[2], version_id=reviewed, reviewer_id=admin_id,
                              decision="approve"))
    with session_scope(url) as db:
        approved = approved_versions(db, pid)
    assert approved[sids[0]] == consensus and imported != consensus
    assert approved[sids[1]] != human  # the consensus of study 1
    assert approved[sids[2]] == reviewed
    assert sids[3] not in approved and sids[4] not in approved
    with session_scope(url) as db:
        val = frozen_split(db, None, pid, list(approved), seed=0)
    assert len(val) == 1 and val[0] in approved
    with session_scope(url) as db:  # frozen: other studies, other seed, same answer
        assert frozen_split(db, None, pid, [sids[0]], seed=5) == val
