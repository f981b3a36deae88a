"""Training images per second of one architecture, float32 vs mixed_bfloat16, on this CPU.

Keras ``fit`` on random 48x48 inputs (no data pipeline, so only the network's
arithmetic is measured): build, compile with the training optimizer, one
warm-up fit of 2 batches, then ``--batches`` batches timed. Run it with the
machine otherwise idle; each precision runs in its own process (Keras'
global dtype policy is per process).

    python benchmarks/training_throughput.py --arch vgg_small --arch-arg width=0.75
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import subprocess
import sys
import time

REPO_ROOT = Path(__file__).resolve().parents[1]


def measure(arch: str, arch_args: dict, precision: str, batch: int, batches: int) -> float:
    """Images per second of ``fit`` (this process's dtype policy is set to ``precision``)."""
    import keras
    import numpy as np

    keras.mixed_precision.set_global_policy(precision)
    from fer_ros.training.models import build_model
    from fer_ros.training.optimizers import DecoupledAdamW

    model = build_model(arch, 48, 1, 7, arch_args)
    model.compile(
        optimizer=DecoupledAdamW(learning_rate=1e-3, weight_decay=0.05),
        loss='categorical_crossentropy',
    )
    rng = np.random.default_rng(0)
    x = rng.random((batch * batches, 48, 48, 1), dtype=np.float32)
    y = np.eye(7, dtype=np.float32)[rng.integers(0, 7, batch * batches)]
    model.fit(x[: 2 * batch], y[: 2 * batch], batch_size=batch, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    return batch * batches / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', default='vgg_small')
    parser.add_argument('--arch-arg', action='append', default=[], metavar='KEY=VALUE')
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--batches', type=int, default=12)
    parser.add_argument(
        '--precision',
        choices=('float32', 'mixed_bfloat16'),
        default=None,
        help='measure one precision in this process (default: both, each in a subprocess)',
    )
    args = parser.parse_args(argv)
    if args.precision:
        from fer_ros.training.models import get_architecture, parse_arch_args

        arch_args = parse_arch_args(get_architecture(args.arch), args.arch_arg)
        rate = measure(args.arch, arch_args, args.precision, args.batch, args.batches)
        print(
            json.dumps(
                {
                    'arch': args.arch,
                    'arch_args': arch_args,
                    'precision': args.precision,
                    'batch': args.batch,
                    'images_per_second': round(rate, 1),
                }
            )
        )
        return 0
    for precision in ('float32', 'mixed_bfloat16'):
        command = [
            sys.executable,
            __file__,
            '--precision',
            precision,
            '--arch',
            args.arch,
            '--batch',
            str(args.batch),
            '--batches',
            str(args.batches),
        ]
        command += [f'--arch-arg={a}' for a in args.arch_arg]
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
        lines = [line for line in done.stdout.splitlines() if line.startswith('{')]
        print(
            lines[-1] if lines else f'{precision} failed: {done.stderr.strip().splitlines()[-1:]}'
        )
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
