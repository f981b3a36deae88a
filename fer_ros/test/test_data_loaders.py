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

"""Dataset loaders (numpy only): CSV errors name the line, image folders map class names."""

from __future__ import annotations

import gzip

import cv2
from fer_ros.errors import DatasetError
from fer_ros.training.augment import augment_faces, AugmentSettings
from fer_ros.training.data import (
    canonical_class,
    load_dataset,
    read_fer2013,
    read_image_folder,
)
import numpy as np
import pytest

HEADER = 'emotion,pixels,Usage\n'


def _row(label='3', n=48 * 48, usage='Training', value=7) -> str:
    return f'{label},{" ".join([str(value)] * n)},{usage}\n'


def _write(tmp_path, text, name='fer.csv'):
    path = tmp_path / name
    if name.endswith('.gz'):
        with gzip.open(path, 'wt') as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize('name', ['fer.csv', 'fer.csv.gz'])
def test_fer2013_plain_and_gzip(tmp_path, name):
    path = _write(
        tmp_path,
        HEADER + _row('0') + _row('6', usage='PublicTest') + _row('3', usage='PrivateTest'),
        name,
    )
    splits = read_fer2013(path)
    assert [len(splits[s]) for s in ('Training', 'PublicTest', 'PrivateTest')] == [1, 1, 1]
    assert splits['Training'].images.shape == (1, 48, 48)
    assert splits['Training'].images.dtype == np.uint8
    assert splits['PublicTest'].targets.tolist() == [6]


def test_bad_pixel_count_names_line(tmp_path):
    path = _write(tmp_path, HEADER + _row() + _row(n=2000))
    with pytest.raises(DatasetError, match=r'fer\.csv:3: expected 2304 pixels .* got 2000'):
        read_fer2013(path, ['Training'])


@pytest.mark.parametrize(
    ('label', 'message'), [('7', 'outside 0..6'), ('happy', 'not an integer'), ('-1', 'outside')]
)
def test_bad_label_names_line(tmp_path, label, message):
    path = _write(tmp_path, HEADER + _row() + _row() + _row(label=label))
    with pytest.raises(DatasetError, match=rf'fer\.csv:4: emotion .*{message}'):
        read_fer2013(path, ['Training'])


def test_bad_pixel_value_and_usage(tmp_path):
    with pytest.raises(DatasetError, match=r':2: pixel values must be within 0..255'):
        read_fer2013(_write(tmp_path, HEADER + _row(value=300)), ['Training'])
    with pytest.raises(DatasetError, match=r":2: unknown Usage 'Validation'"):
        read_fer2013(_write(tmp_path, HEADER + _row(usage='Validation'), 'b.csv'), ['Training'])


def test_missing_file_and_bad_header(tmp_path):
    with pytest.raises(DatasetError, match='not found'):
        read_fer2013(tmp_path / 'nope.csv')
    with pytest.raises(DatasetError, match=r':1: expected header'):
        read_fer2013(_write(tmp_path, 'a,b,c\n' + _row()))


def _face(value: int) -> np.ndarray:
    return np.full((60, 60), value, dtype=np.uint8)


def _image_tree(tmp_path):
    root = tmp_path / 'faces'
    layout = {
        'train': {'Anger': 2, 'happiness': 1, 'Scared': 1, 'contempt': 3},
        'test': {'sad': 2, 'NEUTRAL': 1},
    }
    for split, classes in layout.items():
        for cls, count in classes.items():
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(count):
                cv2.imwrite(str(folder / f'{i}.png'), _face(10 * i))
    return root


def test_image_folder_maps_class_names_and_counts_skipped(tmp_path):
    data = read_image_folder(_image_tree(tmp_path))
    train, test = data['Training'], data['PrivateTest']
    assert set(data) == {'Training', 'PrivateTest'}
    names = [train.labels[t] for t in train.targets]
    assert sorted(names) == ['angry', 'angry', 'fear', 'happy']
    assert train.skipped == {'contempt': 3}
    assert train.images.shape == (4, 48, 48)  # resized to 48x48
    assert sorted(test.labels[t] for t in test.targets) == ['neutral', 'sad', 'sad']
    assert (
        load_dataset(tmp_path / 'faces', ['Training'])['Training'].targets.tolist()
        == train.targets.tolist()
    )


def test_image_folder_limit_takes_every_class_in_turn(tmp_path):
    """``--limit`` on a folder dataset keeps every class, not the alphabetically first ones."""
    train = read_image_folder(_image_tree(tmp_path), ['Training'], limit=3)['Training']
    assert sorted(train.labels[t] for t in train.targets) == ['angry', 'fear', 'happy']
    assert (
        len(read_image_folder(_image_tree(tmp_path / 'b'), ['Training'], limit=100)['Training'])
        == 4
    )


