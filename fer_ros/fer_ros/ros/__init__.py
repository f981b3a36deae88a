"""The only part of fer_ros that imports rclpy: the node and message conversion."""
