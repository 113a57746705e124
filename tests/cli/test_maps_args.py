"""``--maps`` (and the older ``--only`` / ``--methods``) choose the maps ``explain`` computes; names are
checked before any model work."""

from __future__ import annotations

import pytest

from s2t_explain.cli.common import chosen_maps, saliency_options
from s2t_explain.cli.main import build_parser, main
from s2t_explain.errors import OptionError


def maps_of(*argv: str) -> tuple[str, ...]:
    args = build_parser().parse_args(["explain", "clip.wav", "-o", "out", *argv])
    return chosen_maps(args, saliency_options(args))


def test_maps_names_groups_and_the_older_flags():
    assert maps_of() == ("attention", "spes-input", "spes-encoder")  # default
    assert maps_of("--maps", "all") == ("attention", "spes-input", "spes-encoder", "attention-norm",
                                        "attention-grad", "grad-input", "integrated-gradients", "grad-encoder")
    # (spes-token comes with ``all`` only when the options draw token masks, p_dec > 0: see test_api)
    assert maps_of("--maps", "SM_H", "grad-encoder") == ("attention", "spes-encoder", "grad-encoder")
    assert maps_of("--maps", "spes,methods") == maps_of("--maps", "all")  # comma-separated groups
    assert maps_of("--only", "encoder") == ("attention", "spes-encoder")  # older spelling
    assert maps_of("--methods", "grad-input") == ("attention", "spes-input", "spes-encoder", "grad-input")
    with pytest.raises(OptionError, match="spes-token needs previous-token masking"):
        maps_of("--maps", "spes-token")  # the fast preset has no token masks (p_dec 0): refused before any work
    with pytest.raises(OptionError, match="give --maps or --only, not both"):
        maps_of("--maps", "all", "--only", "input")
    with pytest.raises(OptionError, match="unknown explanation map 'smh'; choose one of: attention, spes-input"):
        maps_of("--maps", "smh")


def test_an_unknown_map_fails_in_one_line_before_the_model_loads(tmp_path, capsys):
    code = main(["explain", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "out"), "--maps", "nope", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "unknown explanation map 'nope'" in err[0]
    assert not (tmp_path / "out").exists()
