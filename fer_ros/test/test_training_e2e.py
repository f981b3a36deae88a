# Copyright 2026 fer_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
End to end on a few hundred FER2013 rows.

Train, resume, evaluate, export (parity, int8), run-time load.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

pytest.importorskip('tensorflow')
pytestmark = [pytest.mark.training, pytest.mark.slow]

from fer_ros import cli  # noqa: E402, I100 (after the skip check)
from fer_ros.errors import ModelError  # noqa: E402
from fer_ros.model_metadata import (  # noqa: E402
    FER2013_LABELS,
    KEY_ACCURACY,
    KEY_ARCHITECTURE,
    KEY_ARCHITECTURE_ARGS,
    KEY_CREATED,
    KEY_DATASET,
    parse_metadata,
)
from fer_ros.preprocess import faces_to_input  # noqa: E402

ROWS = 256


@pytest.fixture(scope='module')
def tiny(fer2013_csv):
    from fer_ros.training.data import read_fer2013

    return read_fer2013(fer2013_csv, limit=ROWS)


@pytest.fixture(scope='module')
def run_dir(fer2013_csv, tmp_path_factory):
    """Return a one-epoch run, then resumed to two epochs (as after a kill between epochs)."""
    run = tmp_path_factory.mktemp('run') / 'tiny'
    common = ['--data', str(fer2013_csv), '--run-dir', str(run)]
    args = [
        'train',
        *common,
        '--arch',
        'mini_xception',
        '--arch-arg',
        'width=0.5',
        '--limit',
        str(ROWS),
    ]
    # float32 on every CPU (auto would pick bf16 where it is fast): parity is then exact.
    args += ['--precision', 'float32']
    assert cli.main([*args, '--epochs', '1', '--batch-size', '32', '--seed', '1']) == 0
    assert json.loads((run / 'state.json').read_text())['epochs_done'] == 1
    assert cli.main(['train', *common, '--resume', '--epochs', '2']) == 0
    return run


def test_training_writes_checkpoints_logs_and_resumes(run_dir):
    import keras

    state = json.loads((run_dir / 'state.json').read_text())
    assert state['epochs_done'] == 2
    assert 1 <= state['best_epoch'] <= 2
    assert (run_dir / 'best.keras').is_file()
    assert len((run_dir / 'log.csv').read_text().strip().splitlines()) == 3  # header + 2 epochs
    assert any((run_dir / 'tensorboard').rglob('events.out.tfevents.*'))
    config = json.loads((run_dir / 'run.json').read_text())
    assert config['epochs'] == 2 and config['arch_args'] == {'width': 0.5}
    # Resuming continued the optimizer: 2 epochs x ceil(256 / 32) steps.
    last = keras.models.load_model(run_dir / 'last.keras')
    assert int(last.optimizer.iterations.numpy()) == 2 * 8


def test_a_bf16_run_leaves_the_process_in_float32(fer2013_csv, tmp_path):
    """Keras' dtype policy is process-wide; models built after a bf16 run must be float32."""
    import keras

    args = ['train', '--data', str(fer2013_csv), '--run-dir', str(tmp_path / 'bf16')]
    args += ['--arch', 'mini_xception', '--arch-arg', 'width=0.25', '--limit', '64']
    assert (
        cli.main([*args, '--epochs', '1', '--batch-size', '32', '--precision', 'mixed_bfloat16'])
        == 0
    )
    run = json.loads((tmp_path / 'bf16' / 'run.json').read_text())
    assert run['precision'] == 'mixed_bfloat16'
    assert keras.mixed_precision.global_policy().name == 'float32'


def test_resume_refuses_missing_run_and_restart_refuses_existing(
    run_dir, fer2013_csv, tmp_path, capsys
):
    assert (
        cli.main(
            ['train', '--data', str(fer2013_csv), '--run-dir', str(tmp_path / 'none'), '--resume']
        )
        == 2
    )
    assert (
        cli.main(['train', '--data', str(fer2013_csv), '--run-dir', str(run_dir), '--limit', '8'])
        == 2
    )
    err = capsys.readouterr().err
    assert 'cannot resume' in err and 'already holds a run' in err


def test_eval_keras_checkpoint_writes_report(run_dir, fer2013_csv, tmp_path):
    code = cli.main(
        [
            'eval',
            str(run_dir),
            '--data',
            str(fer2013_csv),
            '--limit',
            str(ROWS),
            '--out-dir',
            str(tmp_path),
            '--flip-tta',
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / 'best_PrivateTest_tta.json').read_text())
    assert report['n'] == ROWS and report['flip_tta']
    assert set(report['per_class']) == set(FER2013_LABELS)
    assert np.asarray(report['confusion']).sum() == ROWS
    assert (tmp_path / 'best_PrivateTest_tta_confusion.png').stat().st_size > 1000


