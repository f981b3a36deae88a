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
The ``fer-ros`` command line: one entry point, one module per subcommand.

Each subcommand lives in ``fer_ros.commands.<name>`` and exposes ``HELP`` (one
line), ``add_arguments(parser)`` and ``main(args) -> int``. Command modules keep
heavy imports (TensorFlow, rosbags) inside ``main`` so ``fer-ros run`` never
pays for them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import List, Optional

from . import __version__
from .errors import FerRosError

# name -> module; order is the order shown in --help.
COMMANDS = {
    'run': 'fer_ros.commands.run',
    'bench': 'fer_ros.commands.bench',
    'train': 'fer_ros.commands.train',
    'eval': 'fer_ros.commands.eval',
    'export': 'fer_ros.commands.export',
    'bag': 'fer_ros.commands.bag',
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='fer-ros',
        description='Facial expression recognition: detect faces, classify expressions, annotate.',
    )
    parser.add_argument('--version', action='version', version=f'fer-ros {__version__}')
    parser.add_argument('-v', '--verbose', action='store_true', help='log debug messages')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND', required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_main=module.main)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the CLI; returns the process exit code (0 ok, 1 failure, 2 usage or input error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format='%(levelname)s %(name)s: %(message)s',
    )
    try:
        return int(args._main(args) or 0)
    except FerRosError as exc:
        print(f'fer-ros {args.command}: error: {exc}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f'fer-ros {args.command}: interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
