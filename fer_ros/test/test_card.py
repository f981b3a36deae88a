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

"""Model cards record commands another machine can run, not this machine's paths."""

from fer_ros.training.card import _commands

CONFIG = {
    'data': '/home/someone/datasets/fer2013/fer2013.csv.gz',
    'run_dir': '/scratch/someone/runs/default_vgg',
    'architecture': 'vgg_small',
    'arch_args': {'width': 0.5},
    'preprocessing': 'grey',
    'epochs': 20,
}


def test_card_commands_use_relative_paths():
    text = _commands(CONFIG, {'epoch_changes': []})
    assert '/home/someone' not in text and '/scratch' not in text
    assert '--data fer2013.csv.gz' in text
    assert '--run-dir runs/default_vgg' in text


def test_card_commands_replay_length_changes_with_the_same_paths():
    changes = [{'after_epoch': 3, 'from': 10, 'to': 5}, {'after_epoch': 5, 'from': 5, 'to': 20}]
    state = {'epoch_changes': changes}
    lines = _commands(CONFIG, state).splitlines()
    assert lines[0].startswith('fer-ros train --data fer2013.csv.gz --run-dir runs/default_vgg')
    assert '--epochs 10' in lines[0]
    assert lines[1:] == [
        '# stopped after epoch 3, then:',
        'fer-ros train --data fer2013.csv.gz --run-dir runs/default_vgg --resume --epochs 5',
        '# stopped after epoch 5, then:',
        'fer-ros train --data fer2013.csv.gz --run-dir runs/default_vgg --resume --epochs 20',
    ]


def test_card_commands_name_teachers_by_their_run_or_file_name():
    config = dict(CONFIG, teachers=['/tmp/gpujob/t2_s0', '/data/models/teacher.onnx'])
    text = _commands(config, {'epoch_changes': []})
    assert '--teacher runs/t2_s0 --teacher teacher.onnx' in text and '/tmp' not in text


def test_a_fold_models_card_command_trains_that_fold_of_its_kfold_run():
    config = dict(
        CONFIG, run_dir='/scratch/someone/runs/huo10/fold_3', kfold=10, kfold_scope='all', fold=3
    )
    text = _commands(config, {'epoch_changes': []})
    assert '--run-dir runs/huo10 ' in text and 'fold_3' not in text
    assert text.endswith('--kfold 10 --kfold-scope all --fold 3')
    assert '--fold' not in _commands(dict(config, fold=None), {'epoch_changes': []})


def test_the_card_says_what_the_run_trained_on():
    """Recorded in state.json by the run; runs from before the record trained on 2 CPU cores."""
    import json

    from fer_ros.resources import MODELS_DIR
    from fer_ros.training.card import card_markdown

    card = json.loads((MODELS_DIR / 'fer_default.json').read_text())
    card['training_hardware'] = '1 x NVIDIA H200, Keras on jax'
    assert 'h on 1 x NVIDIA H200, Keras on jax (' in card_markdown(card)
    del card['training_hardware']
    assert 'h on 2 CPU cores (' in card_markdown(card)


def test_training_hardware_names_the_cpu_cores_without_a_gpu():
    from fer_ros.training.train import training_hardware
    import keras

    text = training_hardware()
    assert text.endswith(f'Keras on {keras.backend.backend()}')
    assert 'CPU cores' in text or ' x ' in text


def test_card_markdown_table_rows_are_whole_lines():
    """Every table row of a rendered card starts and ends with a pipe (no row broken in two)."""
    import json

    from fer_ros.resources import MODELS_DIR
    from fer_ros.training.card import card_markdown

    card = json.loads((MODELS_DIR / 'fer_default.json').read_text())
    lines = card_markdown(card).splitlines()
    rows = [line for line in lines if line.startswith('|')]
    assert len(rows) >= 10 and all(line.endswith('|') for line in rows)
    assert not any(line.startswith('{') or line.endswith('of') for line in lines)


def test_shipped_cards_are_their_json_rendered():
    """Each shipped ``.md`` is ``card_markdown`` of its ``.json``: one source of figures."""
    import json

    from fer_ros.resources import MODELS_DIR
    from fer_ros.training.card import card_markdown

    jsons = sorted(MODELS_DIR.glob('fer_*.json'))
    assert jsons
    for path in jsons:
        card = json.loads(path.read_text())
        assert card_markdown(card) == path.with_suffix('.md').read_text(), path.name


def test_a_fine_tuned_card_gives_the_commands_of_the_run_it_started_from(tmp_path):
    import json

    from fer_ros.training.card import _fine_tuned_from, _lineage, _start_run

    start = tmp_path / 'kd_s1'
    start.mkdir()
    start_config = dict(CONFIG, run_dir='/tmp/gpujob/kd_s1', teachers=['/tmp/gpujob/t2_s0'])
    (start / 'run.json').write_text(json.dumps(start_config))
    start_state = {'epochs_done': 78, 'train_seconds': 360.0, 'hardware': '1 x NVIDIA H200'}
    (start / 'state.json').write_text(json.dumps(start_state))
    tuned = dict(CONFIG, run_dir='/work/runs/ft_b', init_from=str(start), epochs=12)
    lines = _lineage(tuned, {}, _start_run(tuned)).splitlines()
    assert lines[0].startswith('fer-ros train --data fer2013.csv.gz --run-dir runs/kd_s1 ')
    assert '--teacher runs/t2_s0' in lines[0]
    assert lines[1] == '# then, fine-tuned from its best epoch:'
    assert lines[2].startswith('fer-ros train --data fer2013.csv.gz --run-dir runs/ft_b ')
    assert lines[2].endswith('--init-from runs/kd_s1') and len(lines) == 3
    assert _fine_tuned_from(_start_run(tuned)) == {
        'run': 'runs/kd_s1',
        'epochs_trained': 78,
        'training_seconds': 360,
        'training_hardware': '1 x NVIDIA H200',
    }
    elsewhere = dict(tuned, init_from='/elsewhere/kd_s1/best.keras')  # not on this machine
    own = lines[2].replace('runs/kd_s1', 'runs/kd_s1/best.keras')
    assert _start_run(elsewhere) is None
    assert _lineage(elsewhere, {}, None).splitlines() == [own]


def test_the_card_names_the_run_a_fine_tuned_model_started_from():
    import json

    from fer_ros.resources import MODELS_DIR
    from fer_ros.training.card import card_markdown

    card = json.loads((MODELS_DIR / 'fer_default.json').read_text())
    card['fine_tuned_from'] = {
        'run': 'runs/kd_s1',
        'epochs_trained': 78,
        'training_seconds': 360,
        'training_hardware': '1 x NVIDIA H200',
    }
    text = card_markdown(card)
    assert '| fine-tuned from | `runs/kd_s1`: 78 epochs, 0.10 h on 1 x NVIDIA H200 (' in text
    del card['fine_tuned_from']
    assert 'fine-tuned from' not in card_markdown(card)
