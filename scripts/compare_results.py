"""Compare two stored results map by map: are they bit-identical?

    python scripts/compare_results.py OLD.npz NEW.npz

Reads both files with ``Explanation.load`` (so a format-1 file compares against a format-2 one by
map name: format 1's ``cross_attention``/``input_saliency``/``encoder_saliency``/``method:NAME``
arrays are the maps ``attention``/``spes-input``/``spes-encoder``/``NAME``), and checks the
transcript (token ids, labels, log-probabilities, text), the timebase (frame times, features) and
every map's values and, for sampled maps, its masks and reliability record. Prints one line per
item and exits 0 when everything is identical, 1 otherwise (2 on a file that cannot be read).
No torch is loaded.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from s2t_explain.errors import S2TError
from s2t_explain.results import Explanation

RELIABILITY_KEYS = ("n_masks", "reliability", "reliability_pooled", "curve", "groups", "stopped_early")


def same_array(a: np.ndarray | None, b: np.ndarray | None) -> tuple[bool, str]:
    """Bit-identical (same dtype, shape and bytes; NaNs in the same places count as equal)."""
    if a is None or b is None:
        return a is None and b is None, "missing in one" if (a is None) != (b is None) else "absent in both"
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False, f"{a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}"
    if a.tobytes() == b.tobytes():
        return True, f"{a.dtype}{list(a.shape)} bit-identical"
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return False, f"differs: max |diff| {np.nanmax(diff):.3g} at {int(np.sum(diff > 0))} of {a.size} values"


def compare(old: Explanation, new: Explanation) -> list[tuple[str, bool, str]]:
    """(item, identical, detail) for the transcript, the timebase and every map of either result."""
    t, u = old.transcript, new.transcript
    rows = [("token ids", t.ids == u.ids, f"{len(t.ids)} tokens"),
            ("labels", t.labels == u.labels, repr(u.text)),
            ("text", t.text == u.text, repr(u.text)),
            ("logprobs", *same_array(t.logprobs, u.logprobs)),
            ("frame_times", *same_array(old.frame_times, new.frame_times)),
            ("features", *same_array(old.features, new.features))]
    for name in dict.fromkeys([*old.maps, *new.maps]):
        a, b = old.get(name), new.get(name)
        if a is None or b is None:
            rows.append((f"map {name}", False, f"only in the {'new' if a is None else 'old'} result"))
            continue
        rows.append((f"map {name}", *same_array(a.values, b.values)))
        if a.reliability is not None or b.reliability is not None:
            ra = {k: (a.reliability or {}).get(k) for k in RELIABILITY_KEYS}
            rb = {k: (b.reliability or {}).get(k) for k in RELIABILITY_KEYS}
            rows.append((f"map {name} reliability", ra == rb, f"{rb['n_masks']} masks, r {rb['reliability']}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", help="a stored result (.npz, any readable format version)")
    parser.add_argument("new", help="another stored result")
    args = parser.parse_args(argv)
    try:
        old, new = Explanation.load(args.old), Explanation.load(args.new)
    except S2TError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    rows = compare(old, new)
    width = max(len(item) for item, _, _ in rows)
    for item, same, detail in rows:
        print(f"{'same' if same else 'DIFF'}  {item:<{width}}  {detail}")
    differ = sum(not same for _, same, _ in rows)
    print("identical" if not differ else f"{differ} of {len(rows)} items differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
