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
Build script for fer_ros: an ament_python ROS 2 package that also installs with pip.

`colcon build` (ament_python) and `pip install ./fer_ros` both use this file.
Launch files, configs and models go to the ament share folder for `ros2 launch`;
models and configs are also package data so a pip install finds them.
"""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = 'fer_ros'

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={
        PACKAGE: [
            'models/*.onnx',
            'models/*.md',
            'models/*.json',
            'models/detector/*',
            'config/*',
            'msg/*.msg',
        ]
    },
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        (f'share/{PACKAGE}/launch', glob('launch/*.launch.py')),
        # Models and configs live inside the Python package (so a pip install has
        # them); they are also copied to the share folder for launch files.
        (f'share/{PACKAGE}/config', glob('fer_ros/config/*')),
        # Each model with its card (.md to read, .json with the measured figures).
        (
            f'share/{PACKAGE}/models',
            glob('fer_ros/models/*.onnx')
            + glob('fer_ros/models/*.md')
            + glob('fer_ros/models/*.json'),
        ),
        (f'share/{PACKAGE}/models/detector', glob('fer_ros/models/detector/*')),
    ],
    python_requires='>=3.8',
    install_requires=[
        'numpy>=1.21',
        # Image operations only (the default detector, YuNet, runs in ONNX Runtime). The optional
        # Haar detector needs cv2.CascadeClassifier, which OpenCV 5 dropped: stay on 4.x.
        'opencv-python-headless>=4.5,<5',
        'onnxruntime>=1.14',
        'tqdm>=4.60',
    ],
    extras_require={
        # Offline training and export; never imported by the node or pipeline.
        'train': [
            'tensorflow>=2.15',
            # TensorFlow no longer pulls it in; training writes TensorBoard logs
            'tensorboard>=2.15',
            'tf2onnx>=1.16',
            'onnx>=1.15',
            'matplotlib>=3.5',
        ],
        # The built-in sample photograph of `fer-ros run` (scikit-image's public-domain
        # "astronaut", shipped inside the scikit-image wheel: no download at run time).
        'sample': ['scikit-image>=0.19'],
        # Offline rosbag2 processing and message tests without a ROS 2 install.
        'bag': ['rosbags>=0.10'],
        'dev': [
            'pytest>=7',
            'hypothesis>=6',
            # test_convert_fuzz.py reads JPEG/PNG headers with it, independently of fer_ros
            'pillow>=9',
            'ruff>=0.5',
            'rosbags>=0.10',
            'scikit-image>=0.20',
        ],
    },
    zip_safe=True,
    maintainer='fer_ros developers',
    maintainer_email='fer-ros@example.org',
    description='Facial expression recognition for ROS 2: face detection, ONNX Runtime '
    'expression classification, tracking, annotated images.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'fer-ros = fer_ros.cli:main',
            'fer_node = fer_ros.ros.entry:main',
        ],
    },
)