@pytest.fixture(scope='module')
def exported(run_dir, tiny, tmp_path_factory):
    from fer_ros.training.export import export

    out = tmp_path_factory.mktemp('export')
    result = export(
        str(run_dir),
        str(out / 'm.onnx'),
        tiny['PrivateTest'],
        train=tiny['Training'],
        int8_path=str(out / 'm_int8.onnx'),
        calibration_size=70,
        cards=True,
    )
    return result, out


def test_export_metadata_and_parity(exported, run_dir, tiny):
    import keras

    result, out = exported
    assert result['parity_max_abs_diff'] <= 1e-4
    proto = onnx.load(str(out / 'm.onnx'))
    props = {p.key: p.value for p in proto.metadata_props}
    info = parse_metadata(props, 'm.onnx')
    assert info.labels == FER2013_LABELS and info.preprocessing == 'grey' and info.input_size == 48
    assert props[KEY_ARCHITECTURE] == 'mini_xception'
    assert json.loads(props[KEY_ARCHITECTURE_ARGS]) == {'width': 0.5}
    assert props[KEY_DATASET] == 'FER2013' and props[KEY_CREATED]
    assert float(props[KEY_ACCURACY]) == pytest.approx(result['fp32']['accuracy'], abs=1e-4)
    # Dynamic batch: the runtime can send any number of faces.
    assert not proto.graph.input[0].type.tensor_type.shape.dim[0].HasField('dim_value')
    assert not list(out.glob('*.partial'))
    # The runtime loads it and agrees with Keras.
    faces = tiny['PrivateTest'].images[:5]
    x = faces_to_input(faces, info.preprocessing)
    expected = keras.models.load_model(run_dir / 'best.keras').predict(x, verbose=0)
    got = _runtime_predict(out / 'm.onnx', x)
    assert np.abs(got - expected).max() <= 1e-4


def _runtime_predict(path, x):
    """Return the runtime classifier where this branch has it, else a plain session."""
    try:
        from fer_ros.classifier import Classifier
    except ImportError:
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
        parse_metadata(session.get_modelmeta().custom_metadata_map, str(path))
        return session.run(None, {session.get_inputs()[0].name: x})[0]
    return Classifier(path, providers=['CPUExecutionProvider'], intra_op_threads=1).predict(x)


def test_int8_variant(exported, tiny):
    result, out = exported
    q = out / 'm_int8.onnx'
    props = {p.key: p.value for p in onnx.load(str(q)).metadata_props}
    assert parse_metadata(props, str(q)).labels == FER2013_LABELS
    assert float(props[KEY_ACCURACY]) == pytest.approx(result['int8']['accuracy'], abs=1e-4)
    graph = onnx.load(str(q)).graph
    assert any(n.op_type == 'QuantizeLinear' for n in graph.node)
    # The first convolution stays in float (quantizing it cost 3.7 points on the default model):
    # its inputs come straight from the graph input / initializers, not from DequantizeLinear.
    produced_by = {o: n.op_type for n in graph.node for o in n.output}
    convs = [n for n in graph.node if n.op_type == 'Conv']
    assert all(produced_by.get(i) != 'DequantizeLinear' for i in convs[0].input)
    assert any(produced_by.get(i) == 'DequantizeLinear' for i in convs[1].input)
    probs = _runtime_predict(q, faces_to_input(tiny['PrivateTest'].images[:4], 'grey'))
    assert probs.shape == (4, 7) and np.allclose(
        probs.sum(axis=1), 1, atol=1e-4
    )  # softmax kept in float


def test_eval_onnx_matches_export_accuracy(exported, fer2013_csv, capsys):
    result, out = exported
    assert (
        cli.main(['eval', str(out / 'm.onnx'), '--data', str(fer2013_csv), '--limit', str(ROWS)])
        == 0
    )
    assert f'accuracy {result["fp32"]["accuracy"]:.4f} (n={ROWS})' in capsys.readouterr().out


def test_eval_of_several_models_scores_their_averaged_probabilities(
    exported, tiny, fer2013_csv, tmp_path, capsys
):
    from fer_ros.classifier import Classifier

    _, out = exported
    models = [str(out / 'm.onnx'), str(out / 'm_int8.onnx')]
    args = ['eval', *models, '--data', str(fer2013_csv), '--limit', str(ROWS)]
    assert cli.main([*args, '--out-dir', str(tmp_path)]) == 0
    x = faces_to_input(tiny['PrivateTest'].images, 'grey')
    mean = sum(Classifier(m, intra_op_threads=0).predict(x) for m in models) / 2
    accuracy = float(np.mean(mean.argmax(axis=1) == tiny['PrivateTest'].targets))
    assert f'accuracy {accuracy:.4f} (n={ROWS})' in capsys.readouterr().out
    report = json.loads((tmp_path / 'ensemble2_PrivateTest.json').read_text())
    assert report['models'] == models and report['model'] == 'm.onnx + m_int8.onnx'


