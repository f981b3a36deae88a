"""Network architectures, registered by name for the training CLI."""
