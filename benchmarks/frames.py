"""Synthetic camera frames with real faces: the one scene builder of the tests, benchmarks and
soak.

FER2013's 48x48 crops are enlarged and placed into frames at known positions,
so detection recall and box accuracy can be measured against exact ground
truth, and every library sees identical, reproducible frames. Everything is
drawn from a seeded generator, so a seed gives the same frames on any machine.
Three kinds of scene, sharing the placement and pasting helpers below:

``place_faces``
    Faces pasted as they are (grey, hard edge) at random non-overlapping
    places on smooth texture: the true box of each face is exactly the FER2013
    crop the model was trained on (detection and framing tests).
``synthesize_frames`` / ``synthesize_clip``
    Faces with a skin tint and a feathered edge in a room-like scene (wall,
    floor, window, furniture, lighting gradient, sensor noise): unrelated
    photos, or a static camera watching people who move a little (benchmarks).
``MovingFaces``
    An endless static-camera stream in which faces enter, move, leave, are
    absent for a while, and sometimes crowd in (the soak test).
``hard_scenes``
    Harder photographs for detection quality: two to six faces of 56 to 220
    pixels, turned in-plane by up to 30 degrees, half of them partly covered,
    under uneven light, on textured backgrounds.

The module lives in ``benchmarks/`` (importable from the repository root, where
pytest runs) and needs only numpy, OpenCV and ``fer_ros.tracking.iou``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
from typing import List, Sequence, Tuple

import cv2
from fer_ros.tracking import iou
import numpy as np

Box = Tuple[int, int, int, int]  # x, y, width, height

# Face side as a fraction of the frame height (a person 0.7 to 1.5 m from a webcam).
FACE_SIDE_RANGE = (0.25, 0.40)
FEATHER_FRACTION = 0.04  # width of the soft edge, as a fraction of the face side


@dataclass
class SyntheticFrame:
    """One BGR frame and the faces placed in it."""

    image: np.ndarray  # uint8 H x W x 3 (BGR)
    boxes: List[Box]  # where each face was placed, full-frame pixels
    face_indices: List[int]  # index of each face in the source face array
    people: List[int] = field(
        default_factory=list
    )  # MovingFaces: who each box is (same person, same number)


# -- shared helpers ------------------------------------------------------------------------------


def enlarge(grey_face: np.ndarray, side: int) -> np.ndarray:
    """A face crop resized to ``side`` x ``side`` pixels (bicubic: a camera nearer the face)."""
    return cv2.resize(grey_face, (side, side), interpolation=cv2.INTER_CUBIC)


def boxes_overlap(a: Box, b: Box) -> bool:
    """True when two (x, y, w, h) boxes share at least one pixel."""
    return not (
        a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
    )


# -- plain scenes: the exact FER2013 crop as ground truth (tests) -------------------------------


@dataclass
class PlacedFace:
    """A face placed by :func:`place_faces`."""

    index: int  # row in the dataset
    box: Box  # x, y, side, side in frame pixels
    target: int  # true class index


def plain_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Smooth grey texture: low-frequency noise, mid-grey, no edges a detector could mistake for a
    face.
    """
    small = rng.integers(60, 200, size=(max(2, height // 40), max(2, width // 40)), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def place_faces(
    images: np.ndarray,
    targets: np.ndarray,
    indices: Sequence[int],
    rng: np.random.Generator,
    frame_size: Tuple[int, int] = (640, 480),
    side_range: Tuple[int, int] = (96, 200),
    max_rotation: float = 0.0,
) -> Tuple[np.ndarray, List[PlacedFace]]:
    """One BGR frame with the given grey faces enlarged and placed without overlap on smooth
    texture.

    A face that finds no free place in 100 tries is left out (``placed`` says which were placed).
    With ``max_rotation`` each face is turned in-plane by up to that many degrees
    inside its square (edges replicated), so the square stays its true box.
    """
    width, height = frame_size
    frame = plain_background(rng, width, height)
    placed: List[PlacedFace] = []
    for index in indices:
        for _ in range(100):
            side = int(rng.integers(side_range[0], side_range[1] + 1))
            x = int(rng.integers(0, width - side + 1))
            box = (x, int(rng.integers(0, height - side + 1)), side, side)
            if not any(boxes_overlap(box, p.box) for p in placed):
                break
        else:
            continue
        x, y = box[:2]
        face = enlarge(images[index], side)
        if max_rotation:
            angle = rng.uniform(-1, 1) * max_rotation
            turn = cv2.getRotationMatrix2D(((side - 1) / 2, (side - 1) / 2), angle, 1.0)
            face = cv2.warpAffine(face, turn, (side, side), borderMode=cv2.BORDER_REPLICATE)
        frame[y : y + side, x : x + side] = face
        placed.append(PlacedFace(int(index), box, int(targets[index])))
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), placed


# -- room scenes: tinted, feathered faces in an indoor scene (benchmarks, soak) ----------------


def room_background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A plausible indoor scene: lit wall, floor, a window and furniture, with noise."""
    wall = rng.uniform(120, 200, size=3)
    floor = wall * rng.uniform(0.35, 0.6)
    horizon = int(height * rng.uniform(0.65, 0.8))
    image = np.empty((height, width, 3), np.float32)
    image[:horizon] = wall
    image[horizon:] = floor
    # A window (bright) and some furniture (dark), behind the people.
    wx, wy = int(width * rng.uniform(0.0, 0.7)), int(height * rng.uniform(0.05, 0.2))
    ww, wh = int(width * rng.uniform(0.15, 0.3)), int(height * rng.uniform(0.25, 0.4))
    image[wy : wy + wh, wx : wx + ww] = rng.uniform(215, 250, size=3)
    for _ in range(3):
        fx, fw = int(width * rng.uniform(0.0, 0.85)), int(width * rng.uniform(0.08, 0.25))
        fy = int(height * rng.uniform(0.45, 0.7))
        image[fy:, fx : fx + fw] = rng.uniform(30, 110, size=3)
    # Light falling off from one side, and low-frequency texture.
    gradient = np.linspace(rng.uniform(0.75, 1.0), rng.uniform(1.0, 1.15), width, dtype=np.float32)
    texture = cv2.resize(
        rng.normal(1.0, 0.06, size=(6, 8)).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    image *= (gradient[None, :] * texture)[:, :, None]
    image = cv2.GaussianBlur(image, (0, 0), 2.0)
    image += rng.normal(0.0, 3.0, size=image.shape).astype(np.float32)  # sensor noise
    return np.clip(image, 0, 255).astype(np.uint8)


def _feather_mask(side: int) -> np.ndarray:
    """1 inside, ramping to 0 over the outer FEATHER_FRACTION of the square."""
    ramp = max(1, int(round(side * FEATHER_FRACTION)))
    distance = np.minimum(np.arange(side), np.arange(side)[::-1]).astype(np.float32)
    edge = np.clip((distance + 1) / ramp, 0.0, 1.0)
    return np.minimum(edge[:, None], edge[None, :])[:, :, None]


def face_to_bgr(grey_face: np.ndarray, side: int, tint: np.ndarray) -> np.ndarray:
    """Enlarge a grey face to ``side`` pixels and give it a skin tint (BGR float32)."""
    big = enlarge(grey_face, side).astype(np.float32)
    return np.clip(big[:, :, None] * tint, 0, 255)


def face_patch(
    grey_face: np.ndarray, side: int, tint: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """``(face * mask, 1 - mask)``: a pasted pixel is ``patch + background * keep`` (feathered
    edge).
    """
    mask = _feather_mask(side)
    return face_to_bgr(grey_face, side, tint) * mask, 1.0 - mask


def random_tint(rng: np.random.Generator) -> np.ndarray:
    """A mild skin-like colour cast (B, G, R gains)."""
    return np.array([rng.uniform(0.82, 0.92), rng.uniform(0.9, 0.97), 1.0], np.float32)


def grid_cells(width: int, height: int, n: int) -> List[Tuple[int, int, int, int]]:
    """Split the frame into ``n`` equal cells (columns first), one face per cell."""
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    cw, ch = width // cols, height // rows
    return [((i % cols) * cw, (i // cols) * ch, cw, ch) for i in range(n)]


def choose_boxes(width: int, height: int, n: int, rng: np.random.Generator) -> List[Box]:
    """``n`` non-overlapping square face boxes, one per grid cell, at random sizes and places."""
    boxes: List[Box] = []
    for cx, cy, cw, ch in grid_cells(width, height, n):
        side = int(height * rng.uniform(*FACE_SIDE_RANGE))
        side = max(24, min(side, int(0.9 * min(cw, ch))))
        boxes.append(
            (
                cx + int(rng.integers(0, cw - side + 1)),
                cy + int(rng.integers(0, ch - side + 1)),
                side,
                side,
            )
        )
    return boxes


def paste_faces(
    background: np.ndarray,
    faces: np.ndarray,
    indices: Sequence[int],
    boxes: Sequence[Box],
    tints: Sequence[np.ndarray],
) -> SyntheticFrame:
    """Paste ``faces[indices]`` at ``boxes`` into a copy of ``background``, with a feathered
    edge.
    """
    image = background.astype(np.float32)
    for index, (x, y, side, _), tint in zip(indices, boxes, tints):
        patch, keep = face_patch(faces[index], side, tint)
        region = image[y : y + side, x : x + side]
        region[:] = patch + region * keep
    return SyntheticFrame(np.clip(image, 0, 255).astype(np.uint8), list(boxes), list(indices))


def _check_request(faces: np.ndarray, width: int, height: int, n_faces: int, count: int) -> None:
    if n_faces < 0 or count < 1 or width < 32 or height < 32:
        raise ValueError(
            f'need n_faces >= 0, count >= 1 and a frame of at least 32x32, got '
            f'n_faces={n_faces}, count={count}, size={width}x{height}'
        )
    if n_faces and len(faces) < n_faces:
        raise ValueError(f'need at least {n_faces} faces to place, got {len(faces)}')


def synthesize_frames(
    faces: np.ndarray, width: int, height: int, n_faces: int, count: int, seed: int = 0
) -> List[SyntheticFrame]:
    """``count`` unrelated photos of ``width`` x ``height`` with ``n_faces`` real faces each.

    ``faces`` is an N x 48 x 48 uint8 array (e.g. FER2013 PrivateTest). Each frame
    gets its own background, faces and places, drawn from a generator seeded by ``seed``.
    """
    _check_request(faces, width, height, n_faces, count)
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        background = room_background(width, height, rng)
        indices = rng.choice(len(faces), size=n_faces, replace=False).tolist() if n_faces else []
        boxes = choose_boxes(width, height, n_faces, rng)
        frames.append(
            paste_faces(background, faces, indices, boxes, [random_tint(rng) for _ in indices])
        )
    return frames


def synthesize_clip(
    faces: np.ndarray,
    width: int,
    height: int,
    n_faces: int,
    count: int,
    seed: int = 0,
    step: int = 3,
) -> List[SyntheticFrame]:
    """``count`` frames of a static camera watching ``n_faces`` people who move a little.

    One scene and one set of faces; each face drifts by a random walk of up to
    ``step`` pixels per frame (staying in the frame), as a seated person in front
    of a robot would. Trackers and region-of-interest detection are exercised
    the way a real video exercises them.
    """
    _check_request(faces, width, height, n_faces, count)
    rng = np.random.default_rng(seed)
    background = room_background(width, height, rng)
    indices = rng.choice(len(faces), size=n_faces, replace=False).tolist() if n_faces else []
    boxes = choose_boxes(width, height, n_faces, rng)
    tints = [random_tint(rng) for _ in indices]
    frames = []
    for _ in range(count):
        frames.append(paste_faces(background, faces, indices, boxes, tints))
        moved = []
        for x, y, side, _ in boxes:
            dx, dy = (int(v) for v in rng.integers(-step, step + 1, size=2))
            moved.append(
                (min(max(0, x + dx), width - side), min(max(0, y + dy), height - side), side, side)
            )
        boxes = moved
    return frames


# -- moving faces: an endless stream for the soak test ------------------------------------------


@dataclass
class _Person:
    """One face in a :class:`MovingFaces` stream."""

    number: int  # who it is: 1, 2, ... in order of entry
    face: int  # index in the face array
    side: int
    x: float
    y: float
    vx: float
    vy: float
    leave_at: int  # frame at which the person starts to leave
    walks: bool  # enters and leaves by walking across a frame edge (else appears / vanishes)
    patch: np.ndarray  # face * feather mask, float32 side x side x 3
    keep: np.ndarray  # 1 - feather mask


class MovingFaces:
    """A static camera watching people come and go, as a robot in a hallway sees them, for ever.

    The stream cycles through phases drawn from the seeded generator:

    - ``people`` (100-400 frames): up to ``max_present`` people; each either
      walks in across the left or right edge or appears in place, moves
      (bouncing off the edges), and after 40-400 frames walks out or vanishes;
    - ``empty``: everybody leaves at once and nobody comes for 20-120 frames;
      half the time the scene changes (new background: the robot turned);
    - ``crowd``: ``crowd`` people appear at once in a grid, stay 30-90 frames
      (to stress ``max_faces``), then vanish together.

    ``next_frame()`` returns a :class:`SyntheticFrame` whose ``boxes`` are the
    faces entirely inside the frame and ``people`` the person number of each.
    Memory is bounded: only the people present and one background are kept.
    """

    def __init__(
        self,
        faces: np.ndarray,
        width: int,
        height: int,
        seed: int = 0,
        max_present: int = 3,
        crowd: int = 8,
    ) -> None:
        _check_request(faces, width, height, max(max_present, crowd), 1)
        self.faces, self.width, self.height = faces, width, height
        self.max_present, self.crowd = max_present, crowd
        self.rng = np.random.default_rng(seed)
        self.frame_index = 0
        self.entered = 0  # people who have entered so far
        self.crowds = 0  # crowd phases so far
        self.present: List[_Person] = []
        self.background = room_background(width, height, self.rng)
        self.phase = 'people'
        self.phase_end = self._duration('people')

    def _duration(self, phase: str) -> int:
        low, high = {'people': (100, 400), 'empty': (20, 120), 'crowd': (30, 90)}[phase]
        return self.frame_index + int(self.rng.integers(low, high + 1))

    def _enter(
        self, side: int, x: float, y: float, vx: float, vy: float, stay: int, walks: bool
    ) -> None:
        rng = self.rng
        self.entered += 1
        face = int(rng.integers(len(self.faces)))
        patch, keep = face_patch(self.faces[face], side, random_tint(rng))
        self.present.append(
            _Person(
                self.entered, face, side, x, y, vx, vy, self.frame_index + stay, walks, patch, keep
            )
        )

    def _arrive(self) -> None:
        rng, width, height = self.rng, self.width, self.height
        side = int(height * rng.uniform(*FACE_SIDE_RANGE))
        y = rng.uniform(0, height - side)
        stay = int(rng.integers(40, 401))
        if rng.random() < 0.5:  # walks in from the left or the right edge
            from_left = rng.random() < 0.5
            x = float(1 - side if from_left else width - 1)
            speed = rng.uniform(1.5, 4.0)
            self._enter(
                side, x, y, speed if from_left else -speed, rng.uniform(-0.5, 0.5), stay, True
            )
        else:
            x = rng.uniform(0, width - side)
            self._enter(side, x, y, rng.uniform(-1.5, 1.5), rng.uniform(-1.0, 1.0), stay, False)

    def _next_phase(self) -> None:
        rng = self.rng
        if self.phase == 'people':
            self.phase = 'empty' if rng.random() < 0.5 else 'crowd'
        else:
            self.phase = 'people'
        for person in self.present:  # everybody leaves when a phase ends
            person.leave_at = min(person.leave_at, self.frame_index)
        self.phase_end = self._duration(self.phase)
        if self.phase == 'empty' and rng.random() < 0.5:
            self.background = room_background(self.width, self.height, rng)
        if self.phase == 'crowd':
            self.crowds += 1
            stay = self.phase_end - self.frame_index
            for cx, cy, cw, ch in grid_cells(self.width, self.height, self.crowd):
                side = max(24, int(min(cw, ch) * rng.uniform(0.7, 0.9)))
                x, y = cx + rng.uniform(0, cw - side), cy + rng.uniform(0, ch - side)
                self._enter(
                    side, x, y, rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2), stay, False
                )

    def _move(self) -> None:
        width, height = self.width, self.height
        still_here = []
        for p in self.present:
            leaving = self.frame_index >= p.leave_at
            if leaving and not p.walks:
                continue  # vanished
            if leaving and p.walks and abs(p.vx) < 1.5:
                p.vx = 2.5 if p.x + p.side / 2 > width / 2 else -2.5  # head for the nearer edge
            p.x += p.vx
            p.y += p.vy
            if p.y < 0 or p.y > height - p.side:
                p.vy = -p.vy
                p.y = min(max(p.y, 0.0), float(height - p.side))
            inside = 0 <= p.x <= width - p.side
            entering = p.walks and not leaving and (p.x < 0 if p.vx > 0 else p.x > width - p.side)
            if not inside and not leaving and not entering:
                p.vx = -p.vx  # bounce off the side edges
                p.x = min(max(p.x, 0.0), float(width - p.side))
            if p.x + p.side <= 0 or p.x >= width:
                continue  # walked out
            still_here.append(p)
        self.present = still_here

    def _render(self) -> SyntheticFrame:
        image = self.background.copy()
        boxes: List[Box] = []
        faces: List[int] = []
        people: List[int] = []
        for p in self.present:
            x, y = int(round(p.x)), int(round(p.y))
            x0, x1 = max(0, x), min(self.width, x + p.side)
            y0, y1 = max(0, y), min(self.height, y + p.side)
            if x0 >= x1 or y0 >= y1:
                continue
            region = image[y0:y1, x0:x1]
            px0, py0 = x0 - x, y0 - y
            patch = p.patch[py0 : py0 + y1 - y0, px0 : px0 + x1 - x0]
            keep = p.keep[py0 : py0 + y1 - y0, px0 : px0 + x1 - x0]
            region[:] = patch + region * keep
            if (x1 - x0, y1 - y0) == (p.side, p.side):
                boxes.append((x, y, p.side, p.side))
                faces.append(p.face)
                people.append(p.number)
        return SyntheticFrame(image, boxes, faces, people)

    def next_frame(self) -> SyntheticFrame:
        """The next frame of the stream."""
        if self.frame_index >= self.phase_end and (self.phase != 'empty' or not self.present):
            self._next_phase()
        if (
            self.phase == 'people'
            and len(self.present) < self.max_present
            and self.rng.random() < 1 / 40
        ):
            self._arrive()
        self._move()
        frame = self._render()
        self.frame_index += 1
        return frame


def match_boxes(
    placed: Sequence[Box], found: Sequence[Box], min_iou: float = 0.3
) -> List[Tuple[int, int]]:
    """Pairs (placed index, found index) of a greedy one-to-one matching by IoU >= ``min_iou``."""
    used = set()
    pairs = []
    for i, truth in enumerate(placed):
        best, best_iou = None, min_iou
        for j, box in enumerate(found):
            if j in used:
                continue
            overlap = iou(truth, box)
            if overlap >= best_iou:
                best, best_iou = j, overlap
        if best is not None:
            used.add(best)
            pairs.append((i, best))
    return pairs


# -- hard scenes: detection quality ------------------------------------------------------------


@dataclass
class HardFace:
    """A face placed by :func:`hard_scene`: its centre, side (of the upright square), turn and
    cover.
    """

    centre: Tuple[float, float]
    side: int
    angle: float  # in-plane rotation, degrees (cv2.getRotationMatrix2D's sign)
    occluded: bool
    index: int  # which face source


@dataclass
class FaceSource:
    """A face to paste: a square BGR (or grey, then tinted) patch whose centre is the face's
    centre.

    ``face_fraction`` is the face's side over the patch's side: 1 for a FER2013
    crop (the face and nothing else), about 0.5 for a head cut from a photograph
    with its hair, neck and surroundings.
    """

    patch: np.ndarray
    face_fraction: float = 1.0


# Heads in photographs that ship inside dependencies (public domain): the photo, the face's
# centre and side in it (where YuNet and the Haar cascade both put it on the untouched photo).
PHOTO_HEADS = (
    ('skimage', 'astronaut', (223, 118), 100),
    ('matplotlib', 'grace_hopper.jpg', (268, 225), 210),
)

HARD_SIDE_RANGE = (56, 220)
HARD_MAX_ROTATION = 30.0
HARD_OCCLUSION_RATE = 0.5


def fer_sources(faces: np.ndarray) -> List[FaceSource]:
    """FER2013 crops as face sources: tight faces, no context (the harder case for a detector)."""
    return [FaceSource(face, 1.0) for face in faces]


def _photo(package: str, name: str) -> np.ndarray:
    if package == 'skimage':
        from skimage import data

        return cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR)
    import matplotlib.cbook

    return cv2.imread(matplotlib.cbook.get_sample_data(name, asfileobj=False))


def photo_sources() -> List[FaceSource]:
    """Heads cut from photographs shipped in scikit-image and matplotlib: real faces with
    context.
    """
    sources = []
    for package, name, (cx, cy), side in PHOTO_HEADS:
        half = side  # a square twice the face's side: hair, ears, neck and some background
        photo = _photo(package, name)
        sources.append(FaceSource(photo[cy - half : cy + half, cx - half : cx + half].copy(), 0.5))
    return sources


def textured_background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A room under a busy texture: stripes, a checkerboard or blotches (edges a detector can trip
    on).
    """
    room = room_background(width, height, rng).astype(np.float32)
    kind = int(rng.integers(3))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == 0:
        period, theta = rng.uniform(6, 30), rng.uniform(0, np.pi)
        pattern = np.sin((xx * np.cos(theta) + yy * np.sin(theta)) * 2 * np.pi / period)
    elif kind == 1:
        cell = int(rng.integers(8, 40))
        pattern = (((xx // cell) + (yy // cell)) % 2) * 2.0 - 1.0
    else:
        small = rng.normal(0, 1, (height // 16 + 1, width // 16 + 1)).astype(np.float32)
        pattern = np.clip(
            cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST), -1, 1
        )
    strength = rng.uniform(25, 60)
    return np.clip(room + strength * pattern[:, :, None], 0, 255)


def lighting_field(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Uneven light: a gradient from dim to bright in a random direction, and a bright spot."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = (xx / width - 0.5) * np.cos(theta) + (yy / height - 0.5) * np.sin(theta)
    low, high = rng.uniform(0.35, 0.7), rng.uniform(1.0, 1.3)
    light = low + (high - low) * (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    sx, sy, radius = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.15, 0.4) * width
    light += 0.35 * np.exp(-((xx - sx) ** 2 + (yy - sy) ** 2) / (2 * radius**2))
    return light


def _occlude(patch: np.ndarray, face_side: int, rng: np.random.Generator) -> None:
    """Cover 15-30% of the face at the patch's centre with an ellipse: a hand, a cup or a
    shadow.
    """
    covered = rng.uniform(0.15, 0.30) * face_side * face_side
    ax = int(np.sqrt(covered / np.pi) * rng.uniform(0.8, 1.25))
    ay = max(2, int(covered / (np.pi * max(ax, 1))))
    offset = (patch.shape[0] - face_side) / 2.0
    along = offset + rng.uniform(0.25, 0.75) * face_side
    near, far = offset + 0.1 * face_side, offset + 0.9 * face_side
    edge = int(rng.integers(4))  # over the bottom, top, left or right of the face
    centre = [(along, far), (along, near), (near, along), (far, along)][edge]
    colour = rng.choice([rng.uniform(60, 110), rng.uniform(150, 210)]) * random_tint(rng)
    cv2.ellipse(
        patch,
        (int(centre[0]), int(centre[1])),
        (ax, ay),
        rng.uniform(0, 180),
        0,
        360,
        tuple(float(c) for c in colour),
        -1,
    )


def _paste_turned(
    image: np.ndarray, patch: np.ndarray, centre: Tuple[float, float], angle: float
) -> None:
    """Paste a square BGR float patch, feathered and turned by ``angle`` about its centre, into
    ``image``.
    """
    side = patch.shape[0]
    canvas = int(np.ceil(side * 1.42)) + 2
    turn = cv2.getRotationMatrix2D(((side - 1) / 2, (side - 1) / 2), angle, 1.0)
    turn[:, 2] += (canvas - side) / 2
    mask = _feather_mask(side)
    face = cv2.warpAffine(patch * mask, turn, (canvas, canvas))
    alpha = cv2.warpAffine(mask[:, :, 0], turn, (canvas, canvas))[:, :, None]
    x0, y0 = int(round(centre[0] - canvas / 2)), int(round(centre[1] - canvas / 2))
    region = image[y0 : y0 + canvas, x0 : x0 + canvas]
    region[:] = face + region * (1 - alpha)


def _source_patch(source: FaceSource, face_side: int, rng: np.random.Generator) -> np.ndarray:
    """The source resized so its face is ``face_side`` pixels, as BGR float (grey crops get a skin
    tint).
    """
    side = int(round(face_side / source.face_fraction))
    if source.patch.ndim == 2:
        return face_to_bgr(source.patch, side, random_tint(rng))
    interpolation = cv2.INTER_AREA if side < source.patch.shape[0] else cv2.INTER_CUBIC
    return cv2.resize(source.patch, (side, side), interpolation=interpolation).astype(np.float32)


def hard_scene(
    sources: Sequence[FaceSource], rng: np.random.Generator, width: int = 640, height: int = 480
) -> Tuple[np.ndarray, List[HardFace]]:
    """One BGR photograph with 2-6 faces: varied sizes, turned up to 30 degrees, half partly
    covered,
    uneven light, textured background. Faces never overlap (their turned patches are kept
    apart)."""
    image = textured_background(width, height, rng)
    placed: List[HardFace] = []
    taken: List[Box] = []
    log_lo, log_hi = np.log(HARD_SIDE_RANGE[0]), np.log(HARD_SIDE_RANGE[1])
    for _ in range(int(rng.integers(2, 7))):
        index = int(rng.integers(len(sources)))
        for _ in range(100):
            side = int(np.exp(rng.uniform(log_lo, log_hi)))
            reach = int(np.ceil(side / sources[index].face_fraction * 1.42)) + 4
            if reach >= min(width, height):
                continue
            box = (
                int(rng.integers(0, width - reach)),
                int(rng.integers(0, height - reach)),
                reach,
                reach,
            )
            if not any(boxes_overlap(box, other) for other in taken):
                break
        else:
            continue
        patch = _source_patch(sources[index], side, rng)
        occluded = bool(rng.random() < HARD_OCCLUSION_RATE)
        if occluded:
            _occlude(patch, side, rng)
        angle = float(rng.uniform(-HARD_MAX_ROTATION, HARD_MAX_ROTATION))
        centre = (box[0] + reach / 2, box[1] + reach / 2)
        _paste_turned(image, patch, centre, angle)
        taken.append(box)
        placed.append(HardFace(centre, side, angle, occluded, index))
    image *= lighting_field(width, height, rng)[:, :, None]
    image += rng.normal(0.0, 4.0, size=image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8), placed


def hard_scenes(
    sources: Sequence[FaceSource], count: int, seed: int = 0
) -> List[Tuple[np.ndarray, List[HardFace]]]:
    """``count`` :func:`hard_scene` photographs from a generator seeded by ``seed``."""
    rng = np.random.default_rng(seed)
    return [hard_scene(sources, rng) for _ in range(count)]


def match_centres(
    placed: Sequence[HardFace],
    found: Sequence[Tuple[float, float, float, float]],
    max_offset: float = 0.35,
    size_range: Tuple[float, float] = (0.5, 2.0),
) -> List[Tuple[int, int]]:
    """(placed, found) pairs: a found box whose centre lies within ``max_offset`` x side of a
    face's
    centre and whose size is ``size_range`` x its side; nearest pairs first, each used once.
    Centres, not IoU, since the true box of a turned face is not axis-aligned."""
    pairs = []
    for i, face in enumerate(placed):
        for j, (x, y, w, h) in enumerate(found):
            offset = np.hypot(x + w / 2 - face.centre[0], y + h / 2 - face.centre[1]) / face.side
            size = max(w, h) / face.side
            if offset <= max_offset and size_range[0] <= size <= size_range[1]:
                pairs.append((offset, i, j))
    used_i, used_j, matched = set(), set(), []
    for _, i, j in sorted(pairs):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            matched.append((i, j))
    return matched
