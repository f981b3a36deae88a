#!/usr/bin/env python3
"""Measure fer_ros and the `fer` package (PyPI) side by side, in one run, on the same inputs.

    python benchmarks/run.py                   # full run (~5 min on 2 cores), what README.md shows
    python benchmarks/run.py --profile quick   # ~1-2 min, fewer faces, frames and repeats
    python benchmarks/run.py --profile smoke   # seconds; what CI runs to prove the command works

Writes ``benchmarks/results/<profile>.json`` (everything, with machine,
versions, date and git commit) and ``<profile>.md`` (the tables). Both
libraries are imported into this process; peak memory is measured in a fresh
subprocess per library (see ``memory_probe.py``). See the Benchmarks section of README.md.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import shlex
import subprocess
import sys
import tempfile
import time

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT / 'fer_ros', REPO_ROOT):  # runnable from a checkout without installing
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from benchmarks.peer_fer import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

SECTIONS = ('accuracy', 'classifier', 'pipeline', 'sweep', 'detection', 'framing', 'memory')
PROFILES = {
    # accuracy_limit: PrivateTest faces (None = all 3,589); speed_*: classifier timing;
    # frames_per_run x pipeline_repeats (even, so both orders occur equally): pipeline timing.
    # sweep_variants: which of sweep.VARIANTS (scene + detector settings) to run (None: all).
    'full': {
        'accuracy_limit': None,
        'speed_repeats': 7,
        'faces_per_run': 256,
        'frames_per_run': 12,
        'pipeline_repeats': 6,
        'sweep_variants': None,
        'sweep_frames': 10,
        'sweep_repeats': 2,
        'memory_frames': 10,
        'memory_passes': 3,
        'detection_scenes': 150,
        'framing_faces': 300,
    },
    'quick': {
        'accuracy_limit': 1000,
        'speed_repeats': 3,
        'faces_per_run': 128,
        'frames_per_run': 6,
        'pipeline_repeats': 2,
        'sweep_variants': (0, 2, 6, 7),
        'sweep_frames': 6,
        'sweep_repeats': 2,
        'memory_frames': 5,
        'memory_passes': 2,
        'detection_scenes': 50,
        'framing_faces': 300,
    },
    'smoke': {
        'accuracy_limit': 40,
        'speed_repeats': 1,
        'faces_per_run': 8,
        'frames_per_run': 2,
        'pipeline_repeats': 2,
        'sweep_variants': (0, 7),
        'sweep_frames': 3,
        'sweep_repeats': 2,
        'memory_frames': 2,
        'memory_passes': 1,
        'detection_scenes': 4,
        'framing_faces': 12,
    },
}
PEER_CLASSIFIER = 'fer (TFLite, default)'


def default_dataset() -> Path:
    override = os.environ.get('FER2013_CSV')
    if override:
        return Path(override)
    return REPO_ROOT.parent / 'shared' / 'data' / 'fer2013' / 'fer2013.csv.gz'


def parse_setting(text: str):
    """``name=value`` with value as JSON (numbers, true/false, lists) or else a plain string."""
    if '=' not in text:
        raise argparse.ArgumentTypeError(f'expected NAME=VALUE, got {text!r}')
    name, value = text.split('=', 1)
    try:
        return name.strip(), json.loads(value)
    except json.JSONDecodeError:
        return name.strip(), value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--profile',
        choices=tuple(PROFILES),
        default='full',
        help='how much to measure (default: full)',
    )
    parser.add_argument(
        '--models',
        nargs='+',
        metavar='MODEL',
        help='fer_ros models (shipped names or .onnx paths); default: every shipped model, '
        'the first one drives the pipeline',
    )
    parser.add_argument(
        '--data',
        type=Path,
        default=default_dataset(),
        help='FER2013 CSV(.gz) (default: $FER2013_CSV, else '
        '../shared/data/fer2013/fer2013.csv.gz beside the repository)',
    )
    parser.add_argument(
        '--out',
        type=Path,
        default=REPO_ROOT / 'benchmarks' / 'results',
        help='folder for <profile>.json and <profile>.md',
    )
    parser.add_argument(
        '--sections',
        nargs='+',
        choices=SECTIONS,
        default=list(SECTIONS),
        help='what to measure (default: all)',
    )
    parser.add_argument(
        '--no-peer',
        action='store_true',
        help='measure fer_ros only (default: fail when the fer package is missing)',
    )
    parser.add_argument(
        '--setting',
        action='append',
        default=[],
        type=parse_setting,
        metavar='NAME=VALUE',
        help='fer_ros pipeline setting for the pipeline and memory runs (repeatable)',
    )
    parser.add_argument('--seed', type=int, default=0, help='seed of the synthetic frames')
    return parser


def log(message: str) -> None:
    print(f'[{time.strftime("%H:%M:%S")}] {message}', file=sys.stderr, flush=True)


def measure_memory(settings: dict, frames, passes: int, with_peer: bool) -> dict:
    """Peak RSS of each library, each in its own fresh interpreter (see memory_probe.py)."""
    import numpy as np

    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(REPO_ROOT / 'fer_ros'), str(REPO_ROOT)]
        + ([env['PYTHONPATH']] if env.get('PYTHONPATH') else [])
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'frames.npz'
        np.savez(path, frames=np.stack([f.image for f in frames]))
        for library in ('baseline', 'fer_ros') + (('fer',) if with_peer else ()):
            command = [
                sys.executable,
                '-m',
                'benchmarks.memory_probe',
                '--library',
                library,
                '--frames',
                str(path),
                '--settings',
                json.dumps(settings),
                '--passes',
                str(passes),
            ]
            proc = subprocess.run(
                command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{')]
            if proc.returncode != 0 or not lines:
                results[library] = {
                    'error': (proc.stderr.strip().splitlines() or ['no output'])[-1]
                }
            else:
                results[library] = json.loads(lines[-1])
            log(f'memory {library}: {results[library]}')
    return results


def run(args: argparse.Namespace) -> dict:
    from benchmarks import accuracy, classifier_speed, pipeline_speed
    from benchmarks.environment import describe_environment
    from benchmarks.frames import synthesize_frames
    from benchmarks.ours import FerRosClassifier, FerRosPipeline
    from benchmarks.peer_fer import fer_unavailable_reason
    from benchmarks.report import evaluate_targets
    from fer_ros.errors import FerRosError
    from fer_ros.resources import DEFAULT_MODEL, resolve_model, shipped_models
    from fer_ros.settings import PipelineSettings
    from fer_ros.training.data import read_fer2013

    profile = PROFILES[args.profile]
    # The default model first: it drives the pipeline and the targets.
    models = args.models or sorted(shipped_models(), key=lambda name: name != DEFAULT_MODEL)
    if not models:
        raise FerRosError(
            'no fer_ros model to measure: none is shipped in fer_ros/fer_ros/models/; '
            'pass --models PATH.onnx'
        )
    for model in models:
        resolve_model(model)  # fails early, naming a missing file
    reason = None if args.no_peer else fer_unavailable_reason()
    if reason and not args.no_peer:
        raise FerRosError(reason + ' (or pass --no-peer to measure fer_ros alone)')
    with_peer = not args.no_peer
    settings = PipelineSettings.from_mapping({'model': models[0], **dict(args.setting)})

    result = {
        'profile': args.profile,
        'command': ' '.join(['python benchmarks/run.py'] + [shlex.quote(a) for a in sys.argv[1:]]),
        'environment': describe_environment(),
        'parameters': dict(profile),
        'pipeline_settings': settings.to_dict(),
        'default_model': None,
        'peer_classifier': PEER_CLASSIFIER if with_peer else None,
        'peer_skipped': '--no-peer given' if args.no_peer else None,
    }
    if with_peer:
        from benchmarks.peer_fer import fer_version

        result['environment']['fer_version'] = fer_version()

    log(f'reading FER2013 PrivateTest from {args.data}')
    data = read_fer2013(args.data, splits=['PrivateTest'])['PrivateTest']
    images, targets = data.images, data.targets
    if profile['accuracy_limit']:
        # A fixed, class-stratified-by-chance subset: every n-th face keeps the class mix.
        step = max(1, len(targets) // profile['accuracy_limit'])
        keep = slice(None, profile['accuracy_limit'])
        images, targets = images[::step][keep], targets[::step][keep]
    result['dataset'] = {
        'file': str(args.data),
        'split': 'PrivateTest',
        'faces': int(len(targets)),
    }

    ours = {FerRosClassifier(m).name: m for m in models}
    result['default_model'] = next(iter(ours))

    if 'accuracy' in args.sections:
        rows = []
        subjects = [FerRosClassifier(m) for m in models]
        if with_peer:
            from benchmarks.peer_fer import FerKerasClassifier, FerTfliteClassifier

            subjects += [FerTfliteClassifier(threads=1), FerKerasClassifier()]
        for subject in subjects:
            rows.append(accuracy.evaluate_classifier(subject, images, targets, data.labels))
            log(
                f'accuracy {rows[-1]["model"]}: {rows[-1]["accuracy"]:.4f} '
                f'({rows[-1]["seconds"]} s)'
            )
        result['accuracy'] = rows

    if 'classifier' in args.sections:
        factories = {name: (lambda t, m=m: FerRosClassifier(m, t)) for name, m in ours.items()}
        if with_peer:
            from benchmarks.peer_fer import FerTfliteClassifier

            factories[PEER_CLASSIFIER] = lambda t: FerTfliteClassifier(threads=t)
        result['classifier_speed'] = classifier_speed.measure_classifier_speed(
            factories, data.images, profile['speed_repeats'], profile['faces_per_run']
        )
        for row in result['classifier_speed']:
            log(
                f'classifier {row["model"]} threads={row["threads"]} batch={row["batch"]}: '
                f'{row["ms_per_face"]["median"]:.3f} ms/face'
            )

    if 'pipeline' in args.sections:
        subjects = {'fer_ros': FerRosPipeline(settings)}
        if with_peer:
            from benchmarks.peer_fer import FerPipeline

            subjects['fer'] = FerPipeline()
        result['pipeline'] = pipeline_speed.measure_pipelines(
            subjects,
            data.images,
            data.targets,
            data.labels,
            profile['frames_per_run'],
            profile['pipeline_repeats'],
            seed=args.seed,
        )
        for row in result['pipeline']:
            peer = (
                (
                    f', fer {row["fer"]["fps"]["median"]:.1f} fps, ratio '
                    f'{row["fps_ratio_fer_ros_over_fer"]["median"]:.1f}'
                )
                if 'fer' in row
                else ''
            )
            log(
                f'pipeline {row["frame"]} {row["faces"]} faces: '
                f'fer_ros {row["fer_ros"]["fps"]["median"]:.1f} fps{peer}'
            )
        del subjects

    if 'sweep' in args.sections:
        from benchmarks.sweep import measure_sweep, VARIANTS

        peer = None
        if with_peer:
            from benchmarks.peer_fer import FerPipeline

            peer = FerPipeline()
        result['sweep'] = measure_sweep(
            lambda overrides: FerRosPipeline(settings.replace(**overrides)),
            peer,
            data.images,
            data.targets,
            data.labels,
            profile['sweep_frames'],
            profile['sweep_repeats'],
            variants=[
                v
                for i, v in enumerate(VARIANTS)
                if profile['sweep_variants'] is None or i in profile['sweep_variants']
            ],
            seed=args.seed + 7,
        )
        for row in result['sweep']:
            ratio = row.get('fps_ratio_fer_ros_over_fer', {}).get('median')
            log(
                f'sweep {row["scene"]} {row["settings"] or "defaults"} {row["faces"]} faces: '
                f'{row["fer_ros"]["fps"]["median"]:.1f} fps, found '
                f'{row["fer_ros"]["faces_matched"]}/'
                f'{row["fer_ros"]["faces_placed"]}' + (f', ratio {ratio:.1f}' if ratio else '')
            )

    if 'detection' in args.sections:
        from benchmarks.detection_quality import fer_ros_detector, measure_detection, scene_sets

        detectors = {
            'fer_ros YuNet': fer_ros_detector(**{**settings.to_dict(), 'detector': 'yunet'}),
            'fer_ros Haar': fer_ros_detector(
                **{**settings.to_dict(), 'detector': 'haar', 'score_threshold': 0.55}
            ),
        }
        if with_peer:
            from benchmarks.peer_fer import FerPipeline

            detectors['fer'] = FerPipeline().find_faces
        scenes = scene_sets(data.images, profile['detection_scenes'], args.seed)
        result['detection'] = measure_detection(detectors, scenes)
        for row in result['detection']:
            log(
                f'detection {row["scenes"]} {row["detector"]}: found '
                f'{row["found"]}/{row["placed"]}, '
                f'{row["false_positives_per_frame"]:.3f} false positives per frame, '
                f'{row["ms_per_frame"]:.1f} ms'
            )

    if 'framing' in args.sections:
        from benchmarks.detection_quality import measure_framing

        result['framing'] = measure_framing(
            data,
            models[0],
            profile['framing_faces'],
            args.seed + 3,
            margins=(-0.1, -0.05, 0.0, 0.1),
        )
        for row in result['framing']:
            log(
                f'framing turned<={row["faces_turned_up_to"]:g} {row["detector"]} '
                f'align={row["alignment"]} '
                f'margin={row["face_margin"]:g}: {row["accuracy_end_to_end"]:.4f} on '
                f'{row["found"]} faces '
                f'(crops {row["accuracy_on_exact_crops"]:.4f})'
            )

    if 'memory' in args.sections:
        frames = synthesize_frames(
            data.images, 640, 480, 1, profile['memory_frames'], seed=args.seed
        )
        result['memory'] = measure_memory(
            settings.to_dict(), frames, profile['memory_passes'], with_peer
        )

    result['targets'] = evaluate_targets(result)
    return result


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from benchmarks.report import render_markdown
    from fer_ros.errors import FerRosError

    started = time.perf_counter()
    try:
        result = run(args)
    except FerRosError as exc:
        print(f'benchmarks/run.py: error: {exc}', file=sys.stderr)
        return 2
    result['seconds'] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = args.out / f'{args.profile}.json', args.out / f'{args.profile}.md'
    json_path.write_text(json.dumps(result, indent=1) + '\n', encoding='utf-8')
    md_path.write_text(render_markdown(result) + '\n', encoding='utf-8')
    log(f'wrote {json_path} and {md_path} in {result["seconds"]} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