def test_image_folder_unreadable_image_names_file(tmp_path):
    root = _image_tree(tmp_path)
    bad = root / 'train' / 'Anger' / 'broken.jpg'
    bad.write_bytes(b'not a jpeg at all')
    with pytest.raises(DatasetError, match=r'broken\.jpg: cannot read image'):
        read_image_folder(root, ['Training'])


def test_image_folder_missing_split(tmp_path):
    with pytest.raises(DatasetError, match='no folder for split'):
        read_image_folder(_image_tree(tmp_path), ['PublicTest'])


def test_a_root_of_class_folders_is_one_split_never_training_and_publictest(tmp_path):
    """CK+/JAFFE-style roots have no split folders: one split for eval or k-fold, no more."""
    flat = _image_tree(tmp_path) / 'train'
    data = read_image_folder(flat, ['PrivateTest'])['PrivateTest']
    assert data.name == 'train' and len(data) == 4 and data.skipped == {'contempt': 3}
    everything = read_image_folder(flat)  # --kfold-scope all asks for every split
    assert list(everything) == ['Training'] and len(everything['Training']) == 4
    with pytest.raises(DatasetError, match='not for a Training/PublicTest run'):
        read_image_folder(flat, ['Training', 'PublicTest'])


@pytest.mark.parametrize(
    ('name', 'label'),
    [
        ('anger', 'angry'),
        ('Sadness', 'sad'),
        ('scared', 'fear'),
        ('Surprised', 'surprise'),
        ('contempt', None),
    ],
)
def test_canonical_class(name, label):
    assert canonical_class(name) == label


def test_augment_is_seeded_and_keeps_shape():
    faces = np.random.default_rng(0).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    a = augment_faces(faces, np.random.default_rng(1), AugmentSettings())
    b = augment_faces(faces, np.random.default_rng(1), AugmentSettings())
    assert a.shape == faces.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, faces)
    assert np.array_equal(
        augment_faces(faces, np.random.default_rng(1), AugmentSettings.none()), faces
    )


# Malformed files and rows: each one a DatasetError naming the file, the line and the fault.

ALL_SPLITS = _row('0') + _row('6', usage='PublicTest') + _row('3', usage='PrivateTest')


@pytest.mark.parametrize(
    ('bad_row', 'message'),
    [
        (
            f'3,{" ".join(["7"] * 2304)}\n',
            r'fer\.csv:3: expected 3 fields like the header .*got 2',
        ),
        (f'3,{" ".join(["7"] * 2304)},Training,extra\n', r'fer\.csv:3: expected 3 fields .*got 4'),
        (_row().replace(' 7 ', ' 7.5 ', 1), r'fer\.csv:3: pixels contain a non-integer value'),
        (_row().replace(' 7 ', ' x ', 1), r'fer\.csv:3: pixels contain a non-integer value'),
        (_row().replace(' 7 ', ' 256 ', 1), r'fer\.csv:3: pixel values must be within 0..255'),
        (_row().replace(' 7 ', ' -1 ', 1), r'fer\.csv:3: pixel values must be within 0..255'),
        ('3,,Training\n', r'fer\.csv:3: pixels field is empty'),
        (_row(usage='training'), r"fer\.csv:3: unknown Usage 'training'"),
        (_row(usage=''), r"fer\.csv:3: unknown Usage ''"),
        ('3,"7 7,Training\n', r'fer\.csv:3-6: expected 3 fields'),  # unclosed quote
    ],
)
def test_malformed_row_names_file_line_and_fault(tmp_path, bad_row, message):
    path = _write(tmp_path, HEADER + _row() + bad_row + ALL_SPLITS)
    with pytest.raises(DatasetError, match=message):
        read_fer2013(path)


def test_blank_lines_bom_and_windows_line_endings_are_accepted(tmp_path):
    text = '\ufeff' + (HEADER + _row('0') + '\n' + _row('6', usage='PublicTest') + '\n\n').replace(
        '\n', '\r\n'
    )
    path = tmp_path / 'excel.csv'
    path.write_bytes(text.encode('utf-8'))
    splits = read_fer2013(path, ['Training', 'PublicTest'])
    assert splits['Training'].targets.tolist() == [0] and splits[
        'PublicTest'
    ].targets.tolist() == [6]


def test_gzip_detected_by_content_not_name(tmp_path):
    path = tmp_path / 'fer.csv'  # gzip data without the .gz suffix
    path.write_bytes(gzip.compress((HEADER + ALL_SPLITS).encode()))
    assert len(read_fer2013(path)['PrivateTest']) == 1


def test_truncated_gzip_names_the_last_line_read(tmp_path):
    whole = gzip.compress((HEADER + ALL_SPLITS * 20).encode())
    path = tmp_path / 'cut.csv.gz'
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(
        DatasetError, match=r'cut\.csv\.gz: cannot read after line \d+: .*truncated or corrupt'
    ):
        read_fer2013(path)


