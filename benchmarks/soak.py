"""Soak: the pipeline over a long stream of faces coming and going; memory must stay flat, tracks
bounded.

A robot runs unattended for days, so anything in ``fer_ros.pipeline`` that
grows with the number of frames (a history, a cache keyed by track id,
smoothing state of faces long gone) would eventually take the machine down.
This drives one :class:`~fer_ros.pipeline.Pipeline` with the shipped default
model over a :class:`~benchmarks.frames.MovingFaces` stream (FER2013
PrivateTest faces entering, moving, leaving, gaps with nobody, crowds larger
than ``max_faces``) and checks, on every frame:

- the tracker holds at most ``max_faces`` tracks;
- no track outlives its last detection by more than ``max_missed_frames``
  frames (a face that left is forgotten in time);
- track ids are never reused (every new id is larger than every earlier one);

and samples resident memory (``VmRSS``), the number of Python container
objects (``gc.get_objects``) and the number of tracks every ``--sample-every``
frames. The warm-up lasts ``--warmup`` frames and at least until the first
crowd has come and gone (the largest batch has been classified, so ONNX
Runtime and the allocator hold what they will ever need). Memory passes when
RSS at the end is within 5% of RSS after the warm-up (issue #6's limit) and the
number of Python containers grew by fewer than 100 (a leak of one object per
frame would add one per frame). The bookkeeping itself keeps O(live tracks)
state, so it does not add a drift of its own.

    python benchmarks/soak.py                         # 20,000 frames of 320x240, prints a table
    python benchmarks/soak.py --frames 2000 --json soak.json

Exit code 0 when every check passes, 1 otherwise. ``fer_ros/test/test_soak.py``
runs the same :func:`soak` over a short stream in CI.
"""

from __future__ import annotations

import argparse
import gc
import json
from pathlib import Path
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if (
    __name__ == '__main__'
):  # run as a script from a checkout: the repository root and fer_ros/ importable
    sys.path[:0] = [str(ROOT), str(ROOT / 'fer_ros')]

from benchmarks.frames import match_boxes, MovingFaces  # noqa: E402
from benchmarks.memory_probe import status_mb  # noqa: E402

DEFAULT_DATA = ROOT.parent / 'shared' / 'data' / 'fer2013' / 'fer2013.csv.gz'
MAX_RSS_DRIFT_PCT = 5.0  # issue #6: resident memory flat within 5% after warm-up
MAX_OBJECT_GROWTH = (
    100  # Python containers after warm-up; measured: within +-20 over 20,000 frames
)


def _sample(frame: int, tracks: int) -> Dict[str, float]:
    return {
        'frame': frame,
        'rss_mib': round(status_mb('VmRSS'), 2),
        'objects': len(gc.get_objects()),
        'tracks': tracks,
    }


