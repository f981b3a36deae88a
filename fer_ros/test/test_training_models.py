"""Architectures: registry, argument parsing, and the paper's size for Huo et al. 2022."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.training

from fer_ros.errors import SettingsError  # noqa: E402
from fer_ros.training.complexity import count_macs  # noqa: E402
from fer_ros.training.models import (  # noqa: E402
    ARCHITECTURE_NAMES,
    build_model,
    get_architecture,
    parse_arch_args,
)


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_every_architecture_builds_with_softmax_output(name):
    arch = get_architecture(name)
    channels = 3 if arch.preprocessing == "canny_grey_grey" else 1
    args = {"alpha": 0.25, "t": 2.0} if name == "huo2022" else {}
    model = build_model(name, 48, channels, 7, args)
    assert model.input_shape == (None, 48, 48, channels)
    assert model.output_shape == (None, 7)
    assert model.layers[-1].name == "probabilities"


def test_huo2022_paper_setting_matches_paper_size():
    model = build_model("huo2022", 48, 3, 7, {"alpha": 1.0, "t": 6.0})
    assert 9.0e6 < model.count_params() < 9.6e6  # the paper's Table 2 network: about 9.3 M
    assert 1.8e9 < count_macs(model) < 2.3e9  # about 2 GMAC per face
    slim = build_model("huo2022", 48, 3, 7, {"alpha": 0.5, "t": 2.0})
    assert slim.count_params() < model.count_params() / 5


def test_arch_args_are_typed_and_checked():
    huo = get_architecture("huo2022")
    assert parse_arch_args(huo, ["alpha=0.5", "t=2"]) == {"alpha": 0.5, "t": 2.0}
    with pytest.raises(SettingsError, match="KEY=VALUE with KEY in: .*alpha"):
        parse_arch_args(huo, ["width=2"])
    with pytest.raises(SettingsError, match="must be a float"):
        parse_arch_args(huo, ["alpha=big"])
    with pytest.raises(SettingsError, match="unknown architecture 'resnet'; allowed: huo2022"):
        get_architecture("resnet")
    with pytest.raises(SettingsError, match="cannot build"):
        build_model("huo2022", 48, 3, 7, {"alpha": -1.0})
