"""Training images per second through the real data feeder, with and without the glibc fix.

Keras ``fit`` on FER2013 Training faces through ``FaceBatches`` (augmentation, random erasing,
preprocessing, class weights) as ``fer-ros train`` runs it, vgg_small float32 by default: one
warm-up epoch of ``--batches`` batches, then the same number timed, in a fresh process per mode.
``keep`` is the shipped feeder (glibc's mmap and trim thresholds restored each batch, see
``fer_ros/training/malloc.py``); ``tf-default`` leaves TensorFlow's setting. Reports images per
second, minor page faults and kernel vs user CPU seconds of the timed part. Run it with the
machine otherwise idle:

    python benchmarks/feeder_throughput.py --arch-arg width=0.5
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import resource
import subprocess
import sys
import time

REPO_ROOT = Path(__file__).resolve().parents[1]


def measure(mode: str, arch: str, arch_args: dict, batch: int, batches: int, data: str) -> dict:
    """Figures of one timed ``fit`` in this process, the glibc fix on (``keep``) or off."""
    from fer_ros.training import sequence
    from fer_ros.training.augment import AugmentSettings
    from fer_ros.training.data import load_dataset
    from fer_ros.training.models import build_model
    from fer_ros.training.optimizers import DecoupledAdamW

    if mode == 'tf-default':
        sequence.keep_freed_memory = lambda: False

    class FirstBatches(sequence.FaceBatches):
        def __len__(self) -> int:
            return batches

    train = load_dataset(data, ['Training'], limit=batch * batches)['Training']
    feeder = FirstBatches(
        train, 'grey', batch, augment=AugmentSettings(erasing=0.25), shuffle=True
    )
    model = build_model(arch, 48, 1, len(train.labels), arch_args)
    model.compile(
        optimizer=DecoupledAdamW(learning_rate=2e-3, weight_decay=0.05),
        loss='categorical_crossentropy',
    )
    model.fit(feeder, epochs=1, verbose=0)  # warm-up: graph tracing, first allocations
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    model.fit(feeder, epochs=1, verbose=0)
    seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    return {
        'mode': mode,
        'images_per_second': round(batch * batches / seconds, 1),
        'minor_page_faults': after.ru_minflt - before.ru_minflt,
        'kernel_cpu_s': round(after.ru_stime - before.ru_stime, 1),
        'user_cpu_s': round(after.ru_utime - before.ru_utime, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', default='vgg_small')
    parser.add_argument('--arch-arg', action='append', default=['width=0.5'], metavar='KEY=VALUE')
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--batches', type=int, default=30)
    parser.add_argument(
        '--data', default=str(REPO_ROOT.parent / 'shared' / 'data' / 'fer2013' / 'fer2013.csv.gz')
    )
    parser.add_argument('--mode', choices=('keep', 'tf-default'), help='one mode in this process')
    args = parser.parse_args(argv)
    if args.mode:
        from fer_ros.training.models import get_architecture, parse_arch_args

        arch_args = parse_arch_args(get_architecture(args.arch), args.arch_arg[-1:])
        figures = measure(args.mode, args.arch, arch_args, args.batch, args.batches, args.data)
        print(json.dumps({'arch': args.arch, 'arch_args': arch_args, **figures}))
        return 0
    for mode in ('tf-default', 'keep'):
        command = [sys.executable, __file__, '--mode', mode, '--arch', args.arch]
        command += [f'--arch-arg={a}' for a in args.arch_arg[-1:]]
        command += [
            '--batch',
            str(args.batch),
            '--batches',
            str(args.batches),
            '--data',
            args.data,
        ]
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
        lines = [line for line in done.stdout.splitlines() if line.startswith('{')]
        print(lines[-1] if lines else f'{mode} failed: {done.stderr.strip().splitlines()[-1:]}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