def soak(
    pipeline,
    stream: MovingFaces,
    frames: int,
    warmup: int,
    sample_every: int = 500,
    progress: Optional[Callable[[int], None]] = None,
    max_rss_drift_pct: float = MAX_RSS_DRIFT_PCT,
    max_object_growth: int = MAX_OBJECT_GROWTH,
) -> Dict[str, Any]:
    """Process ``frames`` frames of ``stream``; check the tracker on every frame, sample memory.

    Returns the figures and the violations (none when everything held). The
    reference memory sample is taken after at least ``warmup`` frames and the
    first crowd (lazy allocations, ONNX Runtime arenas for the largest batch).
    """
    settings = pipeline.settings
    violations: Dict[str, int] = {}  # kind -> count
    examples: List[str] = []  # the first violation of each kind, verbatim

    def violation(kind: str, text: str) -> None:
        if kind not in violations:
            examples.append(text)
        violations[kind] = violations.get(kind, 0) + 1

    last_output: Dict[int, int] = {}  # live track id -> last frame the pipeline reported it
    max_id = 0
    max_tracks = max_outlived = faces_in_view = faces_found = faces_reported = 0
    samples: List[Dict[str, float]] = []
    warm_at: Optional[int] = None  # frame of the reference memory sample
    process_s = 0.0
    gc.collect()
    start = time.perf_counter()
    for i in range(frames):
        frame = stream.next_frame()
        t0 = time.perf_counter()
        result = pipeline.process(frame.image)
        process_s += time.perf_counter() - t0
        ids = [face.track_id for face in result.faces]
        if len(set(ids)) != len(ids):
            violation('duplicate_id', f'frame {i}: one id given to two faces: {ids}')
        for track_id in ids:
            if track_id not in last_output and track_id <= max_id:
                violation(
                    'id_reused',
                    f'frame {i}: id {track_id} reused (ids up to {max_id} given before)',
                )
        max_id = max([max_id, *ids])
        tracks = pipeline.tracker.tracks
        reported = set(ids)
        live: Dict[int, int] = {}
        for track in tracks:
            if track.track_id in reported:
                live[track.track_id] = i
            elif track.track_id in last_output:
                live[track.track_id] = last_output[track.track_id]
            elif (
                track.hits < settings.confirm_frames
            ):  # held, unreported, until seen confirm_frames times
                live[track.track_id] = i - track.missed  # the frame it was last detected in
            else:
                violation(
                    'never_reported', f'frame {i}: track {track.track_id} kept but never reported'
                )
                live[track.track_id] = i
        last_output = live
        outlived = max((i - seen for seen in live.values()), default=0)
        if outlived > settings.max_missed_frames:
            violation(
                'outlived',
                f'frame {i}: a track outlived its last detection by {outlived} frames '
                f'(max_missed_frames={settings.max_missed_frames})',
            )
        if len(tracks) > settings.max_faces:
            violation(
                'too_many_tracks',
                f'frame {i}: {len(tracks)} tracks kept (max_faces={settings.max_faces})',
            )
        max_tracks = max(max_tracks, len(tracks))
        max_outlived = max(max_outlived, outlived)
        faces_in_view += len(frame.boxes)
        faces_reported += len(ids)
        faces_found += len(match_boxes(frame.boxes, [face.box for face in result.faces], 0.3))
        done = i + 1
        if warm_at is None and done >= warmup and stream.crowds and stream.phase != 'crowd':
            warm_at = done
        if warm_at is not None and ((done - warm_at) % sample_every == 0 or done == frames):
            gc.collect()
            samples.append(_sample(done, len(tracks)))
        if progress is not None:
            progress(done)
    wall_s = time.perf_counter() - start
    if len(samples) < 2:
        raise ValueError(
            f'no memory reference: warm-up (>= {warmup} frames and the first crowd gone) '
            f'not over before the last of {frames} frames; give more frames or another seed'
        )
    limits = {'rss_drift_pct': max_rss_drift_pct, 'object_growth': max_object_growth}
    return _report(
        pipeline,
        stream,
        frames,
        samples,
        violations,
        examples,
        limits,
        {
            'fps_pipeline': frames / process_s if process_s else 0.0,
            'fps_overall': frames / wall_s if wall_s else 0.0,
            'wall_s': wall_s,
            'max_tracks': max_tracks,
            'max_track_id': max_id,
            'max_frames_outlived': max_outlived,
            'faces_in_view': faces_in_view,
            'faces_found': faces_found,
            'faces_reported': faces_reported,
        },
    )


def _report(
    pipeline, stream, frames, samples, violations, examples, limits, figures
) -> Dict[str, Any]:
    settings = pipeline.settings
    first, last = samples[0], samples[-1]
    drift_pct = 100.0 * (last['rss_mib'] - first['rss_mib']) / first['rss_mib']
    slope = 0.0
    if len(samples) >= 3:  # MiB per 10,000 frames, least squares over the samples after warm-up
        slope = float(
            np.polyfit([s['frame'] for s in samples], [s['rss_mib'] for s in samples], 1)[0] * 1e4
        )
    if drift_pct > limits['rss_drift_pct']:
        violations['rss_drift'] = 1
        examples.append(
            f'RSS grew {drift_pct:.2f}% after warm-up (limit {limits["rss_drift_pct"]}%)'
        )
    growth = last['objects'] - first['objects']
    if growth > limits['object_growth']:
        violations['object_growth'] = 1
        examples.append(
            f'{growth} more Python objects after warm-up (limit {limits["object_growth"]})'
        )
    return {
        'frames': frames,
        'warmup_frames': first['frame'],
        'frame_size': [stream.width, stream.height],
        'people_entered': stream.entered,
        'crowds': stream.crowds,
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()},
        'recall': round(figures['faces_found'] / max(1, figures['faces_in_view']), 3),
        'rss_after_warmup_mib': first['rss_mib'],
        'rss_end_mib': last['rss_mib'],
        'rss_max_mib': max(s['rss_mib'] for s in samples),
        'rss_drift_pct': round(drift_pct, 2),
        'rss_slope_mib_per_10k_frames': round(slope, 3),
        'objects_after_warmup': first['objects'],
        'objects_end': last['objects'],
        'limits': {
            **limits,
            'max_tracks': settings.max_faces,
            'max_frames_outlived': settings.max_missed_frames,
        },
        'passed': not violations,
        'violations': violations,
        'first_violations': examples,
        'samples': samples,
        'model': pipeline.classifier.path.name,
        'provider': pipeline.provider,
        'settings': settings.to_dict(),
    }