def test_corrupt_gzip_stream_is_a_dataset_error(tmp_path):
    whole = bytearray(gzip.compress((HEADER + ALL_SPLITS * 20).encode()))
    whole[40:60] = bytes(20)  # zeroed block inside the deflate stream
    path = tmp_path / 'bad.csv.gz'
    path.write_bytes(bytes(whole))
    with pytest.raises(DatasetError, match=r'bad\.csv\.gz: cannot read'):
        read_fer2013(path)


def test_empty_split_names_the_split_and_what_was_found(tmp_path):
    path = _write(tmp_path, HEADER + _row('0') + _row('1', usage='PrivateTest'))
    with pytest.raises(
        DatasetError, match=r"split 'PublicTest' has no rows .*Training \(1\), PrivateTest \(1\)"
    ):
        read_fer2013(path, ['Training', 'PublicTest', 'PrivateTest'])
    with pytest.raises(DatasetError, match=r"split 'Training' has no rows .*none of them"):
        read_fer2013(_write(tmp_path, HEADER, 'header_only.csv'), ['Training'])


@pytest.mark.parametrize('content', [b'', b'not an image at all', b'\x89PNG\r\n\x1a\n\x00\x00'])
def test_image_folder_empty_or_corrupt_file_names_it(tmp_path, content):
    root = _image_tree(tmp_path)
    (root / 'train' / 'happiness' / 'bad.png').write_bytes(content)
    with pytest.raises(DatasetError, match=r'happiness/bad\.png: cannot read image'):
        read_image_folder(root, ['Training'])


def test_image_folder_ignores_hidden_and_non_image_files(tmp_path):
    root = _image_tree(tmp_path)
    (root / 'train' / 'happiness' / '._0.png').write_bytes(b'\x00\x05\x16\x07 macOS resource fork')
    (root / 'train' / 'happiness' / 'notes.txt').write_text('not a face')
    (root / 'train' / '.DS_Store').write_bytes(b'\x00\x00')
    assert len(read_image_folder(root, ['Training'])['Training']) == 4


def test_image_folder_empty_split_or_only_unknown_classes(tmp_path):
    root = _image_tree(tmp_path)
    (root / 'val').mkdir()
    with pytest.raises(
        DatasetError, match=r'faces/val: no images of known classes \(skipped: none\)'
    ):
        read_image_folder(root, ['PublicTest'])
    for path in (root / 'test').rglob('*.png'):
        path.unlink()
    (root / 'test' / 'contempt').mkdir()
    cv2.imwrite(str(root / 'test' / 'contempt' / '0.png'), _face(5))
    with pytest.raises(
        DatasetError,
        match=r"faces/test: no images of known classes \(skipped: \{'contempt': 1\}\)",
    ):
        read_image_folder(root, ['PrivateTest'])


# The same errors through the command line: exit code 2 and one line, before any training starts.


def _cli_error(capsys, args) -> str:
    from fer_ros import cli

    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'Traceback' not in err
    return err


def test_train_cli_rejects_bad_rows_and_empty_splits_in_one_line(tmp_path, capsys):
    pytest.importorskip('tensorflow', reason='fer-ros train needs the train extra')
    bad = _write(tmp_path, HEADER + _row() + _row(value=300) + ALL_SPLITS)
    err = _cli_error(capsys, ['train', '--data', str(bad), '--run-dir', str(tmp_path / 'run')])
    assert (
        err.startswith('fer-ros train: error: ')
        and 'fer.csv:3: pixel values must be within 0..255' in err
    )
    no_val = _write(tmp_path, HEADER + _row() + _row(usage='PrivateTest'), 'no_val.csv')
    err = _cli_error(capsys, ['train', '--data', str(no_val), '--run-dir', str(tmp_path / 'run2')])
    assert "no_val.csv: split 'PublicTest' has no rows" in err
    assert (
        not (tmp_path / 'run' / 'state.json').exists()
        and not (tmp_path / 'run2' / 'run.json').exists()
    )


def test_eval_cli_rejects_bad_data_in_one_line(tmp_path, capsys):
    from fer_ros.model_metadata import FER2013_LABELS, ModelInfo
    from tiny_models import linear_softmax_model

    model = linear_softmax_model(
        tmp_path / 'm.onnx', metadata=ModelInfo(FER2013_LABELS, 'grey', 48).to_metadata()
    )
    cut = tmp_path / 'cut.csv.gz'
    cut.write_bytes(gzip.compress((HEADER + ALL_SPLITS * 20).encode())[:300])
    err = _cli_error(capsys, ['eval', str(model), '--data', str(cut)])
    assert err.startswith('fer-ros eval: error: ') and 'cut.csv.gz: cannot read after line' in err
    root = _image_tree(tmp_path)
    for path in (root / 'test').rglob('*.png'):
        path.unlink()
    err = _cli_error(capsys, ['eval', str(model), '--data', str(root)])
    assert 'faces/test: no images of known classes' in err
