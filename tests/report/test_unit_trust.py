"""What the report reads from a compare folder (issue 25): verified units, units an older conj-harness committed
without digests (read, with a warning), and never a unit whose files no longer match its record."""

from __future__ import annotations

import json

from conj_harness.pairs.spec import PairSpec
from conj_harness.pairs.store import PairStore
from conj_harness.report.inputs import load_pair_dir


def _folder(tmp_path):
    store = PairStore(tmp_path / "pair")
    spec = PairSpec(base="org/base", tuned="org/tuned", tasks=["conj_icl_en"], backend="hf")
    store.prepare(spec, ["conj_icl_en"], force=False)
    rows = [{"doc_id": i, "doc": {"id": f"d{i}"}, "doc_hash": f"h{i}", "icl_acc": float(i % 2)} for i in range(4)]
    samples = "".join(json.dumps(r) + "\n" for r in rows).encode()
    for role in ("base", "tuned"):
        store.commit(role, "conj_icl_en", {"results": {"conj_icl_en": {}}}, samples,
                     {"identity": json.loads((store.root / "pair.json").read_text())[role]["identity"]})
    return store


def test_a_unit_without_digests_is_read_with_a_warning_and_an_edited_one_is_not_read(tmp_path):
    store = _folder(tmp_path)
    done = store.unit_dir("base", "conj_icl_en") / "done.json"
    record = json.loads(done.read_text())
    del record["files"]  # as conj-harness wrote it before issue 25
    done.write_text(json.dumps(record))
    data = load_pair_dir(store.root)
    assert data.unverified == ["base conj_icl_en"] and len(data.base.samples["conj_icl_en"]) == 4
    assert store.status("base", "conj_icl_en").reason == \
        "it was committed by an older conj-harness, which recorded no file digests"  # a compare runs it again
    samples = store.samples_path("tuned", "conj_icl_en")
    samples.write_bytes(samples.read_bytes().replace(b'"icl_acc": 0.0', b'"icl_acc": 1.0'))
    data = load_pair_dir(store.root)
    assert "conj_icl_en" not in data.tuned.samples and ("tuned", "conj_icl_en") in data.pending
