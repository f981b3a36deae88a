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
`fer-ros run` ends cleanly when its source fails: lost camera, truncated video, Ctrl-C, SIGTERM.

"Cleanly" means: the documented exit code, one line saying what happened, the
annotated video closed and playable with exactly one frame per processed frame,
and one valid JSON line per processed frame. A camera cannot be unplugged here,
so ``cv2.VideoCapture(<index>)`` is replaced by a capture that replays a real
video and then fails: the run goes through the same code path as with a camera.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import cv2
from fer_ros import cli, sources
import numpy as np
import pytest

pytest.importorskip(
    'skimage', reason="the test video shows scikit-image's astronaut (`sample` extra)"
)

REAL_CAPTURE = cv2.VideoCapture
N_FRAMES = 24


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    """Return a real 24-frame MJPG video of a face moving right (320x240)."""
    from skimage import data

    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (200, 200))
    path = tmp_path_factory.mktemp('video') / 'clip.avi'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (320, 240))
    for t in range(N_FRAMES):
        frame = np.full((240, 320, 3), 90, dtype=np.uint8)
        left = 2 * t
        frame[20:220, left:][:, :200] = face
        writer.write(frame)
    writer.release()
    return path


def count_frames(path) -> int:
    """Frames that can actually be decoded (not the header's claim)."""
    capture = REAL_CAPTURE(str(path))
    assert capture.isOpened(), f'{path} does not open'
    n = 0
    while capture.read()[0]:
        n += 1
    capture.release()
    return n


def read_jsonl(path):
    """Every line must be valid JSON; frames numbered 0, 1, 2, ... without a gap."""
    records = [json.loads(line) for line in path.read_text(encoding='utf-8').splitlines()]
    assert [r['frame'] for r in records] == list(range(len(records)))
    return records


class FakeCamera:
    """
    Replays a video as camera frames, then fails the way a disconnected camera does.

    ``script(index)`` is called before each read with the number of frames
    delivered so far; it returns "frame", "fail" (read returns False), "raise"
    (read raises cv2.error), or calls something (a signal) itself.
    """

    def __init__(self, video, script):
        self._video = REAL_CAPTURE(str(video))
        self._script = script
        self.delivered = 0
        self.reads = 0
        self.released = False

    def isOpened(self):  # noqa: N802 - cv2.VideoCapture's API
        return True

    def get(self, prop):
        return 10.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self):
        self.reads += 1
        action = self._script(self.delivered)
        if action == 'raise':
            raise cv2.error("OpenCV(4.x) videoio: can't dequeue buffer: No such device")
        if action == 'raise empty':
            raise cv2.error()
        if action == 'fail':
            return False, None
        ok, frame = self._video.read()
        if not ok:  # loop the clip: a camera does not end
            self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._video.read()
        self.delivered += 1
        return True, frame

    def release(self):
        self.released = True
        self._video.release()


@pytest.fixture
def camera(monkeypatch, video):
    """Install a FakeCamera for camera indices; returns a function that sets its script."""
    made = []

    def capture(arg, *rest):
        if isinstance(arg, int):
            made.append(FakeCamera(video, holder['script']))
            return made[-1]
        return REAL_CAPTURE(arg, *rest)

    holder = {'script': lambda i: 'frame'}
    monkeypatch.setattr(cv2, 'VideoCapture', capture)
    monkeypatch.setattr(sources, 'CAMERA_RETRY_DELAY_S', 0.01)

    def use(script):
        holder['script'] = script
        return made

    return use


def run(tmp_path, monkeypatch, *args):
    monkeypatch.chdir(tmp_path)
    out, jsonl = tmp_path / 'out.mp4', tmp_path / 'r.jsonl'
    code = cli.main(['run', *args, '--output', str(out), '--jsonl', str(jsonl)])
    return code, out, jsonl


@pytest.mark.parametrize('failure', ['fail', 'raise', 'raise empty'])
def test_lost_camera_ends_the_run_with_every_frame_saved(
    tmp_path, monkeypatch, capsys, camera, failure
):
    monkeypatch.setattr(sources, 'CAMERA_TIMEOUT_S', 0.3)
    made = camera(lambda i: 'frame' if i < 15 else failure)
    code, out, jsonl = run(tmp_path, monkeypatch, '--source', '0')
    err = capsys.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if 'error:' in line]
    assert (
        len(lines) == 1
        and 'camera 0 stopped delivering frames after 15 frame(s) (none for 0.' in lines[0]
    )
    assert made[0].reads > 15 + 5  # retried for CAMERA_TIMEOUT_S before giving up
    assert made[0].released
    assert len(read_jsonl(jsonl)) == 15
    assert count_frames(out) == 15


def test_camera_hiccups_are_retried_and_lose_no_frame(tmp_path, monkeypatch, capsys, camera):
    # three failed reads at frame 5 and a raised error at frame 9: the camera comes back each time
    failures = {5: 3, 9: 1}

    def script(i):
        if failures.get(i):
            failures[i] -= 1
            return 'fail' if i == 5 else 'raise'
        return 'frame'

    camera(script)
    code, out, jsonl = run(tmp_path, monkeypatch, '--source', '0', '--max-frames', '20')
    assert code == 0, capsys.readouterr().err
    assert len(read_jsonl(jsonl)) == 20
    assert count_frames(out) == 20


