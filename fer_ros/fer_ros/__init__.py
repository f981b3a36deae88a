"""fer_ros: facial expression recognition for ROS 2 robots.

Everything in this package except ``fer_ros.ros`` runs without ROS 2, and
everything except ``fer_ros.training`` runs without TensorFlow.
"""

__version__ = "0.1.0"
