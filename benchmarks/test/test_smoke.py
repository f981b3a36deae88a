"""Smoke test: `python benchmarks/run.py --profile smoke` still works end to end.

Not a timing test: it asserts that every section ran and produced sane,
complete records (counts, shapes, fields), never how fast anything was.
The `fer` peer is measured when installed (`pip install --no-deps -r
benchmarks/requirements.txt`, as .ci/run does); without it the peer test is
skipped with the reason and the fer_ros side still runs.
"""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN = [sys.executable, str(REPO_ROOT / 'benchmarks' / 'run.py')]
sys.path.insert(0, str(REPO_ROOT / 'fer_ros' / 'test'))


def _dataset() -> Path:
    from conftest import fer2013_csv_path

    path = fer2013_csv_path()
    if not path.is_file():
        pytest.skip(f'FER2013 not found at {path} (set FER2013_CSV)')
    return path


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    """The shipped models; a tiny stand-in model where none is shipped yet."""
    from fer_ros.resources import shipped_models

    shipped = shipped_models()
    if shipped:
        return shipped
    tiny_models = pytest.importorskip('tiny_models')
    from fer_ros.model_metadata import FER2013_LABELS, ModelInfo

    path = tmp_path_factory.mktemp('models') / 'stand_in.onnx'
    tiny_models.linear_softmax_model(
        path, metadata=ModelInfo(FER2013_LABELS, 'grey', 48).to_metadata()
    )
    return [str(path)]


def _peer_reason():
    from benchmarks.peer_fer import fer_unavailable_reason

    return fer_unavailable_reason()


def _run_smoke(tmp_path: Path, models, extra=()) -> dict:
    command = RUN + [
        '--profile',
        'smoke',
        '--data',
        str(_dataset()),
        '--out',
        str(tmp_path),
        '--models',
        *models,
        *extra,
    ]
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / 'smoke.json').read_text())
    markdown = (tmp_path / 'smoke.md').read_text()
    assert '## Whole pipeline' in markdown and '## Classifier speed' in markdown
    assert '## Face detection on hard scenes' in markdown
    assert '## Expression accuracy per detector' in markdown
    return result


def _check_common(result: dict, models, with_peer: bool) -> None:
    env = result['environment']
    for key in ('date_utc', 'cpu_model', 'cpu_cores_usable', 'packages', 'python'):
        assert env[key]
    assert env['packages']['onnxruntime']
    names = [row['model'] for row in result['accuracy']]
    assert len(names) == len(models) + (2 if with_peer else 0)
    for row in result['accuracy']:
        assert row['faces'] == result['dataset']['faces'] > 0
        assert 0.0 <= row['accuracy'] <= 1.0
        assert len(row['recall']) == 7 and sum(map(sum, row['confusion'])) == row['faces']
    speed_models = {row['model'] for row in result['classifier_speed']}
    assert len(speed_models) == len(models) + (1 if with_peer else 0)
    configs = {(r['threads'], r['batch']) for r in result['classifier_speed']}
    assert configs == {(1, 1), (1, 8), (2, 1), (2, 8)}
    assert all(r['ms_per_face']['median'] > 0 for r in result['classifier_speed'])
    rows = result['pipeline']
    assert {(r['frame'], r['faces']) for r in rows} == {
        (f, n) for f in ('640x480', '1280x720') for n in (0, 1, 4)
    }
    for row in rows:
        subjects = ('fer_ros', 'fer') if with_peer else ('fer_ros',)
        for name in subjects:
            stats = row[name]
            assert stats['faces_placed'] == row['faces'] * row['frames_per_run']
            assert stats['expressions_correct'] <= stats['faces_matched'] <= stats['faces_placed']
            assert stats['fps']['median'] > 0 and stats['stages_ms']
        assert ('fps_ratio_fer_ros_over_fer' in row) == with_peer
    for name in ('baseline', 'fer_ros') + (('fer',) if with_peer else ()):
        memory = result['memory'][name]
        assert 'error' not in memory, memory
        assert memory['peak_rss_mb'] >= memory['rss_after_init_mb'] > 0
    assert result['memory']['fer_ros']['faces_reported'] > 0  # it really processed faces
    sweep = [(r['scene'], r['settings'], r['faces']) for r in result['sweep']]
    assert sweep == [
        ('photos', {}, 1),
        ('photos', {}, 4),
        ('video', {'full_detection_interval': 5}, 1),
        ('video', {'full_detection_interval': 5}, 4),
    ]
    detectors = ['fer_ros YuNet', 'fer_ros Haar'] + (['fer'] if with_peer else [])
    detection = result['detection']
    assert [(r['scenes'], r['detector']) for r in detection] == [
        (scenes, d) for scenes in ('photo heads', 'FER2013 crops') for d in detectors
    ]
    for row in detection:
        assert (
            0 <= row['found'] <= row['placed'] and row['placed'] >= row['frames']
        )  # seeded: same every run
        assert row['ms_per_frame'] > 0 and row['false_positives_per_frame'] >= 0
        assert row['covered']['found'] <= row['covered']['placed'] <= row['placed']
    framing = result['framing']
    assert {(r['detector'], r['alignment']) for r in framing} == {
        ('yunet', True),
        ('yunet', False),
        ('haar', False),
    }
    assert all(
        0 <= r['found'] <= r['placed'] and 0 <= r['accuracy_end_to_end'] <= 1 for r in framing
    )
    assert result['targets'], 'targets are always evaluated'


def test_benchmark_command_runs_with_the_fer_peer(tmp_path, models):
    reason = _peer_reason()
    if reason:
        pytest.skip(reason)
    result = _run_smoke(tmp_path, models)
    _check_common(result, models, with_peer=True)
    assert result['environment']['fer_version']
    # fer's own classifier on real FER2013 faces is far above chance (1/7) even on 40 faces.
    fer_row = next(r for r in result['accuracy'] if r['model'] == result['peer_classifier'])
    assert fer_row['accuracy'] > 0.3
    assert len(result['targets']) >= 6


def test_benchmark_command_runs_for_fer_ros_alone(tmp_path, models):
    if _peer_reason() is None:
        pytest.skip('covered by the run with the fer peer (which measures fer_ros too)')
    result = _run_smoke(tmp_path, models, ['--no-peer'])
    _check_common(result, models, with_peer=False)
    assert result['peer_skipped']


def test_missing_model_is_named(tmp_path):
    proc = subprocess.run(
        RUN
        + ['--profile', 'smoke', '--models', str(tmp_path / 'nope.onnx'), '--out', str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert 'nope.onnx' in proc.stderr and 'not found' in proc.stderr
    assert not (tmp_path / 'smoke.json').exists()
