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

"""The README's and docs' relative links lead to files that exist and to headings they have."""

from __future__ import annotations

from pathlib import Path
import re
from typing import List, Set, Tuple

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = [REPO_ROOT / 'README.md', *sorted((REPO_ROOT / 'docs').glob('*.md'))]
# [text](target) outside code; images too. Targets with a scheme (https:, mailto:) are skipped.
LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^(```|~~~)')


def _prose_lines(path: Path) -> List[str]:
    """Return the file's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text().splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def heading_anchors(path: Path) -> Set[str]:
    """
    Return the anchors GitHub gives the file's headings, and its ``<a id>`` anchors.

    A heading's anchor is its text in lower case, punctuation (inline code's backticks too)
    dropped, spaces made hyphens.
    """
    anchors: Set[str] = set()
    for line in _prose_lines(path):
        match = re.match(r'#{1,6}\s+(.*)', line)
        if match:
            text = re.sub(r'[^\w\- ]', '', match.group(1).strip().lower())
            anchors.add(text.replace(' ', '-'))
    anchors.update(re.findall(r'<a (?:name|id)="([^"]+)"', path.read_text()))
    return anchors


def relative_links() -> List[Tuple[Path, str]]:
    """Return (file, target) for every relative link of the README and docs."""
    links = []
    for path in DOCS:
        for line in _prose_lines(path):
            for target in LINK.findall(re.sub(r'`[^`]*`', '', line)):  # not in inline code
                if not re.match(r'[a-z]+:', target):
                    links.append((path, target))
    return links


def test_the_docs_have_relative_links_to_check():
    assert len(relative_links()) > 20


@pytest.mark.parametrize(
    'source, target', relative_links(), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_a_relative_link_leads_to_a_file_and_heading_that_exist(source, target):
    file_part, _, anchor = target.partition('#')
    destination = (source.parent / file_part).resolve() if file_part else source
    assert destination.exists(), f'{source.name}: link to {target}: no {destination}'
    if anchor and destination.suffix == '.md':
        assert anchor in heading_anchors(destination), (
            f'{source.name}: link to {target}: {destination.name} has no heading #{anchor}'
        )