def test_truncated_video_ends_cleanly_with_what_was_readable(tmp_path, monkeypatch, capsys, video):
    data = video.read_bytes()
    truncated = tmp_path / 'truncated.avi'
    truncated.write_bytes(
        data[: len(data) * 6 // 10]
    )  # the end of the file, and the index, are gone
    readable = count_frames(truncated)
    assert 0 < readable < N_FRAMES
    code, out, jsonl = run(tmp_path, monkeypatch, '--source', str(truncated))
    err = capsys.readouterr().err
    assert code == 0, err
    assert f'ended after {readable} of {N_FRAMES} frames' in err
    assert len(read_jsonl(jsonl)) == readable
    assert count_frames(out) == readable


def test_bench_on_a_truncated_video_times_the_frames_there_are(
    tmp_path, monkeypatch, caplog, video
):
    data = video.read_bytes()
    truncated = tmp_path / 'truncated.avi'
    truncated.write_bytes(data[: len(data) * 6 // 10])
    readable = count_frames(truncated)
    monkeypatch.chdir(tmp_path)
    report = tmp_path / 'bench.json'
    args = [
        'bench',
        '--source',
        str(truncated),
        '--frames',
        '30',
        '--warmup',
        '0',
        '--json',
        str(report),
    ]
    assert cli.main(args) == 0
    assert json.loads(report.read_text())['frames'] == 30  # the readable frames, cycled
    assert f'ended after {readable} of {N_FRAMES} frames' in caplog.text


def _signal_at(frame, *signums):
    """
    Return a camera script that signals this process after ``frame`` frames.

    It sends each of ``signums``.
    """

    def script(i):
        if i == frame:
            # Only with the run's handler in place: a default handler would abort the test session.
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler, (
                'no SIGINT handler'
            )
            for signum in signums:
                signal.raise_signal(signum)
        return 'frame'

    return script


@pytest.mark.parametrize('signum, code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_stops_after_the_frame_in_hand(
    tmp_path, monkeypatch, capsys, camera, signum, code
):
    before = signal.getsignal(signum)
    camera(_signal_at(7, signum))
    result, out, jsonl = run(tmp_path, monkeypatch, '--source', '0')
    err = capsys.readouterr().err
    assert result == code, err
    assert f'stopped by {signal.Signals(signum).name} after 8 frame(s)' in err
    assert len(read_jsonl(jsonl)) == 8  # the frame read when the signal came is processed too
    assert count_frames(out) == 8
    assert signal.getsignal(signum) is before  # the handler is put back


def test_a_second_ctrl_c_stops_at_once_and_still_closes_the_outputs(
    tmp_path, monkeypatch, capsys, camera
):
    camera(_signal_at(7, signal.SIGINT, signal.SIGINT))
    result, out, jsonl = run(tmp_path, monkeypatch, '--source', '0')
    assert result == 130
    assert 'interrupted' in capsys.readouterr().err
    assert len(read_jsonl(jsonl)) == 7  # interrupted inside the 8th read: 7 frames done
    assert count_frames(out) == 7


def _long_video(folder):
    """3,000 small frames with a face: far more work than a test waits for."""
    from skimage import data

    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (120, 120))
    path = folder / 'long.avi'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (160, 120))
    frame = np.full((120, 160, 3), 90, dtype=np.uint8)
    frame[:, 20:140] = face
    for _ in range(3000):
        writer.write(frame)
    writer.release()
    return path


@pytest.mark.slow
@pytest.mark.parametrize('signum, code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_real_process_stopped_by_a_signal_leaves_complete_outputs(tmp_path, signum, code):
    """``fer-ros run`` in its own process, signalled once its JSON lines show it is processing."""
    out, jsonl = tmp_path / 'out.mp4', tmp_path / 'r.jsonl'
    process = subprocess.Popen(
        [
            sys.executable,
            '-m',
            'fer_ros.cli',
            'run',
            '--source',
            str(_long_video(tmp_path)),
            '--output',
            str(out),
            '--jsonl',
            str(jsonl),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, 'PYTHONUNBUFFERED': '1'},
    )
    try:
        deadline = time.monotonic() + 120
        while not (jsonl.is_file() and jsonl.read_text().count('\n') >= 3):
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, 'no JSON line within 120 s'
            time.sleep(0.05)
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, err
    n = len(read_jsonl(jsonl))
    assert 3 <= n < 3000
    assert f'after {n} frame(s)' in err
    assert count_frames(out) == n


@pytest.mark.slow
def test_jsonl_reader_closing_the_pipe_ends_the_run_quietly(tmp_path):
    """``fer-ros run --jsonl - | head -n 3``: no traceback, the video is still closed, exit 0."""
    out = tmp_path / 'out.mp4'
    process = subprocess.Popen(
        [
            sys.executable,
            '-m',
            'fer_ros.cli',
            'run',
            '--source',
            str(_long_video(tmp_path)),
            '--output',
            str(out),
            '--jsonl',
            '-',
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        lines = [json.loads(process.stdout.readline()) for _ in range(3)]
        process.stdout.close()  # the reader goes away, as `head` does
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert [r['frame'] for r in lines] == [0, 1, 2]
    assert process.returncode == 0, err
    assert 'Traceback' not in err and 'closed the pipe' in err
    n = int(err.split('stopped after ')[1].split()[0])
    assert n >= 3 and count_frames(out) == n


def test_video_sink_keeps_frames_of_another_size(tmp_path):
    """A camera that changes resolution mid-run: OpenCV's writer would drop frames silently."""
    sink = sources.VideoSink(tmp_path / 'out.mp4', fps=10)
    for size in [(240, 320)] * 5 + [(480, 640)] * 5 + [(120, 160)] * 2:
        sink.write(np.full((*size, 3), 120, dtype=np.uint8))
    sink.close()
    sink.close()  # twice is harmless
    assert count_frames(tmp_path / 'out.mp4') == 12
