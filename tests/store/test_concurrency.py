"""Concurrent writers lose nothing: parallel imports of different entities both land; the same
bytes submitted twice at once are stored once; corrections of different values both stay."""

import threading

from fintech_eval.store import ObsKey, correct_value, history, import_observations, observations_frame

from .helpers import counts, csv_bytes, frame


def _parallel(fns):
    barrier = threading.Barrier(len(fns))
    results: list = [None] * len(fns)
    errors: list = []

    def run(i, fn):
        try:
            barrier.wait(timeout=30)
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def test_parallel_imports_of_different_entities_both_land(Sessions):
    frames = [frame(50, start=0, periods=("2023", "2024")), frame(50, start=1000, periods=("2024", "2025"))]

    def writer(df, name):
        def go():
            with Sessions() as s:
                return import_observations(s, csv_bytes(df), df, file_name=name, fmt="csv", submitted_by=name)

        return go

    for _ in range(3):  # a few rounds: more chances to interleave
        rs = _parallel([writer(frames[0], "a.csv"), writer(frames[1], "b.csv")])
        frames = [f.assign(value=f["value"] + 1) for f in frames]
    assert all(r.is_new for r in rs)
    with Sessions() as s:
        out = observations_frame(s)
        assert len(out) == sum(len(f) for f in frames)
        assert set(out["entity_id"]) == set(frames[0]["entity_id"]) | set(frames[1]["entity_id"])
        assert counts(s)["submission"] == 6 and counts(s)["period"] == 3
        last = out.set_index(["entity_id", "period", "variable"])["value"]
        for f in frames:
            want = f.set_index(["entity_id", "period", "variable"])["value"] - 1
            assert (last.loc[want.index] == want).all()


def test_same_bytes_at_once_are_stored_once(Sessions):
    df = frame(20)
    payload = csv_bytes(df)

    def go():
        with Sessions() as s:
            return import_observations(s, payload, df, file_name="same.csv", fmt="csv", submitted_by="x")

    rs = _parallel([go, go, go])
    assert sorted(r.is_new for r in rs) == [False, False, True]
    assert len({r.submission.id for r in rs}) == 1
    with Sessions() as s:
        assert counts(s)["submission"] == 1 and counts(s)["observation"] == len(df)


def test_parallel_corrections_of_different_values(Sessions):
    df = frame(2, periods=("2024",), variables=("staff",), value=1.0)
    with Sessions() as s:
        import_observations(s, csv_bytes(df), df, file_name="a.csv", fmt="csv", submitted_by="a")
    keys = [ObsKey("institution", f"E000{i}", "2024", "staff") for i in range(2)]

    def fix(key, v):
        def go():
            with Sessions() as s, s.begin():
                return correct_value(s, key, v, who=f"w{v}", why="fix")

        return go

    _parallel([fix(keys[0], 10.0), fix(keys[1], 20.0)])
    with Sessions() as s:
        out = observations_frame(s).set_index("entity_id")["value"]
        assert out.to_dict() == {"E0000": 10.0, "E0001": 20.0}
        assert [len(history(s, k)) for k in keys] == [1, 1]
