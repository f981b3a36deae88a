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
Exceptions of fer_ros that callers are expected to catch.

Each carries a message written for the user: it names the file, value or
setting at fault and what is allowed instead.
"""


class FerRosError(Exception):
    """Base class of every error fer_ros raises on purpose."""


class ModelError(FerRosError):
    """A model file is missing, unreadable, or inconsistent with its metadata."""


class SourceError(FerRosError):
    """A camera, video, image or folder cannot be opened or read."""


class ImageConversionError(FerRosError):
    """An image message cannot be turned into a frame (bad encoding, size or data)."""


class DatasetError(FerRosError):
    """A dataset file or row is malformed; the message names the file and line."""


class SettingsError(FerRosError, ValueError):
    """A setting or parameter is outside its allowed range or of the wrong type."""