def test_export_refuses_when_parity_fails(run_dir, tiny, tmp_path):
    from fer_ros.training.export import export

    target = tmp_path / 'refused.onnx'
    with pytest.raises(ModelError, match='differs from Keras'):
        export(str(run_dir), str(target), tiny['PrivateTest'], tolerance=-1.0)
    assert list(tmp_path.iterdir()) == []  # no model, no temporary file


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_exported_model_is_readable_by_other_users(exported):
    import stat

    _, out = exported
    for name in ('m.onnx', 'm_int8.onnx'):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o666 & ~_umask()  # not mkstemp's 0600


@pytest.mark.parametrize('failing', ['int8_evaluation', 'card'])
def test_failed_export_leaves_previous_files_untouched(
    run_dir, tiny, tmp_path, monkeypatch, failing
):
    """A failure after the fp32 and int8 models are built (the latest points) publishes nothing."""
    from fer_ros.training import card, export

    previous = {
        name: f'previous {name}'.encode() for name in ('m.onnx', 'm.json', 'm.md', 'm_int8.onnx')
    }
    for name, content in previous.items():
        (tmp_path / name).write_bytes(content)
    import subprocess
    import sys

    killed = subprocess.Popen([sys.executable, '-c', 'pass'])  # an earlier export, long gone
    killed.wait()
    (tmp_path / f'.m.onnx.{killed.pid}-stale.partial').mkdir()  # its scratch folder: cleaned up

    def boom(*args, **kwargs):
        raise RuntimeError(f'simulated failure: {failing}')

    if failing == 'int8_evaluation':
        real_evaluate, calls = export.evaluate, []

        def evaluate_then_fail(*args, **kwargs):  # the fp32 evaluation passes, the int8 one fails
            calls.append(1)
            return real_evaluate(*args, **kwargs) if len(calls) == 1 else boom()

        monkeypatch.setattr(export, 'evaluate', evaluate_then_fail)
    else:
        monkeypatch.setattr(card, 'card_data', boom)
    with pytest.raises(RuntimeError, match='simulated failure'):
        export.export(
            str(run_dir),
            str(tmp_path / 'm.onnx'),
            tiny['PrivateTest'],
            train=tiny['Training'],
            int8_path=str(tmp_path / 'm_int8.onnx'),
            calibration_size=70,
            cards=True,
        )
    assert {
        p.name: p.read_bytes() for p in tmp_path.iterdir()
    } == previous  # byte for byte, no temp files


def test_export_publishes_cards_with_the_models(exported):
    result, out = exported
    assert result['cards'] == [
        str(out / n) for n in ('m.json', 'm.md', 'm_int8.json', 'm_int8.md')
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ['m.onnx', 'm_int8.onnx', *(Path(c).name for c in result['cards'])]
    )
    assert json.loads((out / 'm_int8.json').read_text())['model'] == 'm_int8.onnx'


def test_damaged_checkpoint_fails_export_and_eval_in_one_line(
    run_dir, tiny, fer2013_csv, tmp_path, capsys
):
    from fer_ros.training.export import export

    damaged = tmp_path / 'run'
    damaged.mkdir()
    for name in ('run.json', 'labels.json', 'state.json'):
        (damaged / name).write_bytes((run_dir / name).read_bytes())
    whole = (run_dir / 'best.keras').read_bytes()
    (damaged / 'best.keras').write_bytes(whole[: len(whole) // 2])  # cut in half
    with pytest.raises(ModelError, match=r'best\.keras: cannot load this Keras checkpoint'):
        export(str(damaged), str(tmp_path / 'm.onnx'), tiny['PrivateTest'])
    assert not (tmp_path / 'm.onnx').exists()
    assert cli.main(['eval', str(damaged), '--data', str(fer2013_csv), '--limit', '8']) == 2
    err = capsys.readouterr().err
    assert err.startswith('fer-ros eval: error: ') and err.count('\n') == 1 and 'best.keras' in err


def test_a_student_distils_from_an_exported_teacher(exported, fer2013_csv, tmp_path):
    """
    Train one epoch from the exported model's soft targets; the run records the teacher.

    Its reproducing command names the teacher again.
    """
    from fer_ros.training.checkpoints import read_json
    from fer_ros.training.config import training_command
    from fer_ros.training.distill import file_sha256

    teacher = exported[1] / 'm.onnx'
    student = tmp_path / 'student'
    args = ['train', '--data', str(fer2013_csv), '--run-dir', str(student), '--limit', str(ROWS)]
    args += ['--arch', 'mini_xception', '--arch-arg', 'width=0.5', '--epochs', '1']
    assert cli.main([*args, '--teacher', str(teacher), '--distill-weight', '0.6']) == 0
    assert read_json(student / 'state.json', 'epochs_done')['epochs_done'] == 1
    recorded = read_json(student / 'teachers.json', 'teachers')['teachers']
    assert recorded == {str(teacher): file_sha256(teacher)}
    config = read_json(student / 'run.json', 'teachers')
    assert f'--teacher {teacher} --distill-weight 0.6' in training_command(config)