def print_table(report: Dict[str, Any]) -> None:
    """The figures, one per line, with the limit where there is one."""
    limits = report['limits']
    rows = [
        ('frames (warm-up)', f'{report["frames"]} ({report["warmup_frames"]})'),
        ('frame size', 'x'.join(str(v) for v in report['frame_size'])),
        ('people entered / crowds', f'{report["people_entered"]} / {report["crowds"]}'),
        (
            'faces in view / found (recall)',
            f'{report["faces_in_view"]} / {report["faces_found"]} ({report["recall"]:.3f})',
        ),
        ('fps pipeline / overall', f'{report["fps_pipeline"]:.1f} / {report["fps_overall"]:.1f}'),
        (
            'RSS after warm-up / end / max (MiB)',
            f'{report["rss_after_warmup_mib"]:.1f} / {report["rss_end_mib"]:.1f} / '
            f'{report["rss_max_mib"]:.1f}',
        ),
        (
            'RSS drift',
            f'{report["rss_drift_pct"]:+.2f}% (limit +{limits["rss_drift_pct"]}%), '
            f'slope {report["rss_slope_mib_per_10k_frames"]:+.2f} MiB / 10k frames',
        ),
        (
            'Python objects after warm-up / end',
            f'{report["objects_after_warmup"]} / {report["objects_end"]} (limit '
            f'+{limits["object_growth"]})',
        ),
        ('max tracks', f'{report["max_tracks"]} (limit {limits["max_tracks"]})'),
        (
            'max frames a track outlived its face',
            f'{report["max_frames_outlived"]} (limit {limits["max_frames_outlived"]})',
        ),
        ('max track id', str(report['max_track_id'])),
        (
            'result',
            'PASS'
            if report['passed']
            else 'FAIL ('
            + ', '.join(f'{kind}: {n}' for kind, n in report['violations'].items())
            + ')',
        ),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f'{name:<{width}}  {value}')
    for text in report['first_violations']:
        print(f'  {text}')


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--frames', type=int, default=20000, help='frames to process (default 20000)'
    )
    parser.add_argument(
        '--warmup',
        type=int,
        default=0,
        help='frames before the reference memory sample, at least until the first crowd '
        'has left (default: 10%% of --frames)',
    )
    parser.add_argument(
        '--size', default='320x240', help='frame size WIDTHxHEIGHT (default 320x240)'
    )
    parser.add_argument('--seed', type=int, default=0, help='seed of the stream (default 0)')
    parser.add_argument(
        '--max-faces',
        type=int,
        default=4,
        help='pipeline max_faces (default 4; crowds bring --crowd faces)',
    )
    parser.add_argument('--crowd', type=int, default=8, help='faces in a crowd (default 8)')
    parser.add_argument(
        '--sample-every', type=int, default=500, help='frames between memory samples'
    )
    parser.add_argument('--data', default=str(DEFAULT_DATA), help='FER2013 csv(.gz)')
    parser.add_argument('--json', dest='json_path', help='write the report to this file')
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split('x'))
    warmup = args.warmup or max(1, args.frames // 10)
    if not 0 < warmup < args.frames:
        parser.error('--warmup must be below --frames')

    from benchmarks.environment import describe_environment
    from fer_ros.pipeline import Pipeline
    from fer_ros.settings import PipelineSettings
    from fer_ros.training.data import read_fer2013
    from tqdm import tqdm

    environment = describe_environment()
    faces = read_fer2013(args.data, splits=['PrivateTest'])['PrivateTest'].images
    pipeline = Pipeline(PipelineSettings(max_faces=args.max_faces))
    stream = MovingFaces(faces, width, height, seed=args.seed, crowd=args.crowd)
    del faces  # the stream keeps the array; nothing else should
    try:
        with tqdm(total=args.frames, unit='frame', file=sys.stderr, mininterval=5) as bar:
            report = soak(
                pipeline,
                stream,
                args.frames,
                warmup,
                args.sample_every,
                progress=lambda done: bar.update(1),
            )
    except ValueError as exc:
        print(f'soak: {exc}', file=sys.stderr)
        return 2
    report['command'] = 'python benchmarks/soak.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:]
    )
    report['environment'] = environment
    print_table(report)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=2) + '\n', encoding='utf-8')
    return 0 if report['passed'] else 1


if __name__ == '__main__':
    sys.exit(main())
