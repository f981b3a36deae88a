"""Peak memory (RSS) of one library processing frames, measured in a fresh process of its own.

Peak RSS is a per-process high-water mark: measured in the benchmark's own
process it would be the sum of everything loaded so far (TensorFlow for fer,
ONNX Runtime for fer_ros, the dataset, ...). So ``run.py`` starts this script
once per library, in a new interpreter, and reads the JSON line it prints::

    python -m benchmarks.memory_probe --library fer_ros --frames frames.npz --settings '{}'

``baseline`` loads the frames with numpy and OpenCV only: the floor both
libraries share.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys

LIBRARIES = ('baseline', 'fer_ros', 'fer')


def status_mb(field: str) -> float:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in MiB; ru_maxrss where /proc is
    absent.
    """
    try:
        with open('/proc/self/status', encoding='ascii') as handle:
            for line in handle:
                if line.startswith(field + ':'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--library', choices=LIBRARIES, required=True)
    parser.add_argument(
        '--frames', required=True, help=".npz file with a uint8 array 'frames' (N x H x W x 3)"
    )
    parser.add_argument('--settings', default='{}', help='fer_ros PipelineSettings as JSON')
    parser.add_argument('--passes', type=int, default=3, help='times to process every frame')
    args = parser.parse_args(argv)

    import numpy as np

    frames = np.load(args.frames)['frames']
    start_mb = status_mb('VmRSS')
    if args.library == 'fer_ros':
        from fer_ros.settings import PipelineSettings

        from .ours import FerRosPipeline

        subject = FerRosPipeline(PipelineSettings.from_mapping(json.loads(args.settings)))
    elif args.library == 'fer':
        from .peer_fer import FerPipeline

        subject = FerPipeline()
    else:
        import cv2  # noqa: F401  (both libraries load it)

        subject = None
    init_mb = status_mb('VmRSS')
    faces = 0
    for _ in range(args.passes):
        for frame in frames:
            if subject is not None:
                faces += len(subject.process(frame))
    print(
        json.dumps(
            {
                'library': args.library,
                'frames_processed': int(len(frames) * args.passes),
                'faces_reported': faces,
                'rss_after_loading_frames_mb': round(start_mb, 1),
                'rss_after_init_mb': round(init_mb, 1),
                'peak_rss_mb': round(status_mb('VmHWM'), 1),
            }
        )
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
